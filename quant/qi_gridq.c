/* qi_gridq.c - the steps the grid quantizers (IQ2_*, IQ3_*) share: signs
 * folded to even parity, snapping a group to the lattice, the weighted fit.
 * Each is one of ggml's repeated inline loops in ggml-quants.c, with its
 * float order; see qi_grid.h.
 */
#include "qi_grid.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "qkern.h"
#include "qsimd.h"
#include "qtype.h"

/* the nearest of the candidates nb[1 .. nb[0]] by weighted squared
 * distance, the first on a tie (-1: every distance NaN); the scalar loop
 * qt_avx2_grid_nearest mirrors */
static int scalar_nearest(const struct qi_lattice *lat, const uint16_t *nb, const float *xv,
			  const float *w, float scale)
{
	const int width = lat->width;
	float best_d2 = FLT_MAX;
	int best = -1;

	for (int j = 1; j <= nb[0]; j++) {
		const uint8_t *pg = lat->coord + (size_t)nb[j] * (size_t)width;
		float d2 = 0;

		for (int i = 0; i < width; i++) {
			float q = pg[i];
			float diff = scale * q - xv[i];

			d2 += w[i] * diff * diff;
		}
		if (d2 < best_d2) {
			best_d2 = d2;
			best = nb[j];
		}
	}
	return best;
}

int qi_best_neighbour(const struct qi_lattice *lat, int u, const float *xv, const float *w,
		      float scale, int8_t *L)
{
	const uint16_t *nb = lat->neigh + (-lat->map[u] - 1);
	int best;

	if (qt_simd_avx2()) {
		const int k = qt_avx2_grid_nearest(lat->coord, lat->width, nb + 1, nb[0], xv, w,
						   scale, NULL);

		best = k < 0 ? -1 : nb[1 + k];
	} else {
		best = scalar_nearest(lat, nb, xv, w, scale);
	}
	if (best < 0)  /* every error NaN (infinite inputs): ggml aborts here */
		best = nb[1];
	qi_grid_levels(lat, best, L);
	return best;
}

void qi_grid_levels(const struct qi_lattice *lat, int g, int8_t *L)
{
	for (int i = 0; i < lat->width; i++)
		L[i] = (int8_t)((lat->coord[(size_t)g * (size_t)lat->width + (size_t)i] - 1) / 2);
}

int qi_round_group(const struct qi_lattice *lat, const float *xv, float id, int kmaxq,
		   int8_t *L)
{
	int u = 0;

	for (int i = 0; i < lat->width; i++) {
		int l = qt_nearest_int(0.5f * (id * xv[i] - 1));

		L[i] = (int8_t)qt_imax(0, qt_imin(kmaxq - 1, l));
		u |= L[i] << lat->bits * i;
	}
	return u;
}

void qi_fold_signs(const float *xb, const float *weight, int n, float *xval, uint8_t *signs)
{
	for (int k = 0; k < n / 8; k++) {
		int nflip = 0;
		unsigned s = 0;

		for (int i = 0; i < 8; i++) {
			if (xb[8 * k + i] >= 0) {
				xval[8 * k + i] = xb[8 * k + i];
			} else {
				xval[8 * k + i] = -xb[8 * k + i];
				nflip++;
				s |= 1u << i;
			}
		}
		if (nflip % 2) {
			int imin = 0;
			float min = weight[8 * k] * xb[8 * k] * xb[8 * k];

			for (int i = 1; i < 8; i++) {
				float ax = weight[8 * k + i] * xb[8 * k + i] * xb[8 * k + i];

				if (ax < min) {
					min = ax;
					imin = i;
				}
			}
			xval[8 * k + imin] = -xval[8 * k + imin];
			s ^= 1u << imin;
		}
		signs[k] = (uint8_t)(s & 127);
	}
}

float qi_group_max(const float *xval, int n)
{
	float max = xval[0];

	for (int i = 1; i < n; i++)
		max = max > xval[i] ? max : xval[i];
	return max;
}

void qi_fit(const float *xval, const float *weight, const int8_t *L, int n, float *sumqx,
	    float *sumq2)
{
	float sqx = 0, sq2 = 0;

	for (int i = 0; i < n; i++) {
		float q = 2 * L[i] + 1;

		sqx += weight[i] * xval[i] * q;
		sq2 += weight[i] * q * q;
	}
	*sumqx = sqx;
	*sumq2 = sq2;
}

float qi_sum_sq(const float *x, int n)
{
	float s = 0;

	for (int i = 0; i < n; i++)
		s += x[i] * x[i];
	return s;
}

unsigned qi_even_signs(unsigned v)
{
	unsigned p = v;

	p ^= p >> 4;
	p ^= p >> 2;
	p ^= p >> 1;
	return v | (p & 1) << 7;
}

void qi_weights(const float *xb, const float *qw, float sigma2, int n, float *weight,
		float *waux)
{
	for (int i = 0; i < n; i++)
		weight[i] = qw ? qw[i] * sqrtf(sigma2 + xb[i] * xb[i]) : xb[i] * xb[i];
	for (int i = 0; i < n; i++)
		waux[i] = sqrtf(weight[i]);
}

float qi_scale_search(const struct qi_lattice *lat, const float *xval, const float *weight,
		      const float *waux, int n, int kmaxq, int nsteps, float step, float max,
		      float scale, int8_t *L, bool *on)
{
	const int width = lat->width, ngroups = n / width;
	float best = 0, sumqx, sumq2;
	int8_t Laux[32];
	bool on_aux[8];

	for (int is = -nsteps; is <= nsteps; is++) {
		float id = (2 * kmaxq - 1 + is * step) / max;
		float this_scale = 1 / id;

		for (int k = 0; k < ngroups; k++) {
			int u = qi_round_group(lat, xval + width * k, id, kmaxq, Laux + width * k);

			on_aux[k] = lat->map[u] >= 0;
			if (!on_aux[k])
				qi_best_neighbour(lat, u, xval + width * k, waux + width * k, this_scale,
						  Laux + width * k);
		}
		qi_fit(xval, weight, Laux, n, &sumqx, &sumq2);
		if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
			scale = sumqx / sumq2;
			best = scale * sumqx;
			memcpy(L, Laux, (size_t)n);
			memcpy(on, on_aux, (size_t)ngroups * sizeof *on);
		}
	}
	return scale;
}

float qi_resnap(const struct qi_lattice *lat, const float *xval, const float *weight,
		const float *waux, int n, int kmaxq, float scale, int8_t *L, const bool *on)
{
	const int width = lat->width;
	const float id = 1 / scale;
	float sumqx, sumq2;

	for (int k = 0; k < n / width; k++) {
		int u;

		if (on && on[k])
			continue;
		u = qi_round_group(lat, xval + width * k, id, kmaxq, L + width * k);
		if (lat->map[u] < 0)
			qi_best_neighbour(lat, u, xval + width * k, waux + width * k, scale,
					  L + width * k);
	}
	qi_fit(xval, weight, L, n, &sumqx, &sumq2);
	return sumq2 > 0 ? sumqx / sumq2 : scale;
}

void qi_unit_weights(float w[QT_QK_K])
{
	for (int i = 0; i < QT_QK_K; i++)
		w[i] = 1.0f;
}
