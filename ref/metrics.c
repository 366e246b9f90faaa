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

void rm_acc_init(struct rm_acc *a)
{
	memset(a, 0, sizeof(*a));
	ts_diff_init(&a->logits);
}

void rm_acc_release(struct rm_acc *a)
{
	if (!a)
		return;
	free(a->kld);
	rm_acc_init(a);
}

static int grow(struct rm_acc *a, size_t T, qk_err *err)
{
	size_t need, cap;
	double *p;

	if (!qk_add_size(a->n_pos, T, &need))
		return qk_err_set(err, QK_E_NOMEM, "too many positions");
	if (need <= a->cap)
		return QK_OK;
	cap = a->cap ? a->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 4 / sizeof(double) ? need : cap * 2;
	if (cap > SIZE_MAX / sizeof(double))
		return qk_err_set(err, QK_E_NOMEM, "too many positions: %zu", need);
	p = realloc(a->kld, cap * sizeof(double));
	if (!p)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu KLD values", cap);
	a->kld = p;
	a->cap = cap;
	return QK_OK;
}

int rm_acc_add(struct rm_acc *a, const float *ref, const float *cand, size_t T,
	       size_t n_vocab, const int32_t *tokens, qk_err *err)
{
	int rc;

	if (n_vocab == 0)
		return qk_err_set(err, QK_E_USAGE, "no logits to compare: n_vocab is 0");
	if (n_vocab > UINT32_MAX || (T && n_vocab > SIZE_MAX / T))
		return qk_err_set(err, QK_E_USAGE, "%zu x %zu logits overflow", T, n_vocab);
	for (size_t t = 0; tokens && t + 1 < T; t++)
		if (tokens[t + 1] < 0 || (uint64_t)tokens[t + 1] >= n_vocab)
			return qk_err_set(err, QK_E_USAGE,
					  "token id %ld at position %zu is out of range: n_vocab is %zu",
					  (long)tokens[t + 1], t + 1, n_vocab);
	if ((rc = grow(a, T, err)))
		return rc;
	for (size_t t = 0; t < T; t++) {
		const float *r = ref + t * n_vocab, *c = cand + t * n_vocab;
		struct rm_row row;

		rm_row_compare(r, c, n_vocab, &row);
		ts_diff_add(&a->logits, r, c, n_vocab);
		a->kld[a->n_pos++] = row.kld;
		a->sum_kld += row.kld;
		if (!row.finite)
			a->n_nonfinite++;
		else if (row.top_ref == row.top_cand)
			a->n_same_top1++;
		if (!(row.max_abs_diff <= a->max_abs_logit_diff))
			a->max_abs_logit_diff = row.max_abs_diff;
		if (tokens && t + 1 < T) {
			const size_t next = (size_t)tokens[t + 1];
			const double nll_r = row.lse_ref - (double)r[next];
			const double nll_c = row.lse_cand - (double)c[next];
			const double dp = exp(-nll_c) - exp(-nll_r);

			a->n_pred++;
			a->sum_nll_ref += nll_r;
			a->sum_nll_cand += nll_c;
			a->sum_dp += dp;
			a->sum_dp2 += dp * dp;
			if (!(fabs(dp) <= a->max_abs_dp))
				a->max_abs_dp = fabs(dp);
		}
	}
	return QK_OK;
}

int rm_acc_summary(const struct rm_acc *a, struct rm_summary *s, qk_err *err)
{
	double *v = NULL;
	const double n = (double)a->n_pos, np = (double)a->n_pred;

	memset(s, 0, sizeof(*s));
	s->n_pos = a->n_pos;
	s->n_pred = a->n_pred;
	s->n_nonfinite = a->n_nonfinite;
	if (a->n_pos) {
		v = malloc(a->n_pos * sizeof(double));
		if (!v)
			return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu KLD values",
					  a->n_pos);
		memcpy(v, a->kld, a->n_pos * sizeof(double));
		rm_sort(v, a->n_pos);
	}
	s->kld_mean = a->n_pos ? a->sum_kld / n : NAN;
	s->kld_median = rm_median(v, a->n_pos);
	s->kld_p90 = rm_percentile(v, a->n_pos, 0.90);
	s->kld_p95 = rm_percentile(v, a->n_pos, 0.95);
	s->kld_p99 = rm_percentile(v, a->n_pos, 0.99);
	s->kld_p999 = rm_percentile(v, a->n_pos, 0.999);
	s->kld_min = a->n_pos ? v[0] : NAN;
	s->kld_max = a->n_pos ? v[a->n_pos - 1] : NAN;
	free(v);
	s->top1 = a->n_pos ? (double)a->n_same_top1 / n : NAN;
	s->ppl_ref = a->n_pred ? exp(a->sum_nll_ref / np) : NAN;
	s->ppl_cand = a->n_pred ? exp(a->sum_nll_cand / np) : NAN;
	s->ppl_ratio = a->n_pred ? exp((a->sum_nll_cand - a->sum_nll_ref) / np) : NAN;
	s->dp_mean = a->n_pred ? a->sum_dp / np : NAN;
	s->rms_dp = a->n_pred ? sqrt(a->sum_dp2 / np) : NAN;
	s->max_abs_dp = a->n_pred ? a->max_abs_dp : NAN;
	s->max_abs_logit_diff = a->n_pos ? a->max_abs_logit_diff : NAN;
	s->logits_nmse = a->logits.n_nonfinite ? NAN : ts_diff_nmse(&a->logits);
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
