/* qsearch_w.c - the scale search only ggml's weighted quantizers use
 * (make_qp_quants in ggml-quants.c: the sub-block scales of the weighted
 * k-quants), in ggml's evaluation order with float intermediates, like
 * qsearch.c. See qkern.h. */
#include "qkern.h"

#include <math.h>

/* weighted squared error of levels round(iscale * x) capped at nmax */
static float qp_error(int n, int nmax, const float *x, const float *qw, float iscale,
		      float scale)
{
	float mse = 0.0f;

	for (int i = 0; i < n; i++) {
		const int l = qt_imin(nmax, qt_nearest_int(iscale * x[i]));
		const float diff = x[i] - scale * (float)l;

		mse += qw[i] * diff * diff;
	}
	return mse;
}

float qt_make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *qw)
{
	float max = 0.0f;

	for (int i = 0; i < n; i++)
		max = max > x[i] ? max : x[i];
	if (max < QT_GROUP_MAX_EPS) {
		memset(L, 0, (size_t)n);
		return 0.0f;
	}
	float iscale = (float)nmax / max;

	/* ggml stores these uncapped levels in a uint8_t and reads them back */
	for (int i = 0; i < n; i++)
		L[i] = (uint8_t)qt_nearest_int(iscale * x[i]);
	const float scale = 1 / iscale;
	float best = 0.0f;

	for (int i = 0; i < n; i++) {
		const float diff = x[i] - scale * (float)L[i];

		best += qw[i] * diff * diff;
	}
	for (int is = -4; is <= 4; is++) {
		if (is == 0)
			continue;
		const float iscale_is = (0.1f * (float)is + (float)nmax) / max;
		const float mse = qp_error(n, nmax, x, qw, iscale_is, 1 / iscale_is);

		if (mse < best) {
			best = mse;
			iscale = iscale_is;
		}
	}
	float sumlx = 0.0f, suml2 = 0.0f;

	for (int i = 0; i < n; i++) {
		const int l = qt_imin(nmax, qt_nearest_int(iscale * x[i]));

		L[i] = (uint8_t)l;
		sumlx += qw[i] * x[i] * (float)l;
		suml2 += qw[i] * (float)l * (float)l;
	}
	/* up to 5 sweeps moving one level at a time, as in make_q3_quants */
	for (int itry = 0; itry < 5; itry++) {
		int n_changed = 0;

		for (int i = 0; i < n; i++) {
			const float w = qw[i];
			float slx = sumlx - w * x[i] * (float)L[i];
			float sl2 = suml2 - w * (float)L[i] * (float)L[i];

			if (!(slx > 0 && sl2 > 0))
				continue;
			const int new_l = qt_imin(nmax, qt_nearest_int(x[i] * sl2 / slx));

			if (new_l == L[i])
				continue;
			slx += w * x[i] * (float)new_l;
			sl2 += w * (float)new_l * (float)new_l;
			if (slx * slx * suml2 > sumlx * sumlx * sl2) {
				L[i] = (uint8_t)new_l;
				sumlx = slx;
				suml2 = sl2;
				n_changed++;
			}
		}
		if (n_changed == 0)
			break;
	}
	return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}
