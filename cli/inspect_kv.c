/* inspect_kv.c - qwen-inspect --kv: every key/value of a GGUF file (or the
 * __metadata__ of safetensors files), in the line format of gguf-py's
 * gguf-dump so that the two outputs can be compared line for line:
 *
 *       N: TYPE       |    COUNT | key = value
 *
 * N counts from 1 and, as gguf-dump does, the first three entries are the
 * header fields GGUF.version, GGUF.tensor_count and GGUF.kv_count. TYPE is
 * the GGUF value type's name (UINT32, STRING, ...; [STRING] for an array of
 * strings); COUNT is 1 for scalars and strings, the element count for arrays.
 * Values are printed as Python's repr() prints them (gguf-dump prints
 * Python objects): strings quoted, cut to 57 characters plus "..." when
 * longer than 60; arrays show their first 6 elements then ", ...]"; floats in
 * the shortest form that reads back as the same double; bools True/False.
 *
 * --json gives the same entries under "kv": key -> { index, type, count,
 * value } with arrays cut to their first 6 elements ("truncated": true).
 */
#include "inspect.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/strbuf.h"
#include "../formats/container/gguf.h"

#define KV_STR_MAX 60   /* characters shown whole; longer: first 57 + "..." */
#define KV_STR_KEEP 57
#define KV_ARR_HEAD 6   /* array elements shown */

/* GGUFValueType names, indexed by enum gf_type */
static const char *const kv_type_names[GF_TYPE_COUNT] = {
	"UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32",
	"BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64",
};

static const char *kv_type_name(int t)
{
	return t >= 0 && t < GF_TYPE_COUNT ? kv_type_names[t] : "?";
}

/* ---- Python repr() of the values ---- */

/* Decode one UTF-8 sequence at s (n bytes left): the code point, or -1 for
 * an invalid byte (which then counts as one character). *len gets its bytes. */
static long utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	long cp;
	size_t k;

	*len = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return -1;
	k = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	if (k > n)
		return -1;
	cp = s[0] & (0x7f >> k);
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = k;
	return cp;
}

/* Characters Python's str.isprintable() rejects that a GGUF string may hold:
 * C0/C1 controls, DEL, and the separators and format characters of Latin-1
 * and General Punctuation that appear in vocabularies. */
static bool py_unprintable(long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0xad ||
	       (cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f) ||
	       (cp >= 0x205f && cp <= 0x2064) || cp == 0x3000 || cp == 0xfeff ||
	       (cp >= 0xfff9 && cp <= 0xfffb);
}

/* repr() of a str: quotes chosen as Python does, escapes, and the cut to
 * `keep` characters + "..." when the string has more than `max` characters
 * (gguf-dump cuts the string before quoting it). max 0: no cut. */
static void repr_str(struct qk_sb *b, const char *s, size_t n, size_t max, size_t keep)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t chars = 0, len, end = n;
	bool sq = false, dq = false, cut = false;
	char quote;

	for (size_t i = 0; i < n; i += len, chars++)
		utf8_next(u + i, n - i, &len);
	if (max && chars > max) {
		size_t c = 0, i = 0;
		for (; i < n && c < keep; i += len, c++)
			utf8_next(u + i, n - i, &len);
		end = i;
		cut = true;
	}
	for (size_t i = 0; i < end; i++) {
		sq |= u[i] == '\'';
		dq |= u[i] == '"';
	}
	/* the quotes are chosen on the cut text: the "..." suffix has none */
	quote = sq && !dq ? '"' : '\'';
	qk_sb_putn(b, &quote, 1);
	for (size_t i = 0; i < end; i += len) {
		long cp = utf8_next(u + i, end - i, &len);
		if (cp == '\\' || cp == quote) {
			qk_sb_printf(b, "\\%c", (char)cp);
		} else if (cp == '\n') {
			qk_sb_puts(b, "\\n");
		} else if (cp == '\r') {
			qk_sb_puts(b, "\\r");
		} else if (cp == '\t') {
			qk_sb_puts(b, "\\t");
		} else if (cp < 0) { /* not UTF-8: shown as its byte */
			qk_sb_printf(b, "\\x%02x", u[i]);
		} else if (py_unprintable(cp)) {
			qk_sb_printf(b, cp < 0x100 ? "\\x%02lx" : "\\u%04lx", cp);
		} else {
			qk_sb_putn(b, s + i, len);
		}
	}
	if (cut)
		qk_sb_puts(b, "...");
	qk_sb_putn(b, &quote, 1);
}

/* repr() of a float (a double): the shortest digits that read back as the
 * same double; positional notation for decimal exponents -4 .. 15, else
 * d.ddde+XX; ".0" on integral values. */
static void repr_float(struct qk_sb *b, double v)
{
	char digits[40], out[64], *p = out;
	int prec, exp10, nd = 0;

	if (isnan(v)) {
		qk_sb_puts(b, "nan");
		return;
	}
	if (isinf(v)) {
		qk_sb_puts(b, v < 0 ? "-inf" : "inf");
		return;
	}
	if (v == 0) {
		qk_sb_puts(b, signbit(v) ? "-0.0" : "0.0");
		return;
	}
	for (prec = 0; prec < 17; prec++) {
		snprintf(digits, sizeof(digits), "%.*e", prec, v);
		if (strtod(digits, NULL) == v)
			break;
	}
	/* digits: [-]d[.ddd]e[+-]XX */
	{
		const char *q = digits;
		char mant[32];
		if (*q == '-') {
			*p++ = '-';
			q++;
		}
		for (; *q && *q != 'e'; q++)
			if (*q != '.')
				mant[nd++] = *q;
		mant[nd] = '\0';
		exp10 = (int)strtol(q + 1, NULL, 10); /* our own snprintf output */
		while (nd > 1 && mant[nd - 1] == '0')
			mant[--nd] = '\0';
		if (exp10 < -4 || exp10 >= 16) {
			*p++ = mant[0];
			if (nd > 1) {
				*p++ = '.';
				memcpy(p, mant + 1, (size_t)nd - 1);
				p += nd - 1;
			}
			p += sprintf(p, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
		} else if (exp10 < 0) {
			*p++ = '0';
			*p++ = '.';
			for (int i = -1; i > exp10; i--)
				*p++ = '0';
			memcpy(p, mant, (size_t)nd);
			p += nd;
		} else {
			for (int i = 0; i <= exp10; i++)
				*p++ = i < nd ? mant[i] : '0';
			*p++ = '.';
			if (nd > exp10 + 1) {
				memcpy(p, mant + exp10 + 1, (size_t)(nd - exp10 - 1));
				p += nd - exp10 - 1;
			} else {
				*p++ = '0';
			}
		}
		*p = '\0';
	}
	qk_sb_puts(b, out);
}

static void repr_int(struct qk_sb *b, int64_t v)
{
	qk_sb_printf(b, "%" PRId64, v);
}

static void repr_u64(struct qk_sb *b, uint64_t v)
{
	qk_sb_printf(b, "%" PRIu64, v);
}

/* Scalar kv i (not string/array) as Python prints it. */
static void repr_scalar(struct qk_sb *b, const struct gf_file *f, int64_t i)
{
	switch (gf_kv_type(f, i)) {
	case GF_BOOL: qk_sb_puts(b, gf_kv_bool(f, i) ? "True" : "False"); break;
	case GF_F32: repr_float(b, (double)gf_kv_f32(f, i)); break;
	case GF_F64: repr_float(b, gf_kv_f64(f, i)); break;
	case GF_U64: repr_u64(b, gf_kv_u64(f, i)); break;
	default: {
		int64_t v = 0;
		gf_kv_int(f, i, INT64_MIN, INT64_MAX, &v);
		repr_int(b, v);
	}
	}
}

/* Element j of array kv i. */
static void repr_elem(struct qk_sb *b, const struct gf_file *f, int64_t i, uint64_t j)
{
	size_t len;
	const char *s;

	switch (gf_arr_type(f, i)) {
	case GF_STRING:
		s = gf_arr_str(f, i, j, &len);
		repr_str(b, s, len, 0, 0);
		break;
	case GF_BOOL: qk_sb_puts(b, gf_arr_int(f, i, j) ? "True" : "False"); break;
	case GF_F32:
	case GF_F64: repr_float(b, gf_arr_float(f, i, j)); break;
	case GF_U64: repr_u64(b, gf_arr_u64(f, i, j)); break;
	default: repr_int(b, gf_arr_int(f, i, j)); break;
	}
}

/* The "value" part of kv i: what gguf-dump prints after " = ". */
static void repr_value(struct qk_sb *b, const struct gf_file *f, int64_t i)
{
	enum gf_type t = gf_kv_type(f, i);
	size_t len;
	const char *s;

	if (t == GF_STRING) {
		s = gf_kv_str(f, i, &len);
		repr_str(b, s, len, KV_STR_MAX, KV_STR_KEEP);
	} else if (t == GF_ARRAY) {
		uint64_t n = gf_arr_n(f, i);
		qk_sb_puts(b, "[");
		for (uint64_t j = 0; j < n && j < KV_ARR_HEAD; j++) {
			if (j)
				qk_sb_puts(b, ", ");
			repr_elem(b, f, i, j);
		}
		qk_sb_puts(b, n > KV_ARR_HEAD ? ", ...]" : "]");
	} else {
		repr_scalar(b, f, i);
	}
}

static void type_label(const struct gf_file *f, int64_t i, char *buf, size_t size)
{
	if (gf_kv_type(f, i) == GF_ARRAY)
		snprintf(buf, size, "[%s]", kv_type_name(gf_arr_type(f, i)));
	else
		snprintf(buf, size, "%s", kv_type_name(gf_kv_type(f, i)));
}

static uint64_t kv_count(const struct gf_file *f, int64_t i)
{
	return gf_kv_type(f, i) == GF_ARRAY ? gf_arr_n(f, i) : 1;
}

/* ---- text ---- */

static void kv_line(int n, const char *type, uint64_t count, const char *key, const char *val)
{
	printf("  %5d: %-10s | %8" PRIu64 " | %s = %s\n", n, type, count, key, val);
}

static int kv_text_gguf(const struct gf_file *f, qk_err *err)
{
	struct qk_sb b = { 0 };
	char type[32], num[32];
	int64_t n_kv = gf_n_kv(f);
	int n = 1;

	printf("key/values of %s: %" PRId64 " (with the 3 header fields)\n", gf_name(f), n_kv + 3);
	snprintf(num, sizeof(num), "%" PRIu32, gf_version(f));
	kv_line(n++, "UINT32", 1, "GGUF.version", num);
	snprintf(num, sizeof(num), "%" PRId64, gf_n_tensors(f));
	kv_line(n++, "UINT64", 1, "GGUF.tensor_count", num);
	snprintf(num, sizeof(num), "%" PRId64, n_kv);
	kv_line(n++, "UINT64", 1, "GGUF.kv_count", num);
	for (int64_t i = 0; i < n_kv; i++, n++) {
		b.n = 0;
		repr_value(&b, f, i);
		if (b.oom)
			break;
		type_label(f, i, type, sizeof(type));
		kv_line(n, type, kv_count(f, i), gf_key(f, i), b.s ? b.s : "");
	}
	qk_sb_free(&b);
	return b.oom ? qk_err_set(err, QK_E_NOMEM, "out of memory printing key/values") : QK_OK;
}

int inspect_kv_text(const struct qk_input *in, qk_err *err)
{
	const struct qk_catalog *cat = &in->cat;
	struct qk_sb b = { 0 };
	int rc = QK_OK;

	if (cat->format == QK_FMT_GGUF)
		return kv_text_gguf(cat->gguf[0], err);
	printf("metadata (__metadata__ of the safetensors files): %zu\n", cat->n_meta);
	for (size_t i = 0; i < cat->n_meta; i++) {
		b.n = 0;
		repr_str(&b, cat->meta[i].val, strlen(cat->meta[i].val), KV_STR_MAX, KV_STR_KEEP);
		if (b.oom)
			break;
		kv_line((int)i + 1, "STRING", 1, cat->meta[i].key, b.s);
	}
	if (b.oom)
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory printing metadata");
	qk_sb_free(&b);
	return rc;
}

/* ---- JSON ---- */

static cJSON *elem_json(const struct gf_file *f, int64_t i, uint64_t j)
{
	size_t len;
	const char *s;

	switch (gf_arr_type(f, i)) {
	case GF_STRING:
		s = gf_arr_str(f, i, j, &len);
		return cJSON_CreateString(s);
	case GF_BOOL: return cJSON_CreateBool(gf_arr_int(f, i, j) != 0);
	case GF_F32:
	case GF_F64: return cJSON_CreateNumber(gf_arr_float(f, i, j));
	case GF_U64: return cJSON_CreateNumber((double)gf_arr_u64(f, i, j));
	default: return cJSON_CreateNumber((double)gf_arr_int(f, i, j));
	}
}

static cJSON *value_json(const struct gf_file *f, int64_t i, bool *truncated)
{
	enum gf_type t = gf_kv_type(f, i);
	int64_t v = 0;
	double d = 0;

	*truncated = false;
	switch (t) {
	case GF_STRING: return cJSON_CreateString(gf_kv_str(f, i, NULL));
	case GF_BOOL: return cJSON_CreateBool(gf_kv_bool(f, i));
	case GF_F32:
	case GF_F64:
		gf_kv_float(f, i, &d);
		return cJSON_CreateNumber(d);
	case GF_U64: return cJSON_CreateNumber((double)gf_kv_u64(f, i));
	case GF_ARRAY: {
		cJSON *a = cJSON_CreateArray();
		uint64_t n = gf_arr_n(f, i);
		for (uint64_t j = 0; a && j < n && j < KV_ARR_HEAD; j++)
			cJSON_AddItemToArray(a, elem_json(f, i, j));
		*truncated = n > KV_ARR_HEAD;
		return a;
	}
	default:
		gf_kv_int(f, i, INT64_MIN, INT64_MAX, &v);
		return cJSON_CreateNumber((double)v);
	}
}

int inspect_kv_json(const struct qk_input *in, cJSON *root, qk_err *err)
{
	const struct qk_catalog *cat = &in->cat;
	cJSON *kv = cJSON_AddObjectToObject(root, "kv");

	if (!kv)
		return qk_err_set(err, QK_E_NOMEM, "out of memory building JSON");
	if (cat->format != QK_FMT_GGUF) {
		for (size_t i = 0; i < cat->n_meta; i++) {
			cJSON *e = cJSON_AddObjectToObject(kv, cat->meta[i].key);
			if (!e)
				return qk_err_set(err, QK_E_NOMEM, "out of memory building JSON");
			cJSON_AddNumberToObject(e, "index", (double)i);
			cJSON_AddStringToObject(e, "type", "STRING");
			cJSON_AddNumberToObject(e, "count", 1);
			cJSON_AddStringToObject(e, "value", cat->meta[i].val);
		}
		return QK_OK;
	}
	for (int64_t i = 0; i < gf_n_kv(cat->gguf[0]); i++) {
		const struct gf_file *f = cat->gguf[0];
		cJSON *e = cJSON_AddObjectToObject(kv, gf_key(f, i));
		bool truncated;
		if (!e)
			return qk_err_set(err, QK_E_NOMEM, "out of memory building JSON");
		cJSON_AddNumberToObject(e, "index", (double)i);
		cJSON_AddStringToObject(e, "type", kv_type_name(gf_kv_type(f, i)));
		if (gf_kv_type(f, i) == GF_ARRAY)
			cJSON_AddStringToObject(e, "array_type", kv_type_name(gf_arr_type(f, i)));
		cJSON_AddNumberToObject(e, "count", (double)kv_count(f, i));
		cJSON_AddItemToObject(e, "value", value_json(f, i, &truncated));
		if (truncated)
			cJSON_AddBoolToObject(e, "truncated", true);
	}
	return QK_OK;
}
