/* test_safetensors.c - the safetensors reader and writer.
 *
 * Files are built byte by byte from the format description (u64 header
 * length, JSON, data), and expected sizes come from the dtype bit widths of
 * the reference library, not from our dtype table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testdir.h"
#include "../../formats/container/catalog.h"
#include "../../formats/base/dtype.h"
#include "../../formats/base/io.h"
#include "../../formats/container/safetensors.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	return td_make(dir, sizeof(dir), "st");
}

static int teardown(void **state)
{
	(void)state;
	return td_remove(dir);
}

static void path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

/* u64 hlen, then hlen bytes of header (padded with spaces past strlen), then
 * data (pattern i*7+3 when data is NULL). */
static void write_raw(const char *path, uint64_t hlen, const char *header, const uint8_t *data,
		      size_t data_len)
{
	FILE *f = fopen(path, "wb");
	uint8_t len[8];
	size_t hl = strlen(header);

	assert_non_null(f);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(hlen >> (8 * i));
	assert_int_equal(fwrite(len, 1, 8, f), 8);
	assert_int_equal(fwrite(header, 1, hl, f), hl);
	for (uint64_t i = hl; i < hlen && i < hl + 64; i++)
		fputc(' ', f);
	for (size_t i = 0; i < data_len; i++)
		fputc(data ? data[i] : (int)(uint8_t)(i * 7 + 3), f);
	assert_int_equal(fclose(f), 0);
}

/* header padded to a multiple of 8; returns N */
static uint64_t write_st(const char *path, const char *header, const uint8_t *data, size_t n)
{
	uint64_t hlen = (strlen(header) + 7) / 8 * 8;
	write_raw(path, hlen, header, data, n);
	return hlen;
}

static void test_valid_mixed(void **state)
{
	/* JSON order differs from data order on purpose; offsets by hand:
	 * a F32 [2,2] 16 B, b BF16 [3] 6 B, c F4 [2,3] 6*4/8 = 3 B, d I64 [] 8 B,
	 * e F16 [0,5] 0 B, f BOOL [3] 3 B, g U16 [1,1,1] 2 B: 38 bytes */
	static const char hdr[] =
		"{\"g\":{\"dtype\":\"U16\",\"shape\":[1,1,1],\"data_offsets\":[36,38]},"
		"\"e\":{\"shape\":[0,5],\"dtype\":\"F16\",\"data_offsets\":[33,33]},"
		"\"__metadata__\":{\"format\":\"pt\",\"note\":\"caf\\u00e9\"},"
		"\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
		"\"d\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[25,33]},"
		"\"c\":{\"dtype\":\"F4\",\"shape\":[2,3],\"data_offsets\":[22,25]},"
		"\"f\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[33,36]},"
		"\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[16,22]}}";
	static const struct {
		const char *name;
		int dtype, n_dims;
		uint64_t shape[3], n_elem, begin, nbytes;
	} want[] = {
		{ "a", QK_DT_F32, 2, { 2, 2 }, 4, 0, 16 },
		{ "b", QK_DT_BF16, 1, { 3 }, 3, 16, 6 },
		{ "c", QK_DT_F4, 2, { 2, 3 }, 6, 22, 3 },
		{ "d", QK_DT_I64, 0, { 0 }, 1, 25, 8 },
		{ "e", QK_DT_F16, 2, { 0, 5 }, 0, 33, 0 },
		{ "f", QK_DT_BOOL, 1, { 3 }, 3, 33, 3 },
		{ "g", QK_DT_U16, 3, { 1, 1, 1 }, 1, 36, 2 },
	};
	const float a_vals[4] = { 1.5f, -2.0f, 3.25f, 1e6f };
	uint8_t data[38];
	struct qk_catalog cat;
	char path[128];
	uint64_t hlen;
	qk_err e;
	float got[4];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0xa0 + i);
	memcpy(data, a_vals, sizeof(a_vals)); /* little-endian host */
	path_of(path, sizeof(path), "mixed.safetensors");
	hlen = write_st(path, hdr, data, sizeof(data));
	qk_catalog_init(&cat);
	assert_int_equal(st_open(&cat, path, &e), QK_OK);
	assert_int_equal(cat.n_files, 1);
	assert_int_equal(cat.files[0].size, 8 + hlen + sizeof(data));
	assert_int_equal(cat.n_tensors, 7);
	for (size_t i = 0; i < 7; i++) {
		const struct qk_tensor *t = &cat.tensors[i]; /* data order */
		assert_string_equal(t->name, want[i].name);
		assert_int_equal(t->dtype, want[i].dtype);
		assert_int_equal(t->n_dims, want[i].n_dims);
		for (int d = 0; d < t->n_dims; d++)
			assert_int_equal(t->shape[d], want[i].shape[d]);
		assert_int_equal(t->n_elem, want[i].n_elem);
		assert_int_equal(t->nbytes, want[i].nbytes);
		assert_int_equal(t->offset, 8 + hlen + want[i].begin);
		assert_int_equal(t->file, 0);
		if (want[i].nbytes) {
			assert_ptr_equal(t->data, cat.files[0].data + t->offset);
			assert_memory_equal(t->data, data + want[i].begin, want[i].nbytes);
		} else {
			assert_null(t->data);
		}
		assert_ptr_equal(qk_catalog_find(&cat, want[i].name), t);
	}
	memcpy(got, qk_catalog_find(&cat, "a")->data, sizeof(got));
	assert_memory_equal(got, a_vals, sizeof(got));
	assert_int_equal(cat.n_meta, 2);
	assert_string_equal(qk_catalog_meta(&cat, 0, "format"), "pt");
	assert_string_equal(qk_catalog_meta(&cat, -1, "note"), "caf\xc3\xa9");
	assert_null(qk_catalog_meta(&cat, 1, "format"));
	qk_catalog_free(&cat);
}

/* every dtype of the reference library, with its bit width from its docs */
static void test_all_dtypes(void **state)
{
	static const struct {
		const char *st;
		unsigned bits;
	} dts[] = {
		{ "BOOL", 8 }, { "F4", 4 }, { "F6_E2M3", 6 }, { "F6_E3M2", 6 }, { "U8", 8 },
		{ "I8", 8 }, { "F8_E5M2", 8 }, { "F8_E4M3", 8 }, { "F8_E8M0", 8 },
		{ "F8_E4M3FNUZ", 8 }, { "F8_E5M2FNUZ", 8 }, { "I16", 16 }, { "U16", 16 },
		{ "F16", 16 }, { "BF16", 16 }, { "I32", 32 }, { "U32", 32 }, { "F32", 32 },
		{ "C64", 64 }, { "F64", 64 }, { "I64", 64 }, { "U64", 64 },
	};
	char hdr[4096], path[128];
	size_t used = 0;
	uint64_t off = 0;
	struct qk_catalog cat;
	qk_err e;

	(void)state;
	used += (size_t)snprintf(hdr + used, sizeof(hdr) - used, "{");
	for (size_t i = 0; i < sizeof(dts) / sizeof(dts[0]); i++) {
		uint64_t nb = 4 * dts[i].bits / 8; /* shape [4] */
		used += (size_t)snprintf(hdr + used, sizeof(hdr) - used,
					 "%s\"t%02zu\":{\"dtype\":\"%s\",\"shape\":[4],\"data_offsets\":[%llu,%llu]}",
					 i ? "," : "", i, dts[i].st, (unsigned long long)off,
					 (unsigned long long)(off + nb));
		off += nb;
	}
	snprintf(hdr + used, sizeof(hdr) - used, "}");
	path_of(path, sizeof(path), "dtypes.safetensors");
	write_st(path, hdr, NULL, (size_t)off);
	qk_catalog_init(&cat);
	assert_int_equal(st_open(&cat, path, &e), QK_OK);
	assert_int_equal(cat.n_tensors, sizeof(dts) / sizeof(dts[0]));
	for (size_t i = 0; i < cat.n_tensors; i++) {
		char name[32];
		snprintf(name, sizeof(name), "t%02zu", i);
		assert_string_equal(cat.tensors[i].name, name);
		assert_string_equal(qk_dtype_name(cat.tensors[i].dtype), dts[i].st);
		assert_int_equal(cat.tensors[i].nbytes, 4 * dts[i].bits / 8);
	}
	qk_catalog_free(&cat);
}

static void test_whitespace_and_empty(void **state)
{
	static const char *const ok[] = {
		" \n\t\r{\"x\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}} \r\n\t ",
		"{}",
		"{\"__metadata__\":{}}",
		"{\"__metadata__\":{\"k\":\"\"},\"s\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}",
	};
	static const size_t data_len[] = { 2, 0, 0, 0 };
	char path[128];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct qk_catalog cat;
		qk_err e;

		path_of(path, sizeof(path), "ws.safetensors");
		write_st(path, ok[i], NULL, data_len[i]);
		qk_catalog_init(&cat);
		if (st_open(&cat, path, &e) != QK_OK)
			fail_msg("case %zu rejected: %s", i, e.msg);
		assert_int_equal(cat.n_files, 1);
		qk_catalog_free(&cat);
	}
	/* unpadded header of exactly its length: no padding needed */
	{
		struct qk_catalog cat;
		qk_err e;
		const char *h = "{\"x\":{\"dtype\":\"I8\",\"shape\":[],\"data_offsets\":[0,1]}}";
		path_of(path, sizeof(path), "nopad.safetensors");
		write_raw(path, strlen(h), h, NULL, 1);
		qk_catalog_init(&cat);
		assert_int_equal(st_open(&cat, path, &e), QK_OK);
		assert_int_equal(cat.tensors[0].offset, 8 + strlen(h));
		qk_catalog_free(&cat);
	}
}

/* one rejected header: JSON, data bytes, message fragment */
struct bad {
	const char *hdr;
	size_t data_len;
	const char *frag;
};

#define T1(dt, sh, off) "{\"t\":{\"dtype\":\"" dt "\",\"shape\":" sh ",\"data_offsets\":" off "}}"

static const struct bad bad_headers[] = {
	{ "{\"t\":", 0, "invalid JSON at byte 16 (line 1, column 9): the text ends where a value" },
	{ "{\"t\":1,}", 0, "invalid JSON at byte 15 (line 1, column 8): '}' where a key in quotes" },
	{ "{\"t\":[1,2}      ", 0, "invalid JSON at byte 17 (line 1, column 10)" },
	{ "[1,2]", 0, "header is an array, expected an object" },
	{ "{\"t\":5}", 0, "tensor 't': entry is a number, expected an object" },
	{ "{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor 't': missing field 'data_offsets'" },
	{ "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
	  "tensor 't': unknown field 'x'" },
	{ "{\"t\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
	  "key 'dtype' appears twice in object 't'" },
	{ T1("F7", "[1]", "[0,4]"), 4, "tensor 't': unknown dtype 'F7'" },
	{ T1("f32", "[1]", "[0,4]"), 4, "unknown dtype 'f32'" },
	{ "{\"t\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
	  "tensor 't': dtype is a number, expected a string" },
	{ T1("F32", "\"1\"", "[0,4]"), 4, "tensor 't': shape is a string, expected an array" },
	{ T1("F32", "[\"1\"]", "[0,4]"), 4, "shape[0] is a string, expected a non-negative integer" },
	{ T1("F32", "[-1]", "[0,4]"), 4, "shape[0] = -1 is not an exact non-negative integer" },
	{ T1("F32", "[1,1.5]", "[0,4]"), 4, "shape[1] = 1.5 is not an exact non-negative integer" },
	{ T1("U8", "[9007199254740993]", "[0,4]"), 4, "shape[0] = 9007199254740992 is not an exact" },
	{ T1("U8", "[1,1,1,1,1,1,1,1,1]", "[0,1]"), 1, "shape has 9 dimensions, more than the limit of 8" },
	{ T1("U8", "[1]", "{}"), 1, "data_offsets is an object, expected an array" },
	{ T1("U8", "[1]", "[0,1,1]"), 1, "data_offsets has 3 elements, expected 2" },
	{ T1("U8", "[1]", "[0,-1]"), 1, "data_offsets[1] = -1 is not an exact" },
	{ T1("U8", "[4]", "[8,4]"), 8, "data_offsets [8, 4] end before they begin" },
	{ T1("F32", "[2,2]", "[0,12]"), 12, "tensor 't': data_offsets [0, 12] cover 12 bytes, expected 16 (F32 [2, 2])" },
	{ T1("U8", "[4294967296,4294967296]", "[0,0]"), 0, "shape [4294967296, 4294967296] has more elements than fit in 64 bits" },
	{ T1("F32", "[4503599627370496,1024]", "[0,0]"), 0, "is more bits than fit in 64 bits" },
	{ T1("F4", "[3]", "[0,1]"), 1, "3 elements of F4 (4 bits) do not fill whole bytes" },
	{ T1("F6_E2M3", "[2]", "[0,1]"), 1, "2 elements of F6_E2M3 (6 bits) do not fill whole bytes" },
	{ T1("U8", "[4]", "[4,8]"), 8, "tensor 't' is first in the data but begins at byte 4, expected 0" },
	{ "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
	  "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[6,10]}}", 10,
	  "hole of 2 bytes between tensor 'a' (ends at 4) and tensor 'b' (begins at 6)" },
	/* the smallest hole: one byte (make mutants: st-hole-check) */
	{ "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
	  "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[5,9]}}", 9,
	  "hole of 1 bytes between tensor 'a' (ends at 4) and tensor 'b' (begins at 5)" },
	{ "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
	  "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}", 6,
	  "tensors 'a' [0, 4] and 'b' [2, 6] overlap" },
	{ "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
	  "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4,
	  "tensors 'a' [0, 4] and 'b' [0, 4] overlap" },
	{ T1("U8", "[4]", "[0,4]"), 5, "1 trailing bytes after the last tensor" },
	{ T1("U8", "[4]", "[0,4]"), 3, "file is truncated: tensors need 4 bytes of data, the file holds 3" },
	{ "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
	  "\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2, "key 't' appears twice in the top-level object" },
	{ "{\"__metadata__\":[]}", 0, "__metadata__ is an array, expected an object of strings" },
	{ "{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ key 'k' is a number, expected a string" },
	{ "{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0, "key 'k' appears twice in object '__metadata__'" },
	{ "{\"__metadata__\":{},\"__metadata__\":{}}", 0, "key '__metadata__' appears twice in the top-level object" },
	{ "{\"__metadata__\":{\"\":\"v\"}}", 0, "empty __metadata__ key" },
	{ "{\"\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "empty tensor name" },
	{ "{\"a\\u0000b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
	  "escaped NUL (\\u0000) at byte 11" },
	{ "{\"a\x01\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
	  "raw control byte 0x01 inside a JSON string at byte 11" },
	{ "{\"a\xff\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "not valid UTF-8" },
	{ "{\"a\\ud800\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "a high surrogate escape without a low one" },
	{ "\xef\xbb\xbf{}", 0, "byte order mark" },
	{ "{}\x01", 0, "control byte 0x01 at byte 10 (line 1, column 3): outside any JSON string" },
};

static void check_rejected(const char *path, const char *frag)
{
	struct qk_catalog cat;
	qk_err e;
	int rc;

	qk_catalog_init(&cat);
	rc = st_open(&cat, path, &e);
	if (rc != QK_E_INVALID || !strstr(e.msg, frag) || !strstr(e.msg, path))
		fail_msg("expected QK_E_INVALID with '%s', got %d: %s", frag, rc, e.msg);
	assert_int_equal(cat.n_files, 0);
	assert_int_equal(cat.n_tensors, 0);
	assert_int_equal(cat.n_meta, 0);
	qk_catalog_free(&cat);
}

static void test_rejections(void **state)
{
	char path[128];

	(void)state;
	path_of(path, sizeof(path), "bad.safetensors");
	for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
		write_st(path, bad_headers[i].hdr, NULL, bad_headers[i].data_len);
		check_rejected(path, bad_headers[i].frag);
	}
}

/* rules on the length prefix, and a header padded with NULs */
static void test_rejections_raw(void **state)
{
	char path[128];
	const char *h = "{}";

	(void)state;
	path_of(path, sizeof(path), "raw.safetensors");
	write_raw(path, 0, "", NULL, 0);
	assert_int_equal(truncate(path, 5), 0);
	check_rejected(path, "file is 5 bytes, too short for the 8-byte header length");
	write_raw(path, 100000001ull, h, NULL, 0);
	check_rejected(path, "header length 100000001 is larger than the limit of 100000000 bytes");
	write_raw(path, UINT64_MAX, h, NULL, 0);
	check_rejected(path, "header length 18446744073709551615 is larger than the limit");
	write_raw(path, 50, h, NULL, 0);
	assert_int_equal(truncate(path, 8 + 20), 0);
	check_rejected(path, "header length 50 runs past the end of the file (20 bytes after the length)");
	write_raw(path, 0, "", NULL, 0);
	check_rejected(path, "file is empty, expected JSON");
	{ /* the third-party writer bug: header padded with NUL instead of spaces */
		FILE *f = fopen(path, "wb");
		const uint8_t hdr[16] = { 8, 0, 0, 0, 0, 0, 0, 0, '{', '}', 0, 0, 0, 0, 0, 0 };
		assert_non_null(f);
		assert_int_equal(fwrite(hdr, 1, sizeof(hdr), f), sizeof(hdr));
		fclose(f);
		check_rejected(path, "control byte 0x00 at byte 10");
	}
}

/* A second file whose last tensor clashes with the first file: the catalog
 * must come back exactly as it was, lookups included. */
static void test_two_files_and_rollback(void **state)
{
	static const char h1[] =
		"{\"__metadata__\":{\"format\":\"pt\"},"
		"\"x\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}";
	static const char h2[] =
		"{\"__metadata__\":{\"format\":\"np\"},"
		"\"y0\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
		"\"y1\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]},"
		"\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]}}";
	static const char h3[] = "{\"z\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[0,2]}}";
	char p1[128], p2[128], p3[128];
	struct qk_catalog cat;
	qk_err e;

	(void)state;
	path_of(p1, sizeof(p1), "one.safetensors");
	path_of(p2, sizeof(p2), "two.safetensors");
	path_of(p3, sizeof(p3), "three.safetensors");
	write_st(p1, h1, NULL, 2);
	write_st(p2, h2, NULL, 3);
	write_st(p3, h3, NULL, 2);
	qk_catalog_init(&cat);
	assert_int_equal(st_open(&cat, p1, &e), QK_OK);
	assert_int_equal(st_open(&cat, p2, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, p2));
	assert_non_null(strstr(e.msg, "duplicate tensor name 'x'"));
	assert_int_equal(cat.n_files, 1);
	assert_int_equal(cat.n_tensors, 1);
	assert_int_equal(cat.n_meta, 1);
	assert_null(qk_catalog_find(&cat, "y0"));
	assert_null(qk_catalog_find(&cat, "y1"));
	assert_non_null(qk_catalog_find(&cat, "x"));
	{ /* no name-map slot may still point at a dropped tensor */
		size_t used = 0;
		for (size_t i = 0; i < cat.names.cap; i++)
			used += cat.names.slots[i].key != NULL;
		assert_int_equal(used, cat.n_tensors);
		assert_int_equal(cat.names.n, cat.n_tensors);
	}
	assert_int_equal(st_open(&cat, p3, &e), QK_OK);
	assert_int_equal(cat.n_files, 2);
	assert_int_equal(qk_catalog_find(&cat, "z")->file, 1);
	assert_ptr_equal(qk_catalog_find(&cat, "z")->data, cat.files[1].data + cat.files[1].size - 2);
	assert_string_equal(qk_catalog_meta(&cat, 0, "format"), "pt");
	qk_catalog_free(&cat);
	/* a missing file is an I/O error, not bad input */
	qk_catalog_init(&cat);
	path_of(p1, sizeof(p1), "absent.safetensors");
	assert_int_equal(st_open(&cat, p1, &e), QK_E_IO);
	assert_int_equal(cat.n_files, 0);
	qk_catalog_free(&cat);
}

/* st_parse works on a buffer without a file */
static void test_parse_buffer(void **state)
{
	static const uint8_t buf[] = {
		56, 0, 0, 0, 0, 0, 0, 0,
		'{', '"', 'a', '"', ':', '{', '"', 'd', 't', 'y', 'p', 'e', '"', ':', '"', 'F',
		'3', '2', '"', ',', '"', 's', 'h', 'a', 'p', 'e', '"', ':', '[', '1', ']', ',',
		'"', 'd', 'a', 't', 'a', '_', 'o', 'f', 'f', 's', 'e', 't', 's', '"', ':', '[',
		'0', ',', '4', ']', '}', '}', ' ', ' ',
		0x00, 0x00, 0x80, 0x3f, /* 1.0f */
	};
	struct qk_catalog cat;
	qk_err e;
	float v;

	(void)state;
	qk_catalog_init(&cat);
	assert_int_equal(st_parse(&cat, 7, buf, sizeof(buf), "mem", &e), QK_OK);
	assert_int_equal(cat.n_files, 0);
	assert_int_equal(cat.n_tensors, 1);
	assert_int_equal(cat.tensors[0].file, 7);
	assert_int_equal(cat.tensors[0].offset, 64);
	memcpy(&v, cat.tensors[0].data, 4);
	assert_true(v == 1.0f);
	assert_int_equal(st_parse(&cat, 8, buf, sizeof(buf) - 1, "mem2", &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "mem2: file is truncated"));
	assert_int_equal(cat.n_tensors, 1);
	/* the same buffer again: "a" is a duplicate, nothing else may stay */
	{
		static const char h[] = "{\"__metadata__\":{\"k\":\"v\"},"
			"\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
			"\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}";
		uint8_t two[160];
		size_t hl = sizeof(h) - 1;
		memset(two, 0, sizeof(two));
		two[0] = (uint8_t)hl;
		memcpy(two + 8, h, hl);
		assert_int_equal(st_parse(&cat, 9, two, 8 + hl + 2, "mem3", &e), QK_E_INVALID);
		assert_non_null(strstr(e.msg, "mem3: duplicate tensor name 'a'"));
		assert_int_equal(cat.n_tensors, 1);
		assert_int_equal(cat.n_meta, 0);
		assert_null(qk_catalog_find(&cat, "b"));
	}
	qk_catalog_free(&cat);
}

/* The writer's bytes for one F32 tensor, written out by hand from the format:
 * u64 56, 54 bytes of JSON, 2 spaces, the 4 data bytes. */
static void test_write_exact_bytes(void **state)
{
	static const char json[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}  ";
	const uint64_t shape[1] = { 1 };
	const float one = 1.0f;
	struct st_writer *w;
	char path[128];
	qk_map m;
	qk_err e;

	(void)state;
	path_of(path, sizeof(path), "exact.safetensors");
	assert_int_equal(st_writer_open(&w, path, &e), QK_OK);
	assert_int_equal(st_writer_add(w, "a", QK_DT_F32, 1, shape, &e), QK_OK);
	assert_int_equal(st_writer_write(w, &one, 4, &e), QK_OK);
	assert_int_equal(st_writer_commit(w, &e), QK_OK);
	assert_int_equal(qk_map_open(&m, path, &e), QK_OK);
	assert_int_equal(m.size, 8 + 56 + 4);
	assert_int_equal(qk_ld64(m.data), 56);
	assert_memory_equal(m.data + 8, json, 56);
	assert_memory_equal(m.data + 64, "\x00\x00\x80\x3f", 4);
	qk_map_close(&m);
}

static void test_write_roundtrip(void **state)
{
	static const char odd[] = "we\"ird\\ \n\x01 na\xc3\xa9me";
	static const struct {
		const char *name;
		int dtype, n_dims;
		uint64_t shape[3], nbytes; /* by hand from the bit widths */
	} decl[] = {
		{ "model.embed_tokens.weight", QK_DT_BF16, 2, { 4, 3 }, 24 },
		{ "model.norm.weight", QK_DT_F32, 1, { 3 }, 12 },
		{ "scalar", QK_DT_I32, 0, { 0 }, 4 },
		{ "empty", QK_DT_F16, 2, { 0, 2 }, 0 },
		{ "packed", QK_DT_F4, 2, { 2, 2 }, 2 },
		{ odd, QK_DT_F8_E4M3, 3, { 1, 2, 3 }, 6 },
	};
	const size_t nd = sizeof(decl) / sizeof(decl[0]);
	uint8_t data[64];
	uint64_t total = 0, off;
	struct st_writer *w;
	struct qk_catalog cat;
	char path[128];
	qk_err e;
	const uint8_t *f;
	uint64_t hlen;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 37 + 11);
	path_of(path, sizeof(path), "round.safetensors");
	assert_int_equal(st_writer_open(&w, path, &e), QK_OK);
	assert_int_equal(st_writer_meta(w, "format", "pt", &e), QK_OK);
	assert_int_equal(st_writer_meta(w, "\xd0\xba\xd0\xbb", "a \"quoted\" \\ value\n", &e), QK_OK);
	for (size_t i = 0; i < nd; i++) {
		assert_int_equal(st_writer_add(w, decl[i].name, decl[i].dtype, decl[i].n_dims,
					       decl[i].shape, &e), QK_OK);
		total += decl[i].nbytes;
	}
	/* embed in chunks 5+19, norm whole, then the rest in 1-byte chunks */
	assert_int_equal(st_writer_current(w), 0);
	assert_int_equal(st_writer_write(w, data, 5, &e), QK_OK);
	assert_int_equal(st_writer_write(w, data + 5, 19, &e), QK_OK);
	assert_int_equal(st_writer_current(w), 1);
	assert_int_equal(st_writer_write(w, data + 24, 12, &e), QK_OK);
	for (uint64_t i = 36; i < total; i++)
		assert_int_equal(st_writer_write(w, data + i, 1, &e), QK_OK);
	assert_int_equal(st_writer_current(w), nd);
	assert_int_equal(st_writer_commit(w, &e), QK_OK);

	qk_catalog_init(&cat);
	if (st_open(&cat, path, &e) != QK_OK)
		fail_msg("%s", e.msg);
	f = cat.files[0].data;
	hlen = qk_ld64(f);
	assert_int_equal(hlen % 8, 0);
	assert_int_equal(f[8], '{');
	assert_true(f[8 + hlen - 1] == ' ' || f[8 + hlen - 1] == '}');
	for (uint64_t i = hlen; i > 0 && f[8 + i - 1] != '}'; i--)
		assert_true(hlen - i < 7); /* at most 7 spaces of padding */
	assert_int_equal(cat.files[0].size, 8 + hlen + total);
	assert_int_equal(cat.n_tensors, nd);
	off = 0;
	for (size_t i = 0; i < nd; i++) {
		const struct qk_tensor *t = &cat.tensors[i]; /* declaration order */
		assert_string_equal(t->name, decl[i].name);
		assert_int_equal(t->dtype, decl[i].dtype);
		assert_int_equal(t->n_dims, decl[i].n_dims);
		for (int d = 0; d < t->n_dims; d++)
			assert_int_equal(t->shape[d], decl[i].shape[d]);
		assert_int_equal(t->nbytes, decl[i].nbytes);
		assert_int_equal(t->offset, 8 + hlen + off);
		if (t->nbytes)
			assert_memory_equal(t->data, data + off, t->nbytes);
		off += decl[i].nbytes;
	}
	assert_string_equal(qk_catalog_meta(&cat, 0, "format"), "pt");
	assert_string_equal(qk_catalog_meta(&cat, 0, "\xd0\xba\xd0\xbb"), "a \"quoted\" \\ value\n");
	qk_catalog_free(&cat);
}

static int entries_in_dir(void)
{
	char cmd[128];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A %s | grep -c tmp", dir);
	p = popen(cmd, "r");
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

static void test_write_errors(void **state)
{
	const uint64_t s2[2] = { 2, 2 }, s3[1] = { 3 }, s9[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	const uint8_t bytes[32] = { 0 };
	struct st_writer *w;
	struct stat st;
	char path[128];
	qk_err e;

	(void)state;
	path_of(path, sizeof(path), "werr.safetensors");
	assert_int_equal(st_writer_open(&w, path, &e), QK_OK);
	assert_int_equal(st_writer_add(w, "a", QK_DT_F16, 2, s2, &e), QK_OK);
	assert_int_equal(st_writer_add(w, "a", QK_DT_F16, 2, s2, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "tensor 'a' declared twice"));
	assert_int_equal(st_writer_add(w, "q", QT_Q4_0, 2, s2, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "dtype Q4_0 has no safetensors form"));
	assert_int_equal(st_writer_add(w, "f4", QK_DT_F4, 1, s3, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "F4 [3] is not a whole number of bytes"));
	assert_int_equal(st_writer_add(w, "r9", QK_DT_U8, 9, s9, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "9 dimensions"));
	assert_int_equal(st_writer_add(w, "", QK_DT_U8, 1, s3, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "empty tensor name"));
	assert_int_equal(st_writer_add(w, "__metadata__", QK_DT_U8, 1, s3, &e), QK_E_USAGE);
	assert_int_equal(st_writer_add(w, "bad\xff", QK_DT_U8, 1, s3, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "not valid UTF-8"));
	assert_int_equal(st_writer_meta(w, "k", "v", &e), QK_OK);
	assert_int_equal(st_writer_meta(w, "k", "w", &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "metadata key 'k' added twice"));
	assert_int_equal(st_writer_add(w, "b", QK_DT_U8, 1, s3, &e), QK_OK);
	/* 8 bytes for a, 3 for b: a chunk crossing from a into b is refused */
	assert_int_equal(st_writer_write(w, bytes, 6, &e), QK_OK);
	assert_int_equal(st_writer_add(w, "c", QK_DT_U8, 1, s3, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "declared after data was written"));
	assert_int_equal(st_writer_write(w, bytes, 4, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "tensor 'a': a chunk of 4 bytes at byte 6 runs past its end at 8"));
	assert_int_equal(st_writer_commit(w, &e), QK_E_USAGE);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(entries_in_dir(), 0);

	/* too few bytes: commit names the tensor, nothing is left behind */
	assert_int_equal(st_writer_open(&w, path, &e), QK_OK);
	assert_int_equal(st_writer_add(w, "a", QK_DT_U8, 1, s3, &e), QK_OK);
	assert_int_equal(st_writer_add(w, "b", QK_DT_F32, 2, s2, &e), QK_OK);
	assert_int_equal(st_writer_write(w, bytes, 3, &e), QK_OK);
	assert_int_equal(st_writer_write(w, bytes, 10, &e), QK_OK);
	assert_int_equal(st_writer_commit(w, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "tensor 'b': 10 of its 16 bytes written"));
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(entries_in_dir(), 0);

	/* too many */
	assert_int_equal(st_writer_open(&w, path, &e), QK_OK);
	assert_int_equal(st_writer_add(w, "a", QK_DT_U8, 1, s3, &e), QK_OK);
	assert_int_equal(st_writer_write(w, bytes, 3, &e), QK_OK);
	assert_int_equal(st_writer_write(w, bytes, 1, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "1 more bytes written after every declared tensor was complete"));
	st_writer_abort(w);
	st_writer_abort(NULL);
	assert_int_equal(stat(path, &st), -1);
}

/* no tensors at all: "{}" and 6 spaces */
static void test_write_empty(void **state)
{
	struct st_writer *w;
	struct qk_catalog cat;
	char path[128];
	qk_map m;
	qk_err e;

	(void)state;
	path_of(path, sizeof(path), "empty.safetensors");
	assert_int_equal(st_writer_open(&w, path, &e), QK_OK);
	assert_int_equal(st_writer_commit(w, &e), QK_OK);
	assert_int_equal(qk_map_open(&m, path, &e), QK_OK);
	assert_int_equal(m.size, 16);
	assert_memory_equal(m.data, "\x08\0\0\0\0\0\0\0{}      ", 16);
	qk_map_close(&m);
	qk_catalog_init(&cat);
	assert_int_equal(st_open(&cat, path, &e), QK_OK);
	assert_int_equal(cat.n_tensors, 0);
	qk_catalog_free(&cat);
}

/* the writer refuses a header over 100,000,000 bytes, as the reference does */
static void test_write_header_cap(void **state)
{
	const size_t vlen = 100000000;
	struct st_writer *w;
	struct stat st;
	char path[128], *big = malloc(vlen + 1);
	qk_err e;

	(void)state;
	assert_non_null(big);
	memset(big, 'v', vlen);
	big[vlen] = '\0';
	path_of(path, sizeof(path), "huge.safetensors");
	assert_int_equal(st_writer_open(&w, path, &e), QK_OK);
	assert_int_equal(st_writer_meta(w, "k", big, &e), QK_OK);
	free(big);
	assert_int_equal(st_writer_commit(w, &e), QK_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "more than the limit of 100000000 bytes"));
	assert_int_equal(stat(path, &st), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_mixed),
		cmocka_unit_test(test_all_dtypes),
		cmocka_unit_test(test_whitespace_and_empty),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_rejections_raw),
		cmocka_unit_test(test_two_files_and_rollback),
		cmocka_unit_test(test_parse_buffer),
		cmocka_unit_test(test_write_exact_bytes),
		cmocka_unit_test(test_write_roundtrip),
		cmocka_unit_test(test_write_errors),
		cmocka_unit_test(test_write_empty),
		cmocka_unit_test(test_write_header_cap),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
