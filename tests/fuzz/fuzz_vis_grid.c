/* fuzz_vis_grid.c - libFuzzer target: a vision grid list (qwen-verify
 * --grid) and the index tables of the vision pass (ref/vis_grid.c).
 *
 * The first 4 bytes choose the tower's geometry (family, spatial merge 1..4,
 * patch 1..16, Qwen2.5-VL window in pixels, Qwen3-VL position table side);
 * the rest is the grid text for rf_vis_parse_grid. Any input must give an
 * error with a message, or tables that keep their invariants: perm a
 * permutation of the merge units, window and frame boundaries rising from 0
 * to the patch count and no longer than max_seg, positions inside their
 * frame, position taps inside the table with weights in [0, 1]. Grids of
 * more than 65536 patches are checked (rf_vis_check_grid) but not built.
 * Seeds: tests/fuzz/corpus/vis_grid/.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../ref/vis_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_segs(const size_t *seg, size_t n, size_t total, size_t max_seg)
{
	if (seg[0] != 0 || seg[n] != total)
		__builtin_trap();
	for (size_t i = 0; i < n; i++)
		if (seg[i + 1] <= seg[i] || seg[i + 1] - seg[i] > max_seg)
			__builtin_trap();
}

static void check_tables(const struct rf_vis_hparams *hp, const uint32_t (*grid)[3], size_t n_img,
			 const struct vis_grid *g)
{
	bool *seen = calloc(g->n_unit + 1, 1);
	size_t p = 0;

	if (!seen)
		return;
	for (size_t u = 0; u < g->n_unit; u++) {
		if (g->perm[u] >= g->n_unit || seen[g->perm[u]])
			__builtin_trap();
		seen[g->perm[u]] = true;
	}
	free(seen);
	check_segs(g->seg_full, g->n_full, g->n_patch, g->max_seg);
	if (g->seg_win)
		check_segs(g->seg_win, g->n_win, g->n_patch, g->max_seg);
	for (size_t i = 0; i < n_img; i++)
		for (size_t f = 0; f < grid[i][0]; f++)
			for (size_t k = 0; k < (size_t)grid[i][1] * grid[i][2]; k++, p++)
				if (g->hpos[p] >= grid[i][1] || g->wpos[p] >= grid[i][2])
					__builtin_trap();
	for (size_t k = 0; g->tap && k < 4 * g->n_patch; k++)
		if (g->tap[k] >= hp->n_pos || !(g->tapw[k] >= 0.0f && g->tapw[k] <= 1.0f))
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rf_vis_hparams hp;
	uint32_t(*grid)[3] = NULL;
	struct vis_grid g;
	size_t n_img = 0, n_patch = 0;
	char *text;
	qk_err err;

	if (size < 4)
		return 0;
	memset(&hp, 0, sizeof(hp));
	hp.kind = RF_VIS_QWEN2VL + data[0] % 3;
	hp.merge = 1 + data[1] % 4;
	hp.patch = 1 + data[2] % 16;
	hp.window = (uint32_t)data[3] * hp.merge;
	hp.n_pos = (1u + data[3] % 8) * (1u + data[3] % 8);
	if (!(text = malloc(size - 3)))
		return 0;
	memcpy(text, data + 4, size - 4);
	text[size - 4] = '\0';
	if (rf_vis_parse_grid(text, "--grid", &grid, &n_img, &err) == QK_OK) {
		if (!grid || !n_img)
			__builtin_trap();
		if (rf_vis_check_grid(&hp, (const uint32_t(*)[3])grid, n_img, &n_patch, &err) ==
			    QK_OK && n_patch <= 65536 &&
		    (hp.kind != RF_VIS_QWEN25VL || hp.window / hp.merge / hp.patch > 0) &&
		    vis_grid_build(&hp, (const uint32_t(*)[3])grid, n_img, &g, &err) == QK_OK) {
			check_tables(&hp, (const uint32_t(*)[3])grid, n_img, &g);
			vis_grid_free(&g);
		}
	} else if (grid || !err.msg[0]) {
		__builtin_trap();
	}
	free(grid);
	free(text);
	return 0;
}
