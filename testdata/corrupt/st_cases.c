/* st_cases.c - corrupt .safetensors files, one per reader rule (see
 * formats/container/safetensors.h; the "why" column names the reference
 * library's rule or the bug each case guards against).
 * Headers are written as JSON text and padded with spaces by cc_write_st; the
 * few cases about the length prefix itself build their bytes with cc_buf. */
#include "corrupt.h"

#include <string.h>

/* one tensor "t" */
#define T1(dt, sh, off) "{\"t\":{\"dtype\":\"" dt "\",\"shape\":" sh ",\"data_offsets\":" off "}}"
/* a U8 tensor of n bytes at [b, e) */
#define U8(name, n, b, e) \
	"\"" name "\":{\"dtype\":\"U8\",\"shape\":[" #n "],\"data_offsets\":[" #b "," #e "]}"

/* a case function per header: cc_write_st(path, HEADER, DATA_LEN) */
#define ST_CASE(fn, header, data_len) \
	static int fn(const char *path) { return cc_write_st(path, header, data_len); }

ST_CASE(mk_not_json, "{\"t\":{\"dtype\":", 0)
ST_CASE(mk_not_object, "[1,2,3]", 0)
ST_CASE(mk_entry_not_object, "{\"t\":[1]}", 0)
ST_CASE(mk_missing_field, "{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4)
ST_CASE(mk_unknown_field, "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"strides\":[1]}}", 4)
ST_CASE(mk_unknown_dtype, T1("Q4_K", "[32]", "[0,18]"), 18)
ST_CASE(mk_shape_negative, T1("F32", "[-2,2]", "[0,16]"), 16)
ST_CASE(mk_shape_fraction, T1("F32", "[2.5]", "[0,10]"), 10)
ST_CASE(mk_shape_string, T1("F32", "[\"4\"]", "[0,16]"), 16)
ST_CASE(mk_shape_huge, T1("U8", "[18446744073709551616]", "[0,1]"), 1)
ST_CASE(mk_rank_9, T1("U8", "[1,1,1,1,1,1,1,1,1]", "[0,1]"), 1)
ST_CASE(mk_offsets_three, T1("U8", "[2]", "[0,1,2]"), 2)
ST_CASE(mk_offsets_reversed, T1("U8", "[2]", "[4,2]"), 4)
ST_CASE(mk_size_mismatch, T1("F32", "[2,2]", "[0,12]"), 12)
ST_CASE(mk_elem_overflow, T1("U8", "[4294967296,4294967296,4]", "[0,0]"), 0)
/* stable-diffusion.cpp#1876: [2^32, 2^32] wrapped to 0 bytes in a signed product */
ST_CASE(mk_elem_wrap_zero, T1("F32", "[4294967296,4294967296]", "[0,0]"), 0)
ST_CASE(mk_subbyte_partial, T1("F4", "[5]", "[0,3]"), 3)
ST_CASE(mk_hole_at_start, T1("U8", "[4]", "[4,8]"), 8)
ST_CASE(mk_hole, "{" U8("a", 4, 0, 4) "," U8("b", 4, 6, 10) "}", 10)
ST_CASE(mk_overlap, "{" U8("a", 4, 0, 4) "," U8("b", 4, 2, 6) "}", 6)
ST_CASE(mk_trailing, T1("U8", "[4]", "[0,4]"), 12)
ST_CASE(mk_truncated, T1("F32", "[4]", "[0,16]"), 10)
ST_CASE(mk_dup_tensor, "{" U8("t", 1, 0, 1) "," U8("t", 1, 1, 2) "}", 2)
ST_CASE(mk_meta_not_object, "{\"__metadata__\":\"pt\"}", 0)
ST_CASE(mk_meta_not_string, "{\"__metadata__\":{\"format\":{\"nested\":1}}}", 0)
ST_CASE(mk_meta_dup_key, "{\"__metadata__\":{\"format\":\"pt\",\"format\":\"np\"}}", 0)
ST_CASE(mk_empty_name, "{" U8("", 1, 0, 1) "}", 1)
ST_CASE(mk_nul_escape, "{" U8("model.a\\u0000/../../x", 1, 0, 1) "}", 1)
ST_CASE(mk_bad_utf8, "{" U8("caf\xe9", 1, 0, 1) "}", 1)

/* 1025-byte name: one over QK_MAX_NAME */
static int mk_long_name(const char *path)
{
	char hdr[1200];
	size_t n = 0;

	memcpy(hdr, "{\"", 2);
	n = 2;
	memset(hdr + n, 'n', 1025);
	n += 1025;
	strcpy(hdr + n, "\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}");
	return cc_write_st(path, hdr, 1);
}

static int mk_short_file(const char *path)
{
	return cc_write(path, "\x10\0\0\0\0", 5);
}

/* header length prefix with no header behind it */
static int write_len(const char *path, uint64_t n, const char *text)
{
	struct cc_buf b = { 0 };
	int rc;

	cc_u64(&b, n);
	cc_put(&b, text, strlen(text));
	rc = cc_write(path, b.p, b.n);
	cc_free(&b);
	return rc;
}

static int mk_header_too_large(const char *path) { return write_len(path, 100000001ull, "{}"); }
static int mk_header_past_eof(const char *path) { return write_len(path, 64, "{}      "); }
static int mk_header_len_max(const char *path) { return write_len(path, UINT64_MAX, "{}"); }

/* ruvnet/RuView PR #809: a writer padded the header with NUL, not spaces */
static int mk_nul_padding(const char *path)
{
	static const uint8_t f[16] = { 8, 0, 0, 0, 0, 0, 0, 0, '{', '}', 0, 0, 0, 0, 0, 0 };
	return cc_write(path, f, sizeof(f));
}

#define BAD(name, frag, why) { #name, ".safetensors", 3, frag, mk_##name, why }

static const struct cc_case cases[] = {
	BAD(short_file, "too short for the 8-byte header length", "file under 8 bytes (HeaderTooSmall)"),
	BAD(header_too_large, "header length 100000001 is larger than the limit of 100000000 bytes",
	    "header over MAX_HEADER_SIZE (HeaderTooLarge)"),
	BAD(header_len_max, "header length 18446744073709551615 is larger than the limit",
	    "u64 max header length: no overflow in 8 + N"),
	BAD(header_past_eof, "header length 64 runs past the end of the file",
	    "8 + N beyond the file (InvalidHeaderLength)"),
	BAD(nul_padding, "control byte 0x00 at byte 10", "header padded with NUL (RuView #809)"),
	BAD(bad_utf8, "safetensors: not valid UTF-8", "header not UTF-8 (InvalidHeader)"),
	BAD(not_json, "invalid JSON at byte", "truncated JSON"),
	BAD(not_object, "header is an array, expected an object", "top level must be an object"),
	BAD(entry_not_object, "tensor 't': entry is an array, expected an object", "entry shape"),
	BAD(missing_field, "tensor 't': missing field 'shape'", "entry needs dtype, shape, data_offsets"),
	BAD(unknown_field, "tensor 't': unknown field 'strides'", "no strides or other fields"),
	BAD(unknown_dtype, "tensor 't': unknown dtype 'Q4_K'", "dtype from the reference enum only"),
	BAD(shape_negative, "shape[0] = -2 is not an exact non-negative integer", "negative dim"),
	BAD(shape_fraction, "shape[0] = 2.5 is not an exact non-negative integer", "fractional dim"),
	BAD(shape_string, "shape[0] is a string, expected a non-negative integer", "dim of wrong type"),
	BAD(shape_huge, "shape[0] = 1.8446744073709552e+19 is not an exact", "dim past 2^53 cannot be exact"),
	BAD(rank_9, "shape has 9 dimensions, more than the limit of 8", "rank cap (not in the reference)"),
	BAD(offsets_three, "data_offsets has 3 elements, expected 2", "offsets are [begin, end]"),
	BAD(offsets_reversed, "data_offsets [4, 2] end before they begin", "END >= BEGIN"),
	BAD(size_mismatch, "data_offsets [0, 12] cover 12 bytes, expected 16 (F32 [2, 2])",
	    "shape x dtype != bytes (TensorInvalidInfo)"),
	BAD(elem_overflow, "has more elements than fit in 64 bits", "element count overflow (ValidationOverflow)"),
	BAD(elem_wrap_zero, "shape [4294967296, 4294967296] has more elements than fit in 64 bits",
	    "[2^32, 2^32] must not wrap to 0 (stable-diffusion.cpp#1876)"),
	BAD(subbyte_partial, "5 elements of F4 (4 bits) do not fill whole bytes", "MisalignedSlice"),
	BAD(hole_at_start, "tensor 't' is first in the data but begins at byte 4, expected 0",
	    "first tensor at 0 (InvalidOffset)"),
	BAD(hole, "hole of 2 bytes between tensor 'a' (ends at 4) and tensor 'b' (begins at 6)",
	    "no holes (InvalidOffset)"),
	BAD(overlap, "tensors 'a' [0, 4] and 'b' [2, 6] overlap", "no overlaps (attacks/README)"),
	BAD(trailing, "8 trailing bytes after the last tensor", "no polyglot tail (MetadataIncompleteBuffer)"),
	BAD(truncated, "file is truncated: tensors need 16 bytes of data, the file holds 10",
	    "data shorter than the offsets"),
	BAD(dup_tensor, "key 't' appears twice in the top-level object", "duplicates rejected (serde keeps the last)"),
	BAD(meta_not_object, "__metadata__ is a string, expected an object of strings", "metadata shape"),
	BAD(meta_not_string, "__metadata__ key 'format' is an object, expected a string",
	    "metadata is string -> string"),
	BAD(meta_dup_key, "key 'format' appears twice in object '__metadata__'", "duplicate metadata keys"),
	BAD(empty_name, "empty tensor name", "names non-empty"),
	BAD(long_name, "longer than the limit of 1024", "name length cap"),
	BAD(nul_escape, "escaped NUL (\\u0000)", "NUL in a name would cut it short"),
};

const struct cc_table cc_st_cases = { cases, sizeof(cases) / sizeof(cases[0]) };
