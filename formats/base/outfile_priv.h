/* outfile_priv.h - shared by outfile.c (files, sets, signals), outfile_ns.c
 * (target checks, temp namespace, locks) and outdir.c (directories). */
#ifndef QK_OUTFILE_PRIV_H
#define QK_OUTFILE_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "outfile.h"

/* the lock file inside a temporary directory: flock'd while its writer
 * lives, removed before the directory is moved into place */
#define QK_OUT_DIR_LOCK ".qwenkit-lock"

/* a target resolved for writing */
struct out_ns {
	const char *given;  /* what the caller named (messages) */
	char *path;         /* where the rename goes: given, or the file a symlink points to */
	char *dir;          /* the directory of path */
	char *base;         /* the last component of path */
	int dirfd;          /* dir, flock'd while creating; -1 when unreadable */
	bool exists;        /* path exists (then st holds it) */
	struct stat st;
};

/* Resolve and check `target` (empty, directory or not, non-regular, dangling
 * link, forbidden, parent missing or unwritable); want_dir selects the
 * directory rules. Fills ns; release with ns_free. */
int ns_resolve(struct out_ns *ns, const char *target, bool want_dir, qk_err *err);
void ns_free(struct out_ns *ns);
/* Lock the directory, refuse when another live run writes the same target,
 * and (remove_stale) remove temporaries whose owner is gone. */
int ns_lock_scan(struct out_ns *ns, bool remove_stale, qk_err *err);
/* Drop the directory lock. */
void ns_unlock(struct out_ns *ns);
/* A fresh name "<dir>/<base>.tmp-qwenkit-<hex>" (malloc'd), NULL on OOM. */
char *ns_temp_name(const struct out_ns *ns);
/* Free space check on the target's filesystem. */
int ns_space(const struct out_ns *ns, uint64_t planned, qk_err *err);
/* The notice hook (outfile.c) */
void out_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* signal-handler registry of temporary directories (outfile.c) */
int out_register_dir(char *path, int fd);  /* slot, or -1 when full */
void out_unregister_dir(int slot);
void out_install_handlers(void);
void out_fsync_dir(const char *dir);

#endif
