/* verify_ppl.c - `qwen-verify perplexity MODEL`: llama-perplexity's
 * perplexity on one model (chunks of verify_chunks.c, second half of each
 * scored), with its "PPL ± error" estimate; --save-base writes the scored
 * positions' log-probabilities as llama-perplexity's KL-divergence base file
 * (formats/container/kld_base.h). See verify.h and man/qwen-verify.1. */
#include "verify.h"
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/outfile.h"
#include "../formats/container/kld_base.h"

int verify_base_begin(struct qk_out **out, const char *path, const struct verify_stream *st,
		      uint32_t n_vocab, qk_err *err)
{
	const size_t n_tok = (size_t)st->n_chunk * st->n_ctx;
	uint8_t *hdr = malloc(KB_HEADER_BYTES + 4 * n_tok);
	int rc;

	*out = NULL;
	if (!hdr)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu tokens", n_tok);
	kb_put_header(hdr, st->n_ctx, n_vocab, st->n_chunk, st->ids);
	if (!(rc = qk_out_open(out, path, err)) &&
	    (rc = qk_out_write(*out, hdr, KB_HEADER_BYTES + 4 * n_tok, err))) {
		qk_out_abort(*out);
		*out = NULL;
	}
	free(hdr);
	return rc;
}

int verify_base_chunk(struct qk_out *out, const struct verify_stream *st, size_t c,
		      const float *logits, uint32_t n_vocab, uint8_t *rec, qk_err *err)
{
	const int32_t *next = st->ids + c * st->n_ctx + st->first + 1;
	const size_t rb = kb_record_bytes(n_vocab);
	int rc;

	for (size_t j = 0; j < st->n_scored; j++) {
		kb_encode(logits + j * (size_t)n_vocab, n_vocab, (uint32_t)next[j], rec);
		if ((rc = qk_out_write(out, rec, rb, err)))
			return rc;
	}
	return QK_OK;
}

int verify_run_chunk(const struct verify_model *m, const struct verify_opts *o,
		     const struct verify_stream *st, size_t c, bool hidden, const char *label,
		     int32_t *buf, struct rf_out *out, double *secs, qk_err *err)
{
	struct verify_seq q = { buf, st->n_ctx, st->first };

	verify_chunk_tokens(st, c, buf);
	return verify_forward(m, o, hidden, label, c, st->n_chunk, &q, out, secs, err);
}

struct ppl_run {
	double sum, sum2;      /* of the NLL over the scored positions so far */
	size_t count;
	double *chunk_ppl;     /* [n_chunk] the running estimate after each chunk */
};

/* the NLL of every scored position of chunk c, in double */
static void score_chunk(const struct verify_stream *st, size_t c, const struct rf_out *r,
			struct ppl_run *p)
{
	const int32_t *next = st->ids + c * st->n_ctx + st->first + 1;

	for (size_t j = 0; j < st->n_scored; j++) {
		const float *row = r->logits + j * (size_t)r->n_vocab;
		const double nll = rm_log_sum_exp(row, r->n_vocab) - (double)row[next[j]];

		p->sum += nll;
		p->sum2 += nll * nll;
		p->count++;
	}
	p->chunk_ppl[c] = exp(p->sum / (double)p->count);
}

static int report(const struct verify_model *m, const struct verify_opts *o,
		  const struct verify_stream *st, const struct ppl_run *p, double secs,
		  qk_err *err)
{
	const struct rm_est e = rm_ppl_estimate(p->sum, p->sum2, p->count);
	char d[256];

	if (o->json) {
		cJSON *root = cJSON_CreateObject(), *arr;

		if (!root)
			return qk_err_set(err, QK_E_NOMEM, "out of memory");
		cJSON_AddItemToObject(root, "model", verify_model_json(m));
		cJSON_AddItemToObject(root, "input", verify_stream_json(st));
		arr = cJSON_AddArrayToObject(root, "chunks");
		for (size_t c = 0; c < st->n_chunk; c++) {
			cJSON *j = cJSON_CreateObject();

			cJSON_AddItemToArray(arr, j);
			cJSON_AddNumberToObject(j, "chunk", (double)c + 1);
			cJSON_AddNumberToObject(j, "ppl", p->chunk_ppl[c]);
		}
		cJSON_AddNumberToObject(root, "n_predictions", (double)p->count);
		cJSON_AddNumberToObject(root, "nll_mean", p->sum / (double)p->count);
		cJSON_AddNumberToObject(root, "ppl", e.v);
		cJSON_AddNumberToObject(root, "ppl_err", e.err);
		cJSON_AddNumberToObject(root, "forward_seconds", secs);
		if (o->save_base)
			cJSON_AddStringToObject(root, "save_base", o->save_base);
		return cli_emit_json(root, err);
	}
	verify_describe(m, d, sizeof(d));
	printf("model: %s (%s)\n", m->path, d);
	verify_stream_describe(st, d, sizeof(d));
	printf("input: %s\n", d);
	for (size_t c = 0; c < st->n_chunk; c++)
		printf("[%zu]%.4f,", c + 1, p->chunk_ppl[c]);
	printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", e.v, e.err);
	printf("forward pass: %.3f s, %u threads\n", secs, o->n_threads);
	if (o->save_base)
		printf("wrote %s\n", o->save_base);
	return QK_OK;
}

int verify_cmd_perplexity(const struct verify_opts *o, const char **pos, size_t n_pos,
			  qk_err *err)
{
	struct verify_model m;
	struct verify_stream st;
	struct ppl_run p;
	struct qk_out *base = NULL;
	int32_t *buf = NULL;
	uint8_t *rec = NULL;
	double secs = 0;
	int rc;

	if (n_pos != 1)
		return qk_err_set(err, QK_E_USAGE, "perplexity needs one MODEL, got %zu arguments",
				  n_pos);
	memset(&p, 0, sizeof(p));
	if ((rc = verify_open(&m, pos[0], o, err)))
		return rc;
	if ((rc = verify_stream_load(&st, o, &m, err)))
		goto out;
	buf = malloc(st.n_ctx * sizeof(*buf));
	p.chunk_ppl = calloc(st.n_chunk, sizeof(*p.chunk_ppl));
	if (o->save_base)
		rec = malloc(kb_record_bytes(m.in.hp.n_vocab));
	if (!buf || !p.chunk_ppl || (o->save_base && !rec)) {
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
		goto out;
	}
	if (o->save_base) {
		if ((rc = verify_forbid_inputs(&m, o, err)) ||
		    (rc = verify_base_begin(&base, o->save_base, &st, m.in.hp.n_vocab, err)))
			goto out;
	}
	for (size_t c = 0; !rc && c < st.n_chunk; c++) {
		struct rf_out r;

		if ((rc = verify_run_chunk(&m, o, &st, c, false, "perplexity", buf, &r, &secs, err)))
			break;
		score_chunk(&st, c, &r, &p);
		if (base)
			rc = verify_base_chunk(base, &st, c, r.logits, r.n_vocab, rec, err);
		rf_out_free(&r);
	}
	verify_progress_end();
	if (!rc && base) {
		rc = qk_out_commit(base, err);
		base = NULL;
	}
	if (!rc)
		rc = report(&m, o, &st, &p, secs, err);
out:
	qk_out_abort(base);
	free(rec);
	free(buf);
	free(p.chunk_ppl);
	verify_stream_free(&st);
	verify_close(&m);
	return rc;
}
