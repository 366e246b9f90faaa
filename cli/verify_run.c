/* verify_run.c - `qwen-verify run MODEL`: the top-k tokens and logits at
 * every position of every sequence; --dump writes the logits and residual
 * streams as a NumPy .npz. See verify.h and man/qwen-verify.1. */
#include "verify.h"
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/dtype.h"
#include "../formats/base/outfile.h"
#include "../formats/container/safetensors.h"

#define TOP_K_MAX 100

#define TEXT_MAX 64 /* bytes of a token's escaped text in listings */

/* "'text'" of id, or "" without a tokenizer */
static const char *quoted(const struct verify_model *m, int32_t id, char *buf, size_t size)
{
	char t[TEXT_MAX];

	if (!m->enc) {
		buf[0] = '\0';
		return buf;
	}
	verify_token_text(m, id, t, sizeof(t));
	snprintf(buf, size, "'%s'", t);
	return buf;
}

/* n rows of logits [n, n_vocab], row t listed with token tok[t] */
static void print_rows(const struct verify_model *m, const float *logits, size_t n,
		       uint32_t n_vocab, const int32_t *tok, const char *tok_head, size_t k,
		       uint32_t *ids)
{
	char tb[TEXT_MAX + 3];

	printf("  %5s %8s %-14s top-%zu: id %slogit\n", "pos", tok_head, m->enc ? "text" : "", k,
	       m->enc ? "'text' " : "");
	for (size_t t = 0; t < n; t++) {
		const float *row = logits + t * n_vocab;
		const size_t got = rm_top_k(row, n_vocab, k, ids);

		printf("  %5zu %8ld %-14s", t, (long)tok[t], quoted(m, tok[t], tb, sizeof(tb)));
		for (size_t j = 0; j < got; j++)
			printf(" %7u %s%s%9.5f", (unsigned)ids[j], quoted(m, (int32_t)ids[j], tb,
			       sizeof(tb)), m->enc ? " " : "", (double)row[ids[j]]);
		putchar('\n');
	}
}

static void print_seq(const struct verify_model *m, size_t s, const struct verify_seq *q,
		      const struct rf_out *r, size_t k, uint32_t *ids)
{
	printf("sequence %zu: %zu tokens\n", s, q->T);
	print_rows(m, r->logits, q->T, r->n_vocab, q->ids, "token", k, ids);
	if (!r->mtp_logits)
		return;
	/* the MTP head: row t drafts the token at t + 2 */
	printf("  MTP head: row t drafts the token at t + 2 from token t + 1 and the hidden "
	       "state at t\n");
	print_rows(m, r->mtp_logits, q->T - 1, r->n_vocab, q->ids + 1, "token+1", k, ids);
}

static void add_text(cJSON *o, const struct verify_model *m, int32_t id)
{
	char t[TEXT_MAX];

	if (!m->enc)
		return;
	verify_token_text(m, id, t, sizeof(t));
	cJSON_AddStringToObject(o, "text", t);
}

/* rows [0, n) of logits [n, n_vocab] as {pos, token, text, top: [{id, text,
 * logit, logprob}]}, the token of row t being tok[t] */
static void positions_json(cJSON *pos, const struct verify_model *m, const float *logits,
			   size_t n, uint32_t n_vocab, const int32_t *tok, size_t k, uint32_t *ids)
{
	for (size_t t = 0; t < n; t++) {
		const float *row = logits + t * n_vocab;
		const double lse = rm_log_sum_exp(row, n_vocab);
		const size_t got = rm_top_k(row, n_vocab, k, ids);
		cJSON *p = cJSON_CreateObject(), *top;

		cJSON_AddItemToArray(pos, p);
		cJSON_AddNumberToObject(p, "pos", (double)t);
		cJSON_AddNumberToObject(p, "token", tok[t]);
		add_text(p, m, tok[t]);
		top = cJSON_AddArrayToObject(p, "top");
		for (size_t j = 0; j < got; j++) {
			cJSON *e = cJSON_CreateObject();

			cJSON_AddItemToArray(top, e);
			cJSON_AddNumberToObject(e, "id", ids[j]);
			add_text(e, m, (int32_t)ids[j]);
			cJSON_AddNumberToObject(e, "logit", row[ids[j]]);
			cJSON_AddNumberToObject(e, "logprob", (double)row[ids[j]] - lse);
		}
	}
}

static cJSON *seq_json(const struct verify_model *m, const struct verify_seq *q,
		       const struct rf_out *r, size_t k, uint32_t *ids)
{
	cJSON *o = cJSON_CreateObject(), *toks = cJSON_AddArrayToObject(o, "tokens");
	cJSON *pos = cJSON_AddArrayToObject(o, "positions");

	if (!o || !toks || !pos) {
		cJSON_Delete(o);
		return NULL;
	}
	for (size_t t = 0; t < q->T; t++)
		cJSON_AddItemToArray(toks, cJSON_CreateNumber(q->ids[t]));
	positions_json(pos, m, r->logits, q->T, r->n_vocab, q->ids, k, ids);
	if (r->mtp_logits) {
		/* "token" is the MTP input token t + 1; the row drafts t + 2 */
		cJSON *mtp = cJSON_AddArrayToObject(o, "mtp");

		if (mtp)
			positions_json(mtp, m, r->mtp_logits, q->T - 1, r->n_vocab, q->ids + 1, k,
				       ids);
	}
	return o;
}

/* logits_S, hidden_S, tokens_S (and mtp_logits_S) for every sequence */
static int dump(const char *path, const struct verify_seqs *seqs, const struct rf_out *outs,
		qk_err *err)
{
	struct npz_entry *e = calloc(seqs->n * 4, sizeof(*e));
	char (*names)[32] = calloc(seqs->n * 4, sizeof(*names));
	size_t n = 0;
	int rc;

	if (!e || !names) {
		free(e);
		free(names);
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	}
	for (size_t s = 0; s < seqs->n; s++) {
		const struct rf_out *r = &outs[s];
		const size_t T = seqs->seq[s].T;

		snprintf(names[n], sizeof(names[n]), "tokens_%zu", s);
		e[n] = (struct npz_entry){ names[n], "<i4", 1, { T }, seqs->seq[s].ids };
		n++;
		snprintf(names[n], sizeof(names[n]), "logits_%zu", s);
		e[n] = (struct npz_entry){ names[n], "<f4", 2, { T, r->n_vocab }, r->logits };
		n++;
		snprintf(names[n], sizeof(names[n]), "hidden_%zu", s);
		e[n] = (struct npz_entry){ names[n], "<f4", 3,
					   { r->n_layer + (uint64_t)1, T, r->n_embd }, r->hidden };
		n++;
		if (r->mtp_logits) {
			snprintf(names[n], sizeof(names[n]), "mtp_logits_%zu", s);
			e[n] = (struct npz_entry){ names[n], "<f4", 2, { T - 1, r->n_vocab },
						   r->mtp_logits };
			n++;
		}
	}
	rc = npz_write(path, e, n, err);
	free(e);
	free(names);
	return rc;
}

/* Declare tokens.S, logits.S, hidden.S of every sequence (the layout golden
 * reads) so each sequence can be written as soon as it has run. */
static int expected_open(struct st_writer **w, const char *path, const struct verify_model *m,
			 const struct verify_seqs *seqs, qk_err *err)
{
	const struct qk_hparams *hp = &m->in.hp;
	char name[40], val[32];
	int rc;

	if ((rc = st_writer_open(w, path, err)))
		return rc;
	snprintf(val, sizeof(val), "%zu", seqs->n);
	if ((rc = st_writer_meta(*w, "format", "qwenkit-expected-1", err)) ||
	    (rc = st_writer_meta(*w, "generator", "qwen-verify run --save-expected", err)) ||
	    (rc = st_writer_meta(*w, "model", m->path, err)) ||
	    (rc = st_writer_meta(*w, "n_seq", val, err)) ||
	    (rc = st_writer_meta(*w, "hidden_layout", "hidden.s[0] = embedding output; "
				 "hidden.s[i] = residual after decoder layer i-1, before the "
				 "final norm", err)))
		goto fail;
	for (size_t s = 0; s < seqs->n; s++) {
		const uint64_t T = seqs->seq[s].T;
		const uint64_t st[1] = { T }, sl[2] = { T, hp->n_vocab };
		const uint64_t sh[3] = { hp->n_layer + (uint64_t)1, T, hp->n_embd };

		snprintf(name, sizeof(name), "tokens.%zu", s);
		if ((rc = st_writer_add(*w, name, QK_DT_I32, 1, st, err)))
			goto fail;
		snprintf(name, sizeof(name), "logits.%zu", s);
		if ((rc = st_writer_add(*w, name, QK_DT_F32, 2, sl, err)))
			goto fail;
		snprintf(name, sizeof(name), "hidden.%zu", s);
		if ((rc = st_writer_add(*w, name, QK_DT_F32, 3, sh, err)))
			goto fail;
	}
	return QK_OK;
fail:
	st_writer_abort(*w);
	*w = NULL;
	return rc;
}

/* one sequence's tokens, logits and residual streams (little-endian host) */
static int expected_put(struct st_writer *w, const struct verify_seq *q, const struct rf_out *r,
			qk_err *err)
{
	const size_t nl = q->T * (size_t)r->n_vocab;
	const size_t nh = (r->n_layer + (size_t)1) * q->T * r->n_embd;
	int rc;

	if ((rc = st_writer_write(w, q->ids, q->T * sizeof(int32_t), err)) ||
	    (rc = st_writer_write(w, r->logits, nl * sizeof(float), err)))
		return rc;
	return st_writer_write(w, r->hidden, nh * sizeof(float), err);
}

int verify_cmd_run(const struct verify_opts *o, const char **pos, size_t n_pos, qk_err *err)
{
	struct verify_model m;
	struct verify_seqs seqs;
	struct rf_out *outs = NULL;
	uint32_t ids[TOP_K_MAX];
	cJSON *root = NULL, *arr = NULL;
	double secs = 0;
	struct st_writer *exp = NULL;
	size_t k = o->top_k;
	int rc = QK_OK;
	struct verify_opts oo = *o;   /* o with the parsed --positions */
	int32_t *mrope = NULL;        /* [3, T] */

	if (n_pos != 1)
		return qk_err_set(err, QK_E_USAGE, "run needs one MODEL, got %zu arguments", n_pos);
	if (k > TOP_K_MAX)
		return qk_err_set(err, QK_E_USAGE, "--top-k %zu is over %d", k, TOP_K_MAX);
	if ((rc = verify_open(&m, pos[0], o, err)))
		return rc;
	if (!verify_is_text(o) && verify_encoder(&m, NULL) != QK_OK)
		m.enc = NULL; /* ids without a tokenizer: listed without their text */
	if ((rc = verify_seqs_load(&seqs, o, &m, false, err))) {
		verify_close(&m);
		return rc;
	}
	if (o->dump || o->save_expected) {
		rc = verify_forbid_inputs(&m, o, err);
		if (!rc && o->dump && o->save_expected && strcmp(o->dump, o->save_expected) == 0)
			rc = qk_err_set(err, QK_E_USAGE, "--dump and --save-expected name the same "
					"file '%s'", o->dump);
		if (!rc && o->dump)
			rc = qk_out_check(o->dump, 0, err); /* deflated: size unknown */
		if (!rc && o->save_expected)
			rc = expected_open(&exp, o->save_expected, &m, &seqs, err);
		if (rc) {
			verify_seqs_free(&seqs);
			verify_close(&m);
			return rc;
		}
	}
	if (o->positions) {
		if (seqs.n != 1)
			rc = qk_err_set(err, QK_E_USAGE, "--positions applies to one sequence, got %zu",
					seqs.n);
		else
			rc = verify_positions_parse(o->positions, seqs.seq[0].T, &mrope, err);
		if (rc) {
			st_writer_abort(exp);
			verify_seqs_free(&seqs);
			verify_close(&m);
			return rc;
		}
		oo.mrope = mrope;
		o = &oo;
	}
	outs = calloc(seqs.n, sizeof(*outs));
	if (o->json) {
		root = cJSON_CreateObject();
		cJSON_AddItemToObject(root, "model", verify_model_json(&m));
		cJSON_AddStringToObject(root, "tokens_source", seqs.source);
		cJSON_AddNumberToObject(root, "threads", o->n_threads);
		arr = cJSON_AddArrayToObject(root, "sequences");
	} else {
		char d[256];

		verify_describe(&m, d, sizeof(d));
		printf("model: %s (%s)\ntokens: %zu sequences, %zu positions (%s%s)\n", m.path, d,
		       seqs.n, verify_seqs_positions(&seqs), seqs.source,
		       strcmp(seqs.source, "default") ? "" : " set: random ids, not text");
	}
	if (!outs || (o->json && (!root || !arr)))
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
	for (size_t s = 0; !rc && s < seqs.n; s++) {
		struct rf_out *r = &outs[s];

		rc = verify_forward(&m, o, o->dump || exp, "run", s, seqs.n, &seqs.seq[s], r,
				    &secs, err);
		verify_progress_end();
		if (!rc && exp)
			rc = expected_put(exp, &seqs.seq[s], r, err);
		if (rc)
			break;
		if (o->json)
			cJSON_AddItemToArray(arr, seq_json(&m, &seqs.seq[s], r, k, ids));
		else
			print_seq(&m, s, &seqs.seq[s], r, k, ids);
		if (!o->dump)
			rf_out_free(r);
	}
	if (!rc && o->dump)
		rc = dump(o->dump, &seqs, outs, err);
	if (!rc && exp) {
		rc = st_writer_commit(exp, err);
		exp = NULL;
	}
	if (!rc) {
		const double tps = secs > 0 ? (double)verify_seqs_positions(&seqs) / secs : 0;

		if (o->json) {
			cJSON_AddNumberToObject(root, "forward_seconds", secs);
			cJSON_AddNumberToObject(root, "tokens_per_second", tps);
			if (o->dump)
				cJSON_AddStringToObject(root, "dump", o->dump);
			if (o->save_expected)
				cJSON_AddStringToObject(root, "save_expected", o->save_expected);
			rc = cli_emit_json(root, err);
			root = NULL;
		} else {
			printf("forward pass: %.3f s, %.1f tokens/s, %u threads\n", secs, tps,
			       o->n_threads);
			if (o->dump)
				printf("wrote %s\n", o->dump);
			if (o->save_expected)
				printf("wrote %s\n", o->save_expected);
		}
	}
	st_writer_abort(exp);
	cJSON_Delete(root);
	for (size_t s = 0; outs && s < seqs.n; s++)
		rf_out_free(&outs[s]);
	free(outs);
	free(mrope);
	verify_seqs_free(&seqs);
	verify_close(&m);
	return rc;
}
