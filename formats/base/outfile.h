/* outfile.h - atomic output files and directories.
 *
 * The promise (README "Guarantees" repeats it for users): a target is always
 * either what it was before, or the complete new output; never a mix, never a
 * truncated file.
 *
 * How: an output is written to a temporary beside the target,
 * "<target>.tmp-qwenkit-<12 random hex digits>", created with O_EXCL (a
 * collision draws a new name) and flock(LOCK_EX)-locked for as long as its
 * writer lives. qk_out_commit flushes, fsyncs, gives it the target's
 * permission bits (and owner, when run as root) and renames it over the
 * target, then fsyncs the directory. A failure, qk_out_abort, or
 * SIGINT/SIGTERM/SIGHUP removes the temporary. SIGKILL cannot be caught: a
 * killed run leaves its temporaries (one per output open at the time, or one
 * temporary directory); the next run for the same target removes them (their
 * lock is gone with their owner) and reports each through the notice hook.
 *
 * The temp namespace of a target (its directory's entries
 * "<base>.tmp-qwenkit-*") is guarded by an exclusive flock on the directory
 * held only while a run scans it and creates its temporary. A temporary of the
 * same target still locked by a live process means another run is writing
 * that target: qk_out_open and qk_out_check refuse (QK_E_IO, "another process
 * is writing it"). A directory that cannot be opened for reading is neither
 * scanned nor locked.
 *
 * Targets: an empty path, a directory, or an existing target that is not a
 * regular file (device node, FIFO, socket, or a symlink to one) is refused
 * with QK_E_USAGE; an input registered with qk_out_forbid (compared by device
 * and inode, so hard links and symlinks to it count) likewise. A symbolic link
 * to a regular file is written through: the file it points to is replaced (its
 * temporary beside it, on its filesystem) and the link stays, as a shell
 * redirection would; a dangling link is refused. The replaced file keeps its
 * permission bits (a 0444 target stays 0444); a new file gets 0666 less the
 * umask.
 *
 * Messages name the target as the caller gave it, never the temporary. Writes
 * are buffered (1 MiB), and full buffers bypass the page cache (O_DIRECT)
 * where the filesystem allows it; errors (disk full, permission) are
 * QK_E_IO.
 */
#ifndef QK_OUTFILE_H
#define QK_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct qk_out;

/* the infix of every temporary name */
#define QK_OUT_TMP_TAG ".tmp-qwenkit-"

/* Where notes go (a stale temporary removed): the library never prints, the
 * CLI sets a hook. NULL (the default) drops them. */
typedef void (*qk_out_notice_fn)(const char *msg);
void qk_out_set_notice(qk_out_notice_fn fn);

/* Refuse `path` as an output later (call once per input file or directory
 * entry). Missing paths are ignored; QK_E_NOMEM when the list cannot grow. */
int qk_out_forbid(const char *path, qk_err *err);
/* Forget every forbidden path (tests). */
void qk_out_forbid_clear(void);
/* Would qk_out_open refuse `path` as one of the inputs? */
bool qk_out_is_forbidden(const char *path);

/* Everything qk_out_open would refuse, before any work: an empty path, a
 * directory, a non-regular or dangling target, an input, a missing or
 * unwritable directory, another run writing the same target, and fewer than
 * `planned_bytes` free on the target's filesystem (0: not checked). Creates
 * nothing. */
int qk_out_check(const char *target, uint64_t planned_bytes, qk_err *err);

/* Create the temporary file for `target` (refusals as qk_out_check). */
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
/* The temporary file's path (tests). */
const char *qk_out_temp_path(const struct qk_out *o);
/* Whether full buffers still go to the disk with O_DIRECT, bypassing the
 * page cache (tests): true from open on filesystems that allow it unless
 * QWENKIT_DIRECT_IO is off, 0 or no; false after the last, partial buffer. */
bool qk_out_is_direct(struct qk_out *o);

/* ---- sets: outputs that only make sense together (a split GGUF set) ----
 *
 * Each member is opened and written as above, then qk_out_finish flushes and
 * fsyncs it but keeps it a (locked) temporary. qk_out_commit_set moves every
 * member into place with SIGINT/SIGTERM/SIGHUP blocked: an existing file of
 * that name is first hard-linked (or, where links fail, renamed) to a backup
 * name; if any rename fails, every target already moved gets its backup back
 * (or is removed when it did not exist), so an older set stays exactly as it
 * was. Only SIGKILL or a crash inside that loop of renames can leave a mix. */
#define QK_OUT_MAX_OPEN 4112 /* outputs open or finished at once */
/* Flush and fsync; the member stays a temporary until qk_out_commit_set. */
int qk_out_finish(struct qk_out *o, qk_err *err);
/* Publish n finished members all together or none; frees every member. */
int qk_out_commit_set(struct qk_out **members, size_t n, qk_err *err);
/* Block (true) or unblock (false) SIGINT, SIGTERM and SIGHUP in the calling
 * thread; signals that arrived meanwhile are delivered on unblocking. */
void qk_out_block_signals(bool block);

/* ---- output directories ----
 *
 * A directory output (a safetensors checkpoint) is written into a temporary
 * directory beside the target ("<target>.tmp-qwenkit-<hex>", trailing slashes
 * of the target ignored; locked like a temporary file) and moved into place
 * by qk_outdir_commit. A failure, qk_outdir_abort, or SIGINT/SIGTERM/SIGHUP
 * while it is open removes the temporary directory and everything in it (the
 * signal handler empties it with async-signal-safe calls only: getdents64,
 * unlinkat, rmdir). Only plain files are expected inside; at most
 * QK_OUT_MAX_DIRS at once. */
#define QK_OUT_MAX_DIRS 4
struct qk_outdir;

/* Before any work: an empty path, an existing non-directory, a non-empty
 * directory unless `merge`, a missing or unwritable parent, another run
 * writing it, fewer than `planned_bytes` free (0: not checked). */
int qk_outdir_check(const char *target, bool merge, uint64_t planned_bytes, qk_err *err);
/* Create the temporary directory for `target`. QK_E_IO when it cannot be
 * created (missing parent, permission), QK_E_USAGE when `target` exists and
 * is not a directory, QK_E_NOMEM. */
int qk_outdir_open(struct qk_outdir **d, const char *target, qk_err *err);
/* The temporary directory (write the outputs there). */
const char *qk_outdir_temp_path(const struct qk_outdir *d);
/* An error from writing inside the temporary directory, reworded to name
 * the target the user gave instead of the temporary. */
void qk_outdir_name_target(const struct qk_outdir *d, qk_err *err);
/* Move the result into place: a missing target or an empty directory is
 * replaced by the temporary directory in one rename; a directory that holds
 * entries is refused (QK_E_USAGE "exists and is not empty") unless `merge`,
 * which renames each file over the file of the same name in the target
 * (other entries stay), refusing before any rename an entry that names an
 * input (qk_out_forbid), an existing directory or a non-regular file. Then the
 * directories are fsynced. The temporary directory is removed and d freed in
 * every case. */
int qk_outdir_commit(struct qk_outdir *d, bool merge, qk_err *err);
/* Remove the temporary directory and its files, free; accepts NULL. */
void qk_outdir_abort(struct qk_outdir *d);

#endif
