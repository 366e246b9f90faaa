/* gguf.h - read and write GGUF files (llama.cpp's model format), version 3.
 *
 * File layout (ggml's gguf.cpp and gguf-py; integers little-endian):
 *
 *   u32  magic      "GGUF" (bytes 47 47 55 46)
 *   u32  version    3 (2 is read too: same layout, see below)
 *   u64  n_tensors
 *   u64  n_kv
 *   n_kv times:     string key; u32 value type (enum gf_type); value
 *                     scalar: 1, 2, 4 or 8 bytes; bool: 1 byte, 0 or 1
 *                     string: u64 byte length, bytes (no NUL)
 *                     array:  u32 element type, u64 count, elements
 *   n_tensors times: string name; u32 n_dims; n_dims x i64 ne (ne[0] fastest);
 *                    u32 ggml type; u64 offset (from the data section start)
 *   zero padding up to a multiple of ALIGNMENT (from the file start)
 *   data section:   tensor i at data_start + offset_i, each tensor's bytes
 *                   padded with zeros to a multiple of ALIGNMENT
 *
 * ALIGNMENT is the u32 value of "general.alignment" if present, else 32.
 *
 * Reader rules (each broken rule is QK_E_INVALID, or QK_E_UNSUPPORTED for
 * versions/endianness, with its own message naming the file, the key or
 * tensor, the byte offset and the bad value):
 *  - magic "GGUF"; version 3, or 2 (identical layout; llama.cpp reads it);
 *    version 1 and > 3 are unsupported; a version whose bytes read as a
 *    byte-swapped 1..3 is reported as a big-endian file (unsupported);
 *  - n_tensors <= QK_MAX_TENSORS and n_kv <= GF_MAX_KV, and each no larger
 *    than the rest of the file can hold at the smallest possible entry size
 *    (nothing is allocated from an unchecked count);
 *  - strings: length <= GF_MAX_STRING and <= the bytes left;
 *  - keys: non-empty, valid UTF-8, no NUL byte, unique;
 *  - string values are byte strings: not checked for UTF-8 (llama.cpp does
 *    not either; consumers that need text check it themselves);
 *  - value types 0..12; array element types 0..12 except ARRAY (nested
 *    arrays are refused, as llama.cpp does); array count x element size (8
 *    bytes minimum per string element) <= the bytes left; bools 0 or 1;
 *  - "general.alignment": type u32, a power of two in 1..GF_MAX_ALIGNMENT;
 *  - tensor infos: name non-empty, < GF_MAX_NAME (64) bytes, valid UTF-8
 *    without NUL, unique; n_dims 1..4; each ne >= 1 (0 is refused: a zero
 *    dimension crashed older ggml readers and no model stores an empty
 *    tensor; negative ne is refused as llama.cpp does); the element count
 *    and the byte size fit in int64; ggml type valid (qt_type_get: removed
 *    ids 4, 5, 31-33, 36-38 and ids >= QT_COUNT are refused); ne[0] a
 *    multiple of the type's block size; offset a multiple of ALIGNMENT and,
 *    as llama.cpp requires, equal to the sum of the padded sizes of the
 *    tensors before it in info order;
 *  - the data section start and every tensor's end lie within the file. The
 *    last tensor's padding may be missing, but nothing may follow it:
 *    bytes after the padded end of the last tensor (or, without tensors,
 *    after the padding that ends the header) are refused as trailing bytes
 *    (llama.cpp ignores them; a tail is how polyglot files hide data).
 *
 * Memory: counts are checked against the bytes left before anything is sized
 * from them, so a parse allocates at most a small multiple (< 10x) of the
 * input size, whatever the counts say.
 *
 * Code: gguf.c parses, gguf_get.c has the getters and gf_to_catalog,
 * gguf_write.c the writer; gguf_priv.h is their shared private struct.
 *
 * Ownership: a gf_file owns its mapping (gf_open) or borrows the caller's
 * buffer (gf_parse: `data` must outlive the gf_file). Keys, string values and
 * tensor names are NUL-terminated copies owned by the gf_file; tensor data
 * and raw array data point into the file bytes. Everything returned stays
 * valid until gf_close.
 *
 * Getters taking an index `i` need 0 <= i < count and the right type: a
 * wrong index or type is a programmer error (assert; 0/NULL in NDEBUG
 * builds). Getters taking a key (gf_get_*) check both and report a missing
 * key or a wrong type as QK_E_INVALID naming the file and the key.
 */
#ifndef QK_GGUF_H
#define QK_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "../base/err.h"

#define GF_MAGIC "GGUF"
#define GF_VERSION 3u
#define GF_DEFAULT_ALIGNMENT 32u
#define GF_MAX_ALIGNMENT (1u << 20)    /* bytes; our bound, ggml has none */
#define GF_MAX_NAME 64u                /* tensor name length must be < this (GGML_MAX_NAME) */
#define GF_MAX_DIMS 4                  /* GGML_MAX_DIMS */
#define GF_MAX_STRING (256u << 20)     /* bytes in one string (key or value) */
#define GF_MAX_KV 1000000u             /* key/value pairs in one file */
#define GF_ALIGNMENT_KEY "general.alignment"

/* KV value types, as stored (enum gguf_type). */
enum gf_type {
	GF_U8 = 0, GF_I8 = 1, GF_U16 = 2, GF_I16 = 3, GF_U32 = 4, GF_I32 = 5,
	GF_F32 = 6, GF_BOOL = 7, GF_STRING = 8, GF_ARRAY = 9, GF_U64 = 10,
	GF_I64 = 11, GF_F64 = 12,
	GF_TYPE_COUNT = 13
};

/* "u32", "string", "array", ...; "?" if out of range. */
const char *gf_type_name(int type);
/* Bytes of one stored value of a scalar type (bool 1); 0 for string, array
 * and invalid types. */
size_t gf_type_size(int type);

struct gf_file;

/* ---- reader ---- */

/* Map `path` read-only and parse it. Errors: QK_E_IO (cannot open/map),
 * QK_E_INVALID / QK_E_UNSUPPORTED (message starts with the path), QK_E_NOMEM.
 * On error *out is NULL. */
int gf_open(struct gf_file **out, const char *path, qk_err *err);
/* Parse `size` bytes at `data` (not copied; must outlive the gf_file).
 * `name` is used in messages. */
int gf_parse(struct gf_file **out, const uint8_t *data, size_t size, const char *name,
	     qk_err *err);
/* Free; accepts NULL. */
void gf_close(struct gf_file *f);

const char *gf_name(const struct gf_file *f);     /* path or name given */
uint32_t gf_version(const struct gf_file *f);
uint32_t gf_alignment(const struct gf_file *f);
const uint8_t *gf_bytes(const struct gf_file *f); /* the whole file */
size_t gf_size(const struct gf_file *f);          /* bytes in the file */
uint64_t gf_data_offset(const struct gf_file *f); /* file offset of the data section */

/* ---- key/values ---- */

int64_t gf_n_kv(const struct gf_file *f);
/* Index of `key`, or -1. */
int64_t gf_find_key(const struct gf_file *f, const char *key);
const char *gf_key(const struct gf_file *f, int64_t i);
enum gf_type gf_kv_type(const struct gf_file *f, int64_t i);

/* Scalars by index; the kv must have exactly that type. */
uint8_t gf_kv_u8(const struct gf_file *f, int64_t i);
int8_t gf_kv_i8(const struct gf_file *f, int64_t i);
uint16_t gf_kv_u16(const struct gf_file *f, int64_t i);
int16_t gf_kv_i16(const struct gf_file *f, int64_t i);
uint32_t gf_kv_u32(const struct gf_file *f, int64_t i);
int32_t gf_kv_i32(const struct gf_file *f, int64_t i);
float gf_kv_f32(const struct gf_file *f, int64_t i);
bool gf_kv_bool(const struct gf_file *f, int64_t i);
uint64_t gf_kv_u64(const struct gf_file *f, int64_t i);
int64_t gf_kv_i64(const struct gf_file *f, int64_t i);
double gf_kv_f64(const struct gf_file *f, int64_t i);
/* String value, NUL-terminated; *len (if not NULL) gets its byte length
 * (the value may itself hold NUL bytes). */
const char *gf_kv_str(const struct gf_file *f, int64_t i, size_t *len);

/* Any integer kv (u8..i64, not bool) whose value lies in [lo, hi]:
 * true and *out set; false if it is not an integer or out of range. */
bool gf_kv_int(const struct gf_file *f, int64_t i, int64_t lo, int64_t hi, int64_t *out);
/* f32 or f64 kv as double: true and *out set; false otherwise. */
bool gf_kv_float(const struct gf_file *f, int64_t i, double *out);

/* Arrays by index; the kv must be an array. */
enum gf_type gf_arr_type(const struct gf_file *f, int64_t i);  /* element type */
uint64_t gf_arr_n(const struct gf_file *f, int64_t i);         /* element count */
/* Raw element bytes of a non-string array: little-endian, possibly
 * unaligned, gf_arr_n x gf_type_size bytes; NULL for string arrays and
 * empty arrays. */
const uint8_t *gf_arr_data(const struct gf_file *f, int64_t i);
/* Element j of a non-string array, widened. gf_arr_int: integer and bool
 * arrays (u64 values above INT64_MAX wrap: use gf_arr_u64, which returns the
 * stored bits zero-extended); gf_arr_float: any numeric array as double. */
int64_t gf_arr_int(const struct gf_file *f, int64_t i, uint64_t j);
uint64_t gf_arr_u64(const struct gf_file *f, int64_t i, uint64_t j);
double gf_arr_float(const struct gf_file *f, int64_t i, uint64_t j);
/* Element j of a string array (NUL-terminated; *len as gf_kv_str). */
const char *gf_arr_str(const struct gf_file *f, int64_t i, uint64_t j, size_t *len);

/* Checked lookups by key: QK_OK, or QK_E_INVALID "<file>: key '<key>' is
 * missing" / "...: key '<key>' has type i32, expected u32". */
int gf_get_u32(const struct gf_file *f, const char *key, uint32_t *out, qk_err *err);
int gf_get_u64(const struct gf_file *f, const char *key, uint64_t *out, qk_err *err);
int gf_get_i32(const struct gf_file *f, const char *key, int32_t *out, qk_err *err);
int gf_get_f32(const struct gf_file *f, const char *key, float *out, qk_err *err);
int gf_get_bool(const struct gf_file *f, const char *key, bool *out, qk_err *err);
int gf_get_str(const struct gf_file *f, const char *key, const char **out, size_t *len,
	       qk_err *err);
/* `key` must be an array of `elem` elements: *idx gets its kv index. */
int gf_get_arr(const struct gf_file *f, const char *key, enum gf_type elem, int64_t *idx,
	       qk_err *err);

/* ---- tensors (in info order, which is also data order) ---- */

int64_t gf_n_tensors(const struct gf_file *f);
/* Index of the tensor called `name`, or -1. */
int64_t gf_find_tensor(const struct gf_file *f, const char *name);
const char *gf_tensor_name(const struct gf_file *f, int64_t i);
int gf_tensor_type(const struct gf_file *f, int64_t i);     /* ggml type id (qtype.h) */
int gf_tensor_n_dims(const struct gf_file *f, int64_t i);   /* 1..4 */
/* ne[0..3] in ggml order (ne[0] fastest); dims past n_dims are 1. */
void gf_tensor_ne(const struct gf_file *f, int64_t i, int64_t ne[GF_MAX_DIMS]);
uint64_t gf_tensor_n_elem(const struct gf_file *f, int64_t i);
uint64_t gf_tensor_offset(const struct gf_file *f, int64_t i); /* from data section start */
uint64_t gf_tensor_size(const struct gf_file *f, int64_t i);   /* bytes, unpadded */
const uint8_t *gf_tensor_data(const struct gf_file *f, int64_t i); /* into the file bytes */

/* ---- catalog ---- */

/* Map and parse `path`, then add it to `cat`: one file (its mapping), its
 * tensors in info order with the shape reversed from ne (catalog shapes are
 * row-major, slowest first: ne = [in, out] becomes shape [out, in]), dtype =
 * the ggml type id, data pointing into the mapping; the parsed file goes to
 * cat->gguf[file index] (owned by the catalog) and cat->format becomes
 * QK_FMT_GGUF. On error nothing is added. */
int gf_to_catalog(struct qk_catalog *cat, const char *path, qk_err *err);

/* ---- writer ----
 *
 * Streaming, the layout gguf-py's GGUFWriter produces: add key/values and
 * tensor infos, then stream each tensor's bytes in info order; the header
 * (magic, version 3, counts, KVs in the order added, infos with offsets =
 * running padded sums, padding) is written in one go before the first data
 * byte, and each tensor is padded with zeros to ALIGNMENT. ALIGNMENT is 32
 * unless a u32 "general.alignment" KV was added (a power of two <=
 * GF_MAX_ALIGNMENT). Output goes through outfile.h: the target appears only
 * when gf_writer_commit succeeds.
 *
 * Everything the writer accepts, the reader accepts: keys non-empty valid
 * UTF-8 without NUL, unique; tensor names likewise and < GF_MAX_NAME bytes;
 * n_dims 1..4; ne >= 1; a valid ggml type with ne[0] a block multiple. A
 * broken rule or a call out of order is QK_E_USAGE naming the key/tensor;
 * after any error the writer only accepts abort (commit fails).
 */
struct gf_writer;

int gf_writer_open(struct gf_writer **w, const char *path, qk_err *err);

int gf_writer_add_u8(struct gf_writer *w, const char *key, uint8_t v, qk_err *err);
int gf_writer_add_i8(struct gf_writer *w, const char *key, int8_t v, qk_err *err);
int gf_writer_add_u16(struct gf_writer *w, const char *key, uint16_t v, qk_err *err);
int gf_writer_add_i16(struct gf_writer *w, const char *key, int16_t v, qk_err *err);
int gf_writer_add_u32(struct gf_writer *w, const char *key, uint32_t v, qk_err *err);
int gf_writer_add_i32(struct gf_writer *w, const char *key, int32_t v, qk_err *err);
int gf_writer_add_f32(struct gf_writer *w, const char *key, float v, qk_err *err);
int gf_writer_add_bool(struct gf_writer *w, const char *key, bool v, qk_err *err);
int gf_writer_add_u64(struct gf_writer *w, const char *key, uint64_t v, qk_err *err);
int gf_writer_add_i64(struct gf_writer *w, const char *key, int64_t v, qk_err *err);
int gf_writer_add_f64(struct gf_writer *w, const char *key, double v, qk_err *err);
/* A NUL-terminated string value. */
int gf_writer_add_str(struct gf_writer *w, const char *key, const char *v, qk_err *err);
/* A string value of `len` bytes (may hold any bytes). */
int gf_writer_add_strn(struct gf_writer *w, const char *key, const char *v, size_t len,
		       qk_err *err);
/* An array of n scalars of type `elem` (not STRING/ARRAY). `data` holds n
 * values of the matching C type in host order (uint8_t ... double; bool
 * arrays: n `bool`s). */
int gf_writer_add_arr(struct gf_writer *w, const char *key, enum gf_type elem,
		      const void *data, uint64_t n, qk_err *err);
/* An array of n strings; lens NULL: each is NUL-terminated. */
int gf_writer_add_arr_str(struct gf_writer *w, const char *key, const char *const *v,
			  const size_t *lens, uint64_t n, qk_err *err);

/* Declare the next tensor (ne in ggml order, ne[0] fastest). Before any data. */
int gf_writer_add_tensor(struct gf_writer *w, const char *name, int type, int n_dims,
			 const int64_t *ne, qk_err *err);
/* Write the header now (otherwise the first gf_writer_write does). After it
 * no KV or tensor may be added. */
int gf_writer_write_header(struct gf_writer *w, qk_err *err);
/* Append n bytes of the current tensor (the first declared one whose bytes
 * are not complete). A chunk may not run past its end (QK_E_USAGE); the
 * padding is written when a tensor completes. */
int gf_writer_write(struct gf_writer *w, const void *data, size_t n, qk_err *err);
/* Index of the tensor the next gf_writer_write goes to (== count when done). */
size_t gf_writer_current(const struct gf_writer *w);
/* Byte size of declared tensor i (unpadded), for callers sizing chunks. */
uint64_t gf_writer_tensor_size(const struct gf_writer *w, size_t i);
/* Write the header if not yet written, check that every tensor's bytes
 * arrived (QK_E_USAGE naming the first incomplete one), commit the file and
 * free the writer; on error the temporary is removed and the writer freed. */
int gf_writer_commit(struct gf_writer *w, qk_err *err);
struct qk_out;
/* As commit, but the file stays a finished temporary handed to the caller,
 * for a set published all at once (outfile.h: qk_out_commit_set); w is freed
 * in every case. */
int gf_writer_finish(struct gf_writer *w, struct qk_out **out, qk_err *err);
/* Discard the output and free; accepts NULL. */
void gf_writer_abort(struct gf_writer *w);

#endif
