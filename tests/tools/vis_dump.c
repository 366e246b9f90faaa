/* vis_dump.c - test-only: run the vision pass (ref/vis.h) of a fixture on
 * the pixels and grid of its expected_vision.safetensors and print every
 * output as hex, so that builds and options can be compared byte for byte
 * (tests/cli/determinism.sh).
 *
 *   vis_dump [-t THREADS] [--scalar] [--no-avx512] DIR
 *
 * Output: "embd", one line per merged token with the fp32 bit patterns of
 * its values as 8 hex digits each; then "deepstack K" and its rows for
 * every deepstack merger; then "block L" and one line per patch.
 * Exit status: 0, 2 for usage errors, else qk_err_exit_code of the failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/dtype.h"
#include "../../formats/container/catalog.h"
#include "../../formats/container/safetensors.h"
#include "../../ref/vis.h"

static void put_rows(const char *title, const float *x, size_t rows, size_t n)
{
	printf("%s\n", title);
	for (size_t r = 0; r < rows; r++) {
		for (size_t i = 0; i < n; i++) {
			uint32_t u;

			memcpy(&u, &x[r * n + i], 4);
			printf(i ? " %08x" : "%08x", (unsigned)u);
		}
		putchar('\n');
	}
}

/* an aligned copy of F32 tensor `name` of the expected file */
static float *f32_copy(const struct qk_catalog *exp, const char *name, qk_err *err)
{
	const struct qk_tensor *t = qk_catalog_find(exp, name);
	float *v;

	if (!t || t->dtype != QK_DT_F32) {
		qk_err_set(err, QK_E_INVALID, "no F32 tensor '%s'", name);
		return NULL;
	}
	if (!(v = malloc(t->nbytes + 4)))
		qk_err_set(err, QK_E_NOMEM, "out of memory");
	else
		memcpy(v, t->data, t->nbytes);
	return v;
}

static int run(const char *dir, const struct rf_vis_opts *o, qk_err *err)
{
	struct vs_input in;
	struct qk_catalog exp;
	struct rf_vis_model vm;
	struct rf_vis_out out;
	const struct qk_tensor *g;
	uint32_t(*grid)[3] = NULL;
	float *px = NULL;
	char path[4096], title[32];
	size_t n_img = 0, n_patch = 0;
	int rc;

	qk_catalog_init(&exp);
	memset(&vm, 0, sizeof(vm));
	memset(&out, 0, sizeof(out));
	snprintf(path, sizeof(path), "%s/expected_vision.safetensors", dir);
	if ((rc = vs_open(&in, dir, err)))
		return rc;
	if ((rc = rf_vis_from_vs(&vm, &in.vm, NULL, err)) || (rc = st_open(&exp, path, err)))
		goto out;
	g = qk_catalog_find(&exp, "vision.grid");
	if (!g || g->dtype != QK_DT_I32 || g->n_dims != 2 || g->shape[1] != 3) {
		rc = qk_err_set(err, QK_E_INVALID, "%s: no I32 [n, 3] 'vision.grid'", path);
		goto out;
	}
	n_img = (size_t)g->shape[0];
	if (!(grid = malloc(n_img * sizeof(*grid) + 1))) {
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(grid, g->data, n_img * sizeof(*grid)); /* I32 values > 0 */
	if ((rc = rf_vis_check_grid(&vm.hp, (const uint32_t(*)[3])grid, n_img, &n_patch, err)))
		goto out;
	if (!(px = f32_copy(&exp, "vision.pixels", err))) {
		rc = err->code;
		goto out;
	}
	if ((rc = rf_vis_run(&vm, px, n_patch, (const uint32_t(*)[3])grid, n_img, o, &out, err)))
		goto out;
	put_rows("embd", out.embd, out.n_tok, out.out_dim);
	for (uint32_t k = 0; k < out.n_deep; k++) {
		snprintf(title, sizeof(title), "deepstack %u", k);
		put_rows(title, out.deep + (size_t)k * out.n_tok * out.out_dim, out.n_tok,
			 out.out_dim);
	}
	for (uint32_t l = 0; l < out.n_layer; l++) {
		snprintf(title, sizeof(title), "block %u", l);
		put_rows(title, out.blocks + (size_t)l * out.n_patch * out.n_embd, out.n_patch,
			 out.n_embd);
	}
out:
	rf_vis_out_free(&out);
	free(px);
	free(grid);
	rf_vis_model_free(&vm);
	qk_catalog_free(&exp);
	vs_close(&in);
	return rc;
}

int main(int argc, char **argv)
{
	struct rf_vis_opts o;
	const char *dir = NULL;
	qk_err err;
	int rc;

	rf_vis_opts_init(&o);
	o.keep_blocks = true;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
			o.n_threads = (unsigned)atoi(argv[++i]);
			if (o.n_threads < 1 || o.n_threads > 256)
				return fprintf(stderr, "vis_dump: -t 1..256\n"), 2;
		} else if (strcmp(argv[i], "--scalar") == 0) {
			o.simd = false;
		} else if (strcmp(argv[i], "--no-avx512") == 0) {
			o.no_avx512 = true;
		} else if (argv[i][0] != '-' && !dir) {
			dir = argv[i];
		} else {
			fprintf(stderr, "usage: vis_dump [-t THREADS] [--scalar] [--no-avx512] DIR\n");
			return 2;
		}
	}
	if (!dir) {
		fprintf(stderr, "usage: vis_dump [-t THREADS] [--scalar] [--no-avx512] DIR\n");
		return 2;
	}
	qk_err_clear(&err);
	if ((rc = run(dir, &o, &err))) {
		fprintf(stderr, "vis_dump: %s\n", err.msg);
		return qk_err_exit_code(rc);
	}
	return 0;
}
