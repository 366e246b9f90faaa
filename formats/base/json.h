/* json.h - the one JSON reader of formats/ (over cJSON).
 *
 * Every JSON text the library reads goes through qk_json_parse: config.json,
 * generation_config.json, tokenizer.json, tokenizer_config.json,
 * chat_template.json, safetensors headers and shard indexes. One set of
 * rules, checked by a scan of the text before cJSON builds a tree, each
 * failure naming the file and the byte offset (plus line and column):
 *
 *  - at most QK_JSON_MAX_BYTES bytes (the safetensors reference limit for a
 *    header, larger than any real config or tokenizer file);
 *  - valid UTF-8, no byte order mark; only space, tab, CR and LF outside
 *    strings, no raw control byte (NUL included) inside them;
 *  - strict JSON grammar (RFC 8259): one value, surrounding whitespace
 *    allowed, nothing after it; no NaN, comments or trailing commas;
 *  - no `\u0000` escape: keys, names and text may not contain NUL (C
 *    strings would cut them short); no unpaired UTF-16 surrogate escape;
 *  - nesting at most QK_JSON_MAX_DEPTH arrays and objects deep;
 *  - at most QK_JSON_MAX_VALUES values (counted by the scan, before any tree
 *    is built): a tree costs about QK_JSON_ITEM_BYTES per value whatever
 *    the text, so a 100 MB array of zeros would need 4 GB; with the limit a
 *    parse needs at most about 450 MB besides the text (real Qwen
 *    tokenizer.json files hold 0.6 to 1.1 million values);
 *  - no key twice in one object (Python's json keeps the last, other readers
 *    the first: a file that means different things to different readers is
 *    refused), the message naming the key and where it is.
 *
 * Error codes: QK_E_INVALID for every rule above; QK_E_NOMEM when memory
 * ran out while the tree was built (never reported as bad JSON); QK_E_IO
 * from qk_json_load when the file cannot be read.
 */
#ifndef QK_JSON_H
#define QK_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

#define QK_JSON_MAX_BYTES 100000000u /* bytes of one JSON text */
#define QK_JSON_MAX_DEPTH 64         /* nested arrays and objects */
#define QK_JSON_MAX_VALUES (1u << 22) /* values in one text (4194304) */
#define QK_JSON_ITEM_BYTES 80u       /* a cJSON item and its allocation overhead */

/* Check and parse `len` bytes of JSON text (need not be NUL-terminated).
 * `file` names it in messages; `origin` is the file offset of text[0] (8 for
 * a safetensors header) so that byte offsets are file offsets. On success
 * *out is the tree (the caller cJSON_Deletes it); on failure *out is NULL. */
int qk_json_parse(const char *text, size_t len, const char *file, uint64_t origin,
		  cJSON **out, qk_err *err);

/* Read the file at path (at most QK_JSON_MAX_BYTES) and qk_json_parse it. */
int qk_json_load(const char *path, cJSON **out, qk_err *err);

/* DIR/name, an optional side file: *out is its tree, or NULL when dir is
 * NULL or the file is missing, unreadable or breaks a rule above (as
 * llama.cpp ignores such a generation_config.json). QK_OK, or QK_E_NOMEM
 * (with err set) when memory ran out: that is never ignored. */
int qk_json_load_optional(const char *dir, const char *name, cJSON **out, qk_err *err);

/* "an object", "an array", "a string", "a number", "a boolean", "null" (and
 * "nothing" for NULL), for messages such as "is a string, expected an
 * object". */
const char *qk_json_kind(const cJSON *v);

#endif
