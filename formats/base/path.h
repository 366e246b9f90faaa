/* path.h - file-name helpers of formats/ (and cli/).
 *
 * One joiner for "directory + name": every reader and writer that opens a
 * side file (config.json, shards, tokenizer files, the files of an output
 * directory) builds its path here.
 */
#ifndef QK_PATH_H
#define QK_PATH_H

#include <stddef.h>

/* "<dir>/<name>" as a new heap string (the caller frees it), or NULL when
 * out of memory. A NULL or empty dir gives a copy of name. The directory is
 * taken as given: "d/" joins to "d//name", which the system reads as
 * "d/name". */
char *qk_path_join(const char *dir, const char *name);
/* "<first dir_len bytes of dir>/<name>": dir may be a whole file path whose
 * directory part is dir_len bytes long. Always puts the '/', so dir_len 0
 * is the root directory ("/name"). */
char *qk_path_join_n(const char *dir, size_t dir_len, const char *name);

#endif
