/* qsearch.c - the per-group scale searches of ggml's reference k-quants.
 *
 * These decide which scale and which integers a group of 16 or 32 values
 * gets; a different summation order or a fused multiply-add changes the
 * chosen scale in a few percent of groups, so every expression below keeps
 * ggml's left-to-right order and float intermediates: `w*x*l` is (w*x)*l
 * with l converted to float at that point. See qkern.h for the contracts.
 */
#include "qkern.h"

#include <math.h>

/* signed value of largest |x| (first wins) and that |x| */
static float group_absmax(const float *x, int n, float *amax_out)
{
	float amax = 0.0f, max = 0.0f;

	for (int i = 0; i < n; i++) {
		const float ax = fabsf(x[i]);

		if (ax > amax) {
			amax = ax;
			max = x[i];
		}
	}
	*amax_out = amax;
	return max;
}

static float qx_weight(const float *x, const float *qw, int i, int rmse_type)
{
	if (qw)
		return qw[i];
	switch (rmse_type) {
	case 1: return x[i] * x[i];
	case 2: return 1.0f;
	case 3: return fabsf(x[i]);
	default: return sqrtf(fabsf(x[i]));
	}
}

static int clamp_i(int v, int lo, int hi)
{
	return qt_imax(lo, qt_imin(hi, v));
}

/* the weighted sums of one trial scale; L (if not NULL) gets l + nmax */
static void qx_trial(int n, int nmax, const float *x, const float *qw, int rmse_type,
		     float iscale, int8_t *L, float *sumlx_out, float *suml2_out)
{
	float sumlx = 0.0f, suml2 = 0.0f;

	for (int i = 0; i < n; i++) {
		const int l = clamp_i(qt_nearest_int(iscale * x[i]), -nmax, nmax - 1);
		const float w = qx_weight(x, qw, i, rmse_type);

		if (L)
			L[i] = (int8_t)(l + nmax);
		sumlx += w * x[i] * (float)l;
		suml2 += w * (float)l * (float)l;
	}
	*sumlx_out = sumlx;
	*suml2_out = suml2;
}

float qt_make_qx_quants(int n, int nmax, const float *x, int8_t *L,
			int rmse_type, const float *qw)
{
	float amax, sumlx, suml2;
	const float max = group_absmax(x, n, &amax);
	bool return_early = false;

	if (amax < QT_GROUP_MAX_EPS) {
		for (int i = 0; i < n; i++)
			L[i] = 0;
		return 0.0f;
	}
	float iscale = (float)-nmax / max;
	if (rmse_type == 0) {
		for (int i = 0; i < n; i++)
			L[i] = (int8_t)(nmax + clamp_i(qt_nearest_int(iscale * x[i]), -nmax, nmax - 1));
		return 1 / iscale;
	}
	if (rmse_type < 0) {
		rmse_type = -rmse_type;
		return_early = true;
	}
	qx_trial(n, nmax, x, qw, rmse_type, iscale, L, &sumlx, &suml2);
	float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
	if (return_early)
		return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;
	float best = scale * sumlx;
	for (int is = -9; is <= 9; is++) {
		if (is == 0)
			continue;
		iscale = -((float)nmax + 0.1f * (float)is) / max;
		qx_trial(n, nmax, x, qw, rmse_type, iscale, NULL, &sumlx, &suml2);
		if (suml2 > 0 && sumlx * sumlx > best * suml2) {
			for (int i = 0; i < n; i++)
				L[i] = (int8_t)(nmax + clamp_i(qt_nearest_int(iscale * x[i]), -nmax, nmax - 1));
			scale = sumlx / suml2;
			best = scale * sumlx;
		}
	}
	return scale;
}

float qt_make_q3_quants(int n, int nmax, const float *x, int8_t *L)
{
	float amax;
	const float max = group_absmax(x, n, &amax);

	if (amax < QT_GROUP_MAX_EPS) {
		for (int i = 0; i < n; i++)
			L[i] = 0;
		return 0.0f;
	}
	const float iscale = (float)-nmax / max;
	float sumlx = 0.0f, suml2 = 0.0f;

	for (int i = 0; i < n; i++) {
		const int l = clamp_i(qt_nearest_int(iscale * x[i]), -nmax, nmax - 1);
		const float w = x[i] * x[i];

		L[i] = (int8_t)l;
		sumlx += w * x[i] * (float)l;
		suml2 += w * (float)l * (float)l;
	}
	/* up to 5 sweeps: move one value at a time to its best level given the
	 * others, keeping the move only if the fitted error decreases */
	for (int itry = 0; itry < 5; itry++) {
		int n_changed = 0;

		for (int i = 0; i < n; i++) {
			const float w = x[i] * x[i];
			float slx = sumlx - w * x[i] * (float)L[i];

			if (!(slx > 0))
				continue;
			float sl2 = suml2 - w * (float)L[i] * (float)L[i];
			const int new_l = clamp_i(qt_nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);

			if (new_l == L[i])
				continue;
			slx += w * x[i] * (float)new_l;
			sl2 += w * (float)new_l * (float)new_l;
			if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
				L[i] = (int8_t)new_l;
				sumlx = slx;
				suml2 = sl2;
				n_changed++;
			}
		}
		if (n_changed == 0)
			break;
	}
	for (int i = 0; i < n; i++)
		L[i] = (int8_t)(L[i] + nmax);
	return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* sum of w * f(scale*L + min - x), f = |.| or square */
static float qkx_error(int n, const float *x, const float *weights, const uint8_t *L,
		       float scale, float min, bool use_mad)
{
	float err = 0.0f;

	for (int i = 0; i < n; i++) {
		float diff = scale * (float)L[i] + min - x[i];

		diff = use_mad ? fabsf(diff) : diff * diff;
		err += weights[i] * diff;
	}
	return err;
}

float qt_make_qkx2_quants(int n, int nmax, const float *x, const float *weights,
			  uint8_t *L, float *the_min, uint8_t *Laux,
			  float rmin, float rdelta, int nstep, bool use_mad)
{
	float min = x[0], max = x[0];
	float sum_w = weights[0];
	float sum_x = sum_w * x[0];

	for (int i = 1; i < n; i++) {
		if (x[i] < min)
			min = x[i];
		if (x[i] > max)
			max = x[i];
		sum_w += weights[i];
		sum_x += weights[i] * x[i];
	}
	if (min > 0)
		min = 0;
	if (max == min) {
		for (int i = 0; i < n; i++)
			L[i] = 0;
		*the_min = -min;
		return 0.0f;
	}
	float iscale = (float)nmax / (max - min);
	float scale = 1 / iscale;

	for (int i = 0; i < n; i++)
		L[i] = (uint8_t)clamp_i(qt_nearest_int(iscale * (x[i] - min)), 0, nmax);
	float best_error = qkx_error(n, x, weights, L, scale, min, use_mad);

	if (nstep < 1) {
		*the_min = -min;
		return scale;
	}
	for (int is = 0; is <= nstep; is++) {
		float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f;

		iscale = (rmin + rdelta * (float)is + (float)nmax) / (max - min);
		for (int i = 0; i < n; i++) {
			const int l = clamp_i(qt_nearest_int(iscale * (x[i] - min)), 0, nmax);
			const float w = weights[i];

			Laux[i] = (uint8_t)l;
			sum_l += w * (float)l;
			sum_l2 += w * (float)l * (float)l;
			sum_xl += w * (float)l * x[i];
		}
		/* least-squares fit of scale and min for these levels */
		const float D = sum_w * sum_l2 - sum_l * sum_l;

		if (!(D > 0))
			continue;
		float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
		float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;

		if (this_min > 0) {
			this_min = 0;
			this_scale = sum_xl / sum_l2;
		}
		const float cur_error = qkx_error(n, x, weights, Laux, this_scale, this_min, use_mad);

		if (cur_error < best_error) {
			memcpy(L, Laux, (size_t)n);
			best_error = cur_error;
			scale = this_scale;
			min = this_min;
		}
	}
	*the_min = -min;
	return scale;
}
