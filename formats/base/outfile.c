/* outfile.c - atomic output via temp file + fsync + rename; see outfile.h.
 *
 * Signal safety: the handler only walks fixed arrays of paths (open
 * temporaries, the files of a group, temporary directories with an fd kept
 * open for each) and calls unlink(), unlinkat(), rmdir(), lseek() and the
 * raw getdents64 system call, all async-signal-safe, then re-raises with the
 * default action.
 */
#define _GNU_SOURCE
#include "outfile.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define OUT_BUF (1u << 20) /* write buffer: 1 MiB */
#define MAX_OPEN 16        /* outputs open at once (split GGUF writes a few) */
#define MAX_FORBID 64

struct qk_out {
	int fd;
	char *target;
	char *temp;
	uint64_t written;  /* bytes accepted so far */
	size_t buf_used;
	int slot;          /* index in open_temps */
	uint8_t buf[OUT_BUF];
};

static char *volatile open_temps[MAX_OPEN];
static int handlers_installed;
static unsigned long temp_counter;

static struct {
	dev_t dev;
	ino_t ino;
} forbidden[MAX_FORBID];
static int n_forbidden;

/* files of the current group (qk_out_group_add) */
static char *volatile group[QK_OUT_MAX_GROUP];
static volatile int n_group;

/* temporary directories: path published after fd is set */
static struct {
	char *volatile path;
	volatile int fd;
} open_dirs[QK_OUT_MAX_DIRS];

/* getdents64's record (linux_dirent64) */
struct dent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* Remove the entries of the directory open as fd, from a signal handler:
 * raw getdents64 + unlinkat only. A second pass catches entries a listing
 * changed under its own deletions may have skipped. */
static void empty_dir_signal_safe(int fd)
{
#ifdef SYS_getdents64
	union {
		uint64_t align;
		char b[4096];
	} buf;

	for (int pass = 0; pass < 2; pass++) {
		long n;

		if (lseek(fd, 0, SEEK_SET) != 0)
			return;
		while ((n = syscall(SYS_getdents64, fd, buf.b, sizeof(buf.b))) > 0) {
			for (long off = 0; off < n;) {
				struct dent64 *d = (struct dent64 *)(void *)(buf.b + off);

				if (!(d->name[0] == '.' && (!d->name[1] ||
							    (d->name[1] == '.' && !d->name[2]))))
					unlinkat(fd, d->name, 0);
				off += d->reclen;
			}
		}
	}
#else
	(void)fd;
#endif
}

static void on_signal(int sig)
{
	for (int i = 0; i < MAX_OPEN; i++) {
		char *p = open_temps[i];
		if (p)
			unlink(p);
	}
	for (int i = 0; i < n_group && i < QK_OUT_MAX_GROUP; i++) {
		char *p = group[i];
		if (p)
			unlink(p);
	}
	for (int i = 0; i < QK_OUT_MAX_DIRS; i++) {
		char *p = open_dirs[i].path;
		if (p) {
			empty_dir_signal_safe(open_dirs[i].fd);
			rmdir(p);
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_handlers(void)
{
	struct sigaction sa;

	if (handlers_installed)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	handlers_installed = 1;
}

void qk_out_forbid(const char *path)
{
	struct stat st;

	if (n_forbidden >= MAX_FORBID || stat(path, &st) != 0)
		return;
	forbidden[n_forbidden].dev = st.st_dev;
	forbidden[n_forbidden].ino = st.st_ino;
	n_forbidden++;
}

void qk_out_forbid_clear(void)
{
	n_forbidden = 0;
}

static int is_forbidden(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return 0;
	for (int i = 0; i < n_forbidden; i++)
		if (forbidden[i].dev == st.st_dev && forbidden[i].ino == st.st_ino)
			return 1;
	return 0;
}

bool qk_out_is_forbidden(const char *path)
{
	return is_forbidden(path) != 0;
}

static void release(struct qk_out *o, int remove_temp)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->slot >= 0)
		open_temps[o->slot] = NULL;
	if (remove_temp && o->temp)
		unlink(o->temp);
	free(o->temp);
	free(o->target);
	free(o);
}

int qk_out_open(struct qk_out **out, const char *target, qk_err *err)
{
	struct qk_out *o;
	size_t n;
	int slot = -1;

	*out = NULL;
	if (is_forbidden(target))
		return qk_err_set(err, QK_E_USAGE, "%s: output path is one of the inputs; refusing to overwrite it",
				  target);
	for (int i = 0; i < MAX_OPEN; i++)
		if (!open_temps[i]) {
			slot = i;
			break;
		}
	if (slot < 0)
		return qk_err_set(err, QK_E_IO, "%s: too many outputs open at once", target);
	o = calloc(1, sizeof(*o));
	if (!o)
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", target);
	o->fd = -1;
	o->slot = -1;
	n = strlen(target) + 64;
	o->target = strdup(target);
	o->temp = malloc(n);
	if (!o->target || !o->temp) {
		release(o, 0);
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", target);
	}
	snprintf(o->temp, n, "%s.tmp-%ld-%lu", target, (long)getpid(), ++temp_counter);
	install_handlers();
	open_temps[slot] = o->temp; /* registered before creation: no window */
	o->slot = slot;
	o->fd = open(o->temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (o->fd < 0) {
		int e = errno;
		release(o, 0);
		return qk_err_set(err, QK_E_IO, "%s: cannot create output: %s", target, strerror(e));
	}
	*out = o;
	return QK_OK;
}

static int flush_buf(struct qk_out *o, qk_err *err)
{
	size_t off = 0;

	while (off < o->buf_used) {
		ssize_t w = write(o->fd, o->buf + off, o->buf_used - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return qk_err_set(err, QK_E_IO, "%s: write failed: %s", o->target, strerror(errno));
		}
		off += (size_t)w;
	}
	o->buf_used = 0;
	return QK_OK;
}

int qk_out_write(struct qk_out *o, const void *data, size_t n, qk_err *err)
{
	const uint8_t *p = data;
	int rc;

	while (n) {
		size_t k = OUT_BUF - o->buf_used;
		if (k > n)
			k = n;
		memcpy(o->buf + o->buf_used, p, k);
		o->buf_used += k;
		o->written += k;
		p += k;
		n -= k;
		if (o->buf_used == OUT_BUF) {
			rc = flush_buf(o, err);
			if (rc)
				return rc;
		}
	}
	return QK_OK;
}

int qk_out_zeros(struct qk_out *o, uint64_t n, qk_err *err)
{
	static const uint8_t z[4096];
	int rc;

	while (n) {
		size_t k = n < sizeof(z) ? (size_t)n : sizeof(z);
		rc = qk_out_write(o, z, k, err);
		if (rc)
			return rc;
		n -= k;
	}
	return QK_OK;
}

uint64_t qk_out_tell(const struct qk_out *o)
{
	return o->written;
}

const char *qk_out_temp_path(const struct qk_out *o)
{
	return o ? o->temp : NULL;
}

static void sync_dir(const char *target)
{
	char *copy = strdup(target);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int qk_out_commit(struct qk_out *o, qk_err *err)
{
	int rc;

	rc = flush_buf(o, err);
	if (rc == QK_OK && fsync(o->fd) != 0)
		rc = qk_err_set(err, QK_E_IO, "%s: fsync failed: %s", o->target, strerror(errno));
	if (rc == QK_OK && close(o->fd) != 0)
		rc = qk_err_set(err, QK_E_IO, "%s: close failed: %s", o->target, strerror(errno));
	o->fd = -1;
	if (rc == QK_OK && rename(o->temp, o->target) != 0)
		rc = qk_err_set(err, QK_E_IO, "%s: cannot rename temporary into place: %s", o->target,
				strerror(errno));
	if (rc == QK_OK)
		sync_dir(o->target);
	release(o, rc != QK_OK);
	return rc;
}

void qk_out_abort(struct qk_out *o)
{
	if (o)
		release(o, 1);
}

/* ---- groups ---- */

int qk_out_group_add(const char *path, qk_err *err)
{
	char *p;

	if (n_group >= QK_OUT_MAX_GROUP)
		return qk_err_set(err, QK_E_USAGE, "%s: more than %d files in one output set", path,
				  QK_OUT_MAX_GROUP);
	if (!(p = strdup(path)))
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", path);
	install_handlers();
	group[n_group] = p; /* published before the count covers it */
	n_group++;
	return QK_OK;
}

static void group_forget(int remove)
{
	while (n_group > 0) {
		char *p = group[n_group - 1];

		n_group--; /* the handler no longer looks at it */
		group[n_group] = NULL;
		if (remove && p)
			unlink(p);
		free(p);
	}
}

void qk_out_group_undo(void)
{
	group_forget(1);
}

void qk_out_group_keep(void)
{
	group_forget(0);
}

void qk_out_block_signals(bool block)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* ---- directories ---- */

struct qk_outdir {
	char *target;      /* without trailing slashes */
	char *temp;
	int slot;          /* index in open_dirs */
	int fd;            /* the temporary directory, for the signal handler */
};

static void dir_release(struct qk_outdir *d, bool remove)
{
	if (d->slot >= 0)
		open_dirs[d->slot].path = NULL;
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
	free(d->temp);
	free(d->target);
	free(d);
}

int qk_outdir_open(struct qk_outdir **out, const char *target, qk_err *err)
{
	struct qk_outdir *d;
	struct stat st;
	size_t n;
	int slot = -1;

	*out = NULL;
	for (int i = 0; i < QK_OUT_MAX_DIRS; i++)
		if (!open_dirs[i].path) {
			slot = i;
			break;
		}
	if (slot < 0)
		return qk_err_set(err, QK_E_IO, "%s: too many output directories open at once",
				  target);
	if (!(d = calloc(1, sizeof(*d))))
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", target);
	d->slot = -1;
	d->fd = -1;
	d->target = strdup(target);
	n = strlen(target) + 64;
	d->temp = malloc(n);
	if (!d->target || !d->temp) {
		dir_release(d, false);
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", target);
	}
	for (size_t k = strlen(d->target); k > 1 && d->target[k - 1] == '/'; k--)
		d->target[k - 1] = '\0';
	if (stat(d->target, &st) == 0 && !S_ISDIR(st.st_mode)) {
		dir_release(d, false);
		return qk_err_set(err, QK_E_USAGE, "%s: exists and is not a directory", target);
	}
	snprintf(d->temp, n, "%s.tmp-%ld-%lu", d->target, (long)getpid(), ++temp_counter);
	install_handlers();
	if (mkdir(d->temp, 0777) != 0) {
		int e = errno;
		free(d->temp);
		d->temp = NULL;
		dir_release(d, false);
		return qk_err_set(err, QK_E_IO, "%s: cannot create the output directory: %s", target,
				  strerror(e));
	}
	d->fd = open(d->temp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->fd < 0) {
		int e = errno;
		dir_release(d, true);
		return qk_err_set(err, QK_E_IO, "%s: cannot open the output directory: %s", target,
				  strerror(e));
	}
	open_dirs[slot].fd = d->fd;
	open_dirs[slot].path = d->temp; /* the handler may use it from here on */
	d->slot = slot;
	*out = d;
	return QK_OK;
}

const char *qk_outdir_temp_path(const struct qk_outdir *d)
{
	return d ? d->temp : NULL;
}

void qk_outdir_abort(struct qk_outdir *d)
{
	if (d)
		dir_release(d, true);
}

static void sync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
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

/* check every file of the temporary directory against the target (pass 0),
 * then rename them over it (pass 1) */
static int merge_into(struct qk_outdir *d, qk_err *err)
{
	int rc = QK_OK;

	for (int pass = 0; pass < 2 && !rc; pass++) {
		DIR *dir = opendir(d->temp);
		struct dirent *de;

		if (!dir)
			return qk_err_set(err, QK_E_IO, "%s: cannot read the directory: %s", d->temp,
					  strerror(errno));
		while (!rc && (de = readdir(dir))) {
			char *from, *to;
			struct stat st;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			from = qk_path_join(d->temp, de->d_name);
			to = qk_path_join(d->target, de->d_name);
			if (!from || !to)
				rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
			else if (pass == 0 && is_forbidden(to))
				rc = qk_err_set(err, QK_E_USAGE, "%s: output path is one of the inputs; "
						"refusing to overwrite it", to);
			else if (pass == 0 && lstat(to, &st) == 0 && S_ISDIR(st.st_mode))
				rc = qk_err_set(err, QK_E_USAGE, "%s: is a directory; cannot replace it "
						"with a file", to);
			else if (pass == 1 && rename(from, to) != 0)
				rc = qk_err_set(err, QK_E_IO, "%s: cannot move the output into place: %s",
						to, strerror(errno));
			free(from);
			free(to);
		}
		closedir(dir);
	}
	return rc;
}

int qk_outdir_commit(struct qk_outdir *d, bool merge, qk_err *err)
{
	struct stat st;
	char *parent;
	int rc = QK_OK;

	sync_path(d->temp);
	/* the handler must not empty the directory once it is the target (its
	 * fd follows the rename): no signal until the slot is cleared */
	qk_out_block_signals(true);
	if (stat(d->target, &st) != 0 || (S_ISDIR(st.st_mode) && count_entries(d->target) == 0)) {
		if (rename(d->temp, d->target) != 0)
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
		open_dirs[d->slot].path = NULL;
		d->slot = -1;
	}
	qk_out_block_signals(false);
	if (rc == QK_OK) {
		sync_path(d->target);
		if ((parent = strdup(d->target))) {
			sync_path(dirname(parent));
			free(parent);
		}
	}
	/* after a rename the temporary path no longer exists: removing it is a
	 * no-op; after a merge it holds nothing but what failed to move */
	dir_release(d, true);
	return rc;
}
