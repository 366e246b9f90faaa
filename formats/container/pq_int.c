/* pq_int.c - integer storages with group scales: GPTQ, AWQ (GEMM) and
 * compressed-tensors pack-quantized; see pq.h for the layouts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/dtype.h"
#include "../base/io.h"
#include "pq_priv.h"

/* AWQ GEMM packs output columns 8w .. 8w+7 into word w with column 8w+j in
 * nibble awq_nibble[j] (AutoAWQ's AWQ_ORDER 0 2 4 6 1 3 5 7, inverted) */
static const unsigned awq_nibble[8] = { 0, 4, 1, 5, 2, 6, 3, 7 };

/* the field of `bits` at position k (k-th from the low end) of word w; the
 * mask keeps the low bits whatever the sign of w */
static int32_t field(int32_t w, uint32_t bits, uint32_t k)
{
	return (int32_t)(((uint32_t)w >> (bits * k)) & ((1u << bits) - 1u));
}

/* ---- reading rows (row = output channel o; columns = inputs i) ---- */

/* GPTQ: qweight [in / pf, out], qzeros [G, out / pf], scales [G, out],
 * g_idx [in]: w = f32(scale[g][o]) * f32(q - (z + zero_add)), g = g_idx[i]
 * (llama.cpp's dequant_gptq: scales[g_idx].float() * (weight - zeros[g_idx]).float()) */
int pq_read_gptq(const struct pq_store *s, uint64_t o, float *out)
{
	const uint32_t pf = 32 / s->bits;

	for (uint64_t i = 0; i < s->cols; i++) {
		uint64_t g = s->gidx.data ? (uint64_t)pq_ld_i32(&s->gidx, i) : i / s->group;
		int32_t q = field(pq_ld_i32(&s->w, (i / pf) * s->w.d1 + o), s->bits,
				  (uint32_t)(i % pf));
		int32_t z = field(pq_ld_i32(&s->zero, g * s->zero.d1 + o / pf), s->bits,
				  (uint32_t)(o % pf)) + s->zero_add;

		out[i] = pq_ld_float(&s->scale, g * s->scale.d1 + o) * (float)(q - z);
	}
	return QK_OK;
}

/* AWQ GEMM: qweight [in, out / 8], qzeros [G, out / 8], scales [G, out]:
 * w = (q - z) * scale, g = i / group_size; computed exactly in fp32 (a 4-bit
 * difference times an fp16 scale) */
int pq_read_awq(const struct pq_store *s, uint64_t o, float *out)
{
	const uint64_t wcol = o / 8;
	const uint32_t nib = awq_nibble[o % 8];

	for (uint64_t i = 0; i < s->cols; i++) {
		uint64_t g = i / s->group;
		int32_t q = field(pq_ld_i32(&s->w, i * s->w.d1 + wcol), 4, nib);
		int32_t z = field(pq_ld_i32(&s->zero, g * s->zero.d1 + wcol), 4, nib);

		out[i] = (float)(q - z) * pq_ld_float(&s->scale, g * s->scale.d1 + o);
	}
	return QK_OK;
}

/* compressed-tensors pack-quantized: weight_packed [out, words], values
 * packed along the row, floor(32 / bits) a word from the low end;
 * zero points [ceil(out / pf), G] packed along the column, else an offset
 * 2^(bits-1): w = f32(q - z) * f32(scale[o][i / group]) (llama.cpp's
 * dequant_packed) */
int pq_read_packed(const struct pq_store *s, uint64_t o, float *out)
{
	const uint32_t pf = 32 / s->bits;

	for (uint64_t i = 0; i < s->cols; i++) {
		uint64_t g = i / s->group;
		int32_t q = field(pq_ld_i32(&s->w, o * s->w.d1 + i / pf), s->bits,
				  (uint32_t)(i % pf));
		int32_t z = s->zero.data ? field(pq_ld_i32(&s->zero, (o / pf) * s->zero.d1 + g),
						 s->bits, (uint32_t)(o % pf))
					 : s->offset;

		out[i] = (float)(q - z) * pq_ld_float(&s->scale, o * s->scale.d1 + g);
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

/* the tensor base + suffix, or NULL */
static struct qk_tensor *sibling(struct pq_ctx *c, const char *base, size_t n, const char *suffix)
{
	char name[QK_MAX_NAME + 32];
	long i;

	snprintf(name, sizeof(name), "%.*s%s", (int)n, base, suffix);
	i = qk_catalog_index(c->cat, name);
	return i < 0 ? NULL : &c->cat->tensors[i];
}

/* one part of a group: present (unless optional), with dtype one of dts
 * (-1 ends) and shape [d0, d1] (0: any) */
static int need(struct pq_ctx *c, const char *base, size_t n, const char *suffix, bool optional,
		const int *dts, uint64_t d0, uint64_t d1, struct pq_part *p)
{
	struct qk_tensor *t = sibling(c, base, n, suffix);
	char w[300], got[96];
	bool ok = false;
	int rc;

	memset(p, 0, sizeof(*p));
	if (!t) {
		if (optional)
			return QK_OK;
		qk_catalog_where(c->cat, NULL, w, sizeof(w));
		return qk_err_set(c->err, QK_E_INVALID, "%smissing tensor '%.*s%s' of a %s group",
				  w, (int)n, base, suffix, c->method);
	}
	qk_catalog_where(c->cat, t, w, sizeof(w));
	for (; *dts >= 0; dts++)
		ok |= t->dtype == *dts;
	if (!ok)
		return qk_err_set(c->err, QK_E_INVALID, "%stensor '%s': dtype %s is not what %s "
				  "stores there", w, t->name, qk_dtype_name(t->dtype), c->method);
	if ((rc = pq_part_of(c, t, p)))
		return rc;
	if ((d0 && p->d0 != d0) || (d1 && p->d1 != d1)) {
		qk_shape_str(t->shape, t->n_dims, got, sizeof(got));
		return qk_err_set(c->err, QK_E_INVALID,
				  "%stensor '%s': shape %s, expected [%llu, %llu]", w, t->name, got,
				  (unsigned long long)d0, (unsigned long long)d1);
	}
	return QK_OK;
}

/* the logical tensor base + ".weight" [rows, cols] for store s, placed at
 * its packed weight (file and offset: the output order) */
static int add_logical(struct pq_ctx *c, const char *base, size_t n, struct pq_store *s,
		       const struct qk_tensor *packed)
{
	char name[QK_MAX_NAME + 16], w[300];
	const int file = packed->file;
	const uint64_t off = packed->offset;
	struct qk_tensor *t;
	int rc;

	snprintf(name, sizeof(name), "%.*s.weight", (int)n, base);
	if (qk_catalog_find(c->cat, name)) {
		qk_catalog_where(c->cat, packed, w, sizeof(w));
		return qk_err_set(c->err, QK_E_INVALID, "%stensor '%s' beside its quantized form "
				  "'%s'", w, name, packed->name);
	}
	if ((rc = qk_catalog_add(c->cat, name, strlen(name), &t, c->err)))
		return rc;
	t->dtype = s->w.dtype;
	t->n_dims = 2;
	t->shape[0] = s->rows;
	t->shape[1] = s->cols;
	t->n_elem = s->rows * s->cols;
	t->nbytes = 0; /* the parts hold the bytes */
	t->file = file;
	t->offset = off;
	t->pq = s;
	return QK_OK;
}

static const int dt_i32[] = { QK_DT_I32, -1 };
static const int dt_float[] = { QK_DT_F16, QK_DT_BF16, QK_DT_F32, -1 };
static const int dt_int[] = { QK_DT_I32, QK_DT_I64, -1 };

/* bytes of a part */
static uint64_t part_bytes(const struct pq_part *p)
{
	uint64_t b = 0;

	if (p->data)
		qk_dtype_nbytes(p->dtype, p->d0 * p->d1, &b);
	return b;
}

static void sum_bytes(struct pq_store *s)
{
	s->bytes = part_bytes(&s->w) + part_bytes(&s->scale) + part_bytes(&s->zero) +
		   part_bytes(&s->gidx);
}

/* every g_idx entry in [0, n_groups) */
static int check_gidx(struct pq_ctx *c, const struct pq_store *s, uint64_t n_groups)
{
	for (uint64_t i = 0; s->gidx.data && i < s->gidx.d0; i++) {
		int32_t g = pq_ld_i32(&s->gidx, i);

		if (g < 0 || (uint64_t)g >= n_groups)
			return qk_err_set(c->err, QK_E_INVALID,
					  "tensor '%s': entry %llu is %ld, not a group of the %llu "
					  "in '%s'", s->gidx.name, (unsigned long long)i, (long)g,
					  (unsigned long long)n_groups, s->scale.name);
	}
	return QK_OK;
}

/* bits and group_size of a GPTQ/AWQ config */
static int bits_group(struct pq_ctx *c, const char *allowed, const char *shown, long *bits,
		      long *group)
{
	int rc;

	if ((rc = pq_cfg_int(c, c->q, "bits", 4, 1, 32, bits)) ||
	    (rc = pq_cfg_int(c, c->q, "group_size", -1, -1, 1L << 30, group)))
		return rc;
	if (*bits == 3 && strchr(allowed, '3') == NULL)
		return qk_err_set_in(c->err, QK_E_UNSUPPORTED, c->file,
				     "quantization_config: 3-bit %s is not read (llama.cpp's converter "
				     "does not implement it either)", c->method);
	if (!strchr(allowed, (int)('0' + (*bits < 10 ? *bits : 0))))
		return qk_err_set_in(c->err, QK_E_UNSUPPORTED, c->file,
				     "quantization_config: bits %ld, %s is read with bits %s", *bits,
				     c->method, shown);
	if (*group == 0)
		return qk_err_set_in(c->err, QK_E_INVALID, c->file,
				     "quantization_config: group_size 0 (expected -1 or a positive "
				     "number of inputs)");
	return QK_OK;
}

/* GPTQ: "X.qweight", "X.qzeros", "X.scales", "X.g_idx" (optional) become
 * "X.weight" */
int pq_attach_gptq(struct pq_ctx *c)
{
	const size_t n0 = c->cat->n_tensors;
	const char *fmt;
	long bits, group;
	int rc;

	c->method = "gptq";
	if ((rc = bits_group(c, "248", "2, 4 or 8", &bits, &group)) ||
	    (rc = pq_cfg_str(c, c->q, "checkpoint_format", &fmt)))
		return rc;
	if (fmt && strcmp(fmt, "gptq") != 0 && strcmp(fmt, "gptq_v2") != 0)
		return qk_err_set_in(c->err, QK_E_UNSUPPORTED, c->file,
				     "quantization_config: checkpoint_format '%.32s' is not read "
				     "(gptq, gptq_v2)", fmt);
	for (size_t k = 0; k < n0; k++) {
		const char *name = c->cat->tensors[k].name;
		size_t n = strlen(name) - strlen(".qweight");
		const uint32_t pf = 32 / (uint32_t)bits;
		struct pq_store *s;
		uint64_t in, out, ng;

		if (!ends_with(name, ".qweight"))
			continue;
		if ((rc = pq_new(c, PQ_GPTQ, 0, 0, &s)) ||
		    (rc = need(c, name, n, ".qweight", false, dt_i32, 0, 0, &s->w)))
			return rc;
		out = s->w.d1;
		if (!qk_mul_u64(s->w.d0, pf, &in))
			return qk_err_set(c->err, QK_E_INVALID, "tensor '%s': too many rows", name);
		if ((rc = need(c, name, n, ".scales", false, dt_float, 0, out, &s->scale)))
			return rc;
		ng = s->scale.d0;
		if ((rc = need(c, name, n, ".qzeros", false, dt_i32, ng, ceil_div(out, pf),
			       &s->zero)) ||
		    (rc = need(c, name, n, ".g_idx", true, dt_i32, in, 1, &s->gidx)))
			return rc;
		s->rows = out;
		s->cols = in;
		s->bits = (uint32_t)bits;
		s->group = group > 0 ? (uint32_t)group : (uint32_t)(in ? in : 1);
		s->zero_add = fmt && strcmp(fmt, "gptq_v2") == 0 ? 0 : 1;
		if (!s->gidx.data && ceil_div(in, s->group) != ng)
			return qk_err_set(c->err, QK_E_INVALID,
					  "tensor '%s': %llu groups, expected %llu (%llu inputs in "
					  "groups of %u, no g_idx)", s->scale.name,
					  (unsigned long long)ng,
					  (unsigned long long)ceil_div(in, s->group),
					  (unsigned long long)in, (unsigned)s->group);
		if ((rc = check_gidx(c, s, ng)))
			return rc;
		sum_bytes(s);
		if ((rc = add_logical(c, name, n, s, &c->cat->tensors[k])))
			return rc;
	}
	return QK_OK;
}

/* AWQ GEMM: "X.qweight", "X.qzeros", "X.scales" become "X.weight" */
int pq_attach_awq(struct pq_ctx *c)
{
	const size_t n0 = c->cat->n_tensors;
	const char *ver;
	long bits, group;
	bool zp;
	int rc;

	c->method = "awq";
	if ((rc = bits_group(c, "4", "4", &bits, &group)) ||
	    (rc = pq_cfg_str(c, c->q, "version", &ver)) ||
	    (rc = pq_cfg_bool(c, c->q, "zero_point", true, &zp)))
		return rc;
	if (ver && strcasecmp(ver, "gemm") != 0)
		return qk_err_set_in(c->err, QK_E_UNSUPPORTED, c->file,
				     "quantization_config: AWQ version '%.32s' is not read (gemm)", ver);
	if (!zp)
		return qk_err_set_in(c->err, QK_E_UNSUPPORTED, c->file,
				     "quantization_config: AWQ without zero points (zero_point false) "
				     "is not read");
	for (size_t k = 0; k < n0; k++) {
		const char *name = c->cat->tensors[k].name;
		size_t n = strlen(name) - strlen(".qweight");
		struct pq_store *s;
		uint64_t in, out, ng;

		if (!ends_with(name, ".qweight"))
			continue;
		if ((rc = pq_new(c, PQ_AWQ, 0, 0, &s)) ||
		    (rc = need(c, name, n, ".qweight", false, dt_i32, 0, 0, &s->w)))
			return rc;
		in = s->w.d0;
		out = s->w.d1 * 8;
		s->group = group > 0 ? (uint32_t)group : (uint32_t)(in ? in : 1);
		ng = ceil_div(in, s->group);
		if ((rc = need(c, name, n, ".scales", false, dt_float, ng, out, &s->scale)) ||
		    (rc = need(c, name, n, ".qzeros", false, dt_i32, ng, out / 8, &s->zero)))
			return rc;
		s->rows = out;
		s->cols = in;
		s->bits = 4;
		sum_bytes(s);
		if ((rc = add_logical(c, name, n, s, &c->cat->tensors[k])))
			return rc;
	}
	return QK_OK;
}

/* weight_shape's two values into rows, cols */
static int packed_shape(struct pq_ctx *c, const struct pq_part *p, uint64_t *rows,
			uint64_t *cols)
{
	int64_t v[2];

	if (p->d0 * p->d1 != 2)
		return qk_err_set(c->err, QK_E_INVALID, "tensor '%s': %llu values, expected 2 "
				  "(rows, columns)", p->name, (unsigned long long)(p->d0 * p->d1));
	for (int i = 0; i < 2; i++)
		v[i] = p->dtype == QK_DT_I64 ? (int64_t)qk_ld64(p->data + 8 * i)
					     : pq_ld_i32(p, (uint64_t)i);
	if (v[0] <= 0 || v[1] <= 0)
		return qk_err_set(c->err, QK_E_INVALID, "tensor '%s': shape [%lld, %lld]", p->name,
				  (long long)v[0], (long long)v[1]);
	*rows = (uint64_t)v[0];
	*cols = (uint64_t)v[1];
	return QK_OK;
}

/* compressed-tensors pack-quantized: "X.weight_packed", "X.weight_scale",
 * "X.weight_shape", "X.weight_zero_point" (optional) become "X.weight" */
static int attach_packed(struct pq_ctx *c, const cJSON *wc)
{
	const size_t n0 = c->cat->n_tensors;
	const char *strategy, *type;
	long bits, group;
	int rc;

	if ((rc = pq_cfg_int(c, wc, "num_bits", 4, 1, 8, &bits)) ||
	    (rc = pq_cfg_int(c, wc, "group_size", -1, -1, 1L << 30, &group)) ||
	    (rc = pq_cfg_str(c, wc, "strategy", &strategy)) ||
	    (rc = pq_cfg_str(c, wc, "type", &type)))
		return rc;
	if (type && strcmp(type, "int") != 0)
		return qk_err_set_in(c->err, QK_E_UNSUPPORTED, c->file,
				     "quantization_config: pack-quantized weights of type '%.32s' "
				     "are not read (int)", type);
	if (!strategy || (strcmp(strategy, "group") != 0 && strcmp(strategy, "channel") != 0))
		return qk_err_set_in(c->err, QK_E_UNSUPPORTED, c->file,
				     "quantization_config: pack-quantized strategy '%.32s' is not "
				     "read (group, channel)", strategy ? strategy : "(none)");
	if (strcmp(strategy, "group") == 0 && group <= 0)
		return qk_err_set_in(c->err, QK_E_INVALID, c->file,
				     "quantization_config: strategy group needs a positive group_size");
	for (size_t k = 0; k < n0; k++) {
		const char *name = c->cat->tensors[k].name;
		size_t n = strlen(name) - strlen(".weight_packed");
		uint32_t pf = 32 / (uint32_t)bits;
		struct pq_store *s;
		struct pq_part shape;
		uint64_t rows = 0, cols = 0, ng;

		if (!ends_with(name, ".weight_packed"))
			continue;
		if ((rc = pq_new(c, PQ_PACKED, 0, 0, &s)) ||
		    (rc = need(c, name, n, ".weight_shape", false, dt_int, 0, 0, &shape)) ||
		    (rc = packed_shape(c, &shape, &rows, &cols)) ||
		    (rc = need(c, name, n, ".weight_packed", false, dt_i32, rows,
			       ceil_div(cols, pf), &s->w)))
			return rc;
		s->group = strcmp(strategy, "group") == 0 ? (uint32_t)group : (uint32_t)cols;
		ng = ceil_div(cols, s->group);
		if ((rc = need(c, name, n, ".weight_scale", false, dt_float, rows, ng, &s->scale)) ||
		    (rc = need(c, name, n, ".weight_zero_point", true, dt_i32, ceil_div(rows, pf),
			       ng, &s->zero)))
			return rc;
		s->rows = rows;
		s->cols = cols;
		s->bits = (uint32_t)bits;
		s->offset = (int32_t)1 << (bits - 1);
		sum_bytes(s);
		s->bytes += part_bytes(&shape);
		if ((rc = add_logical(c, name, n, s, &c->cat->tensors[k])))
			return rc;
	}
	return QK_OK;
}

/* compressed-tensors: one config group (as llama.cpp's converter), its
 * weights by "format" */
int pq_attach_ct(struct pq_ctx *c)
{
	const cJSON *groups = cJSON_GetObjectItemCaseSensitive(c->q, "config_groups");
	const cJSON *g, *wc;
	const char *format;
	int rc;

	c->method = "compressed-tensors";
	if ((rc = pq_cfg_str(c, c->q, "format", &format)))
		return rc;
	if (!cJSON_IsObject(groups) || cJSON_GetArraySize(groups) != 1)
		return qk_err_set_in(c->err, groups && cJSON_IsObject(groups) ? QK_E_UNSUPPORTED
									     : QK_E_INVALID,
				     c->file, "quantization_config: config_groups %s",
				     cJSON_IsObject(groups) ? "has more than one group (one is read, "
							      "as by llama.cpp's converter)"
							    : "is not an object of one group");
	g = groups->child;
	wc = cJSON_GetObjectItemCaseSensitive(g, "weights");
	if (!cJSON_IsObject(wc))
		return qk_err_set_in(c->err, QK_E_INVALID, c->file,
				     "quantization_config: config_groups.%s has no weights object",
				     g->string);
	if (!format)
		format = "(none)";
	if (strcmp(format, "pack-quantized") == 0)
		return attach_packed(c, wc);
	if (strcmp(format, "float-quantized") == 0 || strcmp(format, "int-quantized") == 0 ||
	    strcmp(format, "naive-quantized") == 0) {
		const char *type;
		long bits;
		bool sym;

		if ((rc = pq_cfg_str(c, wc, "type", &type)) ||
		    (rc = pq_cfg_int(c, wc, "num_bits", 8, 1, 64, &bits)) ||
		    (rc = pq_cfg_bool(c, wc, "symmetric", true, &sym)))
			return rc;
		if (!sym)
			return qk_err_set_in(c->err, QK_E_UNSUPPORTED, c->file,
					     "quantization_config: asymmetric %s weights (symmetric "
					     "false) are not read", format);
		return pq_attach_scaled_ct(c, wc, type && strcmp(type, "float") == 0 && bits == 8);
	}
	return qk_err_set_in(c->err, QK_E_UNSUPPORTED, c->file,
			     "quantization_config: compressed-tensors format '%.40s' is not read "
			     "(pack-quantized, float-quantized, int-quantized, naive-quantized)",
			     format);
}
