/* outfile.c - atomic output via temp file + fsync + rename; see outfile.h.
 *
 * Signal safety: the handler only walks a fixed array of temp paths and calls
 * unlink(), both async-signal-safe, then re-raises with the default action.
 */
#define _GNU_SOURCE
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static void on_signal(int sig)
{
	for (int i = 0; i < MAX_OPEN; i++) {
		char *p = open_temps[i];
		if (p)
			unlink(p);
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
