/* tstats.h - streaming statistics of one tensor and differences of two.
 *
 * Accumulators are fed fp32 values in chunks, in file order, and keep double
 * sums in that fixed order, so results do not depend on chunk sizes' timing
 * (only on the order, which callers keep). NaN and Inf are counted and left
 * out of min/max/mean/std (stats) or counted and left out of the sums (diff).
 */
#ifndef TS_TSTATS_H
#define TS_TSTATS_H

#include <stddef.h>
#include <stdint.h>

struct ts_stats {
	uint64_t n;        /* finite values seen */
	uint64_t n_nan;
	uint64_t n_inf;
	double min, max;   /* over finite values */
	double mean, m2;   /* Welford running mean and sum of squared deviations */
};

void ts_stats_init(struct ts_stats *s);
void ts_stats_add(struct ts_stats *s, const float *x, size_t n);
/* Population standard deviation; 0 when n < 1. */
double ts_stats_std(const struct ts_stats *s);

struct ts_diff {
	uint64_t n;          /* pairs where both values are finite */
	uint64_t n_nonfinite;/* pairs where either is NaN or Inf */
	double max_abs;      /* max |a - b| */
	double sse;          /* sum (a - b)^2 */
	double ref_sq;       /* sum a^2 */
	double cand_sq;      /* sum b^2 */
	double dot;          /* sum a * b */
};

void ts_diff_init(struct ts_diff *d);
/* a: reference values, b: candidate values, n each. */
void ts_diff_add(struct ts_diff *d, const float *a, const float *b, size_t n);
double ts_diff_rmse(const struct ts_diff *d);
/* sse / ref_sq; 0 when both are 0, +inf when only the reference is 0. */
double ts_diff_nmse(const struct ts_diff *d);
/* dot / (|a| |b|); 1 when both are all zero, 0 when exactly one is. */
double ts_diff_cosine(const struct ts_diff *d);

#endif
