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

struct report {
	struct rm_summary s;
	size_t n_streams;          /* n_layer + 1, or 0 when not comparable */
	struct ts_diff *streams;   /* [n_streams] over every sequence */
	double level;              /* NMSE that counts as divergent */
	long first_div;            /* stream index, or -1 */
	double worst_nmse;         /* largest stream NMSE (NaN if non-finite) */
	size_t worst_stream;
	double vals[VT_COUNT];     /* the value each threshold bounds */
	bool fail[VT_COUNT];
	bool pass;
};

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

static int run_all(const struct verify_opts *o, const struct verify_model *ref,
		   const struct verify_model *cand, const struct verify_seqs *seqs,
		   struct rm_acc *acc, struct report *rep, qk_err *err)
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
		rf_out_release(&a);
		rf_out_release(&b);
	}
	verify_progress_end();
	return rc;
}

static void judge(const struct vt_set *t, struct report *r)
{
	const struct rm_summary *s = &r->s;

	r->level = t->set[VT_MAX_LAYER_NMSE] ? t->val[VT_MAX_LAYER_NMSE]
					     : vt_rows[VT_MAX_LAYER_NMSE].dflt;
	r->first_div = r->n_streams ? rm_first_divergent(r->streams, r->n_streams, r->level) : -1;
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

/* one "qwen-verify: compare: ..." line per broken threshold */
static void report_failures(const struct vt_set *t, const struct report *r)
{
	char nm[32];

	for (int i = 0; i < VT_COUNT; i++) {
		if (!r->fail[i])
			continue;
		if (i == VT_MAX_LAYER_NMSE && r->n_streams == 0)
			fprintf(stderr, "%s: compare: %s %g: the residual streams cannot be compared "
				"(different n_layer or n_embd)\n", cli_prog, vt_rows[i].name, t->val[i]);
		else if (i == VT_MAX_LAYER_NMSE)
			fprintf(stderr, "%s: compare: %s %g exceeded: first divergent layer: %s "
				"(NMSE %.3e)\n", cli_prog, vt_rows[i].name, t->val[i],
				verify_stream_name((size_t)r->first_div, nm, sizeof(nm)),
				ts_diff_nmse(&r->streams[r->first_div]));
		else
			fprintf(stderr, "%s: compare: %s %.6g %s: %s is %.6g\n", cli_prog,
				vt_rows[i].name, t->val[i], vt_rows[i].is_min ? "not reached"
				: "exceeded", vt_rows[i].key, r->vals[i]);
	}
}

static void print_text(const struct verify_model *a, const struct verify_model *b,
		       const struct verify_seqs *q, const struct vt_set *t, const struct report *r)
{
	const struct rm_summary *s = &r->s;
	char d[256], nm[32];

	verify_describe(a, d, sizeof(d));
	printf("reference: %s (%s)\n", a->path, d);
	verify_describe(b, d, sizeof(d));
	printf("candidate: %s (%s)\n", b->path, d);
	printf("tokens:    %zu sequences, %zu positions, %zu predictions (%s%s)\n\n", q->n, s->n_pos,
	       s->n_pred, q->source, strcmp(q->source, "default") ? "" : " set: random ids, not text");
	printf("====== Perplexity statistics ======\n");
	printf("Mean PPL(Q)                   : %12.6f\n", s->ppl_cand);
	printf("Mean PPL(base)                : %12.6f\n", s->ppl_ref);
	printf("Mean PPL(Q)/PPL(base)         : %12.6f\n", s->ppl_ratio);
	printf("Mean PPL(Q)-PPL(base)         : %12.6f\n\n", s->ppl_cand - s->ppl_ref);
	printf("====== KL divergence statistics ======\n");
	printf("Mean    KLD: %12.6f\nMaximum KLD: %12.6f\n99.9%%   KLD: %12.6f\n"
	       "99.0%%   KLD: %12.6f\n95.0%%   KLD: %12.6f\n90.0%%   KLD: %12.6f\n"
	       "Median  KLD: %12.6f\nMinimum KLD: %12.6f\n\n", s->kld_mean, s->kld_max,
	       s->kld_p999, s->kld_p99, s->kld_p95, s->kld_p90, s->kld_median, s->kld_min);
	printf("====== Token probability statistics ======\n");
	printf("Mean    Δp: %8.3f %%\nMaximum |Δp|: %6.3f %%\nRMS Δp    : %8.3f %%\n"
	       "Same top p: %8.3f %%\n\n", 100 * s->dp_mean, 100 * s->max_abs_dp, 100 * s->rms_dp,
	       100 * s->top1);
	printf("====== Logits and residual streams ======\n");
	printf("max |Δlogit| : %.6g\nlogits NMSE  : %.6g\n", s->max_abs_logit_diff,
	       s->logits_nmse);
	if (s->n_nonfinite)
		printf("non-finite   : %zu positions\n", s->n_nonfinite);
	if (r->n_streams == 0) {
		printf("residual streams: not compared (different n_layer or n_embd)\n");
	} else {
		printf("%-12s %12s %12s\n", "stream", "NMSE", "max |Δ|");
		for (size_t l = 0; l < r->n_streams; l++)
			printf("%-12s %12.4e %12.4e\n", verify_stream_name(l, nm, sizeof(nm)),
			       r->streams[l].n_nonfinite ? NAN : ts_diff_nmse(&r->streams[l]),
			       r->streams[l].max_abs);
		if (r->first_div >= 0)
			printf("first divergent layer: %s (NMSE above %g)\n",
			       verify_stream_name((size_t)r->first_div, nm, sizeof(nm)), r->level);
		else
			printf("first divergent layer: none (every stream's NMSE <= %g)%s\n", r->level,
			       s->max_abs_logit_diff > 0 ? "; the logits differ: output norm or head" : "");
	}
	printf("\n====== Thresholds (%s) ======\n", t->any ? "given" : "defaults: equivalence");
	for (int i = 0; i < VT_COUNT; i++)
		if (t->set[i])
			printf("%-15s %-3s %-10g %-19s %-12.6g %s\n", vt_rows[i].name,
			       vt_rows[i].is_min ? ">=" : "<=", t->val[i], vt_rows[i].key, r->vals[i],
			       r->fail[i] ? "FAIL" : "ok");
	printf("compare: %s\n", r->pass ? "pass" : "FAIL");
}

static cJSON *to_json(const struct verify_model *a, const struct verify_model *b,
		      const struct verify_seqs *q, const struct vt_set *t, const struct report *r)
{
	const struct rm_summary *s = &r->s;
	cJSON *o = cJSON_CreateObject(), *arr, *th, *failed;
	char nm[32];

	if (!o)
		return NULL;
	cJSON_AddItemToObject(o, "reference", verify_model_json(a));
	cJSON_AddItemToObject(o, "candidate", verify_model_json(b));
	cJSON_AddStringToObject(o, "tokens_source", q->source);
	cJSON_AddNumberToObject(o, "n_sequences", (double)q->n);
	cJSON_AddNumberToObject(o, "n_positions", (double)s->n_pos);
	cJSON_AddNumberToObject(o, "n_predictions", (double)s->n_pred);
	cJSON_AddNumberToObject(o, "n_nonfinite", (double)s->n_nonfinite);
	cJSON_AddNumberToObject(o, "kld_mean", s->kld_mean);
	cJSON_AddNumberToObject(o, "kld_median", s->kld_median);
	cJSON_AddNumberToObject(o, "kld_p90", s->kld_p90);
	cJSON_AddNumberToObject(o, "kld_p95", s->kld_p95);
	cJSON_AddNumberToObject(o, "kld_p99", s->kld_p99);
	cJSON_AddNumberToObject(o, "kld_p999", s->kld_p999);
	cJSON_AddNumberToObject(o, "kld_min", s->kld_min);
	cJSON_AddNumberToObject(o, "kld_max", s->kld_max);
	cJSON_AddNumberToObject(o, "top1_agreement", 100 * s->top1);
	cJSON_AddNumberToObject(o, "dp_mean", 100 * s->dp_mean);
	cJSON_AddNumberToObject(o, "max_abs_dp", 100 * s->max_abs_dp);
	cJSON_AddNumberToObject(o, "rms_dp", 100 * s->rms_dp);
	cJSON_AddNumberToObject(o, "ppl_ref", s->ppl_ref);
	cJSON_AddNumberToObject(o, "ppl_candidate", s->ppl_cand);
	cJSON_AddNumberToObject(o, "ppl_ratio", s->ppl_ratio);
	cJSON_AddNumberToObject(o, "max_abs_logit_diff", s->max_abs_logit_diff);
	cJSON_AddNumberToObject(o, "logits_nmse", s->logits_nmse);
	arr = cJSON_AddArrayToObject(o, "layers");
	for (size_t l = 0; l < r->n_streams; l++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddItemToArray(arr, e);
		cJSON_AddNumberToObject(e, "layer", (double)l - 1);
		cJSON_AddStringToObject(e, "stream", verify_stream_name(l, nm, sizeof(nm)));
		cJSON_AddNumberToObject(e, "nmse",
					r->streams[l].n_nonfinite ? NAN : ts_diff_nmse(&r->streams[l]));
		cJSON_AddNumberToObject(e, "max_abs_diff", r->streams[l].max_abs);
	}
	if (r->first_div >= 0)
		cJSON_AddNumberToObject(o, "first_divergent_layer", (double)r->first_div - 1);
	else
		cJSON_AddNullToObject(o, "first_divergent_layer");
	cJSON_AddNumberToObject(o, "divergence_nmse", r->level);
	cJSON_AddNumberToObject(o, "max_layer_nmse", r->worst_nmse);
	th = cJSON_AddArrayToObject(o, "thresholds");
	failed = cJSON_AddArrayToObject(o, "failed");
	for (int i = 0; i < VT_COUNT; i++) {
		cJSON *e;

		if (!t->set[i])
			continue;
		e = cJSON_CreateObject();
		cJSON_AddItemToArray(th, e);
		cJSON_AddStringToObject(e, "name", vt_rows[i].name);
		cJSON_AddStringToObject(e, "value_key", vt_rows[i].key);
		cJSON_AddNumberToObject(e, "limit", t->val[i]);
		cJSON_AddNumberToObject(e, "value", r->vals[i]);
		cJSON_AddBoolToObject(e, "pass", !r->fail[i]);
		if (r->fail[i])
			cJSON_AddItemToArray(failed, cJSON_CreateString(vt_rows[i].name));
	}
	cJSON_AddBoolToObject(o, "default_thresholds", !t->any);
	cJSON_AddBoolToObject(o, "pass", r->pass);
	return o;
}

int verify_cmd_compare(const struct verify_opts *o, const char **pos, size_t n_pos,
		       qk_err *err)
{
	struct verify_model a, b;
	struct verify_seqs seqs;
	struct vt_set t = o->thr;
	struct rm_acc acc;
	struct report rep;
	int rc;

	if (n_pos != 2)
		return qk_err_set(err, QK_E_USAGE, "compare needs REF and CANDIDATE, got %zu "
				  "arguments", n_pos);
	if (o->thresholds && (rc = vt_load_yaml(&t, o->thresholds, err)))
		return rc;
	vt_apply_defaults(&t);
	memset(&rep, 0, sizeof(rep));
	memset(&seqs, 0, sizeof(seqs));
	rm_acc_init(&acc);
	if ((rc = verify_open(&a, pos[0], err)))
		return rc;
	if ((rc = verify_open(&b, pos[1], err))) {
		verify_close(&a);
		return rc;
	}
	if ((rc = check_pair(&a, &b, err)) ||
	    (rc = verify_seqs_load(&seqs, o, a.in.hp.n_vocab, err)))
		goto out;
	if (a.in.hp.n_layer == b.in.hp.n_layer && a.in.hp.n_embd == b.in.hp.n_embd) {
		rep.n_streams = a.in.hp.n_layer + (size_t)1;
		rep.streams = malloc(rep.n_streams * sizeof(*rep.streams));
		if (!rep.streams) {
			rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
			goto out;
		}
		for (size_t l = 0; l < rep.n_streams; l++)
			ts_diff_init(&rep.streams[l]);
	}
	if ((rc = run_all(o, &a, &b, &seqs, &acc, &rep, err)) ||
	    (rc = rm_acc_summary(&acc, &rep.s, err)))
		goto out;
	judge(&t, &rep);
	if (o->json)
		rc = cli_emit_json(to_json(&a, &b, &seqs, &t, &rep), err);
	else
		print_text(&a, &b, &seqs, &t, &rep);
	fflush(stdout);
	if (!rc && !rep.pass) {
		report_failures(&t, &rep);
		rc = QK_E_THRESHOLD;
	}
out:
	free(rep.streams);
	rm_acc_release(&acc);
	verify_seqs_free(&seqs);
	verify_close(&b);
	verify_close(&a);
	return rc;
}
