/* gguf_write.c - the streaming GGUF writer; see gguf.h.
 *
 * Key/values are serialized as they are added, into one buffer that becomes
 * the KV section; tensor infos are kept until the header is written, because
 * their offsets depend on the alignment, which a "general.alignment" KV added
 * at any time before the header may change. The byte layout is the one
 * gguf-py's GGUFWriter produces: header, KVs, infos, zero padding to the
 * alignment, then each tensor's bytes followed by zero padding to the
 * alignment (the last tensor too).
 */
#include "gguf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../quant/qtype.h"
#include "../base/io.h"
#include "../base/hmap.h"
#include "../base/outfile.h"

struct wtensor {
	char *name;                 /* owned */
	int type;                   /* ggml type id */
	int n_dims;                 /* 1..4 */
	int64_t ne[GF_MAX_DIMS];    /* ggml order, ne[0] fastest */
	uint64_t size;              /* bytes, unpadded */
};

struct gf_writer {
	char *path;                 /* target, for messages */
	struct qk_out *out;
	uint8_t *kv;                /* serialized KV section */
	size_t kv_n, kv_cap;
	uint64_t n_kv;
	struct qk_hmap keys;        /* key -> kv number; keys point into key_copy */
	struct qk_hmap names;       /* tensor name -> index; names point into t[].name */
	char **key_copy;            /* [n_key_copy] owned copies of the keys */
	size_t n_key_copy, cap_key_copy;
	struct wtensor *t;          /* [n_t] declared tensors */
	size_t n_t, cap_t;
	uint32_t alignment;
	bool header_done;
	bool failed;                /* an error happened: only abort is useful */
	size_t cur;                 /* tensor the next bytes belong to */
	uint64_t cur_done;          /* bytes of it written */
};

/* ---- helpers ---- */

/* Add a copy of key (owned by the writer) to w->keys. false when out of
 * memory. */
static bool keys_add(struct gf_writer *w, const char *key)
{
	char *c;

	if (w->n_key_copy == w->cap_key_copy) {
		size_t cap = w->cap_key_copy ? w->cap_key_copy * 2 : 64;
		char **nk = realloc(w->key_copy, cap * sizeof(*nk));
		if (!nk)
			return false;
		w->key_copy = nk;
		w->cap_key_copy = cap;
	}
	c = strdup(key);
	if (!c)
		return false;
	w->key_copy[w->n_key_copy] = c;
	if (qk_hmap_put(&w->keys, c, strlen(c), (int64_t)w->n_key_copy) == -2) {
		free(c);
		return false;
	}
	w->n_key_copy++;
	return true;
}

/* Record a failure: the writer accepts nothing more but abort. */
static int wfail(struct gf_writer *w, int rc)
{
	w->failed = true;
	return rc;
}

static bool kv_put(struct gf_writer *w, const void *p, size_t n)
{
	if (n > w->kv_cap - w->kv_n) {
		size_t cap = w->kv_cap ? w->kv_cap : 1024;
		uint8_t *np;
		while (n > cap - w->kv_n) {
			if (cap > SIZE_MAX / 2)
				return false;
			cap *= 2;
		}
		np = realloc(w->kv, cap);
		if (!np)
			return false;
		w->kv = np;
		w->kv_cap = cap;
	}
	if (n)
		memcpy(w->kv + w->kv_n, p, n);
	w->kv_n += n;
	return true;
}

static bool kv_u32(struct gf_writer *w, uint32_t v)
{
	uint8_t b[4];
	qk_st32(b, v);
	return kv_put(w, b, 4);
}

static bool kv_u64(struct gf_writer *w, uint64_t v)
{
	uint8_t b[8];
	qk_st64(b, v);
	return kv_put(w, b, 8);
}

static bool kv_str(struct gf_writer *w, const char *s, size_t len)
{
	return kv_u64(w, len) && kv_put(w, s, len);
}

/* A scalar of gguf type t from host memory p, little-endian. */
static bool kv_scalar(struct gf_writer *w, int t, const void *p)
{
	uint8_t b[8];
	size_t n = gf_type_size(t);
	uint64_t v = 0;

	switch (n) {
	case 1:
		if (t == GF_BOOL)
			v = *(const bool *)p ? 1 : 0;
		else
			v = *(const uint8_t *)p;
		break;
	case 2: { uint16_t x; memcpy(&x, p, 2); v = x; break; }
	case 4: { uint32_t x; memcpy(&x, p, 4); v = x; break; }
	default: memcpy(&v, p, 8); break;
	}
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return kv_put(w, b, n);
}

/* Rules every name (key or tensor) follows; `what` for messages. */
static int check_name(struct gf_writer *w, const char *name, const char *what,
		      const struct qk_hmap *seen, qk_err *err)
{
	size_t len = name ? strlen(name) : 0;

	if (w->failed)
		return qk_err_set(err, QK_E_USAGE, "%s: writer failed earlier", w->path);
	if (w->header_done)
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: %s '%s' added after the header was"
					   " written", w->path, what, name ? name : ""));
	if (len == 0)
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: empty %s", w->path, what));
	if (len > GF_MAX_STRING || !qk_utf8_valid(name, len))
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: %s is not valid UTF-8 or too long",
					   w->path, what));
	if (qk_hmap_get(seen, name, len) >= 0)
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: duplicate %s '%s'", w->path, what,
					   name));
	return QK_OK;
}

/* Start a KV: check the key, write it and the value type. */
static int kv_begin(struct gf_writer *w, const char *key, int type, qk_err *err)
{
	int rc = check_name(w, key, "key", &w->keys, err);

	if (rc)
		return rc;
	if (w->n_kv >= GF_MAX_KV)
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: more than %u keys", w->path, GF_MAX_KV));
	if (strcmp(key, GF_ALIGNMENT_KEY) == 0 && type != GF_U32)
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: key '%s' must be u32, not %s", w->path,
					   key, gf_type_name(type)));
	if (!keys_add(w, key) || !kv_str(w, key, strlen(key)) || !kv_u32(w, (uint32_t)type))
		return wfail(w, qk_err_set(err, QK_E_NOMEM, "%s: out of memory", w->path));
	w->n_kv++;
	return QK_OK;
}

static int kv_end(struct gf_writer *w, bool ok, qk_err *err)
{
	return ok ? QK_OK : wfail(w, qk_err_set(err, QK_E_NOMEM, "%s: out of memory", w->path));
}

/* ---- API: key/values ---- */

int gf_writer_open(struct gf_writer **w, const char *path, qk_err *err)
{
	struct gf_writer *n = calloc(1, sizeof(*n));
	int rc;

	*w = NULL;
	if (!n || !(n->path = strdup(path))) {
		free(n);
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", path);
	}
	n->alignment = GF_DEFAULT_ALIGNMENT;
	rc = qk_out_open(&n->out, path, err);
	if (rc) {
		free(n->path);
		free(n);
		return rc;
	}
	*w = n;
	return QK_OK;
}

#define ADD_SCALAR(fn, ctype, gtype) \
	int gf_writer_add_##fn(struct gf_writer *w, const char *key, ctype v, qk_err *err) \
	{ \
		int rc = kv_begin(w, key, gtype, err); \
		return rc ? rc : kv_end(w, kv_scalar(w, gtype, &v), err); \
	}

ADD_SCALAR(u8, uint8_t, GF_U8)
ADD_SCALAR(i8, int8_t, GF_I8)
ADD_SCALAR(u16, uint16_t, GF_U16)
ADD_SCALAR(i16, int16_t, GF_I16)
ADD_SCALAR(i32, int32_t, GF_I32)
ADD_SCALAR(f32, float, GF_F32)
ADD_SCALAR(bool, bool, GF_BOOL)
ADD_SCALAR(u64, uint64_t, GF_U64)
ADD_SCALAR(i64, int64_t, GF_I64)
ADD_SCALAR(f64, double, GF_F64)

int gf_writer_add_u32(struct gf_writer *w, const char *key, uint32_t v, qk_err *err)
{
	bool is_align = key && strcmp(key, GF_ALIGNMENT_KEY) == 0;
	int rc;

	if (is_align && !w->failed && (v == 0 || (v & (v - 1)) != 0 || v > GF_MAX_ALIGNMENT))
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: %s = %" PRIu32 ", expected a power of"
					   " two <= %u", w->path, key, v, GF_MAX_ALIGNMENT));
	rc = kv_begin(w, key, GF_U32, err);
	if (rc)
		return rc;
	if (is_align)
		w->alignment = v;
	return kv_end(w, kv_scalar(w, GF_U32, &v), err);
}

int gf_writer_add_strn(struct gf_writer *w, const char *key, const char *v, size_t len,
		       qk_err *err)
{
	int rc;

	if (len > GF_MAX_STRING && !w->failed)
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: key '%s': string of %zu bytes is"
					   " longer than the limit of %u", w->path, key, len,
					   GF_MAX_STRING));
	rc = kv_begin(w, key, GF_STRING, err);
	return rc ? rc : kv_end(w, kv_str(w, v, len), err);
}

int gf_writer_add_str(struct gf_writer *w, const char *key, const char *v, qk_err *err)
{
	return gf_writer_add_strn(w, key, v, strlen(v), err);
}

int gf_writer_add_arr(struct gf_writer *w, const char *key, enum gf_type elem,
		      const void *data, uint64_t n, qk_err *err)
{
	size_t es = gf_type_size(elem), hs = elem == GF_BOOL ? sizeof(bool) : es;
	const uint8_t *p = data;
	bool ok;
	int rc;

	if (es == 0 && !w->failed)
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: key '%s': array element type %s is"
					   " not a scalar type", w->path, key ? key : "",
					   gf_type_name(elem)));
	rc = kv_begin(w, key, GF_ARRAY, err);
	if (rc)
		return rc;
	ok = kv_u32(w, (uint32_t)elem) && kv_u64(w, n);
	for (uint64_t j = 0; ok && j < n; j++)
		ok = kv_scalar(w, elem, p + j * hs);
	return kv_end(w, ok, err);
}

int gf_writer_add_arr_str(struct gf_writer *w, const char *key, const char *const *v,
			  const size_t *lens, uint64_t n, qk_err *err)
{
	bool ok;
	int rc;

	for (uint64_t j = 0; j < n && !w->failed; j++)
		if ((lens ? lens[j] : strlen(v[j])) > GF_MAX_STRING)
			return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: key '%s': string %" PRIu64
						   " is longer than the limit of %u bytes", w->path,
						   key, j, GF_MAX_STRING));
	rc = kv_begin(w, key, GF_ARRAY, err);
	if (rc)
		return rc;
	ok = kv_u32(w, GF_STRING) && kv_u64(w, n);
	for (uint64_t j = 0; ok && j < n; j++)
		ok = kv_str(w, v[j], lens ? lens[j] : strlen(v[j]));
	return kv_end(w, ok, err);
}

/* ---- API: tensors ---- */

int gf_writer_add_tensor(struct gf_writer *w, const char *name, int type, int n_dims,
			 const int64_t *ne, qk_err *err)
{
	const struct qt_type *qt = qt_type_get(type);
	struct wtensor *t;
	uint64_t n = 1, row;
	int rc = check_name(w, name, "tensor name", &w->names, err);

	if (rc)
		return rc;
	if (strlen(name) >= GF_MAX_NAME)
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: tensor name '%s' is %zu bytes, expected"
					   " fewer than %u", w->path, name, strlen(name), GF_MAX_NAME));
	if (!qt)
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: tensor '%s': invalid ggml type %d",
					   w->path, name, type));
	if (n_dims < 1 || n_dims > GF_MAX_DIMS)
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: tensor '%s': n_dims %d, expected 1..%d",
					   w->path, name, n_dims, GF_MAX_DIMS));
	for (int j = 0; j < n_dims; j++)
		if (ne[j] < 1 || !qk_mul_u64(n, (uint64_t)ne[j], &n) || n > INT64_MAX)
			return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: tensor '%s': ne[%d] = %" PRId64
						   " is not positive or overflows the element count",
						   w->path, name, j, ne[j]));
	if (!qt_row_bytes(qt, (uint64_t)ne[0], &row) || !qk_mul_u64(row, n / (uint64_t)ne[0], &n) ||
	    n > INT64_MAX)
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: tensor '%s': ne[0] = %" PRId64 " is not"
					   " a multiple of the %s block size %" PRIu32 " or the size"
					   " overflows", w->path, name, ne[0], qt->name, qt->blck));
	if (w->n_t >= QK_MAX_TENSORS)
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: more than %u tensors", w->path,
					   QK_MAX_TENSORS));
	if (w->n_t == w->cap_t) {
		size_t cap = w->cap_t ? w->cap_t * 2 : 64;
		struct wtensor *nt = realloc(w->t, cap * sizeof(*nt));
		if (!nt)
			return wfail(w, qk_err_set(err, QK_E_NOMEM, "%s: out of memory", w->path));
		w->t = nt;
		w->cap_t = cap;
	}
	t = &w->t[w->n_t];
	memset(t, 0, sizeof(*t));
	t->name = strdup(name);
	if (!t->name || qk_hmap_put(&w->names, t->name, strlen(name), (int64_t)w->n_t) == -2) {
		free(t->name);
		return wfail(w, qk_err_set(err, QK_E_NOMEM, "%s: out of memory", w->path));
	}
	t->type = type;
	t->n_dims = n_dims;
	for (int j = 0; j < GF_MAX_DIMS; j++)
		t->ne[j] = j < n_dims ? ne[j] : 1;
	t->size = n;
	w->n_t++;
	return QK_OK;
}

/* ---- API: header and data ---- */

int gf_writer_write_header(struct gf_writer *w, qk_err *err)
{
	uint8_t h[24];              /* magic, version, n_tensors, n_kv */
	uint64_t off = 0, pad;
	int rc;

	if (w->failed)
		return qk_err_set(err, QK_E_USAGE, "%s: writer failed earlier", w->path);
	if (w->header_done)
		return QK_OK;
	memcpy(h, GF_MAGIC, 4);
	qk_st32(h + 4, GF_VERSION);
	qk_st64(h + 8, w->n_t);
	qk_st64(h + 16, w->n_kv);
	rc = qk_out_write(w->out, h, sizeof(h), err);
	if (!rc)
		rc = qk_out_write(w->out, w->kv, w->kv_n, err);
	for (size_t i = 0; !rc && i < w->n_t; i++) {
		const struct wtensor *t = &w->t[i];
		uint8_t b[8 + 4 + 8 * GF_MAX_DIMS + 4 + 8];
		size_t nl = strlen(t->name), bn = 0;
		uint64_t padded;

		qk_st64(b, nl);
		rc = qk_out_write(w->out, b, 8, err);
		if (!rc)
			rc = qk_out_write(w->out, t->name, nl, err);
		qk_st32(b, (uint32_t)t->n_dims);
		bn = 4;
		for (int j = 0; j < t->n_dims; j++, bn += 8)
			qk_st64(b + bn, (uint64_t)t->ne[j]);
		qk_st32(b + bn, (uint32_t)t->type);
		qk_st64(b + bn + 4, off);
		bn += 12;
		if (!rc)
			rc = qk_out_write(w->out, b, bn, err);
		if (!rc && (!qk_align_up_u64(t->size, w->alignment, &padded) ||
			    !qk_add_u64(off, padded, &off)))
			rc = qk_err_set(err, QK_E_USAGE, "%s: tensor '%s': data offset overflows",
					w->path, t->name);
	}
	if (rc)
		return wfail(w, rc);
	if (!qk_align_up_u64(qk_out_tell(w->out), w->alignment, &pad))
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: header size overflows", w->path));
	rc = qk_out_zeros(w->out, pad - qk_out_tell(w->out), err);
	if (rc)
		return wfail(w, rc);
	free(w->kv);
	w->kv = NULL;
	w->kv_n = w->kv_cap = 0;
	w->header_done = true;
	return QK_OK;
}

int gf_writer_write(struct gf_writer *w, const void *data, size_t n, qk_err *err)
{
	struct wtensor *t;
	uint64_t padded = 0;
	int rc;

	if (!w->header_done) {
		rc = gf_writer_write_header(w, err);
		if (rc)
			return rc;
	}
	if (w->failed)
		return qk_err_set(err, QK_E_USAGE, "%s: writer failed earlier", w->path);
	if (n == 0)
		return QK_OK;
	if (w->cur >= w->n_t)
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: %zu bytes written after the last"
					   " tensor", w->path, n));
	t = &w->t[w->cur];
	if (n > t->size - w->cur_done)
		return wfail(w, qk_err_set(err, QK_E_USAGE, "%s: tensor '%s': chunk of %zu bytes runs"
					   " past its end (%" PRIu64 " of %" PRIu64 " bytes written)",
					   w->path, t->name, n, w->cur_done, t->size));
	rc = qk_out_write(w->out, data, n, err);
	if (rc)
		return wfail(w, rc);
	w->cur_done += n;
	if (w->cur_done < t->size)
		return QK_OK;
	qk_align_up_u64(t->size, w->alignment, &padded); /* checked in write_header */
	rc = qk_out_zeros(w->out, padded - t->size, err);
	if (rc)
		return wfail(w, rc);
	w->cur++;
	w->cur_done = 0;
	return QK_OK;
}

size_t gf_writer_current(const struct gf_writer *w)
{
	return w->cur;
}

uint64_t gf_writer_tensor_size(const struct gf_writer *w, size_t i)
{
	return i < w->n_t ? w->t[i].size : 0;
}

static void writer_free(struct gf_writer *w)
{
	for (size_t i = 0; i < w->n_t; i++)
		free(w->t[i].name);
	free(w->t);
	free(w->kv);
	for (size_t i = 0; i < w->n_key_copy; i++)
		free(w->key_copy[i]);
	free(w->key_copy);
	qk_hmap_free(&w->keys);
	qk_hmap_free(&w->names);
	free(w->path);
	free(w);
}

/* the checks before a file may be committed */
static int complete(struct gf_writer *w, qk_err *err)
{
	int rc = QK_OK;

	if (!w->header_done)
		rc = gf_writer_write_header(w, err);
	if (!rc && w->failed)
		rc = qk_err_set(err, QK_E_USAGE, "%s: writer failed earlier", w->path);
	if (!rc && w->cur < w->n_t)
		rc = qk_err_set(err, QK_E_USAGE, "%s: tensor '%s' has %" PRIu64 " of %" PRIu64
				" bytes written", w->path, w->t[w->cur].name, w->cur_done,
				w->t[w->cur].size);
	return rc;
}

int gf_writer_commit(struct gf_writer *w, qk_err *err)
{
	int rc = complete(w, err);

	if (rc) {
		gf_writer_abort(w);
		return rc;
	}
	rc = qk_out_commit(w->out, err);
	w->out = NULL;
	writer_free(w);
	return rc;
}

int gf_writer_finish(struct gf_writer *w, struct qk_out **out, qk_err *err)
{
	int rc = complete(w, err);

	*out = NULL;
	if (!rc)
		rc = qk_out_finish(w->out, err);
	if (rc) {
		gf_writer_abort(w);
		return rc;
	}
	*out = w->out;
	w->out = NULL;
	writer_free(w);
	return QK_OK;
}

void gf_writer_abort(struct gf_writer *w)
{
	if (!w)
		return;
	qk_out_abort(w->out);
	writer_free(w);
}
