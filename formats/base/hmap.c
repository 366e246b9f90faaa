/* hmap.c - string-keyed hash map; see hmap.h. */
#include "hmap.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a offset basis */

	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ull; /* FNV-1a prime */
	}
	return h ^ (h >> 29); /* fold high bits into the masked low ones */
}

int qk_hmap_init(struct qk_hmap *m, size_t n_hint)
{
	size_t cap = 64;

	while (cap < n_hint && cap <= SIZE_MAX / 4)
		cap *= 2;
	if (cap < n_hint || cap > SIZE_MAX / 2 / sizeof(m->slots[0]))
		m->slots = NULL;
	else
		m->slots = calloc(cap * 2, sizeof(m->slots[0]));
	m->cap = m->slots ? cap * 2 : 0;
	m->n = 0;
	return m->slots ? QK_OK : QK_E_NOMEM;
}

void qk_hmap_free(struct qk_hmap *m)
{
	if (!m)
		return;
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* The slot holding key, or the empty slot where it would go. cap > 0 and
 * at least one slot is empty (load <= 1/2). */
static struct qk_hslot *find_slot(const struct qk_hmap *m, const char *key, size_t len)
{
	size_t mask = m->cap - 1, i = (size_t)hash_bytes(key, len) & mask;

	for (;;) {
		struct qk_hslot *s = &m->slots[i];
		if (!s->key || (s->len == len && memcmp(s->key, key, len) == 0))
			return s;
		i = (i + 1) & mask;
	}
}

int64_t qk_hmap_get(const struct qk_hmap *m, const char *key, size_t len)
{
	const struct qk_hslot *s;

	if (!m->cap)
		return -1;
	s = find_slot(m, key, len);
	return s->key ? s->val : -1;
}

int64_t qk_hmap_gets(const struct qk_hmap *m, const char *key)
{
	return qk_hmap_get(m, key, strlen(key));
}

static int grow(struct qk_hmap *m)
{
	struct qk_hmap big;

	if (qk_hmap_init(&big, m->cap))
		return QK_E_NOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].key) {
			*find_slot(&big, m->slots[i].key, m->slots[i].len) = m->slots[i];
			big.n++;
		}
	}
	free(m->slots);
	*m = big;
	return QK_OK;
}

int64_t qk_hmap_put(struct qk_hmap *m, const char *key, size_t len, int64_t val)
{
	struct qk_hslot *s;

	if ((m->n + 1) * 2 > m->cap && grow(m))
		return -2;
	s = find_slot(m, key, len);
	if (s->key)
		return s->val;
	s->key = key ? key : "";
	s->len = len;
	s->val = val;
	m->n++;
	return -1;
}

/* Is slot `home` on the probe path from the hole `hole` to `j` (cyclically in
 * (hole, j])? Then the entry at j may not move into the hole. */
static bool stays(size_t home, size_t hole, size_t j)
{
	return hole < j ? home > hole && home <= j : home > hole || home <= j;
}

bool qk_hmap_del(struct qk_hmap *m, const char *key, size_t len)
{
	struct qk_hslot *s;
	size_t mask, hole, j;

	if (!m->cap)
		return false;
	s = find_slot(m, key, len);
	if (!s->key)
		return false;
	mask = m->cap - 1;
	hole = (size_t)(s - m->slots);
	/* pull later entries of the run back over the hole, keeping each one
	 * reachable from its home slot */
	for (j = (hole + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = (size_t)hash_bytes(m->slots[j].key, m->slots[j].len) & mask;

		if (!stays(home, hole, j)) {
			m->slots[hole] = m->slots[j];
			hole = j;
		}
	}
	memset(&m->slots[hole], 0, sizeof(m->slots[hole]));
	m->n--;
	return true;
}
