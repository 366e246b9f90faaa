/* verify_report.c - compare's report as text (llama-perplexity
 * --kl-divergence's blocks and number formats, so the two can be diffed
 * line by line) and as JSON. See verify.h and man/qwen-verify.1. */
#include "verify.h"
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void print_input(const struct verify_model *a, const struct verify_model *b,
			const struct cmp_report *r)
{
	const struct rm_summary *s = &r->s;
	char d[256];

	if (a) {
		verify_describe(a, d, sizeof(d));
		printf("reference: %s (%s)\n", a->path, d);
	} else {
		printf("reference: %s (llama-perplexity KL-divergence base file)\n", r->base_path);
	}
	verify_describe(b, d, sizeof(d));
	printf("candidate: %s (%s)\n", b->path, d);
	if (r->st) {
		verify_stream_describe(r->st, d, sizeof(d));
		printf("input:     %s\n\n", d);
	} else {
		printf("tokens:    %zu sequences, %zu positions, %zu predictions (%s%s)\n\n",
		       r->seqs->n, s->n_pos, s->n_pred, r->seqs->source,
		       strcmp(r->seqs->source, "default") ? "" : " set: random ids, not text");
	}
}

/* llama-perplexity's per-chunk lines */
static void print_chunks(const struct cmp_report *r)
{
	printf("chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence"
	       "              Δp RMS            Same top p\n");
	for (size_t c = 0; c < r->st->n_chunk; c++) {
		const struct cmp_chunk *k = &r->chunks[c];

		printf("%4zu    %9.4f ± %9.4f    %10.5f ± %10.5f    %10.5f ± %10.5f    %6.3f ± %6.3f %%"
		       "    %6.3f ± %6.3f %%\n", c + 1, k->ppl.v, k->ppl.err, k->ln_ratio.v,
		       k->ln_ratio.err, k->kld.v, k->kld.err, 100 * k->rms_dp.v, 100 * k->rms_dp.err,
		       100 * k->top1.v, 100 * k->top1.err);
	}
	putchar('\n');
}

static void print_stats(const struct rm_summary *s)
{
	static const char *const dp_label[13] = { "Maximum", "99.9%  ", "99.0%  ", "95.0%  ",
						  "90.0%  ", "75.0%  ", "Median ", "25.0%  ",
						  "10.0%  ", " 5.0%  ", " 1.0%  ", " 0.1%  ",
						  "Minimum" };

	printf("====== Perplexity statistics ======\n");
	printf("Mean PPL(Q)                   : %10.6f ± %10.6f\n", s->ppl_cand, s->ppl_cand_err);
	printf("Mean PPL(base)                : %10.6f ± %10.6f\n", s->ppl_ref, s->ppl_ref_err);
	printf("Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%\n", 100 * s->ln_ppl_cor);
	printf("Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f\n", s->ln_ppl_ratio,
	       s->ln_ppl_ratio_err);
	printf("Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f\n", s->ppl_ratio, s->ppl_ratio_err);
	printf("Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f\n\n", s->ppl_diff, s->ppl_diff_err);
	printf("====== KL divergence statistics ======\n");
	printf("Mean    KLD: %10.6f ± %10.6f\n", s->kld_mean, s->kld_mean_err);
	printf("Maximum KLD: %10.6f\n99.9%%   KLD: %10.6f\n99.0%%   KLD: %10.6f\n"
	       "95.0%%   KLD: %10.6f\n90.0%%   KLD: %10.6f\nMedian  KLD: %10.6f\n"
	       "10.0%%   KLD: %10.6f\n 5.0%%   KLD: %10.6f\n 1.0%%   KLD: %10.6f\n"
	       " 0.1%%   KLD: %10.6f\nMinimum KLD: %10.6f\n\n", s->kld_max, s->kld_p999, s->kld_p99,
	       s->kld_p95, s->kld_p90, s->kld_median, s->kld_p10, s->kld_p05, s->kld_p01,
	       s->kld_p001, s->kld_min);
	printf("====== Token probability statistics ======\n");
	printf("Mean    Δp: %6.3f ± %5.3f %%\n", 100 * s->dp_mean, 100 * s->dp_mean_err);
	for (int i = 0; i < 13; i++)
		printf("%s Δp: %6.3f%%\n", dp_label[i], 100 * s->dp_q[i]);
	printf("RMS Δp    : %6.3f ± %5.3f %%\n", 100 * s->rms_dp, 100 * s->rms_dp_err);
	printf("Same top p: %6.3f ± %5.3f %%\n\n", 100 * s->top1, 100 * s->top1_err);
}

static void print_streams(const struct cmp_report *r)
{
	const struct rm_summary *s = &r->s;
	char nm[32];

	printf("====== Logits and residual streams ======\n");
	if (!r->base_path)
		printf("max |Δlogit| : %.6g\nlogits NMSE  : %.6g\n", s->max_abs_logit_diff,
		       s->logits_nmse);
	if (s->n_nonfinite)
		printf("non-finite   : %zu positions\n", s->n_nonfinite);
	if (r->base_path) {
		printf("residual streams: not compared (the base file holds log-probabilities only)\n");
		return;
	}
	if (r->n_streams == 0) {
		printf("residual streams: not compared (different n_layer or n_embd)\n");
		return;
	}
	printf("%-12s %12s %12s\n", "stream", "NMSE", "max |Δ|");
	for (size_t l = 0; l < r->n_streams; l++)
		printf("%-12s %12.4e %12.4e\n", verify_stream_name(l, nm, sizeof(nm)),
		       r->streams[l].n_nonfinite ? NAN : ts_diff_nmse(&r->streams[l]),
		       r->streams[l].max_abs);
	if (!r->assessed)
		printf("first divergent layer: not assessed (thresholds for a lossy candidate without "
		       "--max-layer-nmse: every stream of a quantized model differs)\n");
	else if (r->first_div >= 0)
		printf("first divergent layer: %s (NMSE above %g)\n",
		       verify_stream_name((size_t)r->first_div, nm, sizeof(nm)), r->level);
	else
		printf("first divergent layer: none (every stream's NMSE <= %g)%s\n", r->level,
		       s->max_abs_logit_diff > 0 ? "; the logits differ: output norm or head" : "");
}

void cmp_print_text(const struct verify_model *a, const struct verify_model *b,
		    const struct vt_set *t, const struct cmp_report *r)
{
	print_input(a, b, r);
	if (r->st)
		print_chunks(r);
	print_stats(&r->s);
	print_streams(r);
	printf("\n====== Thresholds (%s) ======\n", t->any ? "given" : r->base_path
	       ? "none: a base file's 16-bit log-probabilities cannot show equivalence"
	       : "defaults: equivalence");
	vt_print(t, r->vals, r->fail);
	printf("compare: %s\n", r->pass ? "pass" : "FAIL");
}

void cmp_report_failures(const struct vt_set *t, const struct cmp_report *r)
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
			vt_report_failure(t, i, r->vals[i]);
	}
}

/* "KEY" and "KEY_err" */
static void add_est(cJSON *o, const char *key, double v, double e)
{
	char k[64];

	cJSON_AddNumberToObject(o, key, v);
	snprintf(k, sizeof(k), "%s_err", key);
	cJSON_AddNumberToObject(o, k, e);
}

static void stats_json(cJSON *o, const struct rm_summary *s)
{
	char k[32];

	add_est(o, "kld_mean", s->kld_mean, s->kld_mean_err);
	cJSON_AddNumberToObject(o, "kld_median", s->kld_median);
	cJSON_AddNumberToObject(o, "kld_p90", s->kld_p90);
	cJSON_AddNumberToObject(o, "kld_p95", s->kld_p95);
	cJSON_AddNumberToObject(o, "kld_p99", s->kld_p99);
	cJSON_AddNumberToObject(o, "kld_p999", s->kld_p999);
	cJSON_AddNumberToObject(o, "kld_p10", s->kld_p10);
	cJSON_AddNumberToObject(o, "kld_p05", s->kld_p05);
	cJSON_AddNumberToObject(o, "kld_p01", s->kld_p01);
	cJSON_AddNumberToObject(o, "kld_p001", s->kld_p001);
	cJSON_AddNumberToObject(o, "kld_min", s->kld_min);
	cJSON_AddNumberToObject(o, "kld_max", s->kld_max);
	add_est(o, "top1_agreement", 100 * s->top1, 100 * s->top1_err);
	add_est(o, "dp_mean", 100 * s->dp_mean, 100 * s->dp_mean_err);
	for (int i = 0; i < 13; i++) {
		snprintf(k, sizeof(k), "dp_%s", rm_dp_name[i]);
		cJSON_AddNumberToObject(o, k, 100 * s->dp_q[i]);
	}
	cJSON_AddNumberToObject(o, "max_abs_dp", 100 * s->max_abs_dp);
	add_est(o, "rms_dp", 100 * s->rms_dp, 100 * s->rms_dp_err);
	add_est(o, "ppl_ref", s->ppl_ref, s->ppl_ref_err);
	add_est(o, "ppl_candidate", s->ppl_cand, s->ppl_cand_err);
	add_est(o, "ppl_ratio", s->ppl_ratio, s->ppl_ratio_err);
	add_est(o, "ln_ppl_ratio", s->ln_ppl_ratio, s->ln_ppl_ratio_err);
	add_est(o, "ppl_diff", s->ppl_diff, s->ppl_diff_err);
	cJSON_AddNumberToObject(o, "ln_ppl_cor", 100 * s->ln_ppl_cor);
	cJSON_AddNumberToObject(o, "max_abs_logit_diff", s->max_abs_logit_diff);
	cJSON_AddNumberToObject(o, "logits_nmse", s->logits_nmse);
}

static void chunks_json(cJSON *o, const struct cmp_report *r)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "chunks");

	for (size_t c = 0; c < r->st->n_chunk; c++) {
		const struct cmp_chunk *k = &r->chunks[c];
		cJSON *e = cJSON_CreateObject();

		cJSON_AddItemToArray(arr, e);
		cJSON_AddNumberToObject(e, "chunk", (double)c + 1);
		add_est(e, "ppl_candidate", k->ppl.v, k->ppl.err);
		add_est(e, "ln_ppl_ratio", k->ln_ratio.v, k->ln_ratio.err);
		add_est(e, "kld_mean", k->kld.v, k->kld.err);
		add_est(e, "rms_dp", 100 * k->rms_dp.v, 100 * k->rms_dp.err);
		add_est(e, "top1_agreement", 100 * k->top1.v, 100 * k->top1.err);
	}
}

static void layers_json(cJSON *o, const struct cmp_report *r)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "layers");
	char nm[32];

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
	cJSON_AddBoolToObject(o, "divergence_assessed", r->assessed);
	cJSON_AddNumberToObject(o, "divergence_nmse", r->level);
	cJSON_AddNumberToObject(o, "max_layer_nmse", r->worst_nmse);
}

cJSON *cmp_to_json(const struct verify_model *a, const struct verify_model *b,
		   const struct vt_set *t, const struct cmp_report *r)
{
	const struct rm_summary *s = &r->s;
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (a) {
		cJSON_AddItemToObject(o, "reference", verify_model_json(a));
	} else {
		cJSON *e = cJSON_AddObjectToObject(o, "reference");

		cJSON_AddStringToObject(e, "path", r->base_path);
		cJSON_AddStringToObject(e, "format", "llama-perplexity-kld-base");
	}
	cJSON_AddItemToObject(o, "candidate", verify_model_json(b));
	if (r->st) {
		cJSON_AddStringToObject(o, "tokens_source", r->base_path ? "--base" : r->st->source);
		cJSON_AddItemToObject(o, "input", verify_stream_json(r->st));
		cJSON_AddNumberToObject(o, "n_sequences", r->st->n_chunk);
	} else {
		cJSON_AddStringToObject(o, "tokens_source", r->seqs->source);
		cJSON_AddNumberToObject(o, "n_sequences", (double)r->seqs->n);
	}
	cJSON_AddNumberToObject(o, "n_positions", (double)s->n_pos);
	cJSON_AddNumberToObject(o, "n_predictions", (double)s->n_pred);
	cJSON_AddNumberToObject(o, "n_nonfinite", (double)s->n_nonfinite);
	stats_json(o, s);
	if (r->st)
		chunks_json(o, r);
	layers_json(o, r);
	vt_json(o, t, r->vals, r->fail);
	cJSON_AddBoolToObject(o, "default_thresholds", !t->any && !r->base_path);
	cJSON_AddBoolToObject(o, "pass", r->pass);
	return o;
}
