/* qi_grid.h - internal to quant/: the lattice grids of the grid i-quants
 * (IQ1_*, IQ2_*, IQ3_*) and the neighbour maps their quantizers search.
 *
 * A grid point is stored as ggml's index lists do (qi_grids.c, generated
 * from ggml-quants.c): 2 bits per coordinate for the 8-wide lattices, 3 bits
 * for the 4-wide ones, first coordinate lowest. A level l is the odd number
 * 2l + 1 in the searches; the dequantizers turn it into the byte of
 * ggml-common.h's grids through the QI_*_LEVELS maps below (the generator
 * checked every point of every grid with them).
 *
 * The neighbour maps are ggml's iq2xs_init_impl / iq3xs_init_impl result:
 * for every point of the full lattice (every 2- or 3-bit combination below
 * kmap_size) either its grid index, or, when it is not on the grid, the grid
 * points at the `nwant` smallest squared distances, ordered by (distance,
 * index). They are built once, at the first call of qi_lattice(), under
 * pthread_once, into static storage sized by the generator; afterwards they
 * are read-only and shared by every thread.
 */
#ifndef QI_GRID_H
#define QI_GRID_H

#include <stdbool.h>
#include <stdint.h>

/* the byte of each level in ggml-common.h's dequantization grids */
#define QI_GRID2_LEVELS { 0x08, 0x19, 0x2b }              /* iq2xxs/iq2xs/iq2s */
#define QI_GRID1_LEVELS { -1, 0, 1 }                      /* iq1s */
#define QI_GRID3XXS_LEVELS { 4, 12, 20, 28, 36, 44, 52, 62 } /* iq3xxs */
#define QI_GRID3S_LEVELS { 1, 3, 5, 7, 9, 11, 13, 15 }     /* iq3s */

extern const uint16_t qi_kgrid_iq2xxs[256], qi_kgrid_iq2xs[512], qi_kgrid_iq2s[1024],
	qi_kgrid_iq1s[2048], qi_kgrid_iq3xxs[256], qi_kgrid_iq3s[512];
extern uint16_t qi_neigh_iq2xxs[], qi_neigh_iq2xs[], qi_neigh_iq2s[], qi_neigh_iq1s[],
	qi_neigh_iq3xxs[], qi_neigh_iq3s[];
extern const uint32_t qi_neigh_iq2xxs_size, qi_neigh_iq2xs_size, qi_neigh_iq2s_size,
	qi_neigh_iq1s_size, qi_neigh_iq3xxs_size, qi_neigh_iq3s_size;

enum qi_lattice_id {
	QI_LAT_IQ2XXS, QI_LAT_IQ2XS, QI_LAT_IQ2S, QI_LAT_IQ1S, QI_LAT_IQ3XXS, QI_LAT_IQ3S,
	QI_LAT_COUNT
};

#define QI_KMAP2 43692 /* 8-wide lattices: points searched (ggml's kmap_size) */
#define QI_KMAP3 4096  /* 4-wide lattices */

struct qi_lattice {
	const uint16_t *kgrid;  /* [n_grid] packed grid points */
	int n_grid;
	int bits, width;        /* bits per coordinate, coordinates (2, 8 or 3, 4) */
	int kmap_size;
	int nwant;              /* distinct distances kept per off-grid point */
	/* [kmap_size]: >= 0 the grid index of an on-grid point, else
	 * -(offset + 1): neigh[offset] is the count n, neigh[offset + 1 ..
	 * offset + n] the grid indices */
	const int32_t *map;
	const uint16_t *neigh;
	const uint8_t *coord;   /* [n_grid * width] 2l + 1 of every coordinate */
};

/* The lattice, its maps built on first use (thread-safe). */
const struct qi_lattice *qi_lattice(enum qi_lattice_id id);

/* ---- steps shared by the grid quantizers (qi_gridq.c) ---- */

/* ggml's iq{2,3}_find_best_neighbour for the off-grid point u: the
 * candidate with the smallest sum w (scale q - x)^2 (first wins ties; if
 * every error is NaN, where ggml aborts, the first); its levels into L;
 * returns its grid index */
int qi_best_neighbour(const struct qi_lattice *lat, int u, const float *xv, const float *w,
		      float scale, int8_t *L);
/* the levels (coordinate - 1) / 2 of grid point g into L[width] */
void qi_grid_levels(const struct qi_lattice *lat, int g, int8_t *L);
/* levels nearest_int((id x - 1) / 2) clamped to [0, kmaxq - 1] into
 * L[width]; returns their packed index */
int qi_round_group(const struct qi_lattice *lat, const float *xv, float id, int kmaxq,
		   int8_t *L);
/* |x| of n values (groups of 8) into xval; an odd number of negatives in a
 * group flips the sign of its least important element (smallest w x^2) so
 * that the 7 bits signs[k] determine the 8 signs (even parity) */
void qi_fold_signs(const float *xb, const float *weight, int n, float *xval, uint8_t *signs);
/* the largest of n values (ggml's MAX chain) */
float qi_group_max(const float *xval, int n);
/* sum w x q and sum w q^2 over n values, q = 2 L + 1 */
void qi_fit(const float *xval, const float *weight, const int8_t *L, int n, float *sumqx,
	    float *sumq2);
/* element weights: qw sqrt(sigma2 + x^2), or x^2 without qw; waux = sqrt */
void qi_weights(const float *xb, const float *qw, float sigma2, int n, float *weight,
		float *waux);
/* 256 weights of 1: what the types ggml makes only with importance
 * weights (IQ2_XXS, IQ2_XS, IQ1_S) use when given none, where ggml aborts
 * (defined output, not checked against ggml; qwen-quant refuses first) */
void qi_unit_weights(float w[256]);
/* sum x^2, left to right */
float qi_sum_sq(const float *x, int n);
/* the 8 sign bits of 7 stored ones: bit 7 makes the parity even
 * (ggml's ksigns_iq2xs table) */
unsigned qi_even_signs(unsigned v);

/* ggml's trial-scale loop: for is in [-nsteps, nsteps], inverse scale
 * (2 kmaxq - 1 + is step) / max, every group rounded and snapped (the best
 * neighbour when off the grid); the trial with the best weighted fit
 * (sumqx^2 / sumq2) gives the scale, its levels L[n] and on[n / width]
 * (group was on the grid); `scale` is returned when no trial fits */
float qi_scale_search(const struct qi_lattice *lat, const float *xval, const float *weight,
		      const float *waux, int n, int kmaxq, int nsteps, float step, float max,
		      float scale, int8_t *L, bool *on);
/* snap again at `scale` the groups not on[] the grid (every group when on
 * is NULL), then the refitted scale (unchanged if sum w q^2 is 0) */
float qi_resnap(const struct qi_lattice *lat, const float *xval, const float *weight,
		const float *waux, int n, int kmaxq, float scale, int8_t *L, const bool *on);

/* the packed index of levels l[0..width-1] (each < 2^bits) */
static inline int qi_pack_levels(const struct qi_lattice *lat, const int8_t *l)
{
	int u = 0;

	for (int i = 0; i < lat->width; i++)
		u |= l[i] << lat->bits * i;
	return u;
}

#endif
