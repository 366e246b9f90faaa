/* io.c - mappings, cursor, small-file reads; see io.h. */
#define _GNU_SOURCE
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int qk_map_open(qk_map *map, const char *path, qk_err *err)
{
	struct stat st;
	int fd;

	memset(map, 0, sizeof(*map));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return qk_err_set(err, QK_E_IO, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return qk_err_set(err, QK_E_IO, "%s: cannot stat: %s", path, strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return qk_err_set(err, QK_E_IO, "%s: is a directory, expected a file", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return qk_err_set(err, QK_E_IO, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		return qk_err_set(err, QK_E_IO, "%s: file too large to map", path);
	}
	map->size = (size_t)st.st_size;
	if (map->size > 0) {
		void *p = mmap(NULL, map->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			int e = errno;
			close(fd);
			memset(map, 0, sizeof(*map));
			return qk_err_set(err, e == ENOMEM ? QK_E_NOMEM : QK_E_IO,
					  "%s: cannot map: %s", path, strerror(e));
		}
		map->data = p;
	}
	close(fd);
	map->path = strdup(path);
	if (!map->path) {
		qk_map_close(map);
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", path);
	}
	return QK_OK;
}

void qk_map_close(qk_map *map)
{
	if (!map)
		return;
	if (map->data)
		munmap((void *)(uintptr_t)map->data, map->size);
	free(map->path);
	memset(map, 0, sizeof(*map));
}

void qk_map_evict(const qk_map *map, size_t off, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t start, end;

	if (!map || !map->data || pg <= 0 || off >= map->size)
		return;
	if (len > map->size - off)
		len = map->size - off;
	/* only whole pages inside the range */
	start = ((uintptr_t)(map->data + off) + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
	end = ((uintptr_t)(map->data + off + len)) & ~((uintptr_t)pg - 1);
	if (end > start)
		madvise((void *)start, end - start, MADV_DONTNEED);
}

void qk_map_drop(const qk_map *map, size_t off, size_t len)
{
	const size_t win = 2u << 20; /* 2 MiB: covers fault-around and huge pages */
	size_t start, end;

	if (!map || !map->data || off >= map->size)
		return;
	if (len > map->size - off)
		len = map->size - off;
	start = off & ~(win - 1);
	end = (off + len + win - 1) & ~(win - 1);
	if (end > map->size)
		end = map->size;
	/* the mapping starts page-aligned, so start is too */
	madvise((void *)(uintptr_t)(map->data + start), end - start, MADV_DONTNEED);
}

int qk_read_file(const char *path, size_t max_size, char **out, size_t *out_len,
		 qk_err *err)
{
	qk_map m;
	int rc;

	*out = NULL;
	if (out_len)
		*out_len = 0;
	rc = qk_map_open(&m, path, err);
	if (rc)
		return rc;
	if (m.size > max_size) {
		rc = qk_err_set(err, QK_E_INVALID, "%s: file is %zu bytes, more than the limit of %zu",
				path, m.size, max_size);
		qk_map_close(&m);
		return rc;
	}
	*out = malloc(m.size + 1);
	if (!*out) {
		qk_map_close(&m);
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", path);
	}
	if (m.size)
		memcpy(*out, m.data, m.size);
	(*out)[m.size] = '\0';
	if (out_len)
		*out_len = m.size;
	qk_map_close(&m);
	return QK_OK;
}

void qk_cur_init(qk_cur *c, const void *base, size_t size, const char *what,
		 uint64_t origin)
{
	c->base = base;
	c->size = base ? size : 0;
	c->pos = 0;
	c->what = what ? what : "input";
	c->origin = origin;
}

int qk_cur_bytes(qk_cur *c, size_t n, const uint8_t **out, const char *field,
		 qk_err *err)
{
	if (n > qk_cur_left(c))
		return qk_err_set(err, QK_E_INVALID,
				  "%s: unexpected end of file at byte %llu reading %s: need %zu bytes, %zu left",
				  c->what, (unsigned long long)qk_cur_offset(c), field, n,
				  qk_cur_left(c));
	if (out)
		*out = c->base + c->pos;
	c->pos += n;
	return QK_OK;
}

int qk_cur_skip(qk_cur *c, size_t n, const char *field, qk_err *err)
{
	return qk_cur_bytes(c, n, NULL, field, err);
}

int qk_cur_u8(qk_cur *c, uint8_t *out, const char *field, qk_err *err)
{
	const uint8_t *p = NULL;
	int rc = qk_cur_bytes(c, 1, &p, field, err);
	if (rc == QK_OK)
		*out = p[0];
	return rc;
}

int qk_cur_u16(qk_cur *c, uint16_t *out, const char *field, qk_err *err)
{
	const uint8_t *p = NULL;
	int rc = qk_cur_bytes(c, 2, &p, field, err);
	if (rc == QK_OK)
		*out = qk_ld16(p);
	return rc;
}

int qk_cur_u32(qk_cur *c, uint32_t *out, const char *field, qk_err *err)
{
	const uint8_t *p = NULL;
	int rc = qk_cur_bytes(c, 4, &p, field, err);
	if (rc == QK_OK)
		*out = qk_ld32(p);
	return rc;
}

int qk_cur_u64(qk_cur *c, uint64_t *out, const char *field, qk_err *err)
{
	const uint8_t *p = NULL;
	int rc = qk_cur_bytes(c, 8, &p, field, err);
	if (rc == QK_OK)
		*out = qk_ld64(p);
	return rc;
}

size_t qk_utf8_invalid_at(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t len;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2; cp = c & 0x1f; min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3; cp = c & 0x0f; min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4; cp = c & 0x07; min = 0x10000;
		} else {
			return i;
		}
		if (len > n - i)
			return i;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += len;
	}
	return n;
}

bool qk_utf8_valid(const char *str, size_t n)
{
	return qk_utf8_invalid_at(str, n) == n;
}
