/* metrics.h - how far a candidate model's logits are from a reference's.
 *
 * The statistics and their names follow llama.cpp's perplexity tool
 * (`llama-perplexity --kl-divergence`, tools/perplexity/perplexity.cpp of the
 * llama.cpp vendored by llama-cpp-python 0.3.36), so numbers can be set side
 * by side:
 *   - KLD at a position: KL(ref || cand) = sum_i p_i (log p_i - log q_i), in
 *     nats, p = softmax(ref logits), q = softmax(cand logits);
 *   - same top-1 ("Same top p"): the share of positions where both argmaxes
 *     agree (argmax ties go to the lowest token id, as llama.cpp's strict '>'
 *     scan does);
 *   - delta-p: q[next] - p[next], the change in the probability of the token
 *     that actually follows (llama.cpp's "correct token"), and RMS delta-p =
 *     sqrt(mean of its squares);
 *   - perplexity: exp(mean over predictions of -log softmax(logits_t)[tok_{t+1}]);
 *     a sequence of T tokens makes T-1 predictions; the ratio is
 *     PPL(cand) / PPL(ref) (llama.cpp's "Mean PPL(Q)/PPL(base)", which is
 *     exp of the mean log ratio, the same number);
 *   - percentiles: llama.cpp's rule on the ascending values v[0..n-1]: for a
 *     fraction f in (0, 1), x = f (n - 1), i = floor(x), result
 *     (1 - (x - i)) v[i] + (x - i) v[min(i + 1, n - 1)]; f <= 0 gives v[0],
 *     f >= 1 gives v[n-1]. The median is the mean of the two middle values
 *     for even n (the same as f = 0.5). This is also NumPy's default
 *     ("linear") percentile.
 * Differences from llama.cpp: log-softmax is computed in double precision
 * from the fp32 logits themselves (llama.cpp stores the reference as 16-bit
 * log-probabilities clamped at max - 16, which puts a floor of about 1e-5 under
 * its KLD; rm_base_pos reproduces that path for a base read from such a
 * file); with rm_acc_add, KLD, top-1 and max |delta logit| cover every
 * position, including the last one of a sequence, while delta-p and
 * perplexity cover the T-1 positions whose next token is known; with
 * rm_acc_add_scored (llama-perplexity's chunks) every statistic covers the
 * same positions, those with a next token. Equal rows give a KLD of
 * exactly 0.
 *
 * Numerics: everything in double. log-sum-exp(x) = m + log(sum_i exp(x_i - m))
 * with m = max x, the sum in index order; the KLD sum runs in index order over
 * p_i (lp_i - lq_i) with lp_i = x_i - lse(x). KLD may come out a few ulps
 * below zero from rounding; it is reported as computed (llama.cpp shows
 * negative minima too). libm's exp/log are used: the metrics are
 * deterministic for a given libm, not part of the forward pass's
 * bit-for-bit contract (ref/README.md).
 *
 * Non-finite logits: a position where either row holds a NaN or an infinity
 * gets KLD NaN, max |delta logit| +inf, counts as not same-top-1 and as
 * non-finite (n_nonfinite); its delta-p and NLL are NaN too. NaN then
 * propagates into the means and sorts above every number, so every upper
 * threshold compared as !(v <= limit) fails.
 *
 * Errors: QK_E_NOMEM; QK_E_USAGE for n_vocab == 0 or a next-token id out of
 * range (programmer errors the caller can turn into messages).
 */
#ifndef RM_METRICS_H
#define RM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../formats/base/err.h"
#include "tstats.h"

/* ---- one row of logits ---- */

/* max + log(sum exp(x - max)) in double; NaN if any x is NaN or +inf, and
 * for n == 0. */
double rm_log_sum_exp(const float *x, size_t n);
/* Index of the largest value, the lowest index on ties; NaNs are skipped
 * (0 when all are NaN or n == 0). */
uint32_t rm_argmax(const float *x, size_t n);
/* The k largest values' indices, largest first, ties to the lower index;
 * NaNs are skipped. Returns how many were written (min(k, finite count)). */
size_t rm_top_k(const float *x, size_t n, size_t k, uint32_t *ids);

/* One position of a reference row and a candidate row of n_vocab logits. */
struct rm_row {
	double kld;           /* KL(ref || cand), nats; NaN if !finite */
	uint32_t top_ref;     /* argmax of ref */
	uint32_t top_cand;    /* argmax of cand */
	double max_abs_diff;  /* max_i |cand_i - ref_i|; +inf if !finite */
	double max_abs_ref;   /* max_i |ref_i| */
	double lse_ref;       /* log-sum-exp of each row */
	double lse_cand;
	bool finite;          /* every logit of both rows is finite */
};
void rm_row_compare(const float *ref, const float *cand, size_t n_vocab, struct rm_row *out);

/* ---- percentiles ---- */

/* Sort ascending in place, NaNs last. */
void rm_sort(double *v, size_t n);
/* llama.cpp's interpolated percentile (above) of ascending v[0..n-1];
 * NaN for n == 0. */
double rm_percentile(const double *v, size_t n, double fraction);
double rm_median(const double *v, size_t n);

/* ---- a run of sequences ---- */

/* One scored position, from either source: two rows of logits
 * (rm_row_compare), or a llama.cpp base-file record and a candidate row
 * (rm_base_pos). */
struct rm_pos {
	double kld;            /* KL(ref || cand); NaN if !finite */
	double nll_ref;        /* -log p(next), -log q(next): with has_next */
	double nll_cand;
	double dp;             /* q(next) - p(next): with has_next */
	double max_abs_diff;   /* max |cand - ref| logit; NaN when unknown */
	bool same_top;         /* the argmaxes agree */
	bool finite;           /* both rows finite */
	bool has_next;         /* the next token is known */
};

/* Accumulates positions of one or more sequences, in the order added, with
 * the sums llama-perplexity --kl-divergence keeps (kl_divergence_result). */
struct rm_acc {
	size_t n_pos;          /* positions seen */
	size_t n_pred;         /* positions with a known next token */
	size_t n_same_top1;
	size_t n_nonfinite;    /* positions with a non-finite logit */
	double *kld;           /* [n_pos] per-position KLD, owned */
	double *dp;            /* [n_pred] per-prediction delta-p, owned */
	size_t cap, cap_dp;
	double sum_kld, sum_kld2;
	double sum_nll_ref;    /* sum of -log p(next) over predictions */
	double sum_nll_ref2;   /* ... of its squares */
	double sum_nll_cand, sum_nll_cand2;
	double sum_nll_cross;  /* sum of nll_ref * nll_cand */
	double sum_dp;         /* sum of q(next) - p(next) */
	double sum_dp2;        /* sum of its squares */
	double sum_dp4;        /* sum of its fourth powers */
	double max_abs_dp;
	double max_abs_logit_diff; /* NaN once a position without it was added */
	struct ts_diff logits; /* every logit pair: sse, ref_sq -> logits NMSE */
};

void rm_acc_init(struct rm_acc *a);
/* Free the arrays and reset; accepts NULL. */
void rm_acc_free(struct rm_acc *a);
/* Add one sequence: ref and cand logits [T, n_vocab] for tokens[0..T-1]
 * (tokens[t+1] is the next token of position t; tokens may be NULL, then no
 * predictions are counted). Every position counts for KLD and top-1. */
int rm_acc_add(struct rm_acc *a, const float *ref, const float *cand, size_t T,
	       size_t n_vocab, const int32_t *tokens, qk_err *err);
/* Add n positions that each have a next token, next[0..n-1]: ref and cand
 * logits [n, n_vocab] (llama-perplexity's scored positions of a chunk). */
int rm_acc_add_scored(struct rm_acc *a, const float *ref, const float *cand, size_t n,
		      size_t n_vocab, const int32_t *next, qk_err *err);
/* Add one position (QK_E_NOMEM). */
int rm_acc_push(struct rm_acc *a, const struct rm_pos *p, qk_err *err);

/* llama-perplexity's --kl-divergence arithmetic for one position: the base
 * as log-probabilities lp_base[n_vocab] (decoded from a base-file record),
 * the candidate's logits, the next token. In float as llama.cpp computes
 * it (the log-sum-exp's sum in double): KLD sums p (lp - lq) only where
 * lp > -16; the base argmax is the first largest lp. max_abs_diff is NaN. */
void rm_base_pos(const float *lp_base, const float *cand, size_t n_vocab, uint32_t next,
		 struct rm_pos *out);

/* A value and its standard error, as llama-perplexity prints "v ± err". */
struct rm_est {
	double v, err;
};

struct rm_summary {
	size_t n_pos, n_pred, n_nonfinite;
	double kld_mean, kld_median, kld_p90, kld_p95, kld_p99, kld_p999;
	double kld_min, kld_max;
	double kld_p10, kld_p05, kld_p01, kld_p001;
	double kld_mean_err;    /* standard error of the mean KLD */
	double top1;            /* same top-1, a fraction in [0, 1] */
	double top1_err;        /* sqrt(top1 (1 - top1) / (n - 1)) */
	double ppl_ref, ppl_cand, ppl_ratio; /* NaN without predictions */
	double ppl_ref_err, ppl_cand_err, ppl_ratio_err;
	double ln_ppl_ratio, ln_ppl_ratio_err; /* mean ln(PPL(cand)/PPL(ref)) */
	double ppl_diff, ppl_diff_err;         /* PPL(cand) - PPL(ref) */
	double ln_ppl_cor;      /* correlation of the two NLL means, [-1, 1] */
	double dp_mean;         /* mean delta-p, a fraction */
	double dp_mean_err;
	double rms_dp;          /* RMS delta-p, a fraction */
	double rms_dp_err;
	double max_abs_dp;
	/* delta-p quantiles: max, 99.9, 99, 95, 90, 75, median, 25, 10, 5, 1,
	 * 0.1, min (llama.cpp's list) */
	double dp_q[13];
	double max_abs_logit_diff;
	double logits_nmse;     /* sum (cand - ref)^2 / sum ref^2 over all logits */
};
/* The fractions of rm_summary.dp_q, and their JSON key suffixes
 * ("max", "p999", ..., "median", ..., "min"). */
extern const double rm_dp_fraction[13];
extern const char *const rm_dp_name[13];

/* Summarise (sorts copies of the KLD and delta-p values). NaN fields where
 * there are no positions. Standard errors follow llama-perplexity: for a
 * mean of x over n values sqrt((E[x^2] - E[x]^2) / (n - 1)) when that
 * variance is positive and n > 10, else 0; a perplexity's is PPL times its
 * NLL mean's; the log-ratio's sqrt(e_c^2 + e_r^2 - 2 cov) with cov =
 * (E[nll_c nll_r] - E[nll_c] E[nll_r]) / (n - 1) for n >= 10, else 0 (a
 * negative argument from rounding gives 0 here, NaN in llama.cpp); RMS
 * delta-p's 0.5 / RMS times the standard error of the mean of dp^2. */
int rm_acc_summary(const struct rm_acc *a, struct rm_summary *s, qk_err *err);

/* llama-perplexity's running perplexity estimate from sums over n
 * predictions: PPL = exp(sum / n), err = PPL sqrt((sum2 / n - (sum / n)^2) /
 * (n - 1)) (0 when that variance is not positive). */
struct rm_est rm_ppl_estimate(double sum_nll, double sum_nll2, size_t n);

/* ---- residual streams ---- */

/* Does a stream differ by more than `level`: a pair with a non-finite value,
 * or NMSE (ts_diff_nmse) not <= level. */
bool rm_stream_diverges(const struct ts_diff *d, double level);
/* Index of the first of n streams that diverges at `level`, or -1. */
long rm_first_divergent(const struct ts_diff *d, size_t n, double level);

#endif
