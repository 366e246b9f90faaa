/* vis_grid.c - the index tables of a vision pass, from image_grid_thw
 * (vis_priv.h). Facts from transformers 5.23's vision_utils.py:
 *
 *  - patch positions (get_vision_position_ids): within a frame of h x w
 *    patches, patch p of the input order is in merge block p / m^2 (blocks
 *    row by row, w / m per row) at offset (p / m) % m, p % m inside it;
 *  - attention segments (get_vision_cu_seqlens): one per frame, h * w
 *    patches, frames of every image in turn;
 *  - Qwen2.5-VL windows (get_vision_window_index): the merged grid of a frame
 *    (h / m x w / m units) is cut into windows of v x v units from the top
 *    left, v = window_size / m / patch (integer division); the windows of a
 *    frame are visited row by row, the units of a window row by row, and
 *    that visiting order is the working order of the units; each window is
 *    one attention segment of the windowed blocks (edge windows are smaller;
 *    transformers' empty padding windows give no segment);
 *  - Qwen3-VL position taps (get_vision_interpolation_indices_and_weights,
 *    bilinear, align_corners): for a patch at (row, col) of an h x w frame
 *    and a learned s x s table, per axis src = row * (s - 1) / max(h - 1, 1)
 *    in fp32, taps floor(src) and floor(src) + 1 clamped to [0, s - 1],
 *    weights max(1 - |src - floor(src) - k|, 0) for k = 0, 1; the 2-D taps are
 *    (h tap a, w tap b) with weight w_a * w_b, a outer.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/io.h"
#include "vis_priv.h"

int rf_vis_check_hparams(const struct rf_vis_hparams *hp, qk_err *err)
{
	const uint32_t big = RF_VIS_MAX_DIM;

	if (hp->kind < RF_VIS_QWEN2VL || hp->kind > RF_VIS_QWEN3VL)
		return qk_err_set(err, QK_E_INVALID, "vision kind %d is not a Qwen vision tower",
				  hp->kind);
	if (hp->act < RF_VIS_ACT_QUICK_GELU || hp->act > RF_VIS_ACT_GELU)
		return qk_err_set(err, QK_E_INVALID, "vision activation %d is not supported", hp->act);
	if (!hp->n_embd || hp->n_embd > big || !hp->n_ff || hp->n_ff > big || !hp->out_dim ||
	    hp->out_dim > big)
		return qk_err_set(err, QK_E_INVALID, "vision widths n_embd %u, n_ff %u, out_dim %u: "
				  "expected 1 .. %u each", hp->n_embd, hp->n_ff, hp->out_dim, big);
	if (!hp->n_head || hp->n_embd % hp->n_head || (hp->n_embd / hp->n_head) % 4)
		return qk_err_set(err, QK_E_INVALID, "vision n_embd %u over %u heads: expected a "
				  "head_dim that is a multiple of 4 (2-D rotary halves)",
				  hp->n_embd, hp->n_head);
	if (!hp->n_layer || hp->n_layer > RF_VIS_MAX_LAYERS)
		return qk_err_set(err, QK_E_INVALID, "vision depth %u: expected 1 .. %d",
				  hp->n_layer, RF_VIS_MAX_LAYERS);
	if (!hp->patch || hp->patch > 1024 || !hp->tpatch || hp->tpatch > 64 || !hp->in_ch ||
	    hp->in_ch > 64 || !hp->merge || hp->merge > 64 ||
	    (uint64_t)hp->in_ch * hp->tpatch * hp->patch * hp->patch > big ||
	    (uint64_t)hp->merge * hp->merge * hp->n_embd > big)
		return qk_err_set(err, QK_E_INVALID, "vision patch %u x %u, %u frames, %u channels, "
				  "merge %u: out of range", hp->patch, hp->patch, hp->tpatch,
				  hp->in_ch, hp->merge);
	if (!(hp->eps > 0.0f) || !(hp->rope_theta > 0.0f) || !isfinite(hp->rope_theta))
		return qk_err_set(err, QK_E_INVALID, "vision eps %g, rope_theta %g: expected positive",
				  (double)hp->eps, (double)hp->rope_theta);
	if (hp->kind == RF_VIS_QWEN25VL && hp->window / hp->merge / hp->patch == 0)
		return qk_err_set(err, QK_E_INVALID, "vision window_size %u: expected at least "
				  "spatial_merge_size * patch_size = %u pixels", hp->window,
				  hp->merge * hp->patch);
	if (hp->kind == RF_VIS_QWEN3VL) {
		uint32_t s = 0;

		while ((uint64_t)(s + 1) * (s + 1) <= hp->n_pos)
			s++;
		if (!hp->n_pos || s * s != hp->n_pos)
			return qk_err_set(err, QK_E_INVALID, "vision num_position_embeddings %u: "
					  "expected a square", hp->n_pos);
	}
	if (hp->n_deep > hp->n_layer)
		return qk_err_set(err, QK_E_INVALID, "%u deepstack mergers for %u blocks",
				  hp->n_deep, hp->n_layer);
	for (uint32_t l = 0; l < hp->n_layer; l++)
		if (hp->deep[l] < -1 || hp->deep[l] >= (int)hp->n_deep)
			return qk_err_set(err, QK_E_INVALID, "block %u: deepstack merger %d of %u",
					  l, hp->deep[l], hp->n_deep);
	return QK_OK;
}

int rf_vis_check_grid(const struct rf_vis_hparams *hp, const uint32_t (*grid)[3],
		      size_t n_img, size_t *n_patch, qk_err *err)
{
	uint64_t total = 0;

	if (!n_img || !grid)
		return qk_err_set(err, QK_E_USAGE, "no image grid given");
	for (size_t i = 0; i < n_img; i++) {
		const uint32_t t = grid[i][0], h = grid[i][1], w = grid[i][2];

		if (!t || !h || !w || t > RF_VIS_MAX_SIDE || h > RF_VIS_MAX_SIDE ||
		    w > RF_VIS_MAX_SIDE)
			return qk_err_set(err, QK_E_USAGE, "image %zu: grid %u,%u,%u: expected t, h "
					  "and w in 1 .. %u", i, t, h, w, RF_VIS_MAX_SIDE);
		if (h % hp->merge || w % hp->merge)
			return qk_err_set(err, QK_E_USAGE, "image %zu: grid %u,%u,%u: h and w must be "
					  "multiples of spatial_merge_size %u", i, t, h, w, hp->merge);
		total += (uint64_t)t * h * w; /* each < 2^36, n_img bounded below */
		if (total > RF_VIS_MAX_PATCHES)
			return qk_err_set(err, QK_E_USAGE, "the grids hold more than %u patches",
					  RF_VIS_MAX_PATCHES);
	}
	*n_patch = (size_t)total;
	return QK_OK;
}

int rf_vis_parse_grid(const char *s, const char *what, uint32_t (**grid)[3], size_t *n_img,
		      qk_err *err)
{
	size_t n = 1;
	const char *p = s;

	*grid = NULL;
	*n_img = 0;
	for (const char *q = s; *q; q++)
		n += *q == ';';
	if (n > RF_VIS_MAX_IMAGES)
		return qk_err_set(err, QK_E_USAGE, "%s: more than %u images", what,
				  RF_VIS_MAX_IMAGES);
	if (!(*grid = calloc(n, sizeof(**grid))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu grids", n);
	for (size_t i = 0; i < n; i++) {
		for (int d = 0; d < 3; d++) {
			const char want = d < 2 ? ',' : i + 1 < n ? ';' : '\0';
			uint32_t v = 0;
			size_t k = 0;

			while (p[k] >= '0' && p[k] <= '9' && v <= RF_VIS_MAX_SIDE)
				v = v * 10 + (uint32_t)(p[k++] - '0');
			if (!k || v < 1 || v > RF_VIS_MAX_SIDE || p[k] != want) {
				free(*grid);
				*grid = NULL;
				return qk_err_set(err, QK_E_USAGE, "%s '%s': image %zu: expected T,H,W with "
						  "each in 1 .. %u (images separated by ';')", what, s, i,
						  RF_VIS_MAX_SIDE);
			}
			(*grid)[i][d] = v;
			p += k + 1;
		}
	}
	*n_img = n;
	return QK_OK;
}

void vis_grid_free(struct vis_grid *g)
{
	free(g->hpos);
	free(g->wpos);
	free(g->perm);
	free(g->seg_full);
	free(g->seg_win);
	free(g->tap);
	free(g->tapw);
	memset(g, 0, sizeof(*g));
}

/* one axis of the bilinear resampling: taps k0, k1 and weights w0, w1 */
static void axis_taps(uint32_t idx, uint32_t size, uint32_t side, uint32_t k[2], float wt[2])
{
	const float src = (float)idx * (float)(side - 1) / (float)(size > 1 ? size - 1 : 1);
	const float fl = floorf(src);

	for (int o = 0; o < 2; o++) {
		const long raw = (long)fl + o;
		const float d = fabsf(src - fl - (float)o);

		k[o] = raw < 0 ? 0 : raw > (long)side - 1 ? side - 1 : (uint32_t)raw;
		wt[o] = 1.0f - d > 0.0f ? 1.0f - d : 0.0f;
	}
}

/* positions and Qwen3-VL taps of the input patches of one frame, from p0 */
static void frame_positions(const struct rf_vis_hparams *hp, struct vis_grid *g, size_t p0,
			    uint32_t h, uint32_t w, uint32_t side)
{
	const size_t m = hp->merge, bw = w / m;

	for (size_t p = 0; p < (size_t)h * w; p++) {
		const size_t row = (p / (m * m * bw)) * m + (p / m) % m;
		const size_t col = ((p / (m * m)) % bw) * m + p % m;

		g->hpos[p0 + p] = (uint32_t)row;
		g->wpos[p0 + p] = (uint32_t)col;
		if (g->tap) {
			uint32_t kh[2], kw[2];
			float wh[2], ww[2];

			axis_taps((uint32_t)row, h, side, kh, wh);
			axis_taps((uint32_t)col, w, side, kw, ww);
			for (int a = 0; a < 2; a++)
				for (int b = 0; b < 2; b++) {
					g->tap[(p0 + p) * 4 + 2 * a + b] = kh[a] * side + kw[b];
					g->tapw[(p0 + p) * 4 + 2 * a + b] = wh[a] * ww[b];
				}
		}
	}
}

/* Qwen2.5-VL: the windows of one frame of lh x lw units starting at unit u0;
 * appends to perm (from *j) and to the window boundaries */
static void frame_windows(struct vis_grid *g, size_t v, size_t u0, size_t lh, size_t lw,
			  size_t *j)
{
	for (size_t r0 = 0; r0 < lh; r0 += v)
		for (size_t c0 = 0; c0 < lw; c0 += v) {
			const size_t r1 = r0 + v < lh ? r0 + v : lh, c1 = c0 + v < lw ? c0 + v : lw;

			for (size_t r = r0; r < r1; r++)
				for (size_t c = c0; c < c1; c++)
					g->perm[(*j)++] = u0 + r * lw + c;
			g->seg_win[++g->n_win] = *j * g->unit;
			if ((r1 - r0) * (c1 - c0) * g->unit > g->max_seg)
				g->max_seg = (r1 - r0) * (c1 - c0) * g->unit;
		}
}

int vis_grid_build(const struct rf_vis_hparams *hp, const uint32_t (*grid)[3], size_t n_img,
		   struct vis_grid *g, qk_err *err)
{
	const bool win = hp->kind == RF_VIS_QWEN25VL, taps = hp->kind == RF_VIS_QWEN3VL;
	size_t n, frames = 0, p0 = 0, j = 0;
	uint32_t side = 0;
	int rc;

	memset(g, 0, sizeof(*g));
	if ((rc = rf_vis_check_grid(hp, grid, n_img, &n, err)))
		return rc;
	for (size_t i = 0; i < n_img; i++)
		frames += grid[i][0]; /* <= RF_VIS_MAX_PATCHES */
	while (taps && (uint64_t)(side + 1) * (side + 1) <= hp->n_pos)
		side++;
	g->n_patch = n;
	g->unit = (size_t)hp->merge * hp->merge;
	g->n_unit = n / g->unit;
	g->hpos = malloc(n * sizeof(*g->hpos));
	g->wpos = malloc(n * sizeof(*g->wpos));
	g->perm = malloc(g->n_unit * sizeof(*g->perm));
	g->seg_full = malloc((frames + 1) * sizeof(*g->seg_full));
	g->seg_win = win ? malloc((g->n_unit + 1) * sizeof(*g->seg_win)) : NULL;
	g->tap = taps ? malloc(n * 4 * sizeof(*g->tap)) : NULL;
	g->tapw = taps ? malloc(n * 4 * sizeof(*g->tapw)) : NULL;
	if (!g->hpos || !g->wpos || !g->perm || !g->seg_full || (win && !g->seg_win) ||
	    (taps && (!g->tap || !g->tapw))) {
		vis_grid_free(g);
		return qk_err_set(err, QK_E_NOMEM, "out of memory for the tables of %zu patches", n);
	}
	g->seg_full[0] = 0;
	if (win)
		g->seg_win[0] = 0;
	for (size_t i = 0; i < n_img; i++) {
		const uint32_t t = grid[i][0], h = grid[i][1], w = grid[i][2];
		const size_t fsz = (size_t)h * w, lh = h / hp->merge, lw = w / hp->merge;

		for (uint32_t f = 0; f < t; f++) {
			frame_positions(hp, g, p0, h, w, side);
			if (win)
				frame_windows(g, hp->window / hp->merge / hp->patch, p0 / g->unit, lh,
					      lw, &j);
			p0 += fsz;
			g->seg_full[++g->n_full] = p0;
			if (fsz > g->max_seg)
				g->max_seg = fsz;
		}
	}
	for (size_t u = 0; !win && u < g->n_unit; u++)
		g->perm[u] = u;
	return QK_OK;
}
