/* gguf_get.c - getters on a parsed GGUF file and its catalog entry; see gguf.h. */
#include "gguf.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_priv.h"

const char *gf_name(const struct gf_file *f) { return f->name; }
uint32_t gf_version(const struct gf_file *f) { return f->version; }
uint32_t gf_alignment(const struct gf_file *f) { return f->alignment; }
const uint8_t *gf_bytes(const struct gf_file *f) { return f->data; }
size_t gf_size(const struct gf_file *f) { return f->size; }
uint64_t gf_data_offset(const struct gf_file *f) { return f->data_start; }
int64_t gf_n_kv(const struct gf_file *f) { return f->n_kv; }
int64_t gf_n_tensors(const struct gf_file *f) { return f->n_tensors; }

int64_t gf_find_key(const struct gf_file *f, const char *key)
{
	return qk_hmap_gets(&f->keys, key);
}

int64_t gf_find_tensor(const struct gf_file *f, const char *name)
{
	return qk_hmap_gets(&f->names, name);
}

/* The kv at i, or NULL (and an assert) when i is out of range or its type is
 * not `type` (-1: any). */
static const struct gf_kv *kv_at(const struct gf_file *f, int64_t i, int type)
{
	if (i < 0 || i >= f->n_kv || (type >= 0 && f->kvs[i].type != type)) {
		assert(!"gguf: kv index out of range or wrong type");
		return NULL;
	}
	return &f->kvs[i];
}

const char *gf_key(const struct gf_file *f, int64_t i)
{
	const struct gf_kv *kv = kv_at(f, i, -1);
	return kv ? gf_str_at_(f, kv->key) : NULL;
}

enum gf_type gf_kv_type(const struct gf_file *f, int64_t i)
{
	const struct gf_kv *kv = kv_at(f, i, -1);
	return kv ? (enum gf_type)kv->type : GF_TYPE_COUNT;
}

#define SCALAR_GETTER(fn, ctype, gtype, conv) \
	ctype gf_kv_##fn(const struct gf_file *f, int64_t i) \
	{ \
		const struct gf_kv *kv = kv_at(f, i, gtype); \
		uint64_t v = kv ? kv->v : 0; \
		return conv; \
	}

static float f32_bits(uint32_t u)
{
	float x;
	memcpy(&x, &u, sizeof(x));
	return x;
}

static double f64_bits(uint64_t u)
{
	double x;
	memcpy(&x, &u, sizeof(x));
	return x;
}

SCALAR_GETTER(u8, uint8_t, GF_U8, (uint8_t)v)
SCALAR_GETTER(i8, int8_t, GF_I8, (int8_t)(uint8_t)v)
SCALAR_GETTER(u16, uint16_t, GF_U16, (uint16_t)v)
SCALAR_GETTER(i16, int16_t, GF_I16, (int16_t)(uint16_t)v)
SCALAR_GETTER(u32, uint32_t, GF_U32, (uint32_t)v)
SCALAR_GETTER(i32, int32_t, GF_I32, (int32_t)(uint32_t)v)
SCALAR_GETTER(f32, float, GF_F32, f32_bits((uint32_t)v))
SCALAR_GETTER(bool, bool, GF_BOOL, v != 0)
SCALAR_GETTER(u64, uint64_t, GF_U64, v)
SCALAR_GETTER(i64, int64_t, GF_I64, (int64_t)v)
SCALAR_GETTER(f64, double, GF_F64, f64_bits(v))

const char *gf_kv_str(const struct gf_file *f, int64_t i, size_t *len)
{
	const struct gf_kv *kv = kv_at(f, i, GF_STRING);

	if (len)
		*len = kv ? (size_t)f->strs[kv->v].len : 0;
	return kv ? gf_str_at_(f, (uint32_t)kv->v) : NULL;
}

/* A stored integer of type t (raw bits v) as signed or unsigned; false for
 * non-integer types. */
static bool int_value(int t, uint64_t v, int64_t *s, uint64_t *u, bool *neg)
{
	switch (t) {
	case GF_U8: case GF_U16: case GF_U32: case GF_U64:
		*u = v;
		*neg = false;
		return true;
	case GF_I8: *s = (int8_t)(uint8_t)v; break;
	case GF_I16: *s = (int16_t)(uint16_t)v; break;
	case GF_I32: *s = (int32_t)(uint32_t)v; break;
	case GF_I64: *s = (int64_t)v; break;
	default: return false;
	}
	*neg = *s < 0;
	*u = (uint64_t)*s;
	return true;
}

bool gf_kv_int(const struct gf_file *f, int64_t i, int64_t lo, int64_t hi, int64_t *out)
{
	const struct gf_kv *kv = kv_at(f, i, -1);
	int64_t s = 0;
	uint64_t u = 0;
	bool neg;

	if (!kv || !int_value(kv->type, kv->v, &s, &u, &neg))
		return false;
	if (neg ? s < lo || s > hi : (u > (uint64_t)INT64_MAX || (int64_t)u < lo || (int64_t)u > hi))
		return false;
	*out = neg ? s : (int64_t)u;
	return true;
}

bool gf_kv_float(const struct gf_file *f, int64_t i, double *out)
{
	const struct gf_kv *kv = kv_at(f, i, -1);

	if (!kv || (kv->type != GF_F32 && kv->type != GF_F64))
		return false;
	*out = kv->type == GF_F32 ? (double)f32_bits((uint32_t)kv->v) : f64_bits(kv->v);
	return true;
}

enum gf_type gf_arr_type(const struct gf_file *f, int64_t i)
{
	const struct gf_kv *kv = kv_at(f, i, GF_ARRAY);
	return kv ? (enum gf_type)kv->elem : GF_TYPE_COUNT;
}

uint64_t gf_arr_n(const struct gf_file *f, int64_t i)
{
	const struct gf_kv *kv = kv_at(f, i, GF_ARRAY);
	return kv ? kv->n : 0;
}

const uint8_t *gf_arr_data(const struct gf_file *f, int64_t i)
{
	const struct gf_kv *kv = kv_at(f, i, GF_ARRAY);

	if (!kv || kv->elem == GF_STRING || kv->n == 0)
		return NULL;
	return f->data + kv->v;
}

/* Raw bits of element j of a numeric array, zero-extended; *type its type. */
static bool arr_elem(const struct gf_file *f, int64_t i, uint64_t j, int *type, uint64_t *v)
{
	const struct gf_kv *kv = kv_at(f, i, GF_ARRAY);
	const uint8_t *b;
	size_t n;

	if (!kv || kv->elem == GF_STRING || j >= kv->n) {
		assert(!"gguf: array element out of range or a string array");
		return false;
	}
	n = gf_type_sizes_[kv->elem];
	b = f->data + kv->v + j * n;
	*v = n == 1 ? b[0] : n == 2 ? qk_ld16(b) : n == 4 ? qk_ld32(b) : qk_ld64(b);
	*type = kv->elem;
	return true;
}

int64_t gf_arr_int(const struct gf_file *f, int64_t i, uint64_t j)
{
	int64_t s = 0;
	uint64_t v = 0, u = 0;
	int t;
	bool neg;

	if (!arr_elem(f, i, j, &t, &v))
		return 0;
	if (t == GF_BOOL)
		return (int64_t)v;
	if (!int_value(t, v, &s, &u, &neg)) {
		assert(!"gguf: gf_arr_int on a float array");
		return 0;
	}
	return neg ? s : (int64_t)u;
}

uint64_t gf_arr_u64(const struct gf_file *f, int64_t i, uint64_t j)
{
	uint64_t v = 0;
	int t;

	return arr_elem(f, i, j, &t, &v) ? v : 0;
}

double gf_arr_float(const struct gf_file *f, int64_t i, uint64_t j)
{
	uint64_t v = 0;
	int t;

	if (!arr_elem(f, i, j, &t, &v))
		return 0;
	if (t == GF_F32)
		return (double)f32_bits((uint32_t)v);
	if (t == GF_F64)
		return f64_bits(v);
	if (t == GF_U64)
		return (double)v;
	return (double)gf_arr_int(f, i, j);
}

const char *gf_arr_str(const struct gf_file *f, int64_t i, uint64_t j, size_t *len)
{
	const struct gf_kv *kv = kv_at(f, i, GF_ARRAY);
	uint32_t s;

	if (!kv || kv->elem != GF_STRING || j >= kv->n) {
		assert(!"gguf: string element out of range or not a string array");
		if (len)
			*len = 0;
		return NULL;
	}
	s = (uint32_t)(kv->v + j);
	if (len)
		*len = (size_t)f->strs[s].len;
	return gf_str_at_(f, s);
}

/* ---- checked lookups by key ---- */

/* The kv called key with type `type` (GF_ARRAY: elem must match too). */
static int find_typed(const struct gf_file *f, const char *key, int type, int elem,
		      const struct gf_kv **out, qk_err *err)
{
	int64_t i = gf_find_key(f, key);
	const struct gf_kv *kv;

	*out = NULL;
	if (i < 0)
		return qk_err_set(err, QK_E_INVALID, "%s: key '%s' is missing", f->name, key);
	kv = &f->kvs[i];
	if (kv->type != type)
		return qk_err_set(err, QK_E_INVALID, "%s: key '%s' has type %s, expected %s", f->name,
				  key, gf_type_name(kv->type), gf_type_name(type));
	if (type == GF_ARRAY && kv->elem != elem)
		return qk_err_set(err, QK_E_INVALID, "%s: key '%s' is an array of %s, expected an array"
				  " of %s", f->name, key, gf_type_name(kv->elem), gf_type_name(elem));
	*out = kv;
	return QK_OK;
}

#define CHECKED_GETTER(fn, ctype, gtype) \
	int gf_get_##fn(const struct gf_file *f, const char *key, ctype *out, qk_err *err) \
	{ \
		const struct gf_kv *kv; \
		int rc = find_typed(f, key, gtype, 0, &kv, err); \
		if (rc == QK_OK) \
			*out = gf_kv_##fn(f, kv - f->kvs); \
		return rc; \
	}

CHECKED_GETTER(u32, uint32_t, GF_U32)
CHECKED_GETTER(u64, uint64_t, GF_U64)
CHECKED_GETTER(i32, int32_t, GF_I32)
CHECKED_GETTER(f32, float, GF_F32)
CHECKED_GETTER(bool, bool, GF_BOOL)

int gf_get_str(const struct gf_file *f, const char *key, const char **out, size_t *len,
	       qk_err *err)
{
	const struct gf_kv *kv;
	int rc = find_typed(f, key, GF_STRING, 0, &kv, err);

	if (rc == QK_OK)
		*out = gf_kv_str(f, kv - f->kvs, len);
	return rc;
}

int gf_get_arr(const struct gf_file *f, const char *key, enum gf_type elem, int64_t *idx,
	       qk_err *err)
{
	const struct gf_kv *kv;
	int rc = find_typed(f, key, GF_ARRAY, (int)elem, &kv, err);

	if (rc == QK_OK)
		*idx = kv - f->kvs;
	return rc;
}

/* ---- tensors ---- */

static const struct gf_tensor *tensor_at(const struct gf_file *f, int64_t i)
{
	if (i < 0 || i >= f->n_tensors) {
		assert(!"gguf: tensor index out of range");
		return NULL;
	}
	return &f->tensors[i];
}

const char *gf_tensor_name(const struct gf_file *f, int64_t i)
{
	const struct gf_tensor *t = tensor_at(f, i);
	return t ? gf_str_at_(f, t->name) : NULL;
}

int gf_tensor_type(const struct gf_file *f, int64_t i)
{
	const struct gf_tensor *t = tensor_at(f, i);
	return t ? t->type : -1;
}

int gf_tensor_n_dims(const struct gf_file *f, int64_t i)
{
	const struct gf_tensor *t = tensor_at(f, i);
	return t ? t->n_dims : 0;
}

void gf_tensor_ne(const struct gf_file *f, int64_t i, int64_t ne[GF_MAX_DIMS])
{
	const struct gf_tensor *t = tensor_at(f, i);

	for (int j = 0; j < GF_MAX_DIMS; j++)
		ne[j] = t ? t->ne[j] : 1;
}

uint64_t gf_tensor_n_elem(const struct gf_file *f, int64_t i)
{
	const struct gf_tensor *t = tensor_at(f, i);
	return t ? t->n_elem : 0;
}

uint64_t gf_tensor_offset(const struct gf_file *f, int64_t i)
{
	const struct gf_tensor *t = tensor_at(f, i);
	return t ? t->offset : 0;
}

uint64_t gf_tensor_size(const struct gf_file *f, int64_t i)
{
	const struct gf_tensor *t = tensor_at(f, i);
	return t ? t->size : 0;
}

const uint8_t *gf_tensor_data(const struct gf_file *f, int64_t i)
{
	const struct gf_tensor *t = tensor_at(f, i);
	/* parse checked data_start + offset + size <= size */
	return t ? f->data + f->data_start + t->offset : NULL;
}

/* ---- catalog ---- */

int gf_to_catalog(struct qk_catalog *cat, const char *path, qk_err *err)
{
	struct qk_catalog_mark mark;
	struct gf_file *f = NULL;
	qk_map map;
	int idx, rc;

	rc = qk_map_open(&map, path, err);
	if (rc)
		return rc;
	rc = gf_parse(&f, map.data, map.size, path, err);
	if (rc) {
		qk_map_close(&map);
		return rc;
	}
	qk_catalog_mark(cat, &mark);
	/* the catalog takes the mapping; f keeps pointing at the same bytes */
	rc = qk_catalog_add_file(cat, &map, &idx, err);
	if (rc) {
		qk_map_close(&map);
		gf_close(f);
		return rc;
	}
	cat->gguf[idx] = f;
	cat->close_gguf = gf_close;
	for (int64_t i = 0; i < f->n_tensors; i++) {
		const struct gf_tensor *gt = &f->tensors[i];
		const char *name = gf_str_at_(f, gt->name);
		struct qk_tensor *t;

		rc = qk_catalog_add(cat, name, strlen(name), &t, err);
		if (rc) {
			qk_err_prefix(err, "%s", path);
			qk_catalog_rollback(cat, &mark);
			return rc;
		}
		t->dtype = gt->type;
		t->n_dims = gt->n_dims;
		/* ne[0] is the fastest dimension; catalog shapes put it last */
		for (int j = 0; j < gt->n_dims; j++)
			t->shape[j] = (uint64_t)gt->ne[gt->n_dims - 1 - j];
		t->n_elem = gt->n_elem;
		t->nbytes = gt->size;
		t->offset = f->data_start + gt->offset;
		t->data = f->data + t->offset;
		t->file = idx;
	}
	cat->format = QK_FMT_GGUF;
	return QK_OK;
}
