/* io.h - read-only file mappings, a bounds-checked cursor, checked arithmetic.
 *
 * Every byte a reader takes from a file goes through a qk_cur: each read first
 * checks that enough bytes remain, so a truncated or hostile file yields an
 * error naming the byte offset, never an out-of-bounds access.
 *
 * Ownership: a qk_map owns its mapping; pointers into map->data stay valid
 * until qk_map_close. An empty file maps to data == NULL, size == 0.
 */
#ifndef QK_IO_H
#define QK_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* ---- checked arithmetic (true = ok, result stored) ---- */
static inline bool qk_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
	if (a > UINT64_MAX - b)
		return false;
	*out = a + b;
	return true;
}

static inline bool qk_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
	if (b != 0 && a > UINT64_MAX / b)
		return false;
	*out = a * b;
	return true;
}

static inline bool qk_add_size(size_t a, size_t b, size_t *out)
{
	if (a > SIZE_MAX - b)
		return false;
	*out = a + b;
	return true;
}

static inline bool qk_mul_size(size_t a, size_t b, size_t *out)
{
	if (b != 0 && a > SIZE_MAX / b)
		return false;
	*out = a * b;
	return true;
}

/* Round `v` up to a multiple of `align` (a power of two); false on overflow. */
static inline bool qk_align_up_u64(uint64_t v, uint64_t align, uint64_t *out)
{
	uint64_t t;

	if (!qk_add_u64(v, align - 1, &t))
		return false;
	*out = t & ~(align - 1);
	return true;
}

/* ---- read-only mappings ---- */
typedef struct qk_map {
	const uint8_t *data; /* whole file, read-only; NULL when size == 0 */
	size_t size;         /* bytes */
	char *path;          /* copy of the path, for messages */
} qk_map;

/* Map `path` read-only. On failure returns QK_E_IO and sets err. */
int qk_map_open(qk_map *map, const char *path, qk_err *err);
/* Unmap and free; accepts NULL and a zeroed map. */
void qk_map_close(qk_map *map);
/* Tell the kernel that [off, off+len) will not be needed soon (streaming
 * writers call this after consuming a chunk so memory stays flat). */
void qk_map_evict(const qk_map *map, size_t off, size_t len);

/* Drop the mapping's pages around [off, off+len), widened to 2 MiB
 * boundaries (the kernel maps neighbouring pages on a fault): for small reads
 * whose neighbours are not needed now. They are read again from the file if
 * touched later; contents never change (read-only mapping). */
void qk_map_drop(const qk_map *map, size_t off, size_t len);

/* Read a whole (small) file into a NUL-terminated malloc'd buffer, refusing
 * files larger than max_size. */
int qk_read_file(const char *path, size_t max_size, char **out, size_t *out_len,
		 qk_err *err);

/* ---- bounds-checked cursor ---- */
typedef struct qk_cur {
	const uint8_t *base; /* start of the region */
	size_t size;         /* bytes in the region */
	size_t pos;          /* next byte to read */
	const char *what;    /* name for messages, e.g. the file path */
	uint64_t origin;     /* file offset of base (messages report file offsets) */
} qk_cur;

void qk_cur_init(qk_cur *c, const void *base, size_t size, const char *what,
		 uint64_t origin);
static inline size_t qk_cur_left(const qk_cur *c) { return c->size - c->pos; }
static inline uint64_t qk_cur_offset(const qk_cur *c) { return c->origin + c->pos; }

/* Each returns QK_OK or QK_E_INVALID ("<what>: unexpected end of file at byte
 * N reading <field>: need K bytes, M left"). `field` names what was being read.
 * Integers are little-endian. */
int qk_cur_bytes(qk_cur *c, size_t n, const uint8_t **out, const char *field,
		 qk_err *err);
int qk_cur_skip(qk_cur *c, size_t n, const char *field, qk_err *err);
int qk_cur_u8(qk_cur *c, uint8_t *out, const char *field, qk_err *err);
int qk_cur_u16(qk_cur *c, uint16_t *out, const char *field, qk_err *err);
int qk_cur_u32(qk_cur *c, uint32_t *out, const char *field, qk_err *err);
int qk_cur_u64(qk_cur *c, uint64_t *out, const char *field, qk_err *err);

/* Little-endian loads/stores on raw memory (no bounds: caller checked). */
static inline uint16_t qk_ld16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t qk_ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}
static inline uint64_t qk_ld64(const uint8_t *p)
{
	return (uint64_t)qk_ld32(p) | ((uint64_t)qk_ld32(p + 4) << 32);
}
static inline void qk_st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void qk_st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void qk_st64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Does [s, s+n) hold valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF)? */
bool qk_utf8_valid(const char *s, size_t n);
/* Offset of the first byte that does not start a valid UTF-8 sequence (the
 * rules of qk_utf8_valid), or n when all of s is valid. */
size_t qk_utf8_invalid_at(const char *s, size_t n);

#endif
