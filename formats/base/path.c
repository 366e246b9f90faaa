/* path.c - file-name helpers; see path.h. */
#include "path.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* dir (dir_len bytes), then sep ('/' or nothing), then name */
static char *cat3(const char *dir, size_t dir_len, size_t sep, const char *name)
{
	size_t n = strlen(name);
	char *p;

	if (dir_len > SIZE_MAX - n - 2)
		return NULL;
	p = malloc(dir_len + sep + n + 1);
	if (!p)
		return NULL;
	if (dir_len)
		memcpy(p, dir, dir_len);
	if (sep)
		p[dir_len] = '/';
	memcpy(p + dir_len + sep, name, n + 1);
	return p;
}

char *qk_path_join_n(const char *dir, size_t dir_len, const char *name)
{
	return cat3(dir, dir_len, 1, name);
}

char *qk_path_join(const char *dir, const char *name)
{
	if (!dir || !*dir)
		return cat3("", 0, 0, name);
	return cat3(dir, strlen(dir), 1, name);
}
