/* gguf.c - GGUF reader; see gguf.h for the layout and the rules.
 *
 * The parse is one pass through a bounds-checked cursor. Counts from the file
 * are checked against what the remaining bytes can hold before anything is
 * sized from them, so memory stays within a small multiple of the file size.
 * Strings are copied, NUL-terminated, into one arena (a key or tensor name
 * compared with strcmp must not be cut short by the mapping's end); numeric
 * array data and tensor data stay in the file bytes.
 */
#include "gguf.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../quant/qtype.h"
#include "gguf_priv.h"
#include "../base/io.h"

/* smallest encodings, for bounding counts by the bytes left:
 * kv = key length 8 + 1 key byte + type 4 + 1 value byte;
 * tensor info = name length 8 + 1 name byte + n_dims 4 + one ne 8 + type 4 + offset 8 */
#define MIN_KV_BYTES 14u
#define MIN_TI_BYTES 33u

static const char *const type_names[GF_TYPE_COUNT] = {
	"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array",
	"u64", "i64", "f64",
};
const uint8_t gf_type_sizes_[GF_TYPE_COUNT] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };

const char *gf_type_name(int type)
{
	return type >= 0 && type < GF_TYPE_COUNT ? type_names[type] : "?";
}

size_t gf_type_size(int type)
{
	return type >= 0 && type < GF_TYPE_COUNT ? gf_type_sizes_[type] : 0;
}

/* ---- parse state ---- */

struct parser {
	struct gf_file *f;
	qk_cur cur;
	qk_err *err;
};

/* "<file>: <message>" (err.h's one prefix helper) */
#define fail(p, code, ...) qk_err_set_in((p)->err, (code), (p)->f->name, __VA_ARGS__)

/* A name from the file, safe to print: printable ASCII as is, other bytes
 * as \xNN, cut after 80 bytes with "...". */
static const char *printable(const char *s, size_t n, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == 80) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	buf[o] = '\0';
	return buf;
}

/* Read a GGUF string into the arena: *idx gets its string index. */
static int read_str(struct parser *p, uint32_t *idx, const char *field)
{
	struct gf_file *f = p->f;
	uint64_t at = qk_cur_offset(&p->cur), len;
	const uint8_t *src;
	size_t need;
	int rc;

	rc = qk_cur_u64(&p->cur, &len, field, p->err);
	if (rc)
		return rc;
	if (len > GF_MAX_STRING)
		return fail(p, QK_E_INVALID, "%s at byte %" PRIu64 ": string length %" PRIu64
			    " is larger than the limit of %u bytes", field, at, len, GF_MAX_STRING);
	if (len > qk_cur_left(&p->cur))
		return fail(p, QK_E_INVALID, "%s at byte %" PRIu64 ": string length %" PRIu64
			    " runs past the end of the file (%zu bytes left)", field, at, len,
			    qk_cur_left(&p->cur));
	rc = qk_cur_bytes(&p->cur, (size_t)len, &src, field, p->err);
	if (rc)
		return rc;
	if (f->n_strs >= UINT32_MAX)
		return fail(p, QK_E_INVALID, "more than %u strings", UINT32_MAX);
	/* arena growth is bounded: every string consumed len + 8 file bytes */
	need = f->arena_n + (size_t)len + 1;
	if (need > f->arena_cap) {
		size_t cap = f->arena_cap ? f->arena_cap : 4096;
		char *a;
		while (cap < need)
			cap *= 2;
		a = realloc(f->arena, cap);
		if (!a)
			return fail(p, QK_E_NOMEM, "out of memory");
		f->arena = a;
		f->arena_cap = cap;
	}
	if (f->n_strs == f->cap_strs) {
		size_t cap = f->cap_strs ? f->cap_strs * 2 : 256;
		struct gf_str *s = realloc(f->strs, cap * sizeof(*s));
		if (!s)
			return fail(p, QK_E_NOMEM, "out of memory");
		f->strs = s;
		f->cap_strs = cap;
	}
	if (len)
		memcpy(f->arena + f->arena_n, src, (size_t)len);
	f->arena[f->arena_n + len] = '\0';
	f->strs[f->n_strs].off = f->arena_n;
	f->strs[f->n_strs].len = len;
	f->arena_n += (size_t)len + 1;
	*idx = (uint32_t)f->n_strs++;
	return QK_OK;
}

/* ---- name maps (keys, tensor names) ---- */

/* Put string s, just read, into map with value i: the map's key is the
 * string's bytes in the file (which outlive the gf_file, unlike the arena,
 * which moves as it grows). Returns -1 (inserted), the index already holding
 * it, or -2 (out of memory). */
static int64_t map_put(struct parser *p, struct qk_hmap *map, uint32_t s, int64_t i)
{
	size_t len = (size_t)p->f->strs[s].len;
	const char *raw = (const char *)p->f->data + qk_cur_offset(&p->cur) - len;

	return qk_hmap_put(map, raw, len, i);
}

/* Key or tensor name rules shared by both: non-empty, no NUL, UTF-8. */
static int check_name(struct parser *p, uint32_t s, const char *what, uint64_t at)
{
	const struct gf_str *st = &p->f->strs[s];
	const char *n = gf_str_at_(p->f, s);
	char buf[400];

	if (st->len == 0)
		return fail(p, QK_E_INVALID, "%s at byte %" PRIu64 " is empty", what, at);
	if (memchr(n, '\0', (size_t)st->len))
		return fail(p, QK_E_INVALID, "%s '%s' at byte %" PRIu64 " contains a NUL byte", what,
			    printable(n, (size_t)st->len, buf, sizeof(buf)), at);
	if (!qk_utf8_valid(n, (size_t)st->len))
		return fail(p, QK_E_INVALID, "%s '%s' at byte %" PRIu64 " is not valid UTF-8", what,
			    printable(n, (size_t)st->len, buf, sizeof(buf)), at);
	return QK_OK;
}

/* ---- key/values ---- */

static int read_array(struct parser *p, struct gf_kv *kv, const char *key)
{
	uint64_t at = qk_cur_offset(&p->cur), n, bytes;
	uint32_t elem;
	char field[160];
	int rc;

	snprintf(field, sizeof(field), "element type of key '%s'", key);
	rc = qk_cur_u32(&p->cur, &elem, field, p->err);
	if (rc)
		return rc;
	if (elem == GF_ARRAY)
		return fail(p, QK_E_INVALID, "key '%s': nested array at byte %" PRIu64
			    " (arrays of arrays are not supported)", key, at);
	if (elem >= GF_TYPE_COUNT)
		return fail(p, QK_E_INVALID, "key '%s': invalid array element type %" PRIu32
			    " at byte %" PRIu64 ", expected 0..12", key, elem, at);
	snprintf(field, sizeof(field), "element count of key '%s'", key);
	at = qk_cur_offset(&p->cur);
	rc = qk_cur_u64(&p->cur, &n, field, p->err);
	if (rc)
		return rc;
	/* a string element takes at least its 8-byte length */
	if (!qk_mul_u64(n, elem == GF_STRING ? 8 : gf_type_sizes_[elem], &bytes) ||
	    bytes > qk_cur_left(&p->cur))
		return fail(p, QK_E_INVALID, "key '%s': array of %" PRIu64 " %s elements at byte %" PRIu64
			    " needs more than the %zu bytes left", key, n, type_names[elem], at,
			    qk_cur_left(&p->cur));
	kv->elem = (uint8_t)elem;
	kv->n = n;
	kv->v = qk_cur_offset(&p->cur) - p->cur.origin;
	if (elem == GF_STRING) {
		kv->v = p->f->n_strs;
		snprintf(field, sizeof(field), "string element of key '%s'", key);
		for (uint64_t j = 0; j < n; j++) {
			uint32_t s;
			rc = read_str(p, &s, field);
			if (rc)
				return rc;
		}
		return QK_OK;
	}
	if (elem == GF_BOOL) {
		const uint8_t *b = p->cur.base + p->cur.pos;
		for (uint64_t j = 0; j < n; j++)
			if (b[j] > 1)
				return fail(p, QK_E_INVALID, "key '%s': bool element %" PRIu64
					    " at byte %" PRIu64 " is %u, expected 0 or 1", key, j,
					    qk_cur_offset(&p->cur) + j, b[j]);
	}
	return qk_cur_skip(&p->cur, (size_t)bytes, field, p->err);
}

static int read_kv(struct parser *p, int64_t i)
{
	struct gf_file *f = p->f;
	struct gf_kv *kv = &f->kvs[i];
	uint64_t at = qk_cur_offset(&p->cur);
	char field[160], buf[400];
	const char *key;
	uint32_t type;
	int64_t dup;
	int rc;

	snprintf(field, sizeof(field), "key of key/value %" PRId64, i);
	rc = read_str(p, &kv->key, field);
	if (rc)
		return rc;
	rc = check_name(p, kv->key, "key", at);
	if (rc)
		return rc;
	key = gf_str_at_(f, kv->key);
	dup = map_put(p, &f->keys, kv->key, i);
	if (dup == -2)
		return fail(p, QK_E_NOMEM, "out of memory");
	if (dup >= 0)
		return fail(p, QK_E_INVALID, "duplicate key '%s' at byte %" PRIu64,
			    printable(key, strlen(key), buf, sizeof(buf)), at);
	key = printable(key, strlen(key), buf, sizeof(buf));

	snprintf(field, sizeof(field), "value type of key '%s'", key);
	at = qk_cur_offset(&p->cur);
	rc = qk_cur_u32(&p->cur, &type, field, p->err);
	if (rc)
		return rc;
	if (type >= GF_TYPE_COUNT)
		return fail(p, QK_E_INVALID, "key '%s': invalid value type %" PRIu32 " at byte %" PRIu64
			    ", expected 0..12", key, type, at);
	kv->type = (uint8_t)type;
	kv->at = qk_cur_offset(&p->cur);
	snprintf(field, sizeof(field), "value of key '%s'", key);
	if (type == GF_ARRAY)
		return read_array(p, kv, key);
	if (type == GF_STRING) {
		uint32_t s;
		rc = read_str(p, &s, field);
		kv->v = s;
		return rc;
	}
	{
		const uint8_t *b;
		size_t n = gf_type_sizes_[type];
		rc = qk_cur_bytes(&p->cur, n, &b, field, p->err);
		if (rc)
			return rc;
		kv->v = n == 1 ? b[0] : n == 2 ? qk_ld16(b) : n == 4 ? qk_ld32(b) : qk_ld64(b);
	}
	if (type == GF_BOOL && kv->v > 1)
		return fail(p, QK_E_INVALID, "key '%s': bool value at byte %" PRIu64
			    " is %" PRIu64 ", expected 0 or 1", key, kv->at, kv->v);
	return QK_OK;
}

static int read_alignment(struct parser *p)
{
	struct gf_file *f = p->f;
	int64_t i = gf_find_key(f, GF_ALIGNMENT_KEY);
	const struct gf_kv *kv;

	f->alignment = GF_DEFAULT_ALIGNMENT;
	if (i < 0)
		return QK_OK;
	kv = &f->kvs[i];
	if (kv->type != GF_U32)
		return fail(p, QK_E_INVALID, "key '%s' at byte %" PRIu64 " has type %s, expected u32",
			    GF_ALIGNMENT_KEY, kv->at, type_names[kv->type]);
	if (kv->v == 0 || (kv->v & (kv->v - 1)) != 0)
		return fail(p, QK_E_INVALID, "key '%s' at byte %" PRIu64 " is %" PRIu64
			    ", expected a non-zero power of two", GF_ALIGNMENT_KEY, kv->at, kv->v);
	if (kv->v > GF_MAX_ALIGNMENT)
		return fail(p, QK_E_INVALID, "key '%s' at byte %" PRIu64 " is %" PRIu64
			    ", larger than the limit of %u", GF_ALIGNMENT_KEY, kv->at, kv->v,
			    GF_MAX_ALIGNMENT);
	f->alignment = (uint32_t)kv->v;
	return QK_OK;
}

/* ---- tensor infos ---- */

static int read_shape(struct parser *p, struct gf_tensor *t, const char *name)
{
	uint64_t at = qk_cur_offset(&p->cur), n = 1;
	uint32_t n_dims;
	char field[160];
	int rc;

	snprintf(field, sizeof(field), "n_dims of tensor '%s'", name);
	rc = qk_cur_u32(&p->cur, &n_dims, field, p->err);
	if (rc)
		return rc;
	if (n_dims < 1 || n_dims > GF_MAX_DIMS)
		return fail(p, QK_E_INVALID, "tensor '%s': n_dims %" PRIu32 " at byte %" PRIu64
			    " is out of range, expected 1..%d", name, n_dims, at, GF_MAX_DIMS);
	t->n_dims = (int)n_dims;
	for (int j = 0; j < GF_MAX_DIMS; j++)
		t->ne[j] = 1;
	for (int j = 0; j < t->n_dims; j++) {
		uint64_t v;
		snprintf(field, sizeof(field), "ne[%d] of tensor '%s'", j, name);
		at = qk_cur_offset(&p->cur);
		rc = qk_cur_u64(&p->cur, &v, field, p->err);
		if (rc)
			return rc;
		if (v > INT64_MAX)
			return fail(p, QK_E_INVALID, "tensor '%s': ne[%d] = %" PRId64 " at byte %" PRIu64
				    " is negative", name, j, (int64_t)v, at);
		if (v == 0)
			return fail(p, QK_E_INVALID, "tensor '%s': ne[%d] = 0 at byte %" PRIu64
				    ", expected at least 1", name, j, at);
		if (!qk_mul_u64(n, v, &n) || n > INT64_MAX)
			return fail(p, QK_E_INVALID, "tensor '%s': ne[%d] = %" PRIu64 " at byte %" PRIu64
				    " makes more than %" PRId64 " elements", name, j, v, at, INT64_MAX);
		t->ne[j] = (int64_t)v;
	}
	t->n_elem = n;
	return QK_OK;
}

static int read_type(struct parser *p, struct gf_tensor *t, const char *name)
{
	uint64_t at = qk_cur_offset(&p->cur), row, size = 0;
	const struct qt_type *qt;
	char field[160];
	uint32_t type;
	int rc;

	snprintf(field, sizeof(field), "type of tensor '%s'", name);
	rc = qk_cur_u32(&p->cur, &type, field, p->err);
	if (rc)
		return rc;
	qt = type < QT_COUNT ? qt_type_get((int)type) : NULL;
	if (!qt)
		return fail(p, QK_E_INVALID, "tensor '%s': invalid ggml type %" PRIu32 " at byte %" PRIu64,
			    name, type, at);
	t->type = (int)type;
	if (t->ne[0] % qt->blck != 0)
		return fail(p, QK_E_INVALID, "tensor '%s': ne[0] = %" PRId64 " is not a multiple of the %s"
			    " block size %" PRIu32, name, t->ne[0], qt->name, qt->blck);
	if (!qt_row_bytes(qt, (uint64_t)t->ne[0], &row) ||
	    !qk_mul_u64(row, t->n_elem / (uint64_t)t->ne[0], &size) || size > INT64_MAX)
		return fail(p, QK_E_INVALID, "tensor '%s': byte size of %" PRIu64 " %s elements"
			    " overflows", name, t->n_elem, qt->name);
	t->size = size;
	return QK_OK;
}

/* One tensor info; *expect is the offset it must have (the running sum of
 * the padded sizes before it), advanced past it. */
static int read_info(struct parser *p, int64_t i, uint64_t *expect)
{
	struct gf_file *f = p->f;
	struct gf_tensor *t = &f->tensors[i];
	uint64_t at = qk_cur_offset(&p->cur), padded;
	char field[160], buf[400];
	const char *name;
	int64_t dup;
	int rc;

	snprintf(field, sizeof(field), "name of tensor %" PRId64, i);
	rc = read_str(p, &t->name, field);
	if (rc)
		return rc;
	rc = check_name(p, t->name, "tensor name", at);
	if (rc)
		return rc;
	name = gf_str_at_(f, t->name);
	if (f->strs[t->name].len >= GF_MAX_NAME)
		return fail(p, QK_E_INVALID, "tensor name '%s' at byte %" PRIu64 " is %" PRIu64
			    " bytes, expected fewer than %u", printable(name, strlen(name), buf, sizeof(buf)),
			    at, f->strs[t->name].len, GF_MAX_NAME);
	dup = map_put(p, &f->names, t->name, i);
	if (dup == -2)
		return fail(p, QK_E_NOMEM, "out of memory");
	if (dup >= 0)
		return fail(p, QK_E_INVALID, "duplicate tensor name '%s' at byte %" PRIu64,
			    printable(name, strlen(name), buf, sizeof(buf)), at);
	name = printable(name, strlen(name), buf, sizeof(buf));

	rc = read_shape(p, t, name);
	if (!rc)
		rc = read_type(p, t, name);
	if (rc)
		return rc;
	snprintf(field, sizeof(field), "offset of tensor '%s'", name);
	at = qk_cur_offset(&p->cur);
	rc = qk_cur_u64(&p->cur, &t->offset, field, p->err);
	if (rc)
		return rc;
	if (t->offset % f->alignment != 0)
		return fail(p, QK_E_INVALID, "tensor '%s': offset %" PRIu64 " at byte %" PRIu64
			    " is not a multiple of the alignment %" PRIu32, name, t->offset, at,
			    f->alignment);
	if (t->offset != *expect)
		return fail(p, QK_E_INVALID, "tensor '%s': offset %" PRIu64 " at byte %" PRIu64
			    ", expected %" PRIu64 " (the padded sizes of the tensors before it)",
			    name, t->offset, at, *expect);
	if (!qk_align_up_u64(t->size, f->alignment, &padded) || !qk_add_u64(*expect, padded, expect))
		return fail(p, QK_E_INVALID, "tensor '%s': data end overflows", name);
	return QK_OK;
}

/* Data section start and every tensor's end within the file; no tail. */
static int check_data(struct parser *p, uint64_t data_size)
{
	struct gf_file *f = p->f;
	uint64_t end_info = qk_cur_offset(&p->cur), end, limit;
	char buf[400];

	if (!qk_align_up_u64(end_info, f->alignment, &f->data_start))
		return fail(p, QK_E_INVALID, "data section start overflows");
	if (f->n_tensors == 0) {
		if (f->size > f->data_start)
			return fail(p, QK_E_INVALID, "%" PRIu64 " trailing bytes after the header, which"
				    " ends at byte %" PRIu64 " (no tensors)", f->size - f->data_start,
				    f->data_start);
		return QK_OK;
	}
	if (f->data_start > f->size)
		return fail(p, QK_E_INVALID, "data section starts at byte %" PRIu64 " (alignment %" PRIu32
			    "), past the end of the file (%zu bytes)", f->data_start, f->alignment,
			    f->size);
	for (int64_t i = 0; i < f->n_tensors; i++) {
		const struct gf_tensor *t = &f->tensors[i];
		if (!qk_add_u64(f->data_start + t->offset, t->size, &end) || end > f->size) {
			const char *n = gf_str_at_(f, t->name);
			return fail(p, QK_E_INVALID, "tensor '%s': data [%" PRIu64 ", %" PRIu64 ") of %"
				    PRIu64 " bytes runs past the end of the file (%zu bytes)",
				    printable(n, strlen(n), buf, sizeof(buf)), f->data_start + t->offset,
				    f->data_start + t->offset + t->size, t->size, f->size);
		}
	}
	if (!qk_add_u64(f->data_start, data_size, &limit))
		return fail(p, QK_E_INVALID, "data section end overflows");
	if (f->size > limit)
		return fail(p, QK_E_INVALID, "%" PRIu64 " trailing bytes after the padded end of the last"
			    " tensor at byte %" PRIu64, f->size - limit, limit);
	return QK_OK;
}

static int read_header(struct parser *p, uint64_t *n_tensors, uint64_t *n_kv)
{
	struct gf_file *f = p->f;
	const uint8_t *m;
	uint64_t need_kv, need_ti, need;
	uint32_t v, sw;
	char buf[40];
	int rc;

	if (f->size < 4 || memcmp(f->data, GF_MAGIC, 4) != 0) {
		rc = qk_cur_bytes(&p->cur, 4, &m, "magic", p->err);
		if (rc)
			return rc;
		return fail(p, QK_E_INVALID, "bad magic '%s' at byte 0, expected 'GGUF'",
			    printable((const char *)m, 4, buf, sizeof(buf)));
	}
	p->cur.pos = 4;
	rc = qk_cur_u32(&p->cur, &v, "version", p->err);
	if (rc)
		return rc;
	sw = (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
	if ((v & 0xffff) == 0 && sw >= 1 && sw <= GF_VERSION)
		return fail(p, QK_E_UNSUPPORTED, "version bytes at byte 4 read as %" PRIu32
			    " (0x%08" PRIx32 "): a big-endian GGUF file, which is not supported",
			    v, v);
	if (v == 1)
		return fail(p, QK_E_UNSUPPORTED, "GGUF version 1 is not supported (at byte 4), expected 3");
	if (v != 2 && v != 3)
		return fail(p, QK_E_UNSUPPORTED, "unsupported GGUF version %" PRIu32 " at byte 4, expected 3",
			    v);
	f->version = v;
	rc = qk_cur_u64(&p->cur, n_tensors, "tensor count", p->err);
	if (!rc)
		rc = qk_cur_u64(&p->cur, n_kv, "key/value count", p->err);
	if (rc)
		return rc;
	if (*n_tensors > QK_MAX_TENSORS)
		return fail(p, QK_E_INVALID, "tensor count %" PRIu64 " at byte 8 is larger than the limit"
			    " of %u", *n_tensors, QK_MAX_TENSORS);
	if (*n_kv > GF_MAX_KV)
		return fail(p, QK_E_INVALID, "key/value count %" PRIu64 " at byte 16 is larger than the"
			    " limit of %u", *n_kv, GF_MAX_KV);
	need_kv = *n_kv * MIN_KV_BYTES;
	need_ti = *n_tensors * MIN_TI_BYTES;
	need = need_kv + need_ti;
	if (need > qk_cur_left(&p->cur))
		return fail(p, QK_E_INVALID, "%" PRIu64 " key/values and %" PRIu64 " tensors need at least %"
			    PRIu64 " bytes, but only %zu are left after byte 24", *n_kv, *n_tensors,
			    need, qk_cur_left(&p->cur));
	return QK_OK;
}

static int parse(struct parser *p)
{
	struct gf_file *f = p->f;
	uint64_t n_tensors, n_kv, expect = 0;
	int rc;

	rc = read_header(p, &n_tensors, &n_kv);
	if (rc)
		return rc;
	/* both counts are bounded by the bytes left (read_header) */
	f->kvs = calloc(n_kv ? n_kv : 1, sizeof(*f->kvs));
	f->tensors = calloc(n_tensors ? n_tensors : 1, sizeof(*f->tensors));
	if (!f->kvs || !f->tensors || qk_hmap_init(&f->keys, (size_t)n_kv) ||
	    qk_hmap_init(&f->names, (size_t)n_tensors))
		return fail(p, QK_E_NOMEM, "out of memory");
	for (uint64_t i = 0; i < n_kv; i++) {
		rc = read_kv(p, (int64_t)i);
		if (rc)
			return rc;
		f->n_kv = (int64_t)i + 1;
	}
	rc = read_alignment(p);
	if (rc)
		return rc;
	for (uint64_t i = 0; i < n_tensors; i++) {
		rc = read_info(p, (int64_t)i, &expect);
		if (rc)
			return rc;
		f->n_tensors = (int64_t)i + 1;
	}
	return check_data(p, expect);
}

int gf_parse(struct gf_file **out, const uint8_t *data, size_t size, const char *name,
	     qk_err *err)
{
	struct parser p;
	struct gf_file *f;
	int rc;

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->name = strdup(name ? name : "<memory>"))) {
		free(f);
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", name ? name : "<memory>");
	}
	f->data = data;
	f->size = size;
	p.f = f;
	p.err = err;
	qk_cur_init(&p.cur, data, size, f->name, 0);
	rc = parse(&p);
	if (rc) {
		gf_close(f);
		return rc;
	}
	*out = f;
	return QK_OK;
}

int gf_open(struct gf_file **out, const char *path, qk_err *err)
{
	qk_map map;
	int rc;

	*out = NULL;
	rc = qk_map_open(&map, path, err);
	if (rc)
		return rc;
	rc = gf_parse(out, map.data, map.size, path, err);
	if (rc) {
		qk_map_close(&map);
		return rc;
	}
	(*out)->map = map;
	return QK_OK;
}

void gf_close(struct gf_file *f)
{
	if (!f)
		return;
	qk_map_close(&f->map);
	free(f->name);
	free(f->arena);
	free(f->strs);
	free(f->kvs);
	free(f->tensors);
	qk_hmap_free(&f->keys);
	qk_hmap_free(&f->names);
	free(f);
}
