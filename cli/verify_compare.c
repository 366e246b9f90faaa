/* verify_compare.c - `qwen-verify compare REF CANDIDATE`: the same tokens
 * through two models of the same architecture and vocabulary (any mix of
 * safetensors and GGUF, any dtype or quant type), reported with llama.cpp's
 * perplexity-tool statistics (ref/metrics.h) plus max |delta logit| and the
 * NMSE of every residual stream; thresholds decide the exit status. See
 * verify.h and man/qwen-verify.1. */
#include "verify.h"
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/outfile.h"
#include "../formats/container/kld_base.h"

static int check_pair(const struct verify_model *a, const struct verify_model *b, qk_err *err)
{
	if (a->in.hp.arch != b->in.hp.arch)
		return qk_err_set(err, QK_E_UNSUPPORTED,
				  "'%s' is %s and '%s' is %s: compare needs two models of one "
				  "architecture", a->path, qk_arch_gguf_name(a->in.hp.arch), b->path,
				  qk_arch_gguf_name(b->in.hp.arch));
	if (a->in.hp.n_vocab != b->in.hp.n_vocab)
		return qk_err_set(err, QK_E_UNSUPPORTED,
				  "'%s' has n_vocab %u and '%s' has %u: logits over different "
				  "vocabularies cannot be compared", a->path, (unsigned)a->in.hp.n_vocab,
				  b->path, (unsigned)b->in.hp.n_vocab);
	return QK_OK;
}

/* whole sequences: every position scored */
static int run_seqs(const struct verify_opts *o, const struct verify_model *ref,
		    const struct verify_model *cand, const struct verify_seqs *seqs,
		    struct rm_acc *acc, struct cmp_report *rep, qk_err *err)
{
	const bool hidden = rep->n_streams > 0;
	int rc = QK_OK;

	for (size_t s = 0; !rc && s < seqs->n; s++) {
		const struct verify_seq *q = &seqs->seq[s];
		struct rf_out a, b;

		if ((rc = verify_forward(ref, o, hidden, "reference", s, seqs->n, q, &a, NULL, err)))
			break;
		rc = verify_forward(cand, o, hidden, "candidate", s, seqs->n, q, &b, NULL, err);
		if (!rc)
			rc = rm_acc_add(acc, a.logits, b.logits, q->T, a.n_vocab, q->ids, err);
		if (!rc && hidden) {
			const size_t n = q->T * (size_t)a.n_embd;

			for (size_t l = 0; l < rep->n_streams; l++)
				ts_diff_add(&rep->streams[l], a.hidden + l * n, b.hidden + l * n, n);
		}
		rf_out_free(&a);
		rf_out_free(&b);
	}
	verify_progress_end();
	return rc;
}

/* the running figures after a chunk */
static int chunk_figures(const struct rm_acc *acc, struct cmp_chunk *k, qk_err *err)
{
	struct rm_summary s;
	int rc;

	if ((rc = rm_acc_summary(acc, &s, err)))
		return rc;
	k->ppl = (struct rm_est){ s.ppl_cand, s.ppl_cand_err };
	k->ln_ratio = (struct rm_est){ s.ln_ppl_ratio, s.ln_ppl_ratio_err };
	k->kld = (struct rm_est){ s.kld_mean, s.kld_mean_err };
	k->rms_dp = (struct rm_est){ s.rms_dp, s.rms_dp_err };
	k->top1 = (struct rm_est){ s.top1, s.top1_err };
	return QK_OK;
}

/* llama-perplexity's chunks through both models; --save-base writes the
 * reference's records */
static int run_chunks(const struct verify_opts *o, const struct verify_model *ref,
		      const struct verify_model *cand, const struct verify_stream *st,
		      struct rm_acc *acc, struct cmp_report *rep, qk_err *err)
{
	const bool hidden = rep->n_streams > 0;
	const size_t V = ref->in.hp.n_vocab;
	struct qk_out *base = NULL;
	int32_t *buf = malloc(st->n_ctx * sizeof(*buf));
	uint8_t *rec = o->save_base ? malloc(kb_record_bytes((uint32_t)V)) : NULL;
	int rc = QK_OK;

	if (!buf || (o->save_base && !rec))
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
	if (!rc && o->save_base) {
		if (!(rc = verify_forbid_inputs(ref, o, err)) &&
		    !(rc = verify_forbid_inputs(cand, o, err)))
			rc = verify_base_begin(&base, o->save_base, st, (uint32_t)V, err);
	}
	for (size_t c = 0; !rc && c < st->n_chunk; c++) {
		const int32_t *next = st->ids + c * st->n_ctx + st->first + 1;
		struct rf_out a, b;

		if ((rc = verify_run_chunk(ref, o, st, c, hidden, "reference", buf, &a, NULL, err)))
			break;
		rc = verify_run_chunk(cand, o, st, c, hidden, "candidate", buf, &b, NULL, err);
		if (!rc)
			rc = rm_acc_add_scored(acc, a.logits, b.logits, st->n_scored, V, next, err);
		if (!rc && hidden) {
			const size_t n = st->n_ctx * (size_t)a.n_embd;

			for (size_t l = 0; l < rep->n_streams; l++)
				ts_diff_add(&rep->streams[l], a.hidden + l * n, b.hidden + l * n, n);
		}
		if (!rc && base)
			rc = verify_base_chunk(base, st, c, a.logits, (uint32_t)V, rec, err);
		if (!rc)
			rc = chunk_figures(acc, &rep->chunks[c], err);
		rf_out_free(&a);
		rf_out_free(&b);
	}
	verify_progress_end();
	if (!rc && base) {
		rc = qk_out_commit(base, err);
		base = NULL;
	}
	qk_out_abort(base);
	free(buf);
	free(rec);
	return rc;
}

/* the candidate against a base file's records, llama.cpp's arithmetic */
static int run_base(const struct verify_opts *o, const struct kb_file *kb,
		    const struct verify_model *cand, const struct verify_stream *st,
		    struct rm_acc *acc, struct cmp_report *rep, qk_err *err)
{
	const size_t V = kb->n_vocab;
	int32_t *buf = malloc(st->n_ctx * sizeof(*buf));
	float *lp = malloc(V * sizeof(*lp));
	int rc = QK_OK;

	if (!buf || !lp)
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
	for (size_t c = 0; !rc && c < st->n_chunk; c++) {
		const int32_t *next = st->ids + c * st->n_ctx + st->first + 1;
		struct rf_out b;

		if ((rc = verify_run_chunk(cand, o, st, c, false, "candidate", buf, &b, NULL, err)))
			break;
		for (size_t j = 0; !rc && j < st->n_scored; j++) {
			struct rm_pos p;

			kb_decode(kb, c * st->n_scored + j, lp);
			rm_base_pos(lp, b.logits + j * V, V, (uint32_t)next[j], &p);
			rc = rm_acc_push(acc, &p, err);
		}
		if (!rc)
			rc = chunk_figures(acc, &rep->chunks[c], err);
		rf_out_free(&b);
	}
	verify_progress_end();
	free(buf);
	free(lp);
	return rc;
}

/* The first divergent layer is assessed only when a divergence level was
 * asked for: --max-layer-nmse, or the defaults (equivalence). Thresholds for
 * a lossy candidate without it leave it out: every stream of a quantized
 * model differs from the embedding on, so "embedding" would say nothing. */
static void judge(const struct vt_set *t, struct cmp_report *r)
{
	const struct rm_summary *s = &r->s;

	r->level = t->set[VT_MAX_LAYER_NMSE] ? t->val[VT_MAX_LAYER_NMSE]
					     : vt_rows[VT_MAX_LAYER_NMSE].dflt;
	r->assessed = t->set[VT_MAX_LAYER_NMSE] && r->n_streams > 0;
	r->first_div = r->assessed ? rm_first_divergent(r->streams, r->n_streams, r->level) : -1;
	r->worst_nmse = r->n_streams ? 0 : NAN;
	for (size_t l = 0; l < r->n_streams; l++) {
		const double v = r->streams[l].n_nonfinite ? NAN : ts_diff_nmse(&r->streams[l]);

		if (!(v <= r->worst_nmse) && !isnan(r->worst_nmse)) {
			r->worst_nmse = v;
			r->worst_stream = l;
		}
	}
	r->vals[VT_MAX_KLD] = s->kld_mean;
	r->vals[VT_MAX_KLD_P99] = s->kld_p99;
	r->vals[VT_MAX_KLD_MAX] = s->kld_max;
	r->vals[VT_MIN_TOP1] = 100 * s->top1;
	r->vals[VT_MAX_RMS_DP] = 100 * s->rms_dp;
	r->vals[VT_MAX_PPL_RATIO] = s->ppl_ratio;
	r->vals[VT_MAX_LOGIT_DIFF] = s->max_abs_logit_diff;
	r->vals[VT_MAX_LAYER_NMSE] = r->worst_nmse;
	r->pass = true;
	for (int i = 0; i < VT_COUNT; i++) {
		const double v = r->vals[i], lim = t->val[i];

		if (!t->set[i])
			continue;
		if (i == VT_MAX_LAYER_NMSE)
			r->fail[i] = r->n_streams == 0 || r->first_div >= 0;
		else
			r->fail[i] = vt_rows[i].is_min ? !(v >= lim) : !(v <= lim);
		if (r->fail[i])
			r->pass = false;
	}
}

/* what --base excludes (QK_E_USAGE) */
static int base_usage(const struct verify_opts *o, const struct vt_set *t, size_t n_pos,
		      qk_err *err)
{
	if (n_pos != 1)
		return qk_err_set(err, QK_E_USAGE, "compare --base needs one CANDIDATE, got %zu "
				  "arguments", n_pos);
	if (o->tokens || o->tokens_file || verify_is_text(o) || o->ctx_set || o->save_base)
		return qk_err_set(err, QK_E_USAGE, "--base takes the tokens, n_ctx and chunks from its "
				  "file: no --tokens, --tokens-file, --text, --text-file, --chat, --ctx, "
				  "--chunks or --save-base");
	if (t->set[VT_MAX_LOGIT_DIFF] || t->set[VT_MAX_LAYER_NMSE])
		return qk_err_set(err, QK_E_USAGE, "--%s needs the reference model: a base file "
				  "holds log-probabilities only", t->set[VT_MAX_LOGIT_DIFF]
				  ? vt_rows[VT_MAX_LOGIT_DIFF].name : vt_rows[VT_MAX_LAYER_NMSE].name);
	return QK_OK;
}

static int setup_streams(const struct verify_model *a, const struct verify_model *b,
			 struct cmp_report *rep, qk_err *err)
{
	if (a->in.hp.n_layer != b->in.hp.n_layer || a->in.hp.n_embd != b->in.hp.n_embd)
		return QK_OK;
	rep->n_streams = a->in.hp.n_layer + (size_t)1;
	rep->streams = malloc(rep->n_streams * sizeof(*rep->streams));
	if (!rep->streams)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	for (size_t l = 0; l < rep->n_streams; l++)
		ts_diff_init(&rep->streams[l]);
	return QK_OK;
}

int verify_cmd_compare(const struct verify_opts *o, const char **pos, size_t n_pos,
		       qk_err *err)
{
	const bool chunked = o->ctx_set || o->save_base || o->base || o->text_file;
	struct verify_model a, b;
	struct verify_seqs seqs;
	struct verify_stream st;
	struct kb_file kb;
	struct vt_set t = o->thr;
	struct rm_acc acc;
	struct cmp_report rep;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&rep, 0, sizeof(rep));
	memset(&seqs, 0, sizeof(seqs));
	memset(&st, 0, sizeof(st));
	memset(&kb, 0, sizeof(kb));
	rm_acc_init(&acc);
	if (o->vision || (n_pos == 2 && (vv_is_mmproj(pos[0]) || vv_is_mmproj(pos[1]))))
		return verify_vision_compare(o, pos, n_pos, err);
	if (o->thresholds && (rc = vt_load_yaml(&t, o->thresholds, err)))
		return rc;
	for (int i = 0; i < VT_COUNT; i++)
		if (t.set[i] && vt_rows[i].vision)
			return qk_err_set(err, QK_E_USAGE, "threshold %s bounds image embeddings: "
					  "compare them with --vision", vt_rows[i].name);
	if (o->base) {
		if ((rc = base_usage(o, &t, n_pos, err)))
			return rc;
	} else if (n_pos != 2) {
		return qk_err_set(err, QK_E_USAGE, "compare needs REF and CANDIDATE, got %zu "
				  "arguments", n_pos);
	}
	if (!o->base)
		vt_apply_defaults(&t);
	if (o->base) {
		if ((rc = kb_open(&kb, o->base, err)) || (rc = verify_open(&b, pos[0], o, err)))
			goto out;
		if (kb.n_vocab != b.in.hp.n_vocab) {
			rc = qk_err_set(err, QK_E_UNSUPPORTED, "'%s' has n_vocab %u and '%s' has %u: "
					"logits over different vocabularies cannot be compared", o->base,
					(unsigned)kb.n_vocab, b.path, (unsigned)b.in.hp.n_vocab);
			goto out;
		}
		rc = verify_stream_from_base(&st, &kb, &b, err);
	} else {
		if ((rc = verify_open(&a, pos[0], o, err)) || (rc = verify_open(&b, pos[1], o, err)) ||
		    (rc = check_pair(&a, &b, err)) || (rc = setup_streams(&a, &b, &rep, err)))
			goto out;
		rc = chunked ? verify_stream_load(&st, o, &a, err)
			     : verify_seqs_load(&seqs, o, &a, false, err);
	}
	if (rc)
		goto out;
	if (chunked) {
		rep.st = &st;
		rep.chunks = calloc(st.n_chunk, sizeof(*rep.chunks));
		if (!rep.chunks) {
			rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
			goto out;
		}
	} else {
		rep.seqs = &seqs;
	}
	rep.base_path = o->base;
	rc = o->base ? run_base(o, &kb, &b, &st, &acc, &rep, err)
	     : chunked ? run_chunks(o, &a, &b, &st, &acc, &rep, err)
	     : run_seqs(o, &a, &b, &seqs, &acc, &rep, err);
	if (rc || (rc = rm_acc_summary(&acc, &rep.s, err)))
		goto out;
	judge(&t, &rep);
	if (o->json)
		rc = cli_emit_json(cmp_to_json(o->base ? NULL : &a, &b, &t, &rep), err);
	else
		cmp_print_text(o->base ? NULL : &a, &b, &t, &rep);
	fflush(stdout);
	if (!rc && !rep.pass) {
		cmp_report_failures(&t, &rep);
		rc = QK_E_THRESHOLD;
	}
out:
	free(rep.streams);
	free(rep.chunks);
	rm_acc_free(&acc);
	verify_seqs_free(&seqs);
	verify_stream_free(&st);
	kb_close(&kb);
	verify_close(&b);
	verify_close(&a);
	return rc;
}
