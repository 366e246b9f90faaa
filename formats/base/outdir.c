/* outdir.c - atomic output directories: a locked temporary directory beside
 * the target, moved into place (or merged file by file). See outfile.h. */
#define _GNU_SOURCE
#include "outfile_priv.h"
#include "path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct qk_outdir {
	char *target;      /* as the caller named it (messages) */
	char *path;        /* where it goes (without trailing slashes, symlink resolved) */
	char *parent;      /* the directory of path */
	char *temp;
	int slot;          /* index in the handler's table */
	int fd;            /* the temporary directory, for the signal handler */
	int lockfd;        /* its QK_OUT_DIR_LOCK file, flock'd while we live */
};

static void dir_release(struct qk_outdir *d, bool remove)
{
	out_unregister_dir(d->slot);
	if (remove && d->temp) {
		DIR *dir = opendir(d->temp);
		struct dirent *de;

		while (dir && (de = readdir(dir)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(dirfd(dir), de->d_name, 0);
		if (dir)
			closedir(dir);
		rmdir(d->temp);
	}
	if (d->fd >= 0)
		close(d->fd);
	if (d->lockfd >= 0)
		close(d->lockfd);
	free(d->temp);
	free(d->target);
	free(d->path);
	free(d->parent);
	free(d);
}

/* entries of a directory other than . and ..: -1 if it cannot be read */
static long count_entries(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	long n = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(dir);
	return n;
}

int qk_outdir_check(const char *target, bool merge, uint64_t planned_bytes, qk_err *err)
{
	struct out_ns ns;
	int rc = ns_resolve(&ns, target, true, err);

	if (!rc && ns.exists && !merge && count_entries(ns.path) > 0)
		rc = qk_err_set(err, QK_E_USAGE, "%s: exists and is not empty", target);
	if (!rc)
		rc = ns_lock_scan(&ns, false, err);
	if (!rc)
		rc = ns_space(&ns, planned_bytes, err);
	ns_free(&ns);
	return rc;
}

static int make_temp_dir(struct qk_outdir *d, struct out_ns *ns, qk_err *err)
{
	int e = 0;

	for (int tries = 0; tries < 64; tries++) {
		free(d->temp);
		if (!(d->temp = ns_temp_name(ns)))
			return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", d->target);
		if (mkdir(d->temp, 0777) == 0)
			break;
		e = errno;
		free(d->temp);
		d->temp = NULL;
		if (e != EEXIST)
			break;
	}
	if (!d->temp)
		return qk_err_set(err, QK_E_IO, "%s: cannot create the output directory: %s",
				  d->target, strerror(e));
	d->fd = open(d->temp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->fd < 0) {
		e = errno;
		rmdir(d->temp);
		free(d->temp);
		d->temp = NULL;
		return qk_err_set(err, QK_E_IO, "%s: cannot open the output directory: %s",
				  d->target, strerror(e));
	}
	d->slot = out_register_dir(d->temp, d->fd);
	/* the lock that tells other runs we live (not the directory itself: the
	 * files created inside flock it briefly as their temp namespace) */
	d->lockfd = openat(d->fd, QK_OUT_DIR_LOCK, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (d->lockfd < 0 || flock(d->lockfd, LOCK_EX | LOCK_NB) != 0)
		return qk_err_set(err, QK_E_IO, "%s: cannot lock the output directory: %s",
				  d->target, strerror(errno));
	return QK_OK;
}

int qk_outdir_open(struct qk_outdir **out, const char *target, qk_err *err)
{
	struct qk_outdir *d = NULL;
	struct out_ns ns;
	int rc;

	*out = NULL;
	if ((rc = ns_resolve(&ns, target, true, err)))
		goto out;
	if (!(d = calloc(1, sizeof(*d))) || !(d->target = strdup(target))) {
		rc = qk_err_set(err, QK_E_NOMEM, "%s: out of memory", target);
		goto out;
	}
	d->slot = -1;
	d->fd = -1;
	d->lockfd = -1;
	out_install_handlers();
	qk_out_block_signals(true); /* no signal between mkdir and registering it */
	rc = ns_lock_scan(&ns, true, err);
	if (!rc)
		rc = make_temp_dir(d, &ns, err);
	if (!rc && d->slot < 0)
		rc = qk_err_set(err, QK_E_IO, "%s: more than %d output directories open at once",
				target, QK_OUT_MAX_DIRS);
	qk_out_block_signals(false);
	ns_unlock(&ns);
	if (!rc) {
		d->path = ns.path;
		d->parent = ns.dir;
		ns.path = ns.dir = NULL;
	}
out:
	ns_free(&ns);
	if (rc && d)
		dir_release(d, true);
	else
		*out = d;
	return rc;
}

const char *qk_outdir_temp_path(const struct qk_outdir *d)
{
	return d ? d->temp : NULL;
}

void qk_outdir_name_target(const struct qk_outdir *d, qk_err *err)
{
	char buf[QK_ERR_MSG_MAX];
	const char *at;
	size_t n;

	if (!d || !err || !d->temp || !(at = strstr(err->msg, d->temp)))
		return;
	n = (size_t)(at - err->msg);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)n, err->msg, d->target,
		 at + strlen(d->temp));
	memcpy(err->msg, buf, sizeof(buf));
}

void qk_outdir_abort(struct qk_outdir *d)
{
	if (d)
		dir_release(d, true);
}

/* check every file of the temporary directory against the target (pass 0),
 * then rename them over it (pass 1) */
static int merge_into(struct qk_outdir *d, qk_err *err)
{
	int rc = QK_OK;

	for (int pass = 0; pass < 2 && !rc; pass++) {
		DIR *dir = opendir(d->temp);
		struct dirent *de;

		if (!dir)
			return qk_err_set(err, QK_E_IO, "%s: cannot read the directory: %s", d->target,
					  strerror(errno));
		while (!rc && (de = readdir(dir))) {
			char *from, *to;
			struct stat st;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			from = qk_path_join(d->temp, de->d_name);
			to = qk_path_join(d->path, de->d_name);
			if (!from || !to)
				rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
			else if (pass == 0 && qk_out_is_forbidden(to))
				rc = qk_err_set(err, QK_E_USAGE, "%s/%s: output path is one of the inputs; "
						"refusing to overwrite it", d->target, de->d_name);
			else if (pass == 0 && lstat(to, &st) == 0 && S_ISDIR(st.st_mode))
				rc = qk_err_set(err, QK_E_USAGE, "%s/%s: is a directory; cannot replace it "
						"with a file", d->target, de->d_name);
			else if (pass == 0 && lstat(to, &st) == 0 && !S_ISREG(st.st_mode))
				rc = qk_err_set(err, QK_E_USAGE, "%s/%s: exists and is not a regular file; "
						"refusing to replace it", d->target, de->d_name);
			else if (pass == 1 && rename(from, to) != 0)
				rc = qk_err_set(err, QK_E_IO, "%s/%s: cannot move the output into place: %s",
						d->target, de->d_name, strerror(errno));
			free(from);
			free(to);
		}
		closedir(dir);
	}
	return rc;
}

int qk_outdir_commit(struct qk_outdir *d, bool merge, qk_err *err)
{
	int nsfd = open(d->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	int rc = QK_OK;

	/* the lock file goes before the move; holding the temp namespace keeps
	 * a scanning run from judging us stale meanwhile */
	while (nsfd >= 0 && flock(nsfd, LOCK_EX) != 0 && errno == EINTR)
		;
	unlinkat(d->fd, QK_OUT_DIR_LOCK, 0);
	out_fsync_dir(d->temp);
	/* the handler must not empty the directory once it is the target (its
	 * fd follows the rename): no signal until the slot is cleared */
	qk_out_block_signals(true);
	if (stat(d->path, &st) != 0 || (S_ISDIR(st.st_mode) && count_entries(d->path) == 0)) {
		if (rename(d->temp, d->path) != 0)
			rc = qk_err_set(err, QK_E_IO, "%s: cannot move the output directory into "
					"place: %s", d->target, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		rc = qk_err_set(err, QK_E_USAGE, "%s: exists and is not a directory", d->target);
	} else if (!merge) {
		rc = qk_err_set(err, QK_E_USAGE, "%s: exists and is not empty", d->target);
	} else {
		rc = merge_into(d, err);
	}
	if (rc == QK_OK) {
		out_unregister_dir(d->slot);
		d->slot = -1;
	}
	qk_out_block_signals(false);
	if (nsfd >= 0)
		close(nsfd);
	if (rc == QK_OK) {
		out_fsync_dir(d->path);
		out_fsync_dir(d->parent);
	}
	/* after a rename the temporary path no longer exists: removing it is a
	 * no-op; after a merge it holds nothing but what failed to move */
	dir_release(d, true);
	return rc;
}
