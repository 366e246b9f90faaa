/* gguf_split.h - llama.cpp split GGUF sets ("<prefix>-00001-of-00003.gguf"
 * ...) read as one model, and the file names a writer gives them.
 *
 * A split set, as llama.cpp's gguf-split tool and gguf-py's GGUFWriter
 * (split_max_tensors / split_max_size) write it:
 *  - N files named "<prefix>-%05u-of-%05u.gguf" with the 1-based file number
 *    and N (llama.cpp's llama_split_path); N <= 65535 (split.count is u16);
 *  - every file is a complete GGUF file (gguf.h): its own header, key/values,
 *    tensor infos and data section, offsets relative to its own data start;
 *  - every file carries "split.no" (u16, the 0-based position of the file in
 *    the set: file "-00002-of-..." has split.no 1), "split.count" (u16, N) and
 *    "split.tensors.count" (i32, tensors in the whole set);
 *  - the model's key/values (general.*, arch and tokenizer keys) are in the
 *    first file only; the others hold just the split keys. A file may hold
 *    no tensors (gguf-split --no-tensor-first-split, gguf-py
 *    small_first_shard: the first file is then metadata only).
 * A file with split.count 0 or 1, or without split keys, is a plain file
 * (gguf-split --merge writes split.count 0 into its output).
 *
 * What gs_to_catalog checks (each broken rule is QK_E_INVALID naming the
 * file, the key, the value found and the value expected):
 *  - the first file's split.no is 0 and its name is
 *    "<prefix>-00001-of-<N>.gguf" for its split.count N (llama.cpp builds
 *    the other names from it the same way);
 *  - every file 1..N exists (a missing one is named: "split 2 of 3 is
 *    missing"), parses as GGUF, has split.no = its 0-based position and
 *    split.count = N, both u16 (llama.cpp itself checks only split.no in the
 *    later files; both known writers write both keys in every file);
 *  - the first file's split.tensors.count (i32) equals the sum of the files'
 *    tensor counts; a later file's split.tensors.count, when present, equals
 *    the first's;
 *  - tensor names are unique across the set (catalog.h's duplicate check:
 *    "<file>: duplicate tensor name '<name>'").
 * Key types must be exactly u16/u16/i32, as llama.cpp requires.
 *
 * Which file may be named: llama.cpp loads a set only from its first file.
 * We also accept any later member (and a directory holding exactly one set,
 * see gs_find_in_dir): the set is opened from its first file, derived from
 * the member's name, so the catalog is the same whichever member was named.
 *
 * Code: gguf_split.c. Prefix gs_.
 */
#ifndef QK_GGUF_SPLIT_H
#define QK_GGUF_SPLIT_H

#include <stddef.h>

#include "catalog.h"
#include "../base/err.h"

#define GS_KEY_NO "split.no"                 /* u16, 0-based file position */
#define GS_KEY_COUNT "split.count"           /* u16, files in the set */
#define GS_KEY_TENSORS "split.tensors.count" /* i32, tensors in the set */
#define GS_MAX_COUNT 65535u                  /* split.count is a u16 */

/* Recognise "<prefix>-NNNNN-of-MMMMM.gguf" (exactly five digits each, as
 * llama.cpp writes them; 1 <= NNNNN <= MMMMM <= GS_MAX_COUNT; prefix not
 * empty). Returns 1 and sets prefix (NUL-terminated), *no (1-based, as in
 * the name) and *count; 0 if the name does not have that form; -1 if it does
 * but the prefix does not fit in `size` bytes. prefix/no/count may be NULL
 * (prefix NULL: only recognise). */
int gs_parse_name(const char *path, char *prefix, size_t size, unsigned *no, unsigned *count);

/* "<prefix>-%05u-of-%05u.gguf" into buf, `no` 1-based (the file's split.no
 * key is no - 1). QK_OK, or QK_E_USAGE if not 1 <= no <= count <=
 * GS_MAX_COUNT or the name does not fit in `size` bytes (buf is then ""). */
int gs_split_path(char *buf, size_t size, const char *prefix, unsigned no, unsigned count);

/* Open `path` (a .gguf file) into `cat` as gf_to_catalog does; if it belongs
 * to a split set, open the whole set: files 1..N in order as catalog files
 * 0..N-1 (cat->gguf[0] is the first file, which holds the model's key/values),
 * tensors in set order. Errors: as gf_to_catalog, plus the QK_E_INVALID
 * rules above. On error nothing is added to `cat`. */
int gs_to_catalog(struct qk_catalog *cat, const char *path, qk_err *err);

/* For a directory holding several .gguf files: if every one of them is a
 * member of the same split set (same prefix and count by name), the path
 * "<dir>/<name>" of the lowest-numbered member present (malloc'd; the
 * caller frees it), else NULL (also on out of memory). */
char *gs_find_in_dir(const char *dir);

#endif
