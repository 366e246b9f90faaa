/* test_gguf.c - the GGUF reader and writer.
 *
 * Expected bytes and values come from the format description
 * (formats/container/gguf.h) and from gguf-py: the value spec
 * below mirrors SPEC_KV / SPEC_TENSORS of testdata/gen/gguf_oracle.py, whose
 * GGUFWriter wrote testdata/gguf/gguf_py_*.gguf (read here) and whose
 * GGUFReader checks the files our writer makes from the same spec. Block
 * sizes are ggml's (Q8_0: 32 elements in 34 bytes, Q4_K: 256 in 144), written
 * here as numbers rather than read from quant/qtype.c.
 *
 * QK_WRITE_CORPUS=DIR ./test_gguf also writes the spec files (our writer) as
 * the fuzz seed corpus (tests/fuzz/corpus/gguf/).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testdir.h"
#include "../../formats/container/catalog.h"
#include "../../formats/container/gguf.h"
#include "../../formats/base/io.h"
#include "../../testdata/corrupt/corrupt.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	return td_make(dir, sizeof(dir), "gguf");
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

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long len;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	p = malloc((size_t)len + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	return p;
}

/* ---- the value spec (mirrors testdata/gen/gguf_oracle.py) ---- */

static const uint8_t a_u8[] = { 0, 1, 255 };
static const int8_t a_i8[] = { -128, 0, 127 };
static const uint16_t a_u16[] = { 0, 65535 };
static const int16_t a_i16[] = { -32768, 32767 };
static const uint32_t a_u32[] = { 0, 4294967295u, 7 };
static const int32_t a_i32[] = { INT32_MIN, INT32_MAX };
static const float a_f32[] = { 0.5f, -1.25f, 3e38f };
static const bool a_bool[] = { true, false, true };
static const char *const a_str[] = { "a", "", "\xc3\xbcn\xc3\xaf", "<|im_start|>" };
static const uint64_t a_u64[] = { 0, UINT64_MAX };
static const int64_t a_i64[] = { INT64_MIN, INT64_MAX };
static const double a_f64[] = { 1e-300, -0.0 };
static const char s_str[] = "h\xc3\xa9llo w\xc3\xb6rld";

static const struct {
	const char *key;
	enum gf_type elem;
	const void *v;
	uint64_t n;
} spec_arrays[] = {
	{ "t.arr.u8", GF_U8, a_u8, 3 },
	{ "t.arr.i8", GF_I8, a_i8, 3 },
	{ "t.arr.u16", GF_U16, a_u16, 2 },
	{ "t.arr.i16", GF_I16, a_i16, 2 },
	{ "t.arr.u32", GF_U32, a_u32, 3 },
	{ "t.arr.i32", GF_I32, a_i32, 2 },
	{ "t.arr.f32", GF_F32, a_f32, 3 },
	{ "t.arr.bool", GF_BOOL, a_bool, 3 },
	{ "t.arr.str", GF_STRING, a_str, 4 },
	{ "t.arr.u64", GF_U64, a_u64, 2 },
	{ "t.arr.i64", GF_I64, a_i64, 2 },
	{ "t.arr.f64", GF_F64, a_f64, 2 },
};
#define N_ARRAYS (sizeof(spec_arrays) / sizeof(spec_arrays[0]))

/* numpy shape (rows..., cols) -> ne reversed; bytes from the block sizes */
static const struct {
	const char *name;
	int type;             /* ggml id: F32 0, F16 1, BF16 30, Q8_0 8, Q4_K 12 */
	int n_dims;
	int64_t ne[4];
	uint64_t bytes;
} spec_tensors[] = {
	{ "tok_embd.weight", 0, 2, { 64, 3 }, 64 * 3 * 4 },
	{ "blk.0.attn_q.weight", 1, 2, { 32, 2 }, 32 * 2 * 2 },
	{ "output_norm.weight", 30, 1, { 16 }, 16 * 2 },
	{ "blk.0.ffn_up.weight", 8, 2, { 64, 2 }, 2 * 2 * 34 },
	{ "blk.0.ffn_down.weight", 12, 2, { 512, 1 }, 2 * 144 },
};
#define N_TENSORS (sizeof(spec_tensors) / sizeof(spec_tensors[0]))

static uint8_t spec_byte(size_t k, uint64_t j)
{
	return (uint8_t)((7 * j + 13 * k + 3) & 0xff);
}

/* Our writer writes the spec; chunks of `chunk` bytes. */
static void write_spec(const char *path, uint32_t align, size_t chunk)
{
	struct gf_writer *w;
	qk_err err;

	assert_int_equal(gf_writer_open(&w, path, &err), QK_OK);
	assert_int_equal(gf_writer_add_str(w, "general.architecture", "qwen2", &err), QK_OK);
	if (align)
		assert_int_equal(gf_writer_add_u32(w, GF_ALIGNMENT_KEY, align, &err), QK_OK);
	assert_int_equal(gf_writer_add_u8(w, "t.u8", 200, &err), QK_OK);
	assert_int_equal(gf_writer_add_i8(w, "t.i8", -100, &err), QK_OK);
	assert_int_equal(gf_writer_add_u16(w, "t.u16", 60000, &err), QK_OK);
	assert_int_equal(gf_writer_add_i16(w, "t.i16", -30000, &err), QK_OK);
	assert_int_equal(gf_writer_add_u32(w, "t.u32", 4000000000u, &err), QK_OK);
	assert_int_equal(gf_writer_add_i32(w, "t.i32", -2000000000, &err), QK_OK);
	assert_int_equal(gf_writer_add_f32(w, "t.f32", 1.5f, &err), QK_OK);
	assert_int_equal(gf_writer_add_bool(w, "t.bool", true, &err), QK_OK);
	assert_int_equal(gf_writer_add_str(w, "t.str", s_str, &err), QK_OK);
	assert_int_equal(gf_writer_add_u64(w, "t.u64", 18000000000000000000ull, &err), QK_OK);
	assert_int_equal(gf_writer_add_i64(w, "t.i64", -9000000000000000000ll, &err), QK_OK);
	assert_int_equal(gf_writer_add_f64(w, "t.f64", -2.25e300, &err), QK_OK);
	for (size_t i = 0; i < N_ARRAYS; i++) {
		int rc = spec_arrays[i].elem == GF_STRING
			? gf_writer_add_arr_str(w, spec_arrays[i].key, spec_arrays[i].v, NULL,
						spec_arrays[i].n, &err)
			: gf_writer_add_arr(w, spec_arrays[i].key, spec_arrays[i].elem, spec_arrays[i].v,
					    spec_arrays[i].n, &err);
		assert_int_equal(rc, QK_OK);
	}
	for (size_t k = 0; k < N_TENSORS; k++)
		assert_int_equal(gf_writer_add_tensor(w, spec_tensors[k].name, spec_tensors[k].type,
						      spec_tensors[k].n_dims, spec_tensors[k].ne, &err),
				 QK_OK);
	for (size_t k = 0; k < N_TENSORS; k++) {
		uint8_t buf[1024];
		uint64_t n = spec_tensors[k].bytes;
		assert_int_equal(gf_writer_current(w), k);
		assert_int_equal(gf_writer_tensor_size(w, k), n);
		for (uint64_t j = 0; j < n; j++)
			buf[j] = spec_byte(k, j);
		for (uint64_t j = 0; j < n; j += chunk)
			assert_int_equal(gf_writer_write(w, buf + j, n - j < chunk ? n - j : chunk, &err),
					 QK_OK);
	}
	assert_int_equal(gf_writer_current(w), N_TENSORS);
	assert_int_equal(gf_writer_commit(w, &err), QK_OK);
}

static int64_t key_of(const struct gf_file *f, const char *key, enum gf_type type)
{
	int64_t i = gf_find_key(f, key);

	if (i < 0)
		fail_msg("key '%s' missing", key);
	assert_int_equal(gf_kv_type(f, i), type);
	return i;
}

/* Every key, value, tensor and data byte of the spec; `align` 0 = default. */
static void check_spec(const struct gf_file *f, uint32_t align)
{
	uint32_t a = align ? align : 32;
	uint64_t off = 0;
	size_t len;
	int64_t i;
	int64_t want_kv = 13 + (int64_t)N_ARRAYS + (align ? 1 : 0);

	assert_int_equal(gf_version(f), 3);
	assert_int_equal(gf_alignment(f), a);
	assert_int_equal(gf_n_kv(f), want_kv);
	assert_string_equal(gf_key(f, 0), "general.architecture");
	assert_string_equal(gf_kv_str(f, key_of(f, "general.architecture", GF_STRING), &len), "qwen2");
	assert_int_equal(len, 5);
	assert_int_equal(gf_kv_u8(f, key_of(f, "t.u8", GF_U8)), 200);
	assert_int_equal(gf_kv_i8(f, key_of(f, "t.i8", GF_I8)), -100);
	assert_int_equal(gf_kv_u16(f, key_of(f, "t.u16", GF_U16)), 60000);
	assert_int_equal(gf_kv_i16(f, key_of(f, "t.i16", GF_I16)), -30000);
	assert_int_equal(gf_kv_u32(f, key_of(f, "t.u32", GF_U32)), 4000000000u);
	assert_int_equal(gf_kv_i32(f, key_of(f, "t.i32", GF_I32)), -2000000000);
	assert_true(gf_kv_f32(f, key_of(f, "t.f32", GF_F32)) == 1.5f);
	assert_true(gf_kv_bool(f, key_of(f, "t.bool", GF_BOOL)));
	assert_string_equal(gf_kv_str(f, key_of(f, "t.str", GF_STRING), &len), s_str);
	assert_int_equal(len, strlen(s_str));
	assert_true(gf_kv_u64(f, key_of(f, "t.u64", GF_U64)) == 18000000000000000000ull);
	assert_true(gf_kv_i64(f, key_of(f, "t.i64", GF_I64)) == -9000000000000000000ll);
	assert_true(gf_kv_f64(f, key_of(f, "t.f64", GF_F64)) == -2.25e300);
	for (size_t k = 0; k < N_ARRAYS; k++) {
		enum gf_type e = spec_arrays[k].elem;
		i = key_of(f, spec_arrays[k].key, GF_ARRAY);
		assert_int_equal(gf_arr_type(f, i), e);
		assert_int_equal(gf_arr_n(f, i), spec_arrays[k].n);
		for (uint64_t j = 0; j < spec_arrays[k].n; j++) {
			const void *v = spec_arrays[k].v;
			switch (e) {
			case GF_U8: assert_int_equal(gf_arr_int(f, i, j), ((const uint8_t *)v)[j]); break;
			case GF_I8: assert_int_equal(gf_arr_int(f, i, j), ((const int8_t *)v)[j]); break;
			case GF_U16: assert_int_equal(gf_arr_int(f, i, j), ((const uint16_t *)v)[j]); break;
			case GF_I16: assert_int_equal(gf_arr_int(f, i, j), ((const int16_t *)v)[j]); break;
			case GF_U32: assert_int_equal(gf_arr_int(f, i, j), ((const uint32_t *)v)[j]); break;
			case GF_I32: assert_int_equal(gf_arr_int(f, i, j), ((const int32_t *)v)[j]); break;
			case GF_BOOL: assert_int_equal(gf_arr_int(f, i, j), ((const bool *)v)[j]); break;
			case GF_U64: assert_true(gf_arr_u64(f, i, j) == ((const uint64_t *)v)[j]); break;
			case GF_I64: assert_true(gf_arr_int(f, i, j) == ((const int64_t *)v)[j]); break;
			case GF_F32: assert_true(gf_arr_float(f, i, j) == ((const float *)v)[j]); break;
			case GF_F64:
				assert_true(gf_arr_float(f, i, j) == ((const double *)v)[j]);
				assert_int_equal(signbit(gf_arr_float(f, i, j)),
						 signbit(((const double *)v)[j]));
				break;
			case GF_STRING:
				assert_string_equal(gf_arr_str(f, i, j, &len), ((const char *const *)v)[j]);
				assert_int_equal(len, strlen(((const char *const *)v)[j]));
				break;
			default: fail();
			}
		}
	}
	assert_int_equal(gf_n_tensors(f), N_TENSORS);
	assert_int_equal(gf_data_offset(f) % a, 0);
	for (size_t k = 0; k < N_TENSORS; k++) {
		int64_t ne[4];
		const uint8_t *d;
		i = gf_find_tensor(f, spec_tensors[k].name);
		assert_int_equal(i, (int64_t)k);
		assert_string_equal(gf_tensor_name(f, i), spec_tensors[k].name);
		assert_int_equal(gf_tensor_type(f, i), spec_tensors[k].type);
		assert_int_equal(gf_tensor_n_dims(f, i), spec_tensors[k].n_dims);
		gf_tensor_ne(f, i, ne);
		for (int j = 0; j < 4; j++)
			assert_int_equal(ne[j], j < spec_tensors[k].n_dims ? spec_tensors[k].ne[j] : 1);
		assert_int_equal(gf_tensor_size(f, i), spec_tensors[k].bytes);
		assert_int_equal(gf_tensor_offset(f, i), off);
		d = gf_tensor_data(f, i);
		assert_ptr_equal(d, gf_bytes(f) + gf_data_offset(f) + off);
		for (uint64_t j = 0; j < spec_tensors[k].bytes; j++)
			if (d[j] != spec_byte(k, j))
				fail_msg("tensor %zu byte %llu: %u", k, (unsigned long long)j, d[j]);
		off += (spec_tensors[k].bytes + a - 1) / a * a;
	}
	assert_int_equal(gf_size(f), gf_data_offset(f) + off);
}

/* ---- tests ---- */

/* A small file against its bytes laid out by hand from the format. */
static void test_write_exact_bytes(void **state)
{
	static const int64_t ne_w[2] = { 4, 2 }, ne_v[1] = { 3 };
	struct cc_buf want = { 0 };
	struct gf_writer *w;
	uint8_t data[32];
	char path[128];
	uint8_t *got;
	size_t n;
	qk_err err;

	(void)state;
	path_of(path, sizeof(path), "exact.gguf");
	assert_int_equal(gf_writer_open(&w, path, &err), QK_OK);
	assert_int_equal(gf_writer_add_str(w, "general.architecture", "qwen2", &err), QK_OK);
	assert_int_equal(gf_writer_add_u32(w, "a.b", 7, &err), QK_OK);
	assert_int_equal(gf_writer_add_tensor(w, "w", 0, 2, ne_w, &err), QK_OK);
	assert_int_equal(gf_writer_add_tensor(w, "v", 1, 1, ne_v, &err), QK_OK);
	for (int i = 0; i < 32; i++)
		data[i] = (uint8_t)(i + 1);
	assert_int_equal(gf_writer_write(w, data, 32, &err), QK_OK);
	assert_int_equal(gf_writer_write(w, data, 6, &err), QK_OK);
	assert_int_equal(gf_writer_commit(w, &err), QK_OK);

	cc_put(&want, "GGUF", 4);
	cc_u32(&want, 3);
	cc_u64(&want, 2);                   /* tensors */
	cc_u64(&want, 2);                   /* kvs */
	cc_str(&want, "general.architecture");
	cc_u32(&want, 8);                   /* string */
	cc_str(&want, "qwen2");
	cc_str(&want, "a.b");
	cc_u32(&want, 4);                   /* u32 */
	cc_u32(&want, 7);
	cc_str(&want, "w");
	cc_u32(&want, 2);
	cc_u64(&want, 4);
	cc_u64(&want, 2);
	cc_u32(&want, 0);                   /* F32 */
	cc_u64(&want, 0);
	cc_str(&want, "v");
	cc_u32(&want, 1);
	cc_u64(&want, 3);
	cc_u32(&want, 1);                   /* F16 */
	cc_u64(&want, 32);                  /* 32 bytes of w, already aligned */
	cc_zeros(&want, (32 - want.n % 32) % 32);
	cc_put(&want, data, 32);
	cc_put(&want, data, 6);
	cc_zeros(&want, 26);                /* the last tensor is padded too */
	got = slurp(path, &n);
	assert_int_equal(n, want.n);
	assert_memory_equal(got, want.p, n);
	free(got);
	cc_free(&want);
}

static void test_roundtrip(void **state)
{
	static const struct {
		uint32_t align;
		size_t chunk;
	} runs[] = { { 0, 7 }, { 64, 1000 }, { 1, 3 }, { 4096, 1 } };
	char path[128];

	(void)state;
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		struct gf_file *f;
		qk_err err;
		uint8_t *bytes;
		size_t n;

		path_of(path, sizeof(path), "spec.gguf");
		write_spec(path, runs[r].align, runs[r].chunk);
		assert_int_equal(gf_open(&f, path, &err), QK_OK);
		check_spec(f, runs[r].align);
		gf_close(f);
		/* and from memory */
		bytes = slurp(path, &n);
		assert_int_equal(gf_parse(&f, bytes, n, "mem", &err), QK_OK);
		check_spec(f, runs[r].align);
		gf_close(f);
		free(bytes);
	}
}

/* Files written by gguf-py's GGUFWriter (testdata/gen/gguf_oracle.py): our
 * reader sees the spec in them, and our writer makes the same bytes. */
static void test_gguf_py_files(void **state)
{
	static const struct {
		const char *fixture;
		uint32_t align;
	} fx[] = { { "testdata/gguf/gguf_py_types.gguf", 0 }, { "testdata/gguf/gguf_py_align64.gguf", 64 } };
	struct gf_file *f;
	char path[128];
	qk_err err;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		uint8_t *ours, *theirs;
		size_t n_ours, n_theirs;

		path_of(path, sizeof(path), "ours.gguf");
		write_spec(path, fx[i].align, 50);
		ours = slurp(path, &n_ours);
		theirs = slurp(fx[i].fixture, &n_theirs);
		assert_int_equal(n_ours, n_theirs);
		assert_memory_equal(ours, theirs, n_ours);
		free(ours);
		free(theirs);
	}
	assert_int_equal(gf_open(&f, "testdata/gguf/gguf_py_types.gguf", &err), QK_OK);
	check_spec(f, 0);
	gf_close(f);
	assert_int_equal(gf_open(&f, "testdata/gguf/gguf_py_align64.gguf", &err), QK_OK);
	assert_string_equal(gf_key(f, 1), GF_ALIGNMENT_KEY);
	check_spec(f, 64);
	gf_close(f);
}

static void test_getters(void **state)
{
	struct gf_file *f;
	char path[128];
	const char *s;
	size_t len;
	int64_t v, idx;
	double d;
	uint32_t u32;
	float f32;
	qk_err err;

	(void)state;
	path_of(path, sizeof(path), "get.gguf");
	write_spec(path, 0, 64);
	assert_int_equal(gf_open(&f, path, &err), QK_OK);
	assert_int_equal(gf_find_key(f, "no.such"), -1);
	assert_int_equal(gf_find_tensor(f, "no.such"), -1);
	assert_true(gf_kv_int(f, gf_find_key(f, "t.i16"), -40000, 0, &v));
	assert_int_equal(v, -30000);
	assert_false(gf_kv_int(f, gf_find_key(f, "t.i16"), 0, 10, &v));
	assert_true(gf_kv_int(f, gf_find_key(f, "t.u32"), 0, INT64_MAX, &v));
	assert_int_equal(v, 4000000000);
	assert_false(gf_kv_int(f, gf_find_key(f, "t.u64"), 0, INT64_MAX, &v));
	assert_false(gf_kv_int(f, gf_find_key(f, "t.bool"), 0, 1, &v));
	assert_false(gf_kv_int(f, gf_find_key(f, "t.f32"), 0, 10, &v));
	assert_true(gf_kv_float(f, gf_find_key(f, "t.f32"), &d));
	assert_true(d == 1.5);
	assert_false(gf_kv_float(f, gf_find_key(f, "t.u8"), &d));
	assert_int_equal(gf_get_u32(f, "t.u32", &u32, &err), QK_OK);
	assert_int_equal(u32, 4000000000u);
	assert_int_equal(gf_get_f32(f, "t.f32", &f32, &err), QK_OK);
	assert_int_equal(gf_get_u32(f, "t.i32", &u32, &err), QK_E_INVALID);
	assert_non_null(strstr(err.msg, "get.gguf: key 't.i32' has type i32, expected u32"));
	assert_int_equal(gf_get_str(f, "no.such", &s, &len, &err), QK_E_INVALID);
	assert_non_null(strstr(err.msg, "key 'no.such' is missing"));
	assert_int_equal(gf_get_str(f, "t.str", &s, &len, &err), QK_OK);
	assert_string_equal(s, s_str);
	assert_int_equal(gf_get_arr(f, "t.arr.str", GF_STRING, &idx, &err), QK_OK);
	assert_string_equal(gf_arr_str(f, idx, 3, NULL), "<|im_start|>");
	assert_int_equal(gf_get_arr(f, "t.arr.u8", GF_I32, &idx, &err), QK_E_INVALID);
	assert_non_null(strstr(err.msg, "key 't.arr.u8' is an array of u8, expected an array of i32"));
	idx = gf_find_key(f, "t.arr.u16");
	assert_int_equal(qk_ld16(gf_arr_data(f, idx) + 2), 65535);
	assert_null(gf_arr_data(f, gf_find_key(f, "t.arr.str")));
	assert_string_equal(gf_type_name(GF_F64), "f64");
	assert_int_equal(gf_type_size(GF_U16), 2);
	assert_int_equal(gf_type_size(GF_STRING), 0);
	gf_close(f);
	gf_close(NULL);
}

/* Strings with NUL bytes and empty strings/arrays survive; a file without
 * tensors ends at the padding after its header. */
static void test_odd_values(void **state)
{
	static const char nul[] = { 'a', '\0', 'b' };
	const char *strs[2] = { nul, "" };
	const size_t lens[2] = { 3, 0 };
	struct gf_writer *w;
	struct gf_file *f;
	char path[128];
	size_t len;
	qk_err err;

	(void)state;
	path_of(path, sizeof(path), "odd.gguf");
	assert_int_equal(gf_writer_open(&w, path, &err), QK_OK);
	assert_int_equal(gf_writer_add_strn(w, "s.nul", nul, 3, &err), QK_OK);
	assert_int_equal(gf_writer_add_str(w, "s.empty", "", &err), QK_OK);
	assert_int_equal(gf_writer_add_arr(w, "a.empty", GF_F32, NULL, 0, &err), QK_OK);
	assert_int_equal(gf_writer_add_arr_str(w, "a.strs", strs, lens, 2, &err), QK_OK);
	assert_int_equal(gf_writer_commit(w, &err), QK_OK);
	assert_int_equal(gf_open(&f, path, &err), QK_OK);
	assert_memory_equal(gf_kv_str(f, 0, &len), nul, 3);
	assert_int_equal(len, 3);
	assert_string_equal(gf_kv_str(f, 1, &len), "");
	assert_int_equal(len, 0);
	assert_int_equal(gf_arr_n(f, 2), 0);
	assert_null(gf_arr_data(f, 2));
	assert_memory_equal(gf_arr_str(f, 3, 0, &len), nul, 3);
	assert_int_equal(len, 3);
	assert_int_equal(gf_n_tensors(f), 0);
	assert_int_equal(gf_size(f) % 32, 0);
	assert_int_equal(gf_size(f), gf_data_offset(f));
	gf_close(f);
}

static void test_catalog(void **state)
{
	struct qk_catalog cat;
	const struct qk_tensor *t;
	char path[128], bad[128];
	qk_err err;

	(void)state;
	path_of(path, sizeof(path), "cat.gguf");
	write_spec(path, 0, 100);
	qk_catalog_init(&cat);
	assert_int_equal(gf_to_catalog(&cat, path, &err), QK_OK);
	assert_int_equal(cat.format, QK_FMT_GGUF);
	assert_int_equal(cat.n_files, 1);
	assert_int_equal(cat.n_tensors, N_TENSORS);
	assert_non_null(cat.gguf[0]);
	assert_true(gf_find_key(cat.gguf[0], "t.u8") >= 0);
	/* ne [64, 3] -> row-major [3, 64]; ne [512, 1] -> [1, 512] */
	t = qk_catalog_find(&cat, "tok_embd.weight");
	assert_non_null(t);
	assert_int_equal(t->n_dims, 2);
	assert_int_equal(t->shape[0], 3);
	assert_int_equal(t->shape[1], 64);
	assert_int_equal(t->dtype, 0);
	assert_int_equal(t->n_elem, 192);
	assert_int_equal(t->nbytes, 768);
	assert_int_equal(t->data[5], spec_byte(0, 5));
	t = qk_catalog_find(&cat, "blk.0.ffn_down.weight");
	assert_non_null(t);
	assert_int_equal(t->shape[0], 1);
	assert_int_equal(t->shape[1], 512);
	assert_int_equal(t->dtype, 12);
	assert_int_equal(t->nbytes, 288);
	assert_ptr_equal(t->data, cat.files[0].data + t->offset);
	assert_int_equal(t->data[287], spec_byte(4, 287));
	t = qk_catalog_find(&cat, "output_norm.weight");
	assert_int_equal(t->n_dims, 1);
	assert_int_equal(t->shape[0], 16);

	/* a bad second file leaves the catalog as it was */
	path_of(bad, sizeof(bad), "bad.gguf");
	assert_int_equal(cc_write(bad, "GGUF\3\0\0\0", 8), 0);
	assert_int_equal(gf_to_catalog(&cat, bad, &err), QK_E_INVALID);
	assert_int_equal(cat.n_files, 1);
	/* the same file twice: duplicate names roll back */
	assert_int_equal(gf_to_catalog(&cat, path, &err), QK_E_INVALID);
	assert_non_null(strstr(err.msg, "duplicate tensor name 'tok_embd.weight'"));
	assert_int_equal(cat.n_files, 1);
	assert_int_equal(cat.n_tensors, N_TENSORS);
	assert_non_null(qk_catalog_find(&cat, "blk.0.attn_q.weight"));
	qk_catalog_free(&cat);
}

static void expect_usage(int rc, const qk_err *err, const char *frag)
{
	assert_int_equal(rc, QK_E_USAGE);
	if (!strstr(err->msg, frag))
		fail_msg("message '%s' lacks '%s'", err->msg, frag);
}

/* Each bad call fails with its own message; the writer then refuses
 * everything and no file appears. */
static void test_writer_errors(void **state)
{
	static const struct {
		const char *frag;
	} cases[] = {
		{ "duplicate key 'k'" }, { "empty key" }, { "key 'general.alignment' must be u32" },
		{ "general.alignment = 48, expected a power of two" },
		{ "general.alignment = 2097152" }, { "is 64 bytes, expected fewer than 64" },
		{ "invalid ggml type 4" }, { "ne[0] = 33 is not a multiple of the Q8_0 block size 32" },
		{ "ne[1] = 0 is not positive" }, { "n_dims 5, expected 1..4" },
		{ "duplicate tensor name 't'" }, { "array element type string is not a scalar" },
		{ "key is not valid UTF-8" },
	};
	static const int64_t ne[5] = { 32, 0, 1, 1, 1 };
	char path[128], name64[65];
	struct gf_writer *w;
	qk_err err;

	(void)state;
	memset(name64, 'n', 64);
	name64[64] = '\0';
	path_of(path, sizeof(path), "err.gguf");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		int rc = QK_OK;
		assert_int_equal(gf_writer_open(&w, path, &err), QK_OK);
		assert_int_equal(gf_writer_add_u8(w, "k", 1, &err), QK_OK);
		assert_int_equal(gf_writer_add_tensor(w, "t", 0, 1, ne, &err), QK_OK);
		switch (c) {
		case 0: rc = gf_writer_add_u8(w, "k", 2, &err); break;
		case 1: rc = gf_writer_add_u8(w, "", 2, &err); break;
		case 2: rc = gf_writer_add_i32(w, GF_ALIGNMENT_KEY, 32, &err); break;
		case 3: rc = gf_writer_add_u32(w, GF_ALIGNMENT_KEY, 48, &err); break;
		case 4: rc = gf_writer_add_u32(w, GF_ALIGNMENT_KEY, 1u << 21, &err); break;
		case 5: rc = gf_writer_add_tensor(w, name64, 0, 1, ne, &err); break;
		case 6: rc = gf_writer_add_tensor(w, "x", 4, 1, ne, &err); break;
		case 7: {
			static const int64_t ne33[1] = { 33 };
			rc = gf_writer_add_tensor(w, "x", 8, 1, ne33, &err);
			break;
		}
		case 8: rc = gf_writer_add_tensor(w, "x", 0, 2, ne, &err); break;
		case 9: rc = gf_writer_add_tensor(w, "x", 0, 5, ne, &err); break;
		case 10: rc = gf_writer_add_tensor(w, "t", 0, 1, ne, &err); break;
		case 11: rc = gf_writer_add_arr(w, "a", GF_STRING, NULL, 0, &err); break;
		case 12: rc = gf_writer_add_u8(w, "caf\xe9", 1, &err); break;
		}
		expect_usage(rc, &err, cases[c].frag);
		/* failed: later calls and commit refuse, and nothing is written */
		assert_int_equal(gf_writer_add_u8(w, "other", 1, &err), QK_E_USAGE);
		assert_int_equal(gf_writer_commit(w, &err), QK_E_USAGE);
		assert_int_equal(access(path, F_OK), -1);
	}
}

static void test_writer_stream_errors(void **state)
{
	static const int64_t ne[1] = { 4 };
	uint8_t buf[32] = { 0 };
	char path[128];
	struct gf_writer *w;
	qk_err err;

	(void)state;
	path_of(path, sizeof(path), "stream.gguf");
	/* chunk past the end of a tensor */
	assert_int_equal(gf_writer_open(&w, path, &err), QK_OK);
	assert_int_equal(gf_writer_add_tensor(w, "a", 0, 1, ne, &err), QK_OK);
	assert_int_equal(gf_writer_write(w, buf, 8, &err), QK_OK);
	expect_usage(gf_writer_write(w, buf, 9, &err), &err,
		     "tensor 'a': chunk of 9 bytes runs past its end (8 of 16 bytes written)");
	gf_writer_abort(w);
	/* bytes after the last tensor */
	assert_int_equal(gf_writer_open(&w, path, &err), QK_OK);
	assert_int_equal(gf_writer_add_tensor(w, "a", 0, 1, ne, &err), QK_OK);
	assert_int_equal(gf_writer_write(w, buf, 16, &err), QK_OK);
	expect_usage(gf_writer_write(w, buf, 1, &err), &err, "1 bytes written after the last tensor");
	gf_writer_abort(w);
	/* commit with a tensor incomplete */
	assert_int_equal(gf_writer_open(&w, path, &err), QK_OK);
	assert_int_equal(gf_writer_add_tensor(w, "a", 0, 1, ne, &err), QK_OK);
	assert_int_equal(gf_writer_add_tensor(w, "b", 0, 1, ne, &err), QK_OK);
	assert_int_equal(gf_writer_write(w, buf, 16, &err), QK_OK);
	assert_int_equal(gf_writer_write(w, buf, 4, &err), QK_OK);
	expect_usage(gf_writer_commit(w, &err), &err, "tensor 'b' has 4 of 16 bytes written");
	assert_int_equal(access(path, F_OK), -1);
	/* adding after the header */
	assert_int_equal(gf_writer_open(&w, path, &err), QK_OK);
	assert_int_equal(gf_writer_write_header(w, &err), QK_OK);
	expect_usage(gf_writer_add_u8(w, "late", 1, &err), &err,
		     "key 'late' added after the header was written");
	gf_writer_abort(w);
	gf_writer_abort(NULL);
	assert_int_equal(access(path, F_OK), -1);
}

/* ---- the corrupt corpus, through gf_open and gf_parse ----
 * gguf_cases.c is compiled in here (its writers come from cc_util.c), so the
 * reader's messages are checked without the CLI (tests/cli/corrupt.sh runs
 * the same cases through qwen-inspect). */
#include "../../testdata/corrupt/gguf_cases.c"

static void test_corrupt_cases(void **state)
{
	size_t bad = 0;

	(void)state;
	assert_true(cc_gguf_cases.n >= 20);
	for (size_t i = 0; i < cc_gguf_cases.n; i++) {
		const struct cc_case *c = &cc_gguf_cases.cases[i];
		struct gf_file *f = (struct gf_file *)1;
		char path[256];
		uint8_t *bytes;
		size_t n;
		qk_err err;
		int rc;

		path_of(path, sizeof(path), c->name);
		assert_int_equal(c->make(path), 0);
		qk_err_clear(&err);
		rc = gf_open(&f, path, &err);
		assert_null(f);
		if ((rc != QK_E_INVALID && rc != QK_E_UNSUPPORTED) || !strstr(err.msg, c->fragment) ||
		    strncmp(err.msg, path, strlen(path)) != 0) {
			print_error("case %s: rc %d, message '%s', expected '%s'\n", c->name, rc,
				    err.msg, c->fragment);
			bad++;
		}
		/* the same verdict from memory */
		bytes = slurp(path, &n);
		assert_int_equal(gf_parse(&f, bytes, n, c->name, &err), rc);
		free(bytes);
	}
	assert_int_equal(bad, 0);
}

/* a minimal file: one key, an F32 [4] and a Q8_0 [32] tensor */
static void write_small(const char *path)
{
	static const int64_t ne4[1] = { 4 }, ne32[1] = { 32 };
	uint8_t buf[34];
	struct gf_writer *w;
	qk_err err;

	for (size_t j = 0; j < sizeof(buf); j++)
		buf[j] = spec_byte(0, j);
	assert_int_equal(gf_writer_open(&w, path, &err), QK_OK);
	assert_int_equal(gf_writer_add_str(w, "general.architecture", "qwen2", &err), QK_OK);
	assert_int_equal(gf_writer_add_tensor(w, "a", 0, 1, ne4, &err), QK_OK);
	assert_int_equal(gf_writer_add_tensor(w, "b", 8, 1, ne32, &err), QK_OK);
	assert_int_equal(gf_writer_write(w, buf, 16, &err), QK_OK);
	assert_int_equal(gf_writer_write(w, buf, 34, &err), QK_OK);
	assert_int_equal(gf_writer_commit(w, &err), QK_OK);
}

/* QK_WRITE_CORPUS=DIR: seed files for tests/fuzz/fuzz_gguf.c (our writer's
 * spec files; testdata/gen/gguf_oracle.py check reads them too). */
static void write_corpus(const char *out)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/spec_types.gguf", out);
	write_spec(path, 0, 64);
	snprintf(path, sizeof(path), "%s/spec_align64.gguf", out);
	write_spec(path, 64, 64);
	snprintf(path, sizeof(path), "%s/small.gguf", out);
	write_small(path);
}

static void test_write_corpus(void **state)
{
	const char *out = getenv("QK_WRITE_CORPUS");

	(void)state;
	if (out)
		write_corpus(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_exact_bytes),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_gguf_py_files),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_odd_values),
		cmocka_unit_test(test_catalog),
		cmocka_unit_test(test_writer_errors),
		cmocka_unit_test(test_writer_stream_errors),
		cmocka_unit_test(test_corrupt_cases),
		cmocka_unit_test(test_write_corpus),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
