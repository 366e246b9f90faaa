/* outfile.c - atomic output files and sets: temporary + fsync + rename; the
 * signal handler. See outfile.h.
 *
 * Signal safety: the handler only walks fixed arrays of paths (open or
 * finished temporaries, temporary directories with an fd kept open for each)
 * and calls unlink(), unlinkat(), rmdir(), lseek() and the raw getdents64
 * system call, all async-signal-safe, then re-raises with the default action.
 * A path is published in its slot before its file exists and cleared before
 * its memory is freed.
 */
#define _GNU_SOURCE
#include "outfile_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define OUT_BUF (1u << 20)  /* write buffer: 1 MiB */
#define OUT_ALIGN 4096u     /* O_DIRECT: buffer address, offset and length */

/* Direct I/O. A full buffer goes to the disk with O_DIRECT, bypassing the
 * page cache: the output is fsynced at commit anyway and not read back, so
 * copying it into cache pages first is pure cost (on a VM whose fresh guest
 * pages fault in from the host, most of a quantizer's run; tests/bench/
 * README.md has the figures). Offsets stay multiples of OUT_BUF, so every
 * direct write is aligned; the last, partial buffer is written after
 * O_DIRECT is cleared. A filesystem that refuses O_DIRECT (tmpfs: the fcntl
 * or the first write fails with EINVAL) gets ordinary writes, as does
 * QWENKIT_DIRECT_IO=off. The bytes are the same either way.
 *
 * A direct write returns only once the device has the data, so full buffers
 * go to a writer thread (one per output, started at the first full buffer,
 * at most OUT_MAX_WRITERS at once; signals blocked in it) while the caller
 * fills the other buffer: writing overlaps the work that makes the next
 * megabyte. Every write, the thread's included, is in file order; the
 * caller waits for the thread before the next hand-over, the last buffer,
 * fsync and close, and a failed background write is reported by the next
 * call that waits for it. */
#define OUT_MAX_WRITERS 16

struct qk_out {
	int fd;              /* the temporary, flock'd; -1 once closed */
	char *target;        /* as the caller named it (messages) */
	char *path;          /* where it goes (a symlink's destination) */
	char *dir, *base;    /* of path */
	char *temp;
	bool replace;        /* path existed at open: keep its mode/owner */
	mode_t mode;         /* the mode to give the file at commit */
	uid_t uid;
	gid_t gid;
	uint64_t written;    /* bytes accepted so far */
	size_t buf_used;
	int slot;            /* index in open_temps */
	bool direct;         /* fd has O_DIRECT (full buffers only) */
	uint8_t *buf;        /* [OUT_BUF], OUT_ALIGN-aligned: being filled */
	/* the writer thread (direct mode); mu guards busy, quit, err, direct */
	uint8_t *spare;      /* [OUT_BUF], aligned: the buffer handed to it */
	bool th_on;          /* started (mu, cv initialised) */
	bool busy;           /* spare holds a full buffer not yet written */
	bool quit;
	int th_err;          /* errno of a failed background write, or 0 */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static atomic_int live_writers;

static char *volatile open_temps[QK_OUT_MAX_OPEN];
static int handlers_installed;
static qk_out_notice_fn notice_fn;

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
	for (int i = 0; i < QK_OUT_MAX_OPEN; i++) {
		char *p = open_temps[i];
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

void out_install_handlers(void)
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

int out_register_dir(char *path, int fd)
{
	for (int i = 0; i < QK_OUT_MAX_DIRS; i++)
		if (!open_dirs[i].path) {
			open_dirs[i].fd = fd;
			open_dirs[i].path = path; /* the handler may use it from here on */
			return i;
		}
	return -1;
}

void out_unregister_dir(int slot)
{
	if (slot >= 0)
		open_dirs[slot].path = NULL;
}

void qk_out_set_notice(qk_out_notice_fn fn)
{
	notice_fn = fn;
}

void out_notice(const char *fmt, ...)
{
	char msg[QK_ERR_MSG_MAX];
	va_list ap;

	if (!notice_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	notice_fn(msg);
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

void out_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* ---- single files ---- */

static void stop_writer(struct qk_out *o);

static void release(struct qk_out *o, bool remove_temp)
{
	stop_writer(o);
	if (o->slot >= 0)
		open_temps[o->slot] = NULL;
	if (remove_temp && o->temp)
		unlink(o->temp); /* before close: the lock keeps a scanner off it */
	if (o->fd >= 0)
		close(o->fd);
	free(o->buf);
	free(o->spare);
	free(o->temp);
	free(o->target);
	free(o->path);
	free(o->dir);
	free(o->base);
	free(o);
}

/* QWENKIT_DIRECT_IO=off (or 0, no) keeps every write in the page cache */
static bool want_direct(void)
{
	const char *e = getenv("QWENKIT_DIRECT_IO");

	return !(e && (strcmp(e, "off") == 0 || strcmp(e, "0") == 0 || strcmp(e, "no") == 0));
}

/* set or clear O_DIRECT on fd; false when the filesystem refuses it */
static bool set_direct(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return false;
	return fcntl(fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) == 0;
}

/* open the temporary: O_EXCL on a fresh random name, retried; EMFILE once
 * raises the soft limit on open files (a set keeps one fd per member) */
static int create_temp(struct qk_out *o, struct out_ns *ns, qk_err *err)
{
	bool raised = false;

	for (int tries = 0; tries < 64; tries++) {
		free(o->temp);
		open_temps[o->slot] = NULL;
		if (!(o->temp = ns_temp_name(ns)))
			return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", o->target);
		open_temps[o->slot] = o->temp; /* registered before creation: no window */
		o->fd = open(o->temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (o->fd >= 0)
			break;
		if (errno == EMFILE && !raised) {
			struct rlimit rl;

			raised = true;
			if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
				rl.rlim_cur = rl.rlim_max;
				setrlimit(RLIMIT_NOFILE, &rl);
			}
			continue;
		}
		if (errno != EEXIST)
			break;
	}
	if (o->fd < 0) {
		int e = errno;

		open_temps[o->slot] = NULL;
		return qk_err_set(err, QK_E_IO, "%s: cannot create the output: %s", o->target,
				  strerror(e));
	}
	flock(o->fd, LOCK_EX | LOCK_NB); /* ours alone: it was just made with O_EXCL */
	o->direct = want_direct() && set_direct(o->fd, true);
	return QK_OK;
}

int qk_out_open(struct qk_out **out, const char *target, qk_err *err)
{
	struct out_ns ns;
	struct qk_out *o = NULL;
	mode_t um;
	int rc;

	*out = NULL;
	if ((rc = ns_resolve(&ns, target, false, err)))
		goto out;
	if ((o = calloc(1, sizeof(*o)))) {
		o->fd = -1;
		o->slot = -1;
	}
	if (!o || !(o->buf = aligned_alloc(OUT_ALIGN, OUT_BUF)) || !(o->target = strdup(target))) {
		rc = qk_err_set(err, QK_E_NOMEM, "%s: out of memory", target);
		goto out;
	}
	for (int i = 0; i < QK_OUT_MAX_OPEN && o->slot < 0; i++)
		if (!open_temps[i])
			o->slot = i;
	if (o->slot < 0) {
		rc = qk_err_set(err, QK_E_IO, "%s: more than %d outputs open at once", target,
				QK_OUT_MAX_OPEN);
		goto out;
	}
	um = umask(0);
	umask(um);
	o->replace = ns.exists;
	o->mode = ns.exists ? ns.st.st_mode & 07777 : 0666 & ~um;
	o->uid = ns.st.st_uid;
	o->gid = ns.st.st_gid;
	out_install_handlers();
	rc = ns_lock_scan(&ns, true, err);
	if (!rc)
		rc = create_temp(o, &ns, err);
	ns_unlock(&ns);
	if (!rc) {
		o->path = ns.path;
		o->dir = ns.dir;
		o->base = ns.base;
		ns.path = ns.dir = ns.base = NULL;
	}
out:
	ns_free(&ns);
	if (rc && o)
		release(o, false);
	else
		*out = o;
	return rc;
}

/* Write len bytes of buf at the file's offset. Only a full buffer goes
 * direct: a partial one (the last) or one a short write left unaligned
 * clears O_DIRECT first, and so does a filesystem that refuses the direct
 * write (EINVAL). 0 or an errno. */
static int write_all(int fd, const uint8_t *buf, size_t len, bool *direct)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w;

		if (*direct && (off || len != OUT_BUF)) {
			set_direct(fd, false);
			*direct = false;
		}
		w = write(fd, buf + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EINVAL && *direct) {
				set_direct(fd, false);
				*direct = false;
				continue;
			}
			return errno;
		}
		off += (size_t)w;
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct qk_out *o = arg;

	pthread_mutex_lock(&o->mu);
	for (;;) {
		bool direct;
		int e;

		while (!o->busy && !o->quit)
			pthread_cond_wait(&o->cv, &o->mu);
		if (!o->busy)
			break; /* quit, nothing pending */
		direct = o->direct;
		pthread_mutex_unlock(&o->mu);
		e = write_all(o->fd, o->spare, OUT_BUF, &direct);
		pthread_mutex_lock(&o->mu);
		o->direct = direct;
		if (e && !o->th_err)
			o->th_err = e;
		o->busy = false;
		pthread_cond_broadcast(&o->cv);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

/* the writer thread, started once; false (write in the caller) when it
 * cannot be, or OUT_MAX_WRITERS run already */
static bool start_writer(struct qk_out *o)
{
	sigset_t block, old;
	int rc;

	if (o->th_on)
		return true;
	if (atomic_fetch_add(&live_writers, 1) >= OUT_MAX_WRITERS)
		goto fail;
	if (!o->spare && !(o->spare = aligned_alloc(OUT_ALIGN, OUT_BUF)))
		goto fail;
	if (pthread_mutex_init(&o->mu, NULL))
		goto fail;
	if (pthread_cond_init(&o->cv, NULL)) {
		pthread_mutex_destroy(&o->mu);
		goto fail;
	}
	/* the thread inherits the mask: SIGINT/SIGTERM/SIGHUP stay the caller's */
	sigfillset(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = pthread_create(&o->th, NULL, writer_main, o);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		pthread_cond_destroy(&o->cv);
		pthread_mutex_destroy(&o->mu);
		goto fail;
	}
	o->th_on = true;
	return true;
fail:
	atomic_fetch_sub(&live_writers, 1);
	return false;
}

/* wait until the thread has written what it was given: 0 or its errno */
static int drain(struct qk_out *o)
{
	int e;

	if (!o->th_on)
		return 0;
	pthread_mutex_lock(&o->mu);
	while (o->busy)
		pthread_cond_wait(&o->cv, &o->mu);
	e = o->th_err;
	pthread_mutex_unlock(&o->mu);
	return e;
}

/* let the thread finish what it was given, end it */
static void stop_writer(struct qk_out *o)
{
	if (!o->th_on)
		return;
	pthread_mutex_lock(&o->mu);
	o->quit = true;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
	pthread_join(o->th, NULL);
	pthread_cond_destroy(&o->cv);
	pthread_mutex_destroy(&o->mu);
	o->th_on = false;
	atomic_fetch_sub(&live_writers, 1);
}

static int write_error(const struct qk_out *o, int e, qk_err *err)
{
	return qk_err_set(err, QK_E_IO, "%s: write failed: %s", o->target, strerror(e));
}

/* Write the buffer out in the caller, after what the thread holds. */
static int flush_buf(struct qk_out *o, qk_err *err)
{
	int e = drain(o);

	if (!e)
		e = write_all(o->fd, o->buf, o->buf_used, &o->direct);
	if (e)
		return write_error(o, e, err);
	o->buf_used = 0;
	return QK_OK;
}

/* A full buffer: to the writer thread when writing direct (the caller goes
 * on filling the other buffer), else written here. */
static int flush_full(struct qk_out *o, qk_err *err)
{
	uint8_t *full = o->buf;
	int e;

	/* the thread idle first: o->direct is the caller's to read again (a
	 * write of the thread's may have fallen back to the page cache) */
	if ((e = drain(o)))
		return write_error(o, e, err);
	if (!o->direct || !start_writer(o))
		return flush_buf(o, err);

	o->buf = o->spare;
	o->buf_used = 0;
	pthread_mutex_lock(&o->mu);
	o->spare = full;
	o->busy = true;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
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
			rc = flush_full(o, err);
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

bool qk_out_is_direct(struct qk_out *o)
{
	bool d;

	if (!o)
		return false;
	if (!o->th_on)
		return o->direct;
	pthread_mutex_lock(&o->mu);
	d = o->direct;
	pthread_mutex_unlock(&o->mu);
	return d;
}

int qk_out_finish(struct qk_out *o, qk_err *err)
{
	int rc = flush_buf(o, err);

	stop_writer(o);
	/* the final mode before fsync: a 0444 target comes back 0444 */
	if (rc == QK_OK && fchmod(o->fd, o->mode) != 0)
		rc = qk_err_set(err, QK_E_IO, "%s: cannot set the permission bits: %s", o->target,
				strerror(errno));
	if (rc == QK_OK && o->replace && geteuid() == 0 && fchown(o->fd, o->uid, o->gid) != 0)
		rc = qk_err_set(err, QK_E_IO, "%s: cannot keep the owner: %s", o->target,
				strerror(errno));
	if (rc == QK_OK && fsync(o->fd) != 0)
		rc = qk_err_set(err, QK_E_IO, "%s: fsync failed: %s", o->target, strerror(errno));
	return rc;
}

int qk_out_commit(struct qk_out *o, qk_err *err)
{
	int rc = qk_out_finish(o, err);

	if (rc == QK_OK && rename(o->temp, o->path) != 0)
		rc = qk_err_set(err, QK_E_IO, "%s: cannot rename the output into place: %s",
				o->target, strerror(errno));
	if (rc == QK_OK) {
		open_temps[o->slot] = NULL; /* renamed: nothing to remove any more */
		out_fsync_dir(o->dir);
	}
	release(o, rc != QK_OK);
	return rc;
}

void qk_out_abort(struct qk_out *o)
{
	if (o)
		release(o, true);
}

/* ---- sets ---- */

/* a backup name for member o's current target: hard link, or rename where
 * the filesystem has no links; NULL (nothing to restore) when it did not
 * exist */
static int backup(struct qk_out *o, char **bk, qk_err *err)
{
	struct out_ns ns = { .dir = o->dir, .base = o->base };

	*bk = NULL;
	if (access(o->path, F_OK) != 0)
		return QK_OK;
	for (int tries = 0; tries < 64; tries++) {
		free(*bk);
		if (!(*bk = ns_temp_name(&ns)))
			return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", o->target);
		if (link(o->path, *bk) == 0)
			return QK_OK;
		if (errno == EEXIST)
			continue;
		if (rename(o->path, *bk) == 0) /* no hard links here */
			return QK_OK;
		break;
	}
	free(*bk);
	*bk = NULL;
	return qk_err_set(err, QK_E_IO, "%s: cannot keep the older file while the set is replaced: "
			  "%s", o->target, strerror(errno));
}

int qk_out_commit_set(struct qk_out **m, size_t n, qk_err *err)
{
	char **bk = calloc(n ? n : 1, sizeof(*bk));
	size_t moved = 0;
	int rc = QK_OK;

	if (!bk)
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory for a set of %zu files", n);
	qk_out_block_signals(true);
	for (size_t k = 0; !rc && k < n; k++)
		rc = backup(m[k], &bk[k], err);
	while (!rc && moved < n) {
		if (rename(m[moved]->temp, m[moved]->path) != 0) {
			rc = qk_err_set(err, QK_E_IO, "%s: cannot rename the output into place: %s",
					m[moved]->target, strerror(errno));
			break;
		}
		open_temps[m[moved]->slot] = NULL;
		moved++;
	}
	if (rc) {
		/* every member moved gets its older file back, or goes; the others
		 * still have theirs (a link: drop the backup; renamed: put it back) */
		for (size_t k = 0; k < n; k++) {
			if (k < moved && (!bk || !bk[k]))
				unlink(m[k]->path);
			else if (bk && bk[k] && k >= moved && access(m[k]->path, F_OK) == 0)
				unlink(bk[k]);
			else if (bk && bk[k])
				rename(bk[k], m[k]->path);
		}
	} else {
		for (size_t k = 0; k < n; k++)
			if (bk[k])
				unlink(bk[k]);
		for (size_t k = 0; k < n; k++)
			if (k == 0 || strcmp(m[k]->dir, m[k - 1]->dir))
				out_fsync_dir(m[k]->dir);
	}
	for (size_t k = 0; k < n; k++) {
		if (bk)
			free(bk[k]);
		release(m[k], rc != QK_OK);
	}
	free(bk);
	qk_out_block_signals(false);
	return rc;
}
