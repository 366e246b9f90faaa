/* testdir.c - see testdir.h. */
#define _XOPEN_SOURCE 700
#include "testdir.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int td_make(char *buf, size_t size, const char *tag)
{
	int n = snprintf(buf, size, "/tmp/qk_%s_XXXXXX", tag);

	if (n < 0 || (size_t)n >= size)
		return -1;
	return mkdtemp(buf) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int td_remove(const char *dir)
{
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int td_put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -1;
	rc = fputs(text, f) < 0;
	return fclose(f) != 0 || rc ? -1 : 0;
}

const char *td_slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

void td_field(const char *line, int k, char *out, size_t n)
{
	const char *p = line, *e;

	for (int i = 0; i < k && p; i++)
		p = strchr(p, '\t') ? strchr(p, '\t') + 1 : NULL;
	if (!p) {
		out[0] = '\0';
		return;
	}
	e = p + strcspn(p, "\t\n");
	snprintf(out, n, "%.*s", (int)(e - p), p);
}
