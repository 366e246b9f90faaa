/* pq_scaled.c - storages that are a weight times a scale by blocks: FP8
 * ("quant_method": "fp8") and compressed-tensors float-, int- and
 * naive-quantized; see pq.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../quant/fp16.h"
#include "../base/dtype.h"
#include "pq_priv.h"

/* ---- element decoders (exact: every value is an fp32) ---- */

/* F8_E4M3 (the "fn" variant): bias 7, no infinities, S.1111.111 is NaN */
static float f8_e4m3(uint8_t b)
{
	const unsigned e = (b >> 3) & 15u, m = b & 7u;
	float v;

	if (e == 15 && m == 7)
		return NAN;
	v = e ? ldexpf((float)(8 + m), (int)e - 10) : ldexpf((float)m, -9);
	return b & 0x80 ? -v : v;
}

/* F8_E5M2 is the upper byte of an IEEE half */
static float f8_e5m2(uint8_t b)
{
	return qt_fp16_to_fp32((uint16_t)(b << 8));
}

static float i8_val(uint8_t b)
{
	return (float)(int8_t)b;
}

static float (*decoder(int dt))(uint8_t)
{
	switch (dt) {
	case QK_DT_F8_E4M3: return f8_e4m3;
	case QK_DT_F8_E5M2: return f8_e5m2;
	case QK_DT_I8: return i8_val;
	default: return NULL;
	}
}

/* value = f32(w) * f32(scale): one fp32 product, as llama.cpp's
 * dequant_simple (weight.float() * scale.float()) */
int pq_read_scaled(const struct pq_store *s, uint64_t row, float *out)
{
	float (*dec)(uint8_t) = decoder(s->w.dtype);
	const uint8_t *w = s->w.data + row * s->cols; /* [cols] one byte each */
	const uint64_t srow = (row / s->blk_r) * s->scale.d1;

	for (uint64_t c0 = 0, j = 0; c0 < s->cols; c0 += s->blk_c, j++) {
		const float sc = pq_ld_float(&s->scale, srow + j);
		const uint64_t c1 = s->cols - c0 < s->blk_c ? s->cols : c0 + s->blk_c;

		for (uint64_t c = c0; c < c1; c++)
			out[c] = dec(w[c]) * sc;
	}
	return QK_OK;
}

/* ---- attaching ---- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

/* The block size: [br, bc] of `key` in object o, or 0, 0 if absent. */
static int block_size(struct pq_ctx *c, const cJSON *o, const char *key, uint64_t *br,
		      uint64_t *bc)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, key);
	const cJSON *x0, *x1;

	*br = *bc = 0;
	if (!b || cJSON_IsNull(b))
		return QK_OK;
	x0 = cJSON_GetArrayItem(b, 0);
	x1 = cJSON_GetArrayItem(b, 1);
	if (!cJSON_IsArray(b) || cJSON_GetArraySize(b) != 2 || !cJSON_IsNumber(x0) ||
	    !cJSON_IsNumber(x1) || x0->valuedouble < 1 || x1->valuedouble < 1 ||
	    x0->valuedouble > 1e9 || x1->valuedouble > 1e9 ||
	    x0->valuedouble != (double)(long)x0->valuedouble ||
	    x1->valuedouble != (double)(long)x1->valuedouble)
		return qk_err_set_in(c->err, QK_E_INVALID, c->file,
				     "quantization_config: %s is not a list of two positive "
				     "integers [rows, columns]", key);
	*br = (uint64_t)x0->valuedouble;
	*bc = (uint64_t)x1->valuedouble;
	return QK_OK;
}

/* weight t times scale tensor st; blocks br x bc (0: a scale per tensor or
 * per row, by the scale's shape) */
static int add_scaled(struct pq_ctx *c, struct qk_tensor *t, struct qk_tensor *st, uint64_t br,
		      uint64_t bc, bool fp8)
{
	char w[300], got[96], want[96];
	struct pq_store *s;
	uint64_t rows, cols, want_r, want_c;
	int rc;

	qk_catalog_where(c->cat, t, w, sizeof(w));
	if (t->pq)
		return qk_err_set(c->err, QK_E_INVALID, "%stensor '%s' has two scales", w, t->name);
	if (t->n_dims != 2 || !decoder(t->dtype))
		return qk_err_set(c->err, QK_E_UNSUPPORTED,
				  "%stensor '%s': a scaled weight must be 2-D F8_E4M3, F8_E5M2 or "
				  "I8, not %dD %s", w, t->name, t->n_dims, qk_dtype_name(t->dtype));
	if (!pq_is_float(st->dtype))
		return qk_err_set(c->err, QK_E_INVALID,
				  "%stensor '%s': dtype %s, expected F32, F16 or BF16 scales", w,
				  st->name, qk_dtype_name(st->dtype));
	rows = t->shape[0];
	cols = t->shape[1];
	if ((rc = pq_new(c, PQ_SCALED, rows, cols, &s)))
		return rc;
	if ((rc = pq_part_of(c, st, &s->scale)))
		return rc;
	s->w.name = t->name;
	s->w.data = t->data;
	s->w.dtype = t->dtype;
	s->w.d0 = rows;
	s->w.d1 = cols;
	s->bits = 8;
	s->from_fp8 = fp8;
	s->bytes = t->nbytes + st->nbytes;
	qk_shape_str(st->shape, st->n_dims, got, sizeof(got));
	if (br) {
		want_r = ceil_div(rows, br);
		want_c = ceil_div(cols, bc);
		if (st->n_dims != 2 || st->shape[0] != want_r || st->shape[1] != want_c) {
			snprintf(want, sizeof(want), "[%llu, %llu]", (unsigned long long)want_r,
				 (unsigned long long)want_c);
			return qk_err_set(c->err, QK_E_INVALID,
					  "%stensor '%s': shape %s, expected %s: one scale per "
					  "%llux%llu block of the [%llu, %llu] weight '%s' (the last "
					  "block of a side trimmed)", w, st->name, got, want,
					  (unsigned long long)br, (unsigned long long)bc,
					  (unsigned long long)rows, (unsigned long long)cols, t->name);
		}
		s->blk_r = br;
		s->blk_c = bc;
	} else if (st->n_elem == 1) {
		s->blk_r = rows;
		s->blk_c = cols;
	} else if (st->n_elem == rows && (st->n_dims == 1 || st->shape[1] == 1)) {
		s->blk_r = 1;
		s->blk_c = cols;
	} else {
		return qk_err_set(c->err, QK_E_INVALID,
				  "%stensor '%s': shape %s, expected one scale, or one per row "
				  "([%llu] or [%llu, 1]) of the weight '%s' (no block size in "
				  "quantization_config)", w, st->name, got, (unsigned long long)rows,
				  (unsigned long long)rows, t->name);
	}
	/* the scale grid has the shape checked above: every index is in it */
	s->scale.d0 = ceil_div(rows, s->blk_r);
	s->scale.d1 = ceil_div(cols, s->blk_c);
	t->pq = s;
	return QK_OK;
}

/* every 8-bit float tensor must have become a storage */
static int no_lone_f8(struct pq_ctx *c)
{
	char w[300];

	for (size_t i = 0; i < c->cat->n_tensors; i++) {
		const struct qk_tensor *t = &c->cat->tensors[i];

		if ((t->dtype == QK_DT_F8_E4M3 || t->dtype == QK_DT_F8_E5M2) && !t->pq &&
		    !t->pq_part) {
			qk_catalog_where(c->cat, t, w, sizeof(w));
			return qk_err_set(c->err, QK_E_INVALID,
					  "%stensor '%s': %s weight without its scale tensor", w,
					  t->name, qk_dtype_name(t->dtype));
		}
	}
	return QK_OK;
}

/* scale name `name` ending in `suffix` -> weight name + `wsuffix` */
static struct qk_tensor *weight_of(struct pq_ctx *c, const struct qk_tensor *st,
				   const char *suffix, const char *wsuffix)
{
	char name[QK_MAX_NAME + 16];
	size_t n = strlen(st->name) - strlen(suffix);
	long i;

	snprintf(name, sizeof(name), "%.*s%s", (int)n, st->name, wsuffix);
	i = qk_catalog_index(c->cat, name);
	return i < 0 ? NULL : &c->cat->tensors[i];
}

static int missing_weight(struct pq_ctx *c, const struct qk_tensor *st, const char *suffix,
			  const char *wsuffix)
{
	char w[300];
	size_t n = strlen(st->name) - strlen(suffix);

	qk_catalog_where(c->cat, st, w, sizeof(w));
	return qk_err_set(c->err, QK_E_INVALID, "%stensor '%s': a scale without its weight '%.*s%s'",
			  w, st->name, (int)n, st->name, wsuffix);
}

/* fp8: "X.weight" with "X.weight_scale_inv" (llama.cpp: every name ending
 * "_scale_inv" scales the name without it); "*.activation_scale" and
 * "*_activation_scale" are unused */
int pq_attach_fp8(struct pq_ctx *c)
{
	uint64_t br, bc;
	int rc;

	c->method = "fp8";
	if ((rc = block_size(c, c->q, "weight_block_size", &br, &bc)))
		return rc;
	for (size_t i = 0; i < c->cat->n_tensors; i++) {
		struct qk_tensor *st = &c->cat->tensors[i], *t;

		if (ends_with(st->name, "activation_scale")) {
			st->pq_part = true;
			continue;
		}
		if (!ends_with(st->name, "_scale_inv"))
			continue;
		t = weight_of(c, st, "_scale_inv", "");
		if (!t)
			return missing_weight(c, st, "_scale_inv", "");
		if ((rc = add_scaled(c, t, st, br, bc, true)))
			return rc;
	}
	return no_lone_f8(c);
}

/* compressed-tensors float-/int-/naive-quantized: "X.weight" (F8 or I8)
 * with "X.weight_scale"; the config group's block_structure, or a scale
 * per row (strategy "channel") or per tensor ("tensor") */
int pq_attach_scaled_ct(struct pq_ctx *c, const cJSON *wcfg, bool fp8)
{
	uint64_t br, bc;
	int rc;

	if ((rc = block_size(c, wcfg, "block_structure", &br, &bc)))
		return rc;
	for (size_t i = 0; i < c->cat->n_tensors; i++) {
		struct qk_tensor *st = &c->cat->tensors[i], *t;

		if (ends_with(st->name, ".input_scale")) {
			st->pq_part = true; /* activations: unused here */
			continue;
		}
		if (!ends_with(st->name, ".weight_scale"))
			continue;
		t = weight_of(c, st, "_scale", "");
		if (!t)
			return missing_weight(c, st, "_scale", "");
		if ((rc = add_scaled(c, t, st, br, bc, fp8)))
			return rc;
	}
	return no_lone_f8(c);
}
