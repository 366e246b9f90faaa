/* faultinj.c - test-only LD_PRELOAD library: makes the system calls of the
 * output path fail on demand, so the fault suite (tests/cli/faults.sh) can
 * check that a target is the old file, absent, or the complete new one after
 * disk full, a failing fsync, a failing rename or link.
 *
 * Environment (each unset means no fault):
 *   QK_FAULT_WRITE_AFTER=N  writes to regular files fail with ENOSPC once N
 *                           bytes in total have been written to them (the
 *                           write that crosses N writes up to N first)
 *   QK_FAULT_FSYNC=1        fsync/fdatasync of a regular file fail with EIO
 *   QK_FAULT_RENAME=K       the K-th rename() (1-based) fails with EIO
 *   QK_FAULT_LINK=1         link() fails with EPERM (no hard links here)
 *
 * Built by the Makefile as $(BUILD)/faultinj.so (never linked into a tool).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long long env_u64(const char *name)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 10) : 0;
}

static int regular(int fd)
{
	struct stat st;

	return fd > 2 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);
	static unsigned long long used; /* racy across threads: writers here are one thread */
	unsigned long long limit = env_u64("QK_FAULT_WRITE_AFTER");

	if (!real)
		real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (limit && regular(fd)) {
		if (used >= limit) {
			errno = ENOSPC;
			return -1;
		}
		if (n > limit - used)
			n = (size_t)(limit - used);
		used += n;
	}
	return real(fd, buf, n);
}

int fsync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (env_u64("QK_FAULT_FSYNC") && regular(fd)) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	if (env_u64("QK_FAULT_FSYNC") && regular(fd)) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}

int rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	static unsigned long long calls;
	unsigned long long k = env_u64("QK_FAULT_RENAME");

	if (!real)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	if (k && ++calls == k) {
		errno = EIO;
		return -1;
	}
	return real(from, to);
}

int link(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);

	if (!real)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "link");
	if (env_u64("QK_FAULT_LINK")) {
		errno = EPERM;
		return -1;
	}
	return real(from, to);
}
