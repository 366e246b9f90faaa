/* outfile_ns.c - what a target may be, and the temp namespace beside it:
 * the forbidden inputs, target resolution and refusals, the directory lock,
 * stale temporaries, unguessable temporary names, free space. See outfile.h.
 */
#define _GNU_SOURCE
#include "outfile_priv.h"
#include "path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define RAND_HEX 12 /* hex digits of a temporary's random part (48 bits) */

/* ---- forbidden inputs ---- */

static struct fb {
	dev_t dev;
	ino_t ino;
} *forbidden;
static size_t n_forbidden, cap_forbidden;

int qk_out_forbid(const char *path, qk_err *err)
{
	struct stat st;

	if (!path || stat(path, &st) != 0)
		return QK_OK;
	for (size_t i = 0; i < n_forbidden; i++)
		if (forbidden[i].dev == st.st_dev && forbidden[i].ino == st.st_ino)
			return QK_OK;
	if (n_forbidden == cap_forbidden) {
		size_t cap = cap_forbidden ? 2 * cap_forbidden : 64;
		struct fb *p = realloc(forbidden, cap * sizeof(*p));

		if (!p)
			return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", path);
		forbidden = p;
		cap_forbidden = cap;
	}
	forbidden[n_forbidden].dev = st.st_dev;
	forbidden[n_forbidden].ino = st.st_ino;
	n_forbidden++;
	return QK_OK;
}

void qk_out_forbid_clear(void)
{
	free(forbidden);
	forbidden = NULL;
	n_forbidden = cap_forbidden = 0;
}

static bool forbidden_stat(const struct stat *st)
{
	for (size_t i = 0; i < n_forbidden; i++)
		if (forbidden[i].dev == st->st_dev && forbidden[i].ino == st->st_ino)
			return true;
	return false;
}

bool qk_out_is_forbidden(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && forbidden_stat(&st);
}

/* ---- resolution ---- */

void ns_free(struct out_ns *ns)
{
	ns_unlock(ns);
	free(ns->path);
	free(ns->dir);
	free(ns->base);
	ns->path = ns->dir = ns->base = NULL;
}

static int split_path(struct out_ns *ns, qk_err *err)
{
	const char *slash = strrchr(ns->path, '/');

	if (!slash) {
		ns->dir = strdup(".");
		ns->base = strdup(ns->path);
	} else {
		ns->dir = strndup(ns->path, slash == ns->path ? 1 : (size_t)(slash - ns->path));
		ns->base = strdup(slash + 1);
	}
	if (!ns->dir || !ns->base)
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", ns->given);
	return QK_OK;
}

static int check_parent(const struct out_ns *ns, qk_err *err)
{
	struct stat st;

	if (stat(ns->dir, &st) != 0)
		return qk_err_set(err, QK_E_IO, "%s: cannot write there: directory '%s': %s", ns->given,
				  ns->dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return qk_err_set(err, QK_E_IO, "%s: cannot write there: '%s' is not a directory",
				  ns->given, ns->dir);
	if (access(ns->dir, W_OK | X_OK) != 0)
		return qk_err_set(err, QK_E_IO, "%s: cannot write in directory '%s': %s", ns->given,
				  ns->dir, strerror(errno));
	return QK_OK;
}

/* the rules on an existing target (followed through symlinks) */
static int check_existing(struct out_ns *ns, bool want_dir, qk_err *err)
{
	const char *t = ns->given;

	if (forbidden_stat(&ns->st))
		return qk_err_set(err, QK_E_USAGE, "%s: output path is one of the inputs; refusing "
				  "to overwrite it", t);
	if (want_dir && !S_ISDIR(ns->st.st_mode))
		return qk_err_set(err, QK_E_USAGE, "%s: exists and is not a directory", t);
	if (!want_dir && S_ISDIR(ns->st.st_mode))
		return qk_err_set(err, QK_E_USAGE, "%s: is a directory (an output file was expected)",
				  t);
	if (!want_dir && !S_ISREG(ns->st.st_mode))
		return qk_err_set(err, QK_E_USAGE, "%s: exists and is not a regular file (a device, "
				  "FIFO or socket); refusing to replace it", t);
	return QK_OK;
}

int ns_resolve(struct out_ns *ns, const char *target, bool want_dir, qk_err *err)
{
	struct stat lst;
	int rc;

	memset(ns, 0, sizeof(*ns));
	ns->dirfd = -1;
	ns->given = target;
	if (!target || !*target)
		return qk_err_set(err, QK_E_USAGE, "the output path is empty");
	if (lstat(target, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		if (stat(target, &ns->st) != 0)
			return qk_err_set(err, QK_E_USAGE, "%s: is a symbolic link to a missing file "
					  "(dangling); refusing to write through it", target);
		ns->exists = true;
		if ((rc = check_existing(ns, want_dir, err)))
			return rc;
		if (!(ns->path = realpath(target, NULL)))
			return qk_err_set(err, QK_E_IO, "%s: cannot resolve the symbolic link: %s",
					  target, strerror(errno));
	} else {
		ns->exists = stat(target, &ns->st) == 0;
		if (ns->exists && (rc = check_existing(ns, want_dir, err)))
			return rc;
		if (!(ns->path = strdup(target)))
			return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", target);
		/* "out/" names the directory "out" */
		for (size_t k = strlen(ns->path); want_dir && k > 1 && ns->path[k - 1] == '/'; k--)
			ns->path[k - 1] = '\0';
		if (!want_dir && ns->path[strlen(ns->path) - 1] == '/')
			return qk_err_set(err, QK_E_USAGE, "%s: names a directory (an output file was "
					  "expected)", target);
	}
	if ((rc = split_path(ns, err)))
		return rc;
	return check_parent(ns, err);
}

/* ---- the temp namespace ---- */

void ns_unlock(struct out_ns *ns)
{
	if (ns->dirfd >= 0)
		close(ns->dirfd); /* drops the flock */
	ns->dirfd = -1;
}

/* "<base>.tmp-qwenkit-<RAND_HEX hex>" */
static bool is_our_temp(const char *name, const char *base)
{
	size_t nb = strlen(base), nt = strlen(QK_OUT_TMP_TAG);

	if (strncmp(name, base, nb) || strncmp(name + nb, QK_OUT_TMP_TAG, nt))
		return false;
	name += nb + nt;
	for (int i = 0; i < RAND_HEX; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return name[RAND_HEX] == '\0';
}

static void remove_tree_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(fd, de->d_name, 0);
	closedir(d);
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* Is the temporary `name` (a file, or a directory with its lock file) held
 * by a live writer? 1 live, 0 stale, -1 cannot tell (left alone). */
static int held(int dirfd, const char *name, bool is_dir)
{
	char *lock;
	int fd, r;

	if (is_dir) {
		if (!(lock = qk_path_join(name, QK_OUT_DIR_LOCK)))
			return -1;
		fd = openat(dirfd, lock, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		r = errno;
		free(lock);
		if (fd < 0)
			return r == ENOENT ? 0 : -1;
	} else {
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return -1;
	}
	r = flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : errno == EWOULDBLOCK ? 1 : -1;
	close(fd); /* drops the lock if we took it */
	return r;
}

/* One temporary of our target: live (another run writes the target), stale
 * (removed, reported), or not ours to judge (unreadable: left alone). */
static int judge(struct out_ns *ns, const char *name, bool remove_stale, qk_err *err)
{
	struct stat st;
	int h;

	if (fstatat(ns->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
		return QK_OK;
	h = held(ns->dirfd, name, S_ISDIR(st.st_mode));
	if (h == 1)
		return qk_err_set(err, QK_E_IO, "%s: another process is writing it right now "
				  "(its temporary '%s' is locked); wait for it to finish or "
				  "choose another output", ns->given, name);
	if (h == 0 && remove_stale) {
		if (S_ISDIR(st.st_mode))
			remove_tree_at(ns->dirfd, name);
		else
			unlinkat(ns->dirfd, name, 0);
		out_notice("%s: removed '%s/%s', left behind by an earlier run that was killed",
			   ns->given, ns->dir, name);
	}
	return QK_OK;
}

int ns_lock_scan(struct out_ns *ns, bool remove_stale, qk_err *err)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = QK_OK;

	ns->dirfd = open(ns->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ns->dirfd < 0)
		return QK_OK; /* not readable: nothing to scan, nothing to lock */
	while (flock(ns->dirfd, LOCK_EX) != 0)
		if (errno != EINTR) {
			ns_unlock(ns); /* no locks on this filesystem: scan unguarded */
			return QK_OK;
		}
	if ((fd = dup(ns->dirfd)) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return QK_OK;
	}
	rewinddir(d);
	while (!rc && (de = readdir(d)))
		if (is_our_temp(de->d_name, ns->base))
			rc = judge(ns, de->d_name, remove_stale, err);
	closedir(d);
	return rc;
}

static uint64_t random_bits(void)
{
	static uint64_t fallback;
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	/* no entropy source: a counter mixed with time and pid, still retried on EEXIST */
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	fallback += 0x9e3779b97f4a7c15ull;
	v = fallback ^ ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
	v ^= v >> 31;
	v *= 0xbf58476d1ce4e5b9ull;
	return v ^ (v >> 29);
}

char *ns_temp_name(const struct out_ns *ns)
{
	size_t n = strlen(ns->dir) + strlen(ns->base) + strlen(QK_OUT_TMP_TAG) + RAND_HEX + 8;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s/%s%s%012llx", ns->dir, ns->base, QK_OUT_TMP_TAG,
			 (unsigned long long)(random_bits() & 0xffffffffffffull));
	return s;
}

int ns_space(const struct out_ns *ns, uint64_t planned, qk_err *err)
{
	struct statvfs sv;
	uint64_t avail;

	if (!planned || statvfs(ns->dir, &sv) != 0)
		return QK_OK;
	avail = (uint64_t)sv.f_bavail;
	avail = sv.f_frsize && avail > UINT64_MAX / sv.f_frsize ? UINT64_MAX : avail * sv.f_frsize;
	if (avail < planned)
		return qk_err_set(err, QK_E_IO, "%s: needs %llu bytes but its filesystem ('%s') has %llu "
				  "free", ns->given, (unsigned long long)planned, ns->dir,
				  (unsigned long long)avail);
	return QK_OK;
}

int qk_out_check(const char *target, uint64_t planned_bytes, qk_err *err)
{
	struct out_ns ns;
	int rc = ns_resolve(&ns, target, false, err);

	if (!rc)
		rc = ns_lock_scan(&ns, false, err);
	if (!rc)
		rc = ns_space(&ns, planned_bytes, err);
	ns_free(&ns);
	return rc;
}
