/* safetensors.h - read and write .safetensors files.
 *
 * File layout (huggingface/safetensors; all integers little-endian):
 *
 *   [0, 8)          u64 N: bytes of the JSON header
 *   [8, 8+N)        UTF-8 JSON object, may be padded with spaces:
 *                     { "__metadata__": { "key": "value", ... },   (optional)
 *                       "<tensor>": { "dtype": "BF16",
 *                                     "shape": [rows, cols],          (row-major)
 *                                     "data_offsets": [begin, end] }, ... }
 *   [8+N, EOF)      the data buffer; [begin, end) are relative to its start
 *
 * Reader rules (each broken rule is QK_E_INVALID with its own message that
 * names the file, the tensor and the values): file >= 8 bytes; N <= 100 MB and
 * 8 + N <= file size; header valid UTF-8 without NUL or raw control bytes and
 * without "\u0000" escapes; a JSON object (leading/trailing whitespace
 * allowed); every entry an object with exactly dtype (a safetensors dtype
 * string), shape (<= QK_MAX_DIMS exact non-negative integers < 2^53) and
 * data_offsets (two such integers, begin <= end); "__metadata__" a flat string
 * to string object; names non-empty, <= QK_MAX_NAME bytes, unique (tensor
 * names and metadata keys); at most QK_MAX_TENSORS tensors; element count and
 * bit count without overflow, bits a multiple of 8; end - begin == byte size;
 * in offset order the first tensor begins at 0, each begins where the previous
 * ends (holes and overlaps reported apart), and the last end is exactly the
 * data size (no trailing bytes, no truncation). Empty tensors and rank-0
 * scalars are valid. Stricter than the reference library: duplicate names,
 * unknown fields in an entry, rank and count limits, NUL in names. More
 * lenient: "1.0" or "1e3" are accepted as integers (cJSON keeps no number
 * text).
 *
 * Writer: tensors are declared first, then the header is written, then each
 * tensor's bytes are streamed in declaration order. The header lists
 * "__metadata__" (if any) then the tensors in declaration order, with data
 * offsets in that same order (the reference writer sorts by descending dtype
 * alignment then name instead; declare big-alignment dtypes first if natural
 * alignment matters). It starts with '{' and is padded with spaces so that
 * 8 + N is a multiple of 8. Output goes through outfile.h: the target appears
 * only when st_writer_commit succeeds.
 */
#ifndef QK_SAFETENSORS_H
#define QK_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "../base/err.h"

#define ST_MAX_HEADER 100000000u /* bytes of JSON header, as the reference library */

/* ---- reader ---- */

/* Map `path`, validate it and add it to `cat`: one file (qk_catalog_add_file),
 * its tensors in data-offset order and its __metadata__ (qk_catalog_add_meta).
 * Tensor data pointers point into the mapping, which the catalog owns. On any
 * error nothing is added. Errors: QK_E_IO (cannot open/map), QK_E_INVALID
 * (message starts with the path), QK_E_NOMEM. */
int st_open(struct qk_catalog *cat, const char *path, qk_err *err);

/* The same validation on a buffer: adds tensors (file = file_idx, data
 * pointers into `data`) and metadata to `cat`, but no file. `name` is used in
 * messages. `data` must outlive the catalog's use of the tensors. On error
 * nothing is added. */
int st_parse(struct qk_catalog *cat, int file_idx, const uint8_t *data, size_t size,
	     const char *name, qk_err *err);

/* ---- writer ---- */

struct st_writer;

/* Start writing `path` (a temporary beside it until commit). */
int st_writer_open(struct st_writer **w, const char *path, qk_err *err);
/* Declare the next tensor: a dtype with a safetensors name, n_dims <=
 * QK_MAX_DIMS, shape row-major. Name: non-empty valid UTF-8, <= QK_MAX_NAME
 * bytes, unique, not "__metadata__". QK_E_USAGE after data was written or on a
 * bad declaration. */
int st_writer_add(struct st_writer *w, const char *name, int dtype, int n_dims,
		  const uint64_t *shape, qk_err *err);
/* Add a __metadata__ entry (key unique, both valid UTF-8). Before data. */
int st_writer_meta(struct st_writer *w, const char *key, const char *val, qk_err *err);
/* Append n bytes of the current tensor (the first declared tensor whose bytes
 * are not complete; empty tensors are skipped). The first call writes the
 * header. A chunk may not run past the end of the current tensor
 * (QK_E_USAGE). After any error the writer only accepts abort. */
int st_writer_write(struct st_writer *w, const void *data, size_t n, qk_err *err);
/* Index of the tensor the next st_writer_write goes to (== count when all
 * bytes have arrived). */
size_t st_writer_current(const struct st_writer *w);
/* Write the header if not yet written, check that every declared byte
 * arrived (QK_E_USAGE naming the first incomplete tensor otherwise), commit
 * the file and free the writer; on error the temporary is removed and the
 * writer freed all the same. */
int st_writer_commit(struct st_writer *w, qk_err *err);
/* Discard the output and free; accepts NULL. */
void st_writer_abort(struct st_writer *w);

#endif
