/* outfile.h - atomic output files.
 *
 * An output is written to a temporary file beside the target
 * ("<target>.tmp-<pid>-<n>") and renamed into place only by qk_out_commit,
 * after a flush and fsync (and an fsync of the directory). Any failure,
 * qk_out_abort, or SIGINT/SIGTERM while it is open removes the temporary, so
 * a target is either untouched or complete. An output path that names an
 * existing input (same device and inode as a path given to qk_out_forbid) is
 * refused.
 *
 * Writes are buffered; errors (disk full, permission) are QK_E_IO naming the
 * target path.
 */
#ifndef QK_OUTFILE_H
#define QK_OUTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct qk_out;

/* Refuse `path` as an output later (call once per input file or directory
 * entry). Missing paths are ignored. */
void qk_out_forbid(const char *path);
/* Forget every forbidden path (tests). */
void qk_out_forbid_clear(void);

/* Create the temporary file for `target`. */
int qk_out_open(struct qk_out **out, const char *target, qk_err *err);
/* Append n bytes. */
int qk_out_write(struct qk_out *o, const void *data, size_t n, qk_err *err);
/* Append n zero bytes. */
int qk_out_zeros(struct qk_out *o, uint64_t n, qk_err *err);
/* Bytes written so far. */
uint64_t qk_out_tell(const struct qk_out *o);
/* Flush, fsync, rename over the target, fsync the directory, free. On error
 * the temporary is removed and o is freed all the same. */
int qk_out_commit(struct qk_out *o, qk_err *err);
/* Remove the temporary and free; accepts NULL. */
void qk_out_abort(struct qk_out *o);
/* The temporary file's path (tests, messages). */
const char *qk_out_temp_path(const struct qk_out *o);

#endif
