/* qi_lattice.c - the neighbour maps of the grid i-quants, built once.
 *
 * What ggml's iq2xs_init_impl / iq3xs_init_impl compute (see qi_grid.h): for
 * every point of the full lattice that is not a grid point, the grid points
 * at its `nwant` smallest squared distances (between the odd coordinates
 * 2l + 1), in the order (distance, grid index). Sorting by that pair is a
 * total order, so any correct sort gives ggml's lists; ggml sorts all the
 * grid points for every lattice point, here the few smallest distances are
 * picked first and the list is read off in index order for each of them,
 * the same list without the sort.
 */
#include "qi_grid.h"

#include <pthread.h>

static int32_t maps2[4][QI_KMAP2];           /* IQ2XXS, IQ2XS, IQ2S, IQ1S */
static int32_t maps3[2][QI_KMAP3];           /* IQ3XXS, IQ3S */
static uint8_t coord2[256 + 512 + 1024 + 2048][8];
static uint8_t coord3[256 + 512][4];

static struct qi_lattice lattices[QI_LAT_COUNT] = {
	[QI_LAT_IQ2XXS] = { qi_kgrid_iq2xxs, 256, 2, 8, QI_KMAP2, 2, maps2[0], qi_neigh_iq2xxs,
			    coord2[0] },
	[QI_LAT_IQ2XS] = { qi_kgrid_iq2xs, 512, 2, 8, QI_KMAP2, 2, maps2[1], qi_neigh_iq2xs,
			   coord2[256] },
	[QI_LAT_IQ2S] = { qi_kgrid_iq2s, 1024, 2, 8, QI_KMAP2, 1, maps2[2], qi_neigh_iq2s,
			  coord2[768] },
	[QI_LAT_IQ1S] = { qi_kgrid_iq1s, 2048, 2, 8, QI_KMAP2, 3, maps2[3], qi_neigh_iq1s,
			  coord2[1792] },
	[QI_LAT_IQ3XXS] = { qi_kgrid_iq3xxs, 256, 3, 4, QI_KMAP3, 2, maps3[0], qi_neigh_iq3xxs,
			    coord3[0] },
	[QI_LAT_IQ3S] = { qi_kgrid_iq3s, 512, 3, 4, QI_KMAP3, 3, maps3[1], qi_neigh_iq3s,
			  coord3[256] },
};

static const uint32_t *const neigh_size[QI_LAT_COUNT] = {
	&qi_neigh_iq2xxs_size, &qi_neigh_iq2xs_size, &qi_neigh_iq2s_size,
	&qi_neigh_iq1s_size, &qi_neigh_iq3xxs_size, &qi_neigh_iq3s_size,
};

static pthread_once_t once[QI_LAT_COUNT] = {
	PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT,
	PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT,
};

/* the nwant smallest distinct values of d[0..n-1], ascending, into lv;
 * returns how many there are (fewer when d has fewer distinct values) */
static int smallest_levels(const int32_t *d, int n, int nwant, int32_t *lv)
{
	int k = 0;

	for (int g = 0; g < n; g++) {
		const int32_t v = d[g];
		int j = k;

		while (j > 0 && lv[j - 1] > v)
			j--;
		if ((j > 0 && lv[j - 1] == v) || j >= nwant)
			continue;
		for (int m = k < nwant ? k : nwant - 1; m > j; m--)
			lv[m] = lv[m - 1];
		lv[j] = v;
		if (k < nwant)
			k++;
	}
	return k;
}

static void build(enum qi_lattice_id id)
{
	struct qi_lattice *lat = &lattices[id];
	uint8_t *coord = (uint8_t *)(uintptr_t)lat->coord;
	int32_t *map = (int32_t *)(uintptr_t)lat->map;
	uint16_t *neigh = (uint16_t *)(uintptr_t)lat->neigh;
	const int mask = (1 << lat->bits) - 1;
	int32_t dist[2048];  /* [n_grid] squared distance to each grid point */
	uint16_t list[2048]; /* [n_grid] the neighbours, in (distance, index) order */
	uint32_t used = 0;

	for (int g = 0; g < lat->n_grid; g++)
		for (int c = 0; c < lat->width; c++)
			coord[g * lat->width + c] =
				(uint8_t)(2 * ((lat->kgrid[g] >> lat->bits * c) & mask) + 1);
	for (int i = 0; i < lat->kmap_size; i++)
		map[i] = -1;
	for (int g = 0; g < lat->n_grid; g++)
		map[lat->kgrid[g]] = g;
	for (int i = 0; i < lat->kmap_size; i++) {
		int pos[8], n = 0;
		int32_t levels[4]; /* [nwant <= 3] the smallest distances */

		if (map[i] >= 0)
			continue;
		for (int c = 0; c < lat->width; c++)
			pos[c] = 2 * ((i >> lat->bits * c) & mask) + 1;
		for (int g = 0; g < lat->n_grid; g++) {
			int d = 0;

			for (int c = 0; c < lat->width; c++) {
				int diff = coord[g * lat->width + c] - pos[c];

				d += diff * diff;
			}
			dist[g] = d;
		}
		const int nl = smallest_levels(dist, lat->n_grid, lat->nwant, levels);

		for (int k = 0; k < nl; k++)
			for (int g = 0; g < lat->n_grid; g++)
				if (dist[g] == levels[k])
					list[n++] = (uint16_t)g;
		map[i] = -(int32_t)used - 1;
		/* the generator sized the storage exactly (qi_grids.c); were it
		 * short, the list is cut rather than written past its end, and the
		 * i-quant goldens (test_iquant_golden) fail: library code never aborts */
		if (used + 1 + (uint32_t)n > *neigh_size[id])
			n = used + 1 < *neigh_size[id] ? (int)(*neigh_size[id] - used - 1) : 0;
		if (used + 1 > *neigh_size[id])
			break;
		neigh[used] = (uint16_t)n;
		for (int k = 0; k < n; k++)
			neigh[used + 1 + (uint32_t)k] = list[k];
		used += 1 + (uint32_t)n;
	}
}

#define ONCE_FN(name, id) static void name(void) { build(id); }
ONCE_FN(build_iq2xxs, QI_LAT_IQ2XXS)
ONCE_FN(build_iq2xs, QI_LAT_IQ2XS)
ONCE_FN(build_iq2s, QI_LAT_IQ2S)
ONCE_FN(build_iq1s, QI_LAT_IQ1S)
ONCE_FN(build_iq3xxs, QI_LAT_IQ3XXS)
ONCE_FN(build_iq3s, QI_LAT_IQ3S)

static void (*const builders[QI_LAT_COUNT])(void) = {
	build_iq2xxs, build_iq2xs, build_iq2s, build_iq1s, build_iq3xxs, build_iq3s,
};

const struct qi_lattice *qi_lattice(enum qi_lattice_id id)
{
	pthread_once(&once[id], builders[id]);
	return &lattices[id];
}
