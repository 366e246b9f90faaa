/* metrics.c - see metrics.h. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/io.h"

double rm_log_sum_exp(const float *x, size_t n)
{
	double m, s = 0.0;

	if (n == 0)
		return NAN;
	m = x[0];
	for (size_t i = 1; i < n; i++)
		if (x[i] > m || isnan(x[i]))
			m = x[i];
	if (!isfinite(m))
		return NAN;
	for (size_t i = 0; i < n; i++)
		s += exp((double)x[i] - m);
	return m + log(s);
}

uint32_t rm_argmax(const float *x, size_t n)
{
	uint32_t best = 0;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (isnan(x[i]))
			continue;
		if (!any || x[i] > x[best]) {
			best = (uint32_t)i;
			any = true;
		}
	}
	return best;
}

size_t rm_top_k(const float *x, size_t n, size_t k, uint32_t *ids)
{
	size_t have = 0;

	/* insertion into a sorted list of at most k: a value enters only when
	 * strictly larger than the one it passes, so ties keep the lower index */
	for (size_t i = 0; i < n && k; i++) {
		size_t j;

		if (isnan(x[i]))
			continue;
		if (have == k && !(x[i] > x[ids[k - 1]]))
			continue;
		j = have < k ? have++ : k - 1;
		while (j > 0 && x[i] > x[ids[j - 1]]) {
			ids[j] = ids[j - 1];
			j--;
		}
		ids[j] = (uint32_t)i;
	}
	return have;
}

void rm_row_compare(const float *ref, const float *cand, size_t n_vocab, struct rm_row *out)
{
	double kld = 0.0, dmax = 0.0, rmax = 0.0;
	bool finite = true;

	for (size_t i = 0; i < n_vocab; i++) {
		double d;

		if (!isfinite(ref[i]) || !isfinite(cand[i])) {
			finite = false;
			continue;
		}
		d = fabs((double)cand[i] - (double)ref[i]);
		if (d > dmax)
			dmax = d;
		if (fabs((double)ref[i]) > rmax)
			rmax = fabs((double)ref[i]);
	}
	out->top_ref = rm_argmax(ref, n_vocab);
	out->top_cand = rm_argmax(cand, n_vocab);
	out->max_abs_ref = rmax;
	out->finite = finite && n_vocab > 0;
	if (!out->finite) {
		out->kld = NAN;
		out->max_abs_diff = INFINITY;
		out->lse_ref = out->lse_cand = NAN;
		return;
	}
	out->lse_ref = rm_log_sum_exp(ref, n_vocab);
	out->lse_cand = rm_log_sum_exp(cand, n_vocab);
	for (size_t i = 0; i < n_vocab; i++) {
		const double lp = (double)ref[i] - out->lse_ref;
		const double lq = (double)cand[i] - out->lse_cand;

		kld += exp(lp) * (lp - lq);
	}
	out->kld = kld;
	out->max_abs_diff = dmax;
}

/* ---- percentiles ---- */

static int cmp_double(const void *pa, const void *pb)
{
	const double a = *(const double *)pa, b = *(const double *)pb;

	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b); /* NaN last */
	return (a > b) - (a < b);
}

void rm_sort(double *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_double);
}

double rm_percentile(const double *v, size_t n, double fraction)
{
	double x, w;
	size_t i;

	if (n == 0)
		return NAN;
	if (!(fraction > 0))
		return v[0];
	if (fraction >= 1)
		return v[n - 1];
	x = fraction * (double)(n - 1);
	i = (size_t)x;
	w = x - (double)i;
	return (1 - w) * v[i] + w * v[i + 1 < n ? i + 1 : n - 1];
}

double rm_median(const double *v, size_t n)
{
	if (n == 0)
		return NAN;
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- accumulator ---- */

const double rm_dp_fraction[13] = { 1, 0.999, 0.99, 0.95, 0.90, 0.75, 0.5,
				    0.25, 0.10, 0.05, 0.01, 0.001, 0 };
const char *const rm_dp_name[13] = { "max", "p999", "p99", "p95", "p90", "p75", "median",
				     "p25", "p10", "p05", "p01", "p001", "min" };

void rm_acc_init(struct rm_acc *a)
{
	memset(a, 0, sizeof(*a));
	ts_diff_init(&a->logits);
}

void rm_acc_free(struct rm_acc *a)
{
	if (!a)
		return;
	free(a->kld);
	free(a->dp);
	rm_acc_init(a);
}

/* room for one more value in *v (capacity *cap, n used) */
static int grow(double **v, size_t *cap, size_t n, qk_err *err)
{
	size_t c;
	double *p;

	if (n < *cap)
		return QK_OK;
	c = *cap ? *cap : 64;
	if (c > SIZE_MAX / 2 / sizeof(double))
		return qk_err_set(err, QK_E_NOMEM, "too many positions: %zu", n);
	c *= 2;
	p = realloc(*v, c * sizeof(double));
	if (!p)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu values", c);
	*v = p;
	*cap = c;
	return QK_OK;
}

int rm_acc_push(struct rm_acc *a, const struct rm_pos *p, qk_err *err)
{
	int rc;

	if ((rc = grow(&a->kld, &a->cap, a->n_pos, err)) ||
	    (p->has_next && (rc = grow(&a->dp, &a->cap_dp, a->n_pred, err))))
		return rc;
	a->kld[a->n_pos++] = p->kld;
	a->sum_kld += p->kld;
	a->sum_kld2 += p->kld * p->kld;
	if (!p->finite)
		a->n_nonfinite++;
	else if (p->same_top)
		a->n_same_top1++;
	if (isnan(p->max_abs_diff) || isnan(a->max_abs_logit_diff))
		a->max_abs_logit_diff = NAN;
	else if (!(p->max_abs_diff <= a->max_abs_logit_diff))
		a->max_abs_logit_diff = p->max_abs_diff;
	if (p->has_next) {
		const double d2 = p->dp * p->dp;

		a->dp[a->n_pred++] = p->dp;
		a->sum_nll_ref += p->nll_ref;
		a->sum_nll_ref2 += p->nll_ref * p->nll_ref;
		a->sum_nll_cand += p->nll_cand;
		a->sum_nll_cand2 += p->nll_cand * p->nll_cand;
		a->sum_nll_cross += p->nll_ref * p->nll_cand;
		a->sum_dp += p->dp;
		a->sum_dp2 += d2;
		a->sum_dp4 += d2 * d2;
		if (!(fabs(p->dp) <= a->max_abs_dp))
			a->max_abs_dp = fabs(p->dp);
	}
	return QK_OK;
}

/* one position of two logit rows; next < 0: no next token */
static int add_row(struct rm_acc *a, const float *r, const float *c, size_t n_vocab,
		   int64_t next, qk_err *err)
{
	struct rm_row row;
	struct rm_pos p;

	rm_row_compare(r, c, n_vocab, &row);
	ts_diff_add(&a->logits, r, c, n_vocab);
	p.kld = row.kld;
	p.max_abs_diff = row.max_abs_diff;
	p.finite = row.finite;
	p.same_top = row.top_ref == row.top_cand;
	p.has_next = next >= 0;
	p.nll_ref = p.nll_cand = p.dp = NAN;
	if (p.has_next) {
		p.nll_ref = row.lse_ref - (double)r[next];
		p.nll_cand = row.lse_cand - (double)c[next];
		p.dp = exp(-p.nll_cand) - exp(-p.nll_ref);
	}
	return rm_acc_push(a, &p, err);
}

static int check_rows(size_t T, size_t n_vocab, const int32_t *ids, size_t n_ids,
		      size_t pos0, qk_err *err)
{
	if (n_vocab == 0)
		return qk_err_set(err, QK_E_USAGE, "no logits to compare: n_vocab is 0");
	if (n_vocab > UINT32_MAX || (T && n_vocab > SIZE_MAX / T))
		return qk_err_set(err, QK_E_USAGE, "%zu x %zu logits overflow", T, n_vocab);
	for (size_t t = 0; ids && t < n_ids; t++)
		if (ids[t] < 0 || (uint64_t)ids[t] >= n_vocab)
			return qk_err_set(err, QK_E_USAGE,
					  "token id %ld at position %zu is out of range: n_vocab is %zu",
					  (long)ids[t], t + pos0, n_vocab);
	return QK_OK;
}

int rm_acc_add(struct rm_acc *a, const float *ref, const float *cand, size_t T,
	       size_t n_vocab, const int32_t *tokens, qk_err *err)
{
	int rc;

	if ((rc = check_rows(T, n_vocab, tokens ? tokens + 1 : NULL, T ? T - 1 : 0, 1, err)))
		return rc;
	for (size_t t = 0; t < T; t++)
		if ((rc = add_row(a, ref + t * n_vocab, cand + t * n_vocab, n_vocab,
				  tokens && t + 1 < T ? tokens[t + 1] : -1, err)))
			return rc;
	return QK_OK;
}

int rm_acc_add_scored(struct rm_acc *a, const float *ref, const float *cand, size_t n,
		      size_t n_vocab, const int32_t *next, qk_err *err)
{
	int rc;

	if ((rc = check_rows(n, n_vocab, next, n, 0, err)))
		return rc;
	for (size_t t = 0; t < n; t++)
		if ((rc = add_row(a, ref + t * n_vocab, cand + t * n_vocab, n_vocab, next[t], err)))
			return rc;
	return QK_OK;
}

void rm_base_pos(const float *lp_base, const float *cand, size_t n_vocab, uint32_t next,
		 struct rm_pos *out)
{
	float max_logit = cand[0], lse, nll, nll_base, lp_max = 0, p, p_base;
	size_t imax = 0, imax_base = 0;
	double sum_exp = 0.0, kld = 0.0;
	bool finite = true;

	for (size_t i = 1; i < n_vocab; i++)
		if (cand[i] > max_logit) {
			max_logit = cand[i];
			imax = i;
		}
	for (size_t i = 0; i < n_vocab; i++) {
		sum_exp += expf(cand[i] - max_logit);
		finite = finite && isfinite(cand[i]) && isfinite(lp_base[i]);
	}
	lse = (float)log(sum_exp);
	nll = max_logit + lse - cand[next];
	nll_base = -lp_base[next];
	max_logit += lse;
	for (size_t i = 0; i < n_vocab; i++) {
		const float lp = lp_base[i];

		if (i == 0 || lp > lp_max) {
			lp_max = lp;
			imax_base = i;
		}
		if (lp > -16.f) {
			const float pb = expf(lp);

			kld += pb * (lp - cand[i] + max_logit);
		}
	}
	p_base = expf(-nll_base);
	p = expf(-nll);
	out->finite = finite && n_vocab > 0;
	out->kld = out->finite ? kld : NAN;
	out->nll_ref = nll_base;
	out->nll_cand = nll;
	out->dp = (double)(p - p_base);
	out->max_abs_diff = NAN;
	out->same_top = imax == imax_base;
	out->has_next = true;
}

/* llama-perplexity's mean_and_uncertainty */
static struct rm_est mean_err(double sum, double sum2, size_t n)
{
	struct rm_est e = { NAN, NAN };
	double var;

	if (n < 1)
		return e;
	e.v = sum / (double)n;
	var = sum2 / (double)n - e.v * e.v;
	e.err = var > 0 && n > 10 ? sqrt(var / (double)(n - 1)) : 0.0;
	if (isnan(var))
		e.err = NAN;
	return e;
}

struct rm_est rm_ppl_estimate(double sum_nll, double sum_nll2, size_t n)
{
	struct rm_est e = { NAN, NAN };
	double m, var;

	if (n < 1)
		return e;
	m = sum_nll / (double)n;
	var = sum_nll2 / (double)n - m * m;
	e.v = exp(m);
	e.err = n > 1 && var > 0 ? e.v * sqrt(var / (double)(n - 1)) : 0.0;
	return e;
}

static void ppl_stats(const struct rm_acc *a, struct rm_summary *s)
{
	const size_t n = a->n_pred;
	const struct rm_est lr = mean_err(a->sum_nll_ref, a->sum_nll_ref2, n);
	const struct rm_est lc = mean_err(a->sum_nll_cand, a->sum_nll_cand2, n);
	double cov = 0.0, v;
	struct rm_est e;

	if (n < 1) {
		s->ppl_ref = s->ppl_cand = s->ppl_ratio = s->ppl_ref_err = s->ppl_cand_err = NAN;
		s->ppl_ratio_err = s->ln_ppl_ratio = s->ln_ppl_ratio_err = NAN;
		s->ppl_diff = s->ppl_diff_err = s->ln_ppl_cor = NAN;
		s->dp_mean = s->dp_mean_err = s->rms_dp = s->rms_dp_err = s->max_abs_dp = NAN;
		return;
	}
	if (n >= 10)
		cov = (a->sum_nll_cross / (double)n - lr.v * lc.v) / (double)(n - 1);
	s->ppl_ref = exp(lr.v);
	s->ppl_ref_err = s->ppl_ref * lr.err;
	s->ppl_cand = exp(lc.v);
	s->ppl_cand_err = s->ppl_cand * lc.err;
	s->ln_ppl_cor = cov / (lr.err * lc.err);
	s->ln_ppl_ratio = (a->sum_nll_cand - a->sum_nll_ref) / (double)n;
	v = lc.err * lc.err + lr.err * lr.err - 2.0 * cov;
	s->ln_ppl_ratio_err = v > 0 ? sqrt(v) : isnan(v) ? NAN : 0.0;
	s->ppl_ratio = exp(s->ln_ppl_ratio);
	s->ppl_ratio_err = s->ppl_ratio * s->ln_ppl_ratio_err;
	s->ppl_diff = s->ppl_cand - s->ppl_ref;
	v = s->ppl_cand_err * s->ppl_cand_err + s->ppl_ref_err * s->ppl_ref_err -
	    2.0 * s->ppl_cand * s->ppl_ref * cov;
	s->ppl_diff_err = v > 0 ? sqrt(v) : isnan(v) ? NAN : 0.0;
	e = mean_err(a->sum_dp, a->sum_dp2, n);
	s->dp_mean = e.v;
	s->dp_mean_err = e.err;
	e = mean_err(a->sum_dp2, a->sum_dp4, n);
	s->rms_dp = sqrt(e.v);
	s->rms_dp_err = s->rms_dp > 0 ? 0.5 / s->rms_dp * e.err : 0.0;
	s->max_abs_dp = a->max_abs_dp;
}

/* an ascending copy of v[0..n-1] (NULL for n == 0) */
static int sorted_copy(const double *v, size_t n, double **out, qk_err *err)
{
	*out = NULL;
	if (n == 0)
		return QK_OK;
	if (!(*out = malloc(n * sizeof(double))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu values", n);
	memcpy(*out, v, n * sizeof(double));
	rm_sort(*out, n);
	return QK_OK;
}

int rm_acc_summary(const struct rm_acc *a, struct rm_summary *s, qk_err *err)
{
	double *v = NULL, *d = NULL;
	const size_t n = a->n_pos;
	struct rm_est e;
	int rc;

	memset(s, 0, sizeof(*s));
	s->n_pos = n;
	s->n_pred = a->n_pred;
	s->n_nonfinite = a->n_nonfinite;
	if ((rc = sorted_copy(a->kld, n, &v, err)) ||
	    (rc = sorted_copy(a->dp, a->n_pred, &d, err))) {
		free(v);
		return rc;
	}
	e = mean_err(a->sum_kld, a->sum_kld2, n);
	s->kld_mean = e.v;
	s->kld_mean_err = e.err;
	s->kld_median = rm_median(v, n);
	s->kld_p90 = rm_percentile(v, n, 0.90);
	s->kld_p95 = rm_percentile(v, n, 0.95);
	s->kld_p99 = rm_percentile(v, n, 0.99);
	s->kld_p999 = rm_percentile(v, n, 0.999);
	s->kld_p10 = rm_percentile(v, n, 0.10);
	s->kld_p05 = rm_percentile(v, n, 0.05);
	s->kld_p01 = rm_percentile(v, n, 0.01);
	s->kld_p001 = rm_percentile(v, n, 0.001);
	s->kld_min = n ? v[0] : NAN;
	s->kld_max = n ? v[n - 1] : NAN;
	for (int i = 0; i < 13; i++)
		s->dp_q[i] = rm_dp_fraction[i] == 0.5 ? rm_median(d, a->n_pred)
			     : rm_percentile(d, a->n_pred, rm_dp_fraction[i]);
	free(v);
	free(d);
	s->top1 = n ? (double)a->n_same_top1 / (double)n : NAN;
	s->top1_err = n > 1 ? sqrt(s->top1 * (1 - s->top1) / (double)(n - 1)) : NAN;
	ppl_stats(a, s);
	s->max_abs_logit_diff = n ? a->max_abs_logit_diff : NAN;
	s->logits_nmse = a->logits.n_nonfinite || !a->logits.n ? NAN : ts_diff_nmse(&a->logits);
	return QK_OK;
}

bool rm_stream_diverges(const struct ts_diff *d, double level)
{
	return d->n_nonfinite > 0 || !(ts_diff_nmse(d) <= level);
}

long rm_first_divergent(const struct ts_diff *d, size_t n, double level)
{
	for (size_t i = 0; i < n; i++)
		if (rm_stream_diverges(&d[i], level))
			return (long)i;
	return -1;
}
