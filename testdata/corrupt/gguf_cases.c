/* gguf_cases.c - corrupt .gguf files, one per reader rule of formats/container/gguf.h
 * (the layout its header opens with; the "why" column of each case names
 * the parser bug it guards against). Every file is built field by field from the layout; nothing is a
 * hand-edited binary.
 *
 * The base file ("std"): version 3, 1 tensor, 1 key/value
 *   [0]   "GGUF" 3 n_tensors=1 n_kv=1
 *   [24]  key "general.architecture" (u64 20 + 20 bytes), type 8, "qwen2"
 *   [69]  tensor "t": n_dims 2, ne [8, 2], type F32 (0), offset 0
 *   [110] zero padding to 128
 *   [128] 64 data bytes; file size 192
 * The counts check needs 24 + 14 * n_kv + 33 * n_tensors bytes, so cases
 * that cut the file inside a key/value use a file without tensors ("kv0"),
 * which ends at byte 69 + padding. */
#include "corrupt.h"

#include <string.h>

enum { T_U8 = 0, T_I32 = 5, T_BOOL = 7, T_STR = 8, T_ARR = 9, T_U64 = 10 };
enum { G_F32 = 0, G_Q8_0 = 8, G_F64 = 28 };

static void hdr(struct cc_buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
	cc_put(b, "GGUF", 4);
	cc_u32(b, version);
	cc_u64(b, n_tensors);
	cc_u64(b, n_kv);
}

/* key string and value type */
static void key(struct cc_buf *b, const char *k, uint32_t type)
{
	cc_str(b, k);
	cc_u32(b, type);
}

static void arch(struct cc_buf *b)
{
	key(b, "general.architecture", T_STR);
	cc_str(b, "qwen2");
}

static void ti(struct cc_buf *b, const char *name, uint32_t n_dims, const uint64_t *ne,
	       uint32_t type, uint64_t offset)
{
	cc_str(b, name);
	cc_u32(b, n_dims);
	for (uint32_t j = 0; j < n_dims; j++)
		cc_u64(b, ne[j]);
	cc_u32(b, type);
	cc_u64(b, offset);
}

static void pad(struct cc_buf *b, size_t align)
{
	cc_zeros(b, (align - b->n % align) % align);
}

static void data(struct cc_buf *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cc_u8(b, (uint8_t)(i * 7 + 3));
}

/* write the first n bytes (all if n == 0) and free */
static int done_cut(struct cc_buf *b, const char *path, size_t n)
{
	int rc = cc_write(path, b->p, n ? n : b->n);
	cc_free(b);
	return rc;
}

static int done(struct cc_buf *b, const char *path) { return done_cut(b, path, 0); }

static const uint64_t NE_8x2[] = { 8, 2 };

/* the base file, tensor "t" F32 [8, 2] at offset 0 */
static void std_file(struct cc_buf *b)
{
	hdr(b, 3, 1, 1);
	arch(b);
	ti(b, "t", 2, NE_8x2, G_F32, 0);
	pad(b, 32);
	data(b, 64);
}

static void kv0_file(struct cc_buf *b)
{
	hdr(b, 3, 0, 1);
	arch(b);
	pad(b, 32);
}

/* one tensor info after the arch key, then padding and `n` data bytes */
static int one_tensor(const char *path, const char *name, uint32_t n_dims, const uint64_t *ne,
		      uint32_t type, uint64_t offset, size_t n)
{
	struct cc_buf b = { 0 };

	hdr(&b, 3, 1, 1);
	arch(&b);
	ti(&b, name, n_dims, ne, type, offset);
	pad(&b, 32);
	data(&b, n);
	return done(&b, path);
}

/* a file whose second key/value is `k` of `type` followed by raw value bytes */
static int one_kv(const char *path, const char *k, uint32_t type, const void *val, size_t n)
{
	struct cc_buf b = { 0 };

	hdr(&b, 3, 0, 2);
	arch(&b);
	key(&b, k, type);
	cc_put(&b, val, n);
	pad(&b, 32);
	return done(&b, path);
}

static int with_version(const char *path, uint32_t v)
{
	struct cc_buf b = { 0 };

	std_file(&b);
	for (int i = 0; i < 4; i++)
		b.p[4 + i] = (uint8_t)(v >> (8 * i));
	return done(&b, path);
}

static int cut_std(const char *path, size_t n)
{
	struct cc_buf b = { 0 };
	std_file(&b);
	return done_cut(&b, path, n);
}

static int cut_kv0(const char *path, size_t n)
{
	struct cc_buf b = { 0 };
	kv0_file(&b);
	return done_cut(&b, path, n);
}

/* ---- header ---- */
static int mk_bad_magic(const char *path)
{
	struct cc_buf b = { 0 };
	std_file(&b);
	b.p[3] = 'X';
	return done(&b, path);
}
static int mk_cut_magic(const char *path) { return cut_std(path, 3); }
static int mk_version_1(const char *path) { return with_version(path, 1); }
static int mk_version_0(const char *path) { return with_version(path, 0); }
static int mk_version_4(const char *path) { return with_version(path, 4); }
static int mk_big_endian(const char *path) { return with_version(path, 0x03000000u); }
static int mk_cut_version(const char *path) { return cut_std(path, 6); }
static int mk_cut_counts(const char *path) { return cut_std(path, 20); }

static int counts(const char *path, uint64_t n_tensors, uint64_t n_kv)
{
	struct cc_buf b = { 0 };
	hdr(&b, 3, n_tensors, n_kv);
	arch(&b);
	pad(&b, 32);
	return done(&b, path);
}
static int mk_huge_tensor_count(const char *path) { return counts(path, 1ull << 63, 1); }
static int mk_huge_kv_count(const char *path) { return counts(path, 0, UINT64_MAX); }
static int mk_kv_count_past_eof(const char *path) { return counts(path, 0, 1000); }
static int mk_tensor_count_past_eof(const char *path) { return counts(path, 100, 1); }

/* ---- key/values ---- */
/* the first key length cannot be cut without failing the counts check
 * first, so cut the second: a file with keys at 24 and 69 */
static int mk_cut_key_len(const char *path)
{
	struct cc_buf b = { 0 };
	hdr(&b, 3, 0, 2);
	arch(&b);
	arch(&b);
	return done_cut(&b, path, 73);
}
static int mk_cut_key(const char *path) { return cut_kv0(path, 45); }
static int mk_cut_value_type(const char *path) { return cut_kv0(path, 54); }
static int mk_cut_value(const char *path) { return cut_kv0(path, 66); }

static int mk_huge_key_len(const char *path)
{
	struct cc_buf b = { 0 };
	hdr(&b, 3, 0, 1);
	cc_u64(&b, 1ull << 63);
	cc_zeros(&b, 64);
	return done(&b, path);
}

static int mk_huge_value_len(const char *path)
{
	struct cc_buf b = { 0 };
	hdr(&b, 3, 0, 1);
	key(&b, "general.architecture", T_STR);
	cc_u64(&b, UINT64_MAX);
	cc_zeros(&b, 64);
	return done(&b, path);
}

static int key_bytes(const char *path, const char *k, size_t n)
{
	struct cc_buf b = { 0 };
	hdr(&b, 3, 0, 1);
	cc_u64(&b, n);
	cc_put(&b, k, n);
	cc_u32(&b, T_U8);
	cc_u8(&b, 1);
	pad(&b, 32);
	return done(&b, path);
}
static int mk_empty_key(const char *path) { return key_bytes(path, "", 0); }
static int mk_bad_utf8_key(const char *path) { return key_bytes(path, "caf\xe9", 4); }
static int mk_nul_in_key(const char *path) { return key_bytes(path, "general.a\0b", 11); }

static int mk_dup_key(const char *path)
{
	struct cc_buf b = { 0 };
	hdr(&b, 3, 0, 2);
	arch(&b);
	arch(&b);
	pad(&b, 32);
	return done(&b, path);
}

static int mk_bad_value_type(const char *path)
{
	static const uint8_t v[4] = { 1, 0, 0, 0 };
	return one_kv(path, "x.v", 13, v, 4);
}

static int mk_bad_bool(const char *path)
{
	static const uint8_t v[1] = { 2 };
	return one_kv(path, "x.flag", T_BOOL, v, 1);
}

/* array value: element type, count, then `n` raw bytes */
static int array(const char *path, uint32_t elem, uint64_t count, const void *raw, size_t n)
{
	struct cc_buf v = { 0 };
	int rc;

	cc_u32(&v, elem);
	cc_u64(&v, count);
	cc_put(&v, raw, n);
	rc = one_kv(path, "x.arr", T_ARR, v.p, v.n);
	cc_free(&v);
	return rc;
}
static int mk_bad_array_type(const char *path) { return array(path, 13, 1, "\0\0\0\0", 4); }
static int mk_nested_array(const char *path)
{
	/* an array of one array of one u8 */
	static const uint8_t inner[13] = { T_U8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7 };
	return array(path, T_ARR, 1, inner, sizeof(inner));
}
static int mk_array_count_overflow(const char *path)
{
	return array(path, T_U64, 1ull << 61, "\0\0\0\0\0\0\0\0", 8);
}
static int mk_array_past_eof(const char *path)
{
	return array(path, T_STR, 1ull << 40, "\0\0\0\0\0\0\0\0", 8);
}
static int mk_array_bad_bool(const char *path)
{
	return array(path, T_BOOL, 3, "\1\0\5", 3);
}
static int mk_array_cut_string(const char *path)
{
	/* two strings declared, the second says 100 bytes */
	static const uint8_t s[] = { 1, 0, 0, 0, 0, 0, 0, 0, 'a', 100, 0, 0, 0, 0, 0, 0, 0, 'b' };
	return array(path, T_STR, 2, s, sizeof(s));
}

static int alignment(const char *path, uint32_t type, uint32_t v)
{
	struct cc_buf b = { 0 };

	hdr(&b, 3, 1, 2);
	arch(&b);
	key(&b, "general.alignment", type);
	cc_u32(&b, v);
	ti(&b, "t", 2, NE_8x2, G_F32, 0);
	pad(&b, 32);
	data(&b, 64);
	return done(&b, path);
}
static int mk_align_type(const char *path) { return alignment(path, T_I32, 32); }
static int mk_align_zero(const char *path) { return alignment(path, 4, 0); }
static int mk_align_not_pow2(const char *path) { return alignment(path, 4, 48); }
static int mk_align_too_big(const char *path) { return alignment(path, 4, 1u << 24); }

/* ---- tensor infos ---- */
static int mk_cut_ti_name_len(const char *path) { return cut_std(path, 73); }
static int mk_cut_ti_name(const char *path) { return cut_std(path, 77); }
static int mk_cut_ti_n_dims(const char *path) { return cut_std(path, 80); }
static int mk_cut_ti_ne(const char *path) { return cut_std(path, 94); }
static int mk_cut_ti_type(const char *path) { return cut_std(path, 100); }
static int mk_cut_ti_offset(const char *path) { return cut_std(path, 106); }
static int mk_cut_padding(const char *path) { return cut_std(path, 120); }
static int mk_cut_data(const char *path) { return cut_std(path, 150); }

static int mk_name_too_long(const char *path)
{
	char name[65];
	memset(name, 'n', 64);
	name[64] = '\0';
	return one_tensor(path, name, 2, NE_8x2, G_F32, 0, 64);
}
static int mk_empty_name(const char *path) { return one_tensor(path, "", 2, NE_8x2, G_F32, 0, 64); }
static int mk_bad_utf8_name(const char *path)
{
	return one_tensor(path, "blk.\xff", 2, NE_8x2, G_F32, 0, 64);
}

static int mk_dup_tensor(const char *path)
{
	struct cc_buf b = { 0 };
	hdr(&b, 3, 2, 1);
	arch(&b);
	ti(&b, "t", 2, NE_8x2, G_F32, 0);
	ti(&b, "t", 2, NE_8x2, G_F32, 64);
	pad(&b, 32);
	data(&b, 128);
	return done(&b, path);
}

static int mk_n_dims_0(const char *path) { return one_tensor(path, "t", 0, NE_8x2, G_F32, 0, 64); }
static int mk_n_dims_5(const char *path)
{
	static const uint64_t ne[5] = { 8, 2, 1, 1, 1 };
	return one_tensor(path, "t", 5, ne, G_F32, 0, 64);
}
static int mk_ne_zero(const char *path)
{
	static const uint64_t ne[2] = { 8, 0 };
	return one_tensor(path, "t", 2, ne, G_F32, 0, 64);
}
static int mk_ne_negative(const char *path)
{
	static const uint64_t ne[2] = { 8, UINT64_MAX };
	return one_tensor(path, "t", 2, ne, G_F32, 0, 64);
}
static int mk_ne_huge(const char *path)
{
	static const uint64_t ne[1] = { 1ull << 40 };
	return one_tensor(path, "t", 1, ne, G_F32, 0, 64);
}
/* #27203: [2^32, 2^32] is 2^64 elements, 0 in 64-bit arithmetic */
static int mk_ne_overflow(const char *path)
{
	static const uint64_t ne[2] = { 1ull << 32, 1ull << 32 };
	return one_tensor(path, "t", 2, ne, G_F32, 0, 64);
}
/* 2^60 F64 elements fit in int64, their 2^63 bytes do not */
static int mk_size_overflow(const char *path)
{
	static const uint64_t ne[2] = { 1ull << 30, 1ull << 30 };
	return one_tensor(path, "t", 2, ne, G_F64, 0, 64);
}
static int mk_type_removed_4(const char *path) { return one_tensor(path, "t", 2, NE_8x2, 4, 0, 64); }
static int mk_type_removed_5(const char *path) { return one_tensor(path, "t", 2, NE_8x2, 5, 0, 64); }
static int mk_type_99(const char *path) { return one_tensor(path, "t", 2, NE_8x2, 99, 0, 64); }
static int mk_type_negative(const char *path)
{
	return one_tensor(path, "t", 2, NE_8x2, 0x80000000u, 0, 64);
}
static int mk_not_block_multiple(const char *path)
{
	static const uint64_t ne[1] = { 33 };
	return one_tensor(path, "t", 1, ne, G_Q8_0, 0, 64);
}
static int mk_misaligned_offset(const char *path)
{
	return one_tensor(path, "t", 2, NE_8x2, G_F32, 16, 96);
}
static int mk_first_offset(const char *path)
{
	return one_tensor(path, "t", 2, NE_8x2, G_F32, 32, 96);
}

/* the second tensor leaves a hole of one alignment unit */
static int mk_offset_not_sum(const char *path)
{
	static const uint64_t ne[1] = { 4 };
	struct cc_buf b = { 0 };
	hdr(&b, 3, 2, 1);
	arch(&b);
	ti(&b, "a", 1, ne, G_F32, 0);
	ti(&b, "b", 1, ne, G_F32, 64);
	pad(&b, 32);
	data(&b, 96);
	return done(&b, path);
}

static int mk_trailing(const char *path)
{
	struct cc_buf b = { 0 };
	std_file(&b);
	data(&b, 40);
	return done(&b, path);
}

static int mk_trailing_no_tensors(const char *path)
{
	struct cc_buf b = { 0 };
	kv0_file(&b);
	data(&b, 8);
	return done(&b, path);
}

#define BAD(name, frag, why) { #name, ".gguf", 3, frag, mk_##name, why }

static const struct cc_case cases[] = {
	BAD(bad_magic, "bad magic 'GGUX' at byte 0, expected 'GGUF'", "magic"),
	BAD(cut_magic, "unexpected end of file at byte 0 reading magic", "file shorter than the magic"),
	BAD(version_1, "GGUF version 1 is not supported", "v1 (32-bit counts) refused"),
	BAD(version_0, "unsupported GGUF version 0 at byte 4", "version 0"),
	BAD(version_4, "unsupported GGUF version 4 at byte 4", "future version"),
	BAD(big_endian, "a big-endian GGUF file, which is not supported", "byte-swapped version 3"),
	BAD(cut_version, "reading version", "truncated in the version"),
	BAD(cut_counts, "reading key/value count", "truncated in the counts"),
	BAD(huge_tensor_count, "tensor count 9223372036854775808 at byte 8 is larger than the limit",
	    "count cap before any allocation (#15711)"),
	BAD(huge_kv_count, "key/value count 18446744073709551615 at byte 16 is larger than the limit",
	    "count cap before any allocation"),
	BAD(kv_count_past_eof, "1000 key/values and 0 tensors need at least 14000 bytes",
	    "count bounded by the bytes left"),
	BAD(tensor_count_past_eof, "1 key/values and 100 tensors need at least 3314 bytes",
	    "count bounded by the bytes left"),
	BAD(cut_key_len, "reading key of key/value 1", "truncated in a key length"),
	BAD(cut_key, "string length 20 runs past the end of the file (13 bytes left)",
	    "truncated in a key"),
	BAD(cut_value_type, "reading value type of key 'general.architecture'",
	    "truncated in a value type"),
	BAD(cut_value, "string length 5 runs past the end of the file (2 bytes left)",
	    "truncated in a string value"),
	BAD(huge_key_len, "string length 9223372036854775808 is larger than the limit of 268435456",
	    "string limit (ggml#1516)"),
	BAD(huge_value_len, "value of key 'general.architecture' at byte 56: string length 18446744073709551615",
	    "string length never trusted (CVE-2024-21836 class)"),
	BAD(empty_key, "key at byte 24 is empty", "empty key (llama.cpp#24263)"),
	BAD(bad_utf8_key, "key 'caf\\xe9' at byte 24 is not valid UTF-8", "keys are UTF-8"),
	BAD(nul_in_key, "contains a NUL byte", "NUL would cut a key short"),
	BAD(dup_key, "duplicate key 'general.architecture' at byte 69", "duplicate keys"),
	BAD(bad_value_type, "key 'x.v': invalid value type 13", "value type range"),
	BAD(bad_bool, "key 'x.flag': bool value at byte 87 is 2, expected 0 or 1", "bools are 0/1"),
	BAD(bad_array_type, "key 'x.arr': invalid array element type 13", "array element type range"),
	BAD(nested_array, "key 'x.arr': nested array", "arrays of arrays refused"),
	BAD(array_count_overflow, "array of 2305843009213693952 u64 elements",
	    "count x size overflow (llama.cpp PR #19856)"),
	BAD(array_past_eof, "array of 1099511627776 string elements",
	    "string array count bounded by the bytes left (llama.cpp PR #27188)"),
	BAD(array_bad_bool, "bool element 2 at byte", "bool array elements are 0/1"),
	BAD(array_cut_string, "string element of key 'x.arr' at byte", "truncated inside a string array"),
	BAD(align_type, "key 'general.alignment' at byte", "alignment must be u32"),
	BAD(align_zero, "is 0, expected a non-zero power of two", "alignment 0"),
	BAD(align_not_pow2, "is 48, expected a non-zero power of two", "alignment power of two"),
	BAD(align_too_big, "is 16777216, larger than the limit of 1048576", "alignment upper bound (ggml#1516)"),
	BAD(cut_ti_name_len, "reading name of tensor 0", "truncated in a tensor name length"),
	BAD(cut_ti_name, "name of tensor 0 at byte 69: string length 1 runs past the end",
	    "truncated in a tensor name"),
	BAD(cut_ti_n_dims, "reading n_dims of tensor 't'", "truncated in n_dims"),
	BAD(cut_ti_ne, "reading ne[1] of tensor 't'", "truncated in ne"),
	BAD(cut_ti_type, "reading type of tensor 't'", "truncated in a tensor type"),
	BAD(cut_ti_offset, "reading offset of tensor 't'", "truncated in an offset"),
	BAD(cut_padding, "data section starts at byte 128 (alignment 32), past the end of the file (120 bytes)",
	    "file ends in the header padding"),
	BAD(cut_data, "tensor 't': data [128, 192) of 64 bytes runs past the end of the file (150 bytes)",
	    "tensor data beyond EOF (CVE-2026-7482)"),
	BAD(name_too_long, "is 64 bytes, expected fewer than 64", "GGML_MAX_NAME"),
	BAD(empty_name, "tensor name at byte 69 is empty", "empty tensor name"),
	BAD(bad_utf8_name, "tensor name 'blk.\\xff' at byte 69 is not valid UTF-8", "names are UTF-8"),
	BAD(dup_tensor, "duplicate tensor name 't' at byte 110", "duplicate tensor names"),
	BAD(n_dims_0, "tensor 't': n_dims 0 at byte 78 is out of range, expected 1..4", "n_dims 0"),
	BAD(n_dims_5, "tensor 't': n_dims 5 at byte 78 is out of range, expected 1..4",
	    "n_dims cap (gguf-tools#25)"),
	BAD(ne_zero, "tensor 't': ne[1] = 0 at byte 90, expected at least 1",
	    "zero dimension (llama.cpp#24263 SIGFPE)"),
	BAD(ne_negative, "tensor 't': ne[1] = -1 at byte 90 is negative", "negative ne"),
	BAD(ne_huge, "tensor 't': data [128, 4398046511232) of 4398046511104 bytes runs past the end",
	    "huge tensor beyond EOF"),
	BAD(ne_overflow, "tensor 't': ne[1] = 4294967296 at byte 90 makes more than 9223372036854775807",
	    "element count overflow (#27203)"),
	BAD(size_overflow, "tensor 't': byte size of 1152921504606846976 F64 elements overflows",
	    "byte size overflow (CVE-2026-33298)"),
	BAD(type_removed_4, "tensor 't': invalid ggml type 4 at byte 98", "removed Q4_2"),
	BAD(type_removed_5, "tensor 't': invalid ggml type 5 at byte 98", "removed Q4_3"),
	BAD(type_99, "tensor 't': invalid ggml type 99 at byte 98", "type past the table"),
	BAD(type_negative, "tensor 't': invalid ggml type 2147483648 at byte 98",
	    "negative type (llama.cpp PR #19856)"),
	BAD(not_block_multiple, "tensor 't': ne[0] = 33 is not a multiple of the Q8_0 block size 32",
	    "rows are whole blocks"),
	BAD(misaligned_offset, "tensor 't': offset 16 at byte 102 is not a multiple of the alignment 32",
	    "offsets aligned"),
	BAD(first_offset, "tensor 't': offset 32 at byte 102, expected 0", "first tensor at offset 0"),
	BAD(offset_not_sum, "tensor 'b': offset 64 at byte 127, expected 32",
	    "offset = running padded sum, as llama.cpp requires"),
	BAD(trailing, "40 trailing bytes after the padded end of the last tensor at byte 192",
	    "no tail after the data"),
	BAD(trailing_no_tensors, "8 trailing bytes after the header, which ends at byte 96",
	    "no tail in a file without tensors"),
};

const struct cc_table cc_gguf_cases = { cases, sizeof(cases) / sizeof(cases[0]) };
