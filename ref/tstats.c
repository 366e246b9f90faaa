/* tstats.c - see tstats.h. */
#include "tstats.h"

#include <math.h>

void ts_stats_init(struct ts_stats *s)
{
	s->n = s->n_nan = s->n_inf = 0;
	s->min = INFINITY;
	s->max = -INFINITY;
	s->mean = s->m2 = 0.0;
}

void ts_stats_add(struct ts_stats *s, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double v = x[i], delta;

		if (isnan(x[i])) {
			s->n_nan++;
			continue;
		}
		if (isinf(x[i])) {
			s->n_inf++;
			continue;
		}
		if (v < s->min)
			s->min = v;
		if (v > s->max)
			s->max = v;
		s->n++;
		delta = v - s->mean;
		s->mean += delta / (double)s->n;
		s->m2 += delta * (v - s->mean);
	}
}

double ts_stats_std(const struct ts_stats *s)
{
	return s->n ? sqrt(s->m2 / (double)s->n) : 0.0;
}

void ts_diff_init(struct ts_diff *d)
{
	d->n = d->n_nonfinite = 0;
	d->max_abs = d->sse = d->ref_sq = d->cand_sq = d->dot = 0.0;
}

void ts_diff_add(struct ts_diff *d, const float *a, const float *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double x = a[i], y = b[i], e;

		if (!isfinite(a[i]) || !isfinite(b[i])) {
			d->n_nonfinite++;
			continue;
		}
		e = x - y;
		if (fabs(e) > d->max_abs)
			d->max_abs = fabs(e);
		d->sse += e * e;
		d->ref_sq += x * x;
		d->cand_sq += y * y;
		d->dot += x * y;
		d->n++;
	}
}

double ts_diff_rmse(const struct ts_diff *d)
{
	return d->n ? sqrt(d->sse / (double)d->n) : 0.0;
}

double ts_diff_nmse(const struct ts_diff *d)
{
	if (d->ref_sq == 0.0)
		return d->sse == 0.0 ? 0.0 : INFINITY;
	return d->sse / d->ref_sq;
}

double ts_diff_cosine(const struct ts_diff *d)
{
	if (d->ref_sq == 0.0 && d->cand_sq == 0.0)
		return 1.0;
	if (d->ref_sq == 0.0 || d->cand_sq == 0.0)
		return 0.0;
	return d->dot / (sqrt(d->ref_sq) * sqrt(d->cand_sq));
}
