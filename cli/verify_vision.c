/* verify_vision.c - the vision towers in qwen-verify: opening a tower, the
 * pixels and grids it runs on (--pixels, --grid, the built-in pixels), the
 * `vision` subcommand (image embeddings of one model, --dump) and `golden`
 * on an expected_vision.safetensors. Compare is verify_vcompare.c. See
 * verify.h and man/qwen-verify.1. */
#include "verify.h"
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/dtype.h"
#include "../formats/base/outfile.h"
#include "../formats/container/gguf.h"
#include "../formats/container/safetensors.h"

#define VV_MAX_IMAGES RF_VIS_MAX_IMAGES /* grids of one run */
#define VV_DEFAULT_GRID { 1, 16, 16 } /* the built-in pixels' grid */

int vv_open(struct vv_model *m, const char *path, const struct verify_opts *o, qk_err *err)
{
	int rc;

	memset(m, 0, sizeof(*m));
	m->path = path;
	if ((rc = vs_open(&m->in, path, err)))
		return rc;
	if ((rc = rf_vis_from_vs(&m->vm, &m->in.vm, &m->window_assumed, err)) ||
	    (!o->allow_nonfinite && (rc = rf_vis_check_finite(&m->vm, err)))) {
		qk_err_prefix(err, "%s", path);
		vv_close(m);
		return rc;
	}
	if (o->window_px) {
		struct rf_vis_hparams *hp = &m->vm.hp;

		if (hp->kind != RF_VIS_QWEN25VL)
			rc = qk_err_set(err, QK_E_USAGE, "--window-size: '%s' is not a Qwen2.5-VL tower "
					"(no window attention)", path);
		else if (o->window_px / hp->merge / hp->patch == 0)
			rc = qk_err_set(err, QK_E_USAGE, "--window-size %u: expected at least "
					"spatial_merge_size x patch_size = %u pixels", o->window_px,
					hp->merge * hp->patch);
		if (rc) {
			vv_close(m);
			return rc;
		}
		hp->window = o->window_px;
		m->window_assumed = false;
		m->window_given = true;
	}
	return QK_OK;
}

void vv_close(struct vv_model *m)
{
	rf_vis_model_free(&m->vm);
	vs_close(&m->in);
	memset(m, 0, sizeof(*m));
}

static const char *const family_names[] = {
	[RF_VIS_QWEN2VL] = "qwen2vl_merger", [RF_VIS_QWEN25VL] = "qwen2.5vl_merger",
	[RF_VIS_QWEN3VL] = "qwen3vl_merger",
};

void vv_describe(const struct vv_model *m, char *buf, size_t size)
{
	const struct rf_vis_hparams *hp = &m->vm.hp;

	char win[64] = "";

	if (hp->kind == RF_VIS_QWEN25VL)
		snprintf(win, sizeof(win), ", window %u px%s", hp->window,
			 m->window_assumed ? " (assumed, as llama.cpp)"
			 : m->window_from_other ? " (the other model's)"
			 : m->window_given ? " (--window-size)" : "");
	snprintf(buf, size, "%s, %s, %u blocks, width %u, %u heads, patch %u, merge %u, out %u%s%s",
		 m->in.cat.format == QK_FMT_GGUF ? "mmproj" : "hf", family_names[hp->kind],
		 hp->n_layer, hp->n_embd, hp->n_head, hp->patch, hp->merge, hp->out_dim,
		 hp->n_deep ? ", deepstack" : "", win);
}

void vv_input_free(struct vv_input *in)
{
	free(in->pixels);
	free(in->grid);
	memset(in, 0, sizeof(*in));
}

/* the grid stored in the pixels file: image_grid_thw or vision.grid, I32 or
 * I64 [n, 3] */
static int file_grid(const struct qk_catalog *cat, const char *path, struct vv_input *in,
		     qk_err *err)
{
	const struct qk_tensor *t = qk_catalog_find(cat, "image_grid_thw");
	size_t es;

	if (!t)
		t = qk_catalog_find(cat, "vision.grid");
	if (!t)
		return qk_err_set(err, QK_E_USAGE, "%s: no 'image_grid_thw' tensor: give the grid "
				  "with --grid T,H,W", path);
	es = t->dtype == QK_DT_I32 ? 4 : 8;
	if ((t->dtype != QK_DT_I32 && t->dtype != QK_DT_I64) || t->n_dims != 2 ||
	    t->shape[1] != 3 || !t->shape[0] || t->shape[0] > VV_MAX_IMAGES)
		return qk_err_set(err, QK_E_INVALID, "%s: tensor '%s': expected I32 or I64 [n, 3] "
				  "with 1 <= n <= %u", path, t->name, VV_MAX_IMAGES);
	in->n_img = (size_t)t->shape[0];
	if (!(in->grid = calloc(in->n_img, sizeof(*in->grid))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	for (size_t i = 0; i < in->n_img * 3; i++) {
		int64_t v = 0;

		if (es == 4) {
			int32_t v32;

			memcpy(&v32, t->data + 4 * i, 4);
			v = v32;
		} else {
			memcpy(&v, t->data + 8 * i, 8);
		}
		if (v < 1 || v > RF_VIS_MAX_SIDE)
			return qk_err_set(err, QK_E_INVALID, "%s: tensor '%s': image %zu: %lld is not "
					  "in 1 .. %u", path, t->name, i / 3, (long long)v,
					  RF_VIS_MAX_SIDE);
		in->grid[i / 3][i % 3] = (uint32_t)v;
	}
	return QK_OK;
}

/* pixel_values (or vision.pixels) F32 [N, K] of a safetensors file */
static int file_pixels(const struct qk_catalog *cat, const char *path, size_t K,
		       struct vv_input *in, qk_err *err)
{
	const struct qk_tensor *t = qk_catalog_find(cat, "pixel_values");
	char shp[96];

	if (!t)
		t = qk_catalog_find(cat, "vision.pixels");
	if (!t)
		return qk_err_set(err, QK_E_INVALID, "%s: no tensor 'pixel_values' (F32 [patches, "
				  "%zu], as the Qwen image processors give it)", path, K);
	qk_shape_str(t->shape, t->n_dims, shp, sizeof(shp));
	if (t->dtype != QK_DT_F32 || t->n_dims != 2 || t->shape[1] != K)
		return qk_err_set(err, QK_E_INVALID, "%s: tensor '%s' is %s %s, expected F32 "
				  "[patches, %zu] (channels x temporal_patch_size x patch x patch)",
				  path, t->name, qk_dtype_name(t->dtype), shp, K);
	if (t->shape[0] != in->n_patch)
		return qk_err_set(err, QK_E_INVALID, "%s: tensor '%s' has %llu patch rows, the grid "
				  "needs %zu", path, t->name, (unsigned long long)t->shape[0],
				  in->n_patch);
	if (!(in->pixels = malloc(t->nbytes ? t->nbytes : 1)))
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu pixel rows", in->n_patch);
	memcpy(in->pixels, t->data, t->nbytes);
	for (uint64_t i = 0; i < t->n_elem; i++)
		if (!isfinite(in->pixels[i]))
			return qk_err_set(err, QK_E_INVALID, "%s: tensor '%s': value %llu (row %llu) is "
					  "not finite", path, t->name, (unsigned long long)i,
					  (unsigned long long)(i / K));
	return QK_OK;
}

/* the built-in pixels: value i = 4 u - 2, u = the high 24 bits of the first
 * splitmix64 output seeded with 0x76697369 + i, over 2^24 (exact in fp32) */
static int builtin_pixels(size_t K, struct vv_input *in, qk_err *err)
{
	size_t n;

	if (!qk_mul_size(in->n_patch, K, &n) || !(in->pixels = malloc(n * sizeof(float) + 1)))
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu pixel rows", in->n_patch);
	for (size_t i = 0; i < n; i++) {
		uint64_t z = 0x76697369u + (uint64_t)i + 0x9e3779b97f4a7c15u;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
		z ^= z >> 31;
		in->pixels[i] = (float)(z >> 40) * (4.0f / 16777216.0f) - 2.0f;
	}
	return QK_OK;
}

int vv_input_load(struct vv_input *in, const struct verify_opts *o,
		  const struct rf_vis_hparams *hp, qk_err *err)
{
	const size_t K = (size_t)hp->in_ch * hp->tpatch * hp->patch * hp->patch;
	struct qk_catalog cat;
	int rc = QK_OK;

	memset(in, 0, sizeof(*in));
	qk_catalog_init(&cat);
	in->source = o->pixels ? o->pixels : "built-in";
	if (o->pixels && (rc = st_open(&cat, o->pixels, err)))
		goto out;
	if (o->grid)
		rc = rf_vis_parse_grid(o->grid, "--grid", &in->grid, &in->n_img, err);
	else if (o->pixels)
		rc = file_grid(&cat, o->pixels, in, err);
	else if ((in->grid = calloc(1, sizeof(*in->grid)))) {
		const uint32_t def[3] = VV_DEFAULT_GRID;

		memcpy(in->grid[0], def, sizeof(def));
		in->n_img = 1;
	} else
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
	if (!rc && (rc = rf_vis_check_grid(hp, (const uint32_t(*)[3])in->grid, in->n_img,
					   &in->n_patch, err)) && !o->grid && o->pixels) {
		err->code = rc = QK_E_INVALID; /* the file's grid, not the user's */
		qk_err_prefix(err, "%s", o->pixels);
	}
	if (!rc)
		rc = o->pixels ? file_pixels(&cat, o->pixels, K, in, err)
			       : builtin_pixels(K, in, err);
out:
	qk_catalog_free(&cat);
	if (rc)
		vv_input_free(in);
	return rc;
}

int vv_run(const struct vv_model *m, const struct vv_input *in, const struct verify_opts *o,
	   bool keep, struct rf_vis_out *out, qk_err *err)
{
	struct rf_vis_opts vo;
	int rc;

	rf_vis_opts_init(&vo);
	vo.n_threads = o->n_threads;
	vo.keep_blocks = keep;
	rc = rf_vis_run(&m->vm, in->pixels, in->n_patch, (const uint32_t(*)[3])in->grid, in->n_img,
			&vo, out, err);
	if (rc)
		qk_err_prefix(err, "%s", m->path);
	return rc;
}

cJSON *vv_grid_json(const struct vv_input *in)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < in->n_img; i++) {
		const int g[3] = { (int)in->grid[i][0], (int)in->grid[i][1], (int)in->grid[i][2] };

		cJSON_AddItemToArray(a, cJSON_CreateIntArray(g, 3));
	}
	return a;
}

void vv_grid_str(const struct vv_input *in, char *buf, size_t size)
{
	size_t k = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < in->n_img && k + 40 < size; i++)
		k += (size_t)snprintf(buf + k, size - k, "%s%u,%u,%u", i ? ";" : "", in->grid[i][0],
				      in->grid[i][1], in->grid[i][2]);
	if (k + 40 >= size && in->n_img > 1)
		snprintf(buf + k, size - k, ";...");
}

/* ---- qwen-verify vision MODEL ---- */

static int dump(const char *path, const struct vv_input *in, const struct rf_vis_out *r,
		const struct rf_vis_hparams *hp, qk_err *err)
{
	const uint64_t K = (uint64_t)hp->in_ch * hp->tpatch * hp->patch * hp->patch;
	struct npz_entry e[4];
	size_t n = 0;

	e[n++] = (struct npz_entry){ "embd", "<f4", 2, { r->n_tok, r->out_dim }, r->embd };
	if (r->n_deep)
		e[n++] = (struct npz_entry){ "deepstack", "<f4", 3,
					     { r->n_deep, r->n_tok, r->out_dim }, r->deep };
	e[n++] = (struct npz_entry){ "image_grid_thw", "<i4", 2, { in->n_img, 3 }, in->grid };
	e[n++] = (struct npz_entry){ "pixel_values", "<f4", 2, { in->n_patch, K }, in->pixels };
	return npz_write(path, e, n, err);
}

static double row_norm(const float *x, size_t n)
{
	double s = 0.0;

	for (size_t i = 0; i < n; i++)
		s += (double)x[i] * x[i];
	return sqrt(s);
}

static void print_run(const struct vv_model *m, const struct vv_input *in,
		      const struct rf_vis_out *r)
{
	char d[256], g[256];

	vv_describe(m, d, sizeof(d));
	vv_grid_str(in, g, sizeof(g));
	printf("model:  %s (%s)\npixels: %s, grid %s: %zu patches -> %zu tokens of %u\n", m->path,
	       d, in->source, g, r->n_patch, r->n_tok, r->out_dim);
	printf("%-6s %12s %12s %12s %12s %12s\n", "token", "norm", "embd[0]", "embd[1]", "embd[2]",
	       "embd[3]");
	for (size_t t = 0; t < r->n_tok; t++) {
		const float *x = r->embd + t * r->out_dim;

		printf("%-6zu %12.6g", t, row_norm(x, r->out_dim));
		for (size_t i = 0; i < 4 && i < r->out_dim; i++)
			printf(" %12.6g", (double)x[i]);
		putchar('\n');
	}
	for (uint32_t k = 0; k < r->n_deep; k++) {
		double mx = 0.0;

		for (size_t t = 0; t < r->n_tok; t++) {
			const double v = row_norm(r->deep + ((size_t)k * r->n_tok + t) * r->out_dim,
						  r->out_dim);

			mx = v > mx ? v : mx;
		}
		printf("deepstack %u: largest row norm %.6g\n", k, mx);
	}
}

static cJSON *run_json(const struct vv_model *m, const struct vv_input *in,
		       const struct rf_vis_out *r)
{
	cJSON *root = cJSON_CreateObject(), *rows;
	char d[256];

	vv_describe(m, d, sizeof(d));
	cJSON_AddStringToObject(root, "model", m->path);
	cJSON_AddStringToObject(root, "tower", d);
	cJSON_AddStringToObject(root, "pixels", in->source);
	cJSON_AddItemToObject(root, "image_grid_thw", vv_grid_json(in));
	cJSON_AddNumberToObject(root, "n_patch", (double)r->n_patch);
	cJSON_AddNumberToObject(root, "n_tok", (double)r->n_tok);
	cJSON_AddNumberToObject(root, "out_dim", r->out_dim);
	cJSON_AddNumberToObject(root, "n_deepstack", r->n_deep);
	rows = cJSON_AddArrayToObject(root, "norms");
	for (size_t t = 0; rows && t < r->n_tok; t++)
		cJSON_AddItemToArray(rows, cJSON_CreateNumber(row_norm(r->embd + t * r->out_dim,
								       r->out_dim)));
	return root;
}

int verify_cmd_vision(const struct verify_opts *o, const char **pos, size_t n_pos, qk_err *err)
{
	struct vv_model m;
	struct vv_input in;
	struct rf_vis_out r;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&in, 0, sizeof(in));
	if (n_pos != 1)
		return qk_err_set(err, QK_E_USAGE, "vision needs one MODEL, got %zu arguments", n_pos);
	if ((rc = vv_open(&m, pos[0], o, err)))
		return rc;
	if (o->dump && ((rc = cli_forbid_inputs(m.path, &m.in.cat, err)) ||
			(o->pixels && (rc = qk_out_forbid(o->pixels, err))) ||
			(rc = qk_out_check(o->dump, 0, err))))
		goto out;
	if ((rc = vv_input_load(&in, o, &m.vm.hp, err)) || (rc = vv_run(&m, &in, o, false, &r, err)))
		goto out;
	if (o->dump && (rc = dump(o->dump, &in, &r, &m.vm.hp, err)))
		goto out;
	if (o->json)
		rc = cli_emit_json(run_json(&m, &in, &r), err);
	else
		print_run(&m, &in, &r);
out:
	rf_vis_out_free(&r);
	vv_input_free(&in);
	vv_close(&m);
	return rc;
}

bool vv_is_mmproj(const char *path)
{
	const size_t n = strlen(path);
	struct gf_file *f = NULL;
	const char *arch = NULL;
	size_t len = 0;
	qk_err e;
	bool yes;

	if (n < 5 || strcmp(path + n - 5, ".gguf") != 0 || gf_open(&f, path, &e))
		return false;
	yes = gf_get_str(f, "general.architecture", &arch, &len, &e) == QK_OK && len == 4 &&
	      memcmp(arch, "clip", 4) == 0;
	gf_close(f);
	return yes;
}

/* ---- qwen-verify golden MODEL EXPECTED_VISION.safetensors ---- */

#define VV_GOLDEN_RTOL 1e-4

bool vv_is_expected(const char *path)
{
	struct qk_catalog c;
	qk_err e;
	bool yes;

	qk_catalog_init(&c);
	yes = st_open(&c, path, &e) == QK_OK && qk_catalog_find(&c, "vision.embd") != NULL;
	qk_catalog_free(&c);
	return yes;
}

/* max |got - exp| / max |exp| of expected tensor `name` (F32 [n]) */
static int golden_rel(const struct qk_catalog *exp, const char *path, const char *name,
		      const float *got, uint64_t n, double *rel, qk_err *err)
{
	const struct qk_tensor *t = qk_catalog_find(exp, name);
	double d = 0.0, mx = 0.0;

	if (!t || t->dtype != QK_DT_F32 || t->n_elem != n)
		return qk_err_set(err, QK_E_INVALID, "%s: tensor '%s': expected F32 with %llu values "
				  "(the model's output)", path, name, (unsigned long long)n);
	for (uint64_t i = 0; i < n; i++) {
		float e;

		memcpy(&e, t->data + 4 * i, 4);
		const double x = fabs((double)got[i] - (double)e);

		d = x > d || isnan(x) ? x : d;
		mx = fabs((double)e) > mx ? fabs((double)e) : mx;
	}
	*rel = mx > 0.0 ? d / mx : d;
	return QK_OK;
}

struct gline {
	char name[40];
	double rel;
};

/* every output the file holds: embd, deepstack.K (all of them), patch and
 * block.L when present */
static int golden_lines(const struct qk_catalog *exp, const char *path, const struct rf_vis_out *r,
			struct gline *g, size_t *n, qk_err *err)
{
	const uint64_t nt = (uint64_t)r->n_tok * r->out_dim, np = (uint64_t)r->n_patch * r->n_embd;
	char nm[40];
	int rc;

	*n = 0;
	snprintf(g[*n].name, sizeof(g[*n].name), "vision.embd");
	if ((rc = golden_rel(exp, path, g[*n].name, r->embd, nt, &g[*n].rel, err)))
		return rc;
	(*n)++;
	for (uint32_t k = 0; k <= r->n_deep; k++) {
		snprintf(nm, sizeof(nm), "vision.deepstack.%u", k);
		if (k == r->n_deep) {
			if (qk_catalog_find(exp, nm))
				return qk_err_set(err, QK_E_INVALID, "%s: tensor '%s': the model has %u "
						  "deepstack mergers", path, nm, r->n_deep);
			break;
		}
		memcpy(g[*n].name, nm, sizeof(nm));
		if ((rc = golden_rel(exp, path, nm, r->deep + k * nt, nt, &g[*n].rel, err)))
			return rc;
		(*n)++;
	}
	if (qk_catalog_find(exp, "vision.patch")) {
		snprintf(g[*n].name, sizeof(g[*n].name), "vision.patch");
		if ((rc = golden_rel(exp, path, g[*n].name, r->patch, np, &g[*n].rel, err)))
			return rc;
		(*n)++;
	}
	for (uint32_t l = 0; l < r->n_layer; l++) {
		snprintf(nm, sizeof(nm), "vision.block.%u", l);
		if (!qk_catalog_find(exp, nm))
			continue;
		memcpy(g[*n].name, nm, sizeof(nm));
		if ((rc = golden_rel(exp, path, nm, r->blocks + l * np, np, &g[*n].rel, err)))
			return rc;
		(*n)++;
	}
	return QK_OK;
}

int verify_vision_golden(const struct verify_opts *o, const char **pos, qk_err *err)
{
	const double budget = isnan(o->embd_rtol) ? VV_GOLDEN_RTOL : o->embd_rtol;
	struct verify_opts fo = *o;
	struct vv_model m;
	struct vv_input in;
	struct rf_vis_out r;
	struct qk_catalog exp;
	struct gline *g = NULL;
	size_t n = 0, bad = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&in, 0, sizeof(in));
	if (!isnan(o->logit_rtol) || !isnan(o->hidden_rtol))
		return qk_err_set(err, QK_E_USAGE, "'%s' holds vision outputs: their budget is "
				  "--embd-rtol, not --logit-rtol or --hidden-rtol", pos[1]);
	qk_catalog_init(&exp);
	fo.pixels = pos[1];
	fo.grid = NULL;
	if ((rc = vv_open(&m, pos[0], o, err)))
		return rc;
	if ((rc = st_open(&exp, pos[1], err)) || (rc = vv_input_load(&in, &fo, &m.vm.hp, err)) ||
	    (rc = vv_run(&m, &in, o, true, &r, err)))
		goto out;
	if (!(g = calloc(2 + (size_t)r.n_deep + r.n_layer, sizeof(*g)))) {
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = golden_lines(&exp, pos[1], &r, g, &n, err)))
		goto out;
	for (size_t i = 0; i < n; i++)
		bad += !(g[i].rel <= budget);
	if (o->json) {
		cJSON *root = cJSON_CreateObject(), *a;

		cJSON_AddStringToObject(root, "model", m.path);
		cJSON_AddStringToObject(root, "expected", pos[1]);
		cJSON_AddItemToObject(root, "image_grid_thw", vv_grid_json(&in));
		cJSON_AddNumberToObject(root, "embd_rtol", budget);
		a = cJSON_AddArrayToObject(root, "outputs");
		for (size_t i = 0; a && i < n; i++) {
			cJSON *e = cJSON_CreateObject();

			cJSON_AddStringToObject(e, "name", g[i].name);
			cJSON_AddNumberToObject(e, "max_rel", g[i].rel);
			cJSON_AddBoolToObject(e, "pass", g[i].rel <= budget);
			cJSON_AddItemToArray(a, e);
		}
		cJSON_AddBoolToObject(root, "pass", bad == 0);
		rc = cli_emit_json(root, err);
	} else {
		char d[256], gs[256];

		vv_describe(&m, d, sizeof(d));
		vv_grid_str(&in, gs, sizeof(gs));
		printf("model:    %s (%s)\nexpected: %s (grid %s)\nbudget:   max |difference| <= "
		       "%g x max |expected| per output\n", m.path, d, pos[1], gs, budget);
		printf("%-22s %12s\n", "output", "max rel");
		for (size_t i = 0; i < n; i++)
			printf("%-22s %12.4e %s\n", g[i].name, g[i].rel, g[i].rel <= budget ? "ok"
			       : "FAIL");
		printf("golden: %s\n", bad ? "FAIL" : "pass");
	}
	fflush(stdout);
	for (size_t i = 0; !rc && i < n; i++)
		if (!(g[i].rel <= budget))
			fprintf(stderr, "%s: golden: %s: max |difference| is %.3g of max |expected|, "
				"budget %g\n", cli_prog, g[i].name, g[i].rel, budget);
	if (!rc && bad)
		rc = QK_E_THRESHOLD;
out:
	free(g);
	qk_catalog_free(&exp);
	rf_vis_out_free(&r);
	vv_input_free(&in);
	vv_close(&m);
	return rc;
}
