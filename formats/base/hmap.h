/* hmap.h - the string-keyed hash map of formats/ (open addressing, FNV-1a,
 * load <= 1/2).
 *
 * Keys are byte strings (pointer, length) owned by the caller: the map keeps
 * the pointer, so a key must stay where it is while the map holds it (point
 * into a mapping, an arena allocated once, or a heap string of its own;
 * never into an array that is realloc'd). Values are non-negative integers,
 * usually an index into the caller's array. Used for GGUF keys and tensor
 * names, the catalog's tensor names, the GGUF writer's duplicate checks and
 * the tokenizer's token -> id maps.
 *
 * struct qk_hmap is caller-owned: qk_hmap_init, then qk_hmap_free (a zeroed
 * map is empty and may be freed or searched as well).
 */
#ifndef QK_HMAP_H
#define QK_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qk_hslot {
	const char *key;   /* NULL = empty */
	size_t len;
	int64_t val;
};

struct qk_hmap {
	struct qk_hslot *slots; /* [cap] */
	size_t cap;             /* power of two, or 0 */
	size_t n;
};

/* An empty map with room for n_hint keys before it grows. QK_OK, or
 * QK_E_NOMEM (the map is then zeroed). */
int qk_hmap_init(struct qk_hmap *m, size_t n_hint);
/* Frees the slots (not the keys). Accepts NULL. */
void qk_hmap_free(struct qk_hmap *m);

/* The value of key, or -1 when absent. */
int64_t qk_hmap_get(const struct qk_hmap *m, const char *key, size_t len);
/* The same for a NUL-terminated key. */
int64_t qk_hmap_gets(const struct qk_hmap *m, const char *key);

/* Insert key -> val (val >= 0). Returns -1 when inserted, the existing
 * value when the key was already there (nothing changes), -2 when out of
 * memory (nothing changes). */
int64_t qk_hmap_put(struct qk_hmap *m, const char *key, size_t len, int64_t val);

/* Remove key; true when it was there. The other keys stay findable whatever
 * the order they went in (backward-shift deletion). */
bool qk_hmap_del(struct qk_hmap *m, const char *key, size_t len);

#endif
