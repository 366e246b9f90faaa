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

#include <stdbool.h>
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
/* Would qk_out_open refuse `path` as one of the inputs? (checks before
 * anything is written, e.g. for files that will be moved into a directory) */
bool qk_out_is_forbidden(const char *path);

/* ---- groups: outputs that only make sense together (a split GGUF set) ----
 *
 * Each file of a group is written and committed on its own; then its path is
 * added to the group. Until qk_out_group_keep, a SIGINT/SIGTERM/SIGHUP
 * removes every file of the group (besides the open temporaries), and
 * qk_out_group_undo removes them on a failure, so a set is complete or
 * absent. Add a path with the signals blocked around commit + add
 * (qk_out_block_signals) to leave no window. At most QK_OUT_MAX_GROUP paths;
 * one group at a time. */
#define QK_OUT_MAX_GROUP 4096
/* Add a committed output. QK_E_USAGE past QK_OUT_MAX_GROUP, QK_E_NOMEM. */
int qk_out_group_add(const char *path, qk_err *err);
/* Remove every file of the group and forget them. */
void qk_out_group_undo(void);
/* Forget them: the group is complete and stays. */
void qk_out_group_keep(void);
/* Block (true) or unblock (false) SIGINT, SIGTERM and SIGHUP in the calling
 * thread; signals that arrived meanwhile are delivered on unblocking. */
void qk_out_block_signals(bool block);

/* ---- output directories ----
 *
 * A directory output (a safetensors checkpoint) is written into a temporary
 * directory beside the target ("<target>.tmp-<pid>-<n>", trailing slashes of
 * the target ignored) and moved into place by qk_outdir_commit. A failure,
 * qk_outdir_abort, or SIGINT/SIGTERM/SIGHUP while it is open removes the
 * temporary directory and everything in it (the signal handler empties it
 * with async-signal-safe calls only: getdents64, unlinkat, rmdir). Only
 * plain files are expected inside; at most QK_OUT_MAX_DIRS at once. */
#define QK_OUT_MAX_DIRS 4
struct qk_outdir;

/* Create the temporary directory for `target`. QK_E_IO when it cannot be
 * created (missing parent, permission), QK_E_USAGE when `target` exists and
 * is not a directory, QK_E_NOMEM. */
int qk_outdir_open(struct qk_outdir **d, const char *target, qk_err *err);
/* The temporary directory (write the outputs there). */
const char *qk_outdir_temp_path(const struct qk_outdir *d);
/* Move the result into place: a missing target or an empty directory is
 * replaced by the temporary directory in one rename; a directory that holds
 * entries is refused (QK_E_USAGE "exists and is not empty") unless `merge`,
 * which renames each file over the file of the same name in the target
 * (other entries stay), refusing before any rename an entry that names an
 * input (qk_out_forbid) or an existing directory. Then the directories are
 * fsynced. The temporary directory is removed and d freed in every case. */
int qk_outdir_commit(struct qk_outdir *d, bool merge, qk_err *err);
/* Remove the temporary directory and its files, free; accepts NULL. */
void qk_outdir_abort(struct qk_outdir *d);

#endif
