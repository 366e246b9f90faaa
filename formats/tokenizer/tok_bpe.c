/* tok_bpe.c - byte pair encoding of one pre-token by merge rank.
 *
 * Both tokenizers' BPE (Word::merge_all) and tiktoken (_byte_pair_merge)
 * repeatedly merge the adjacent pair of lowest rank, the leftmost when one
 * pair occurs more than once, until no pair has a rank. tokenizers ranks a
 * pair by its line in the merges; tiktoken by the rank (= id) of the bytes
 * of the two parts together. Here both are one table (left id, right id) ->
 * (rank, merged id) and one min-heap of (rank, position) with stale entries
 * skipped, which gives that order in O(n log n).
 */
#include "tok_enc_priv.h"

#include <stdlib.h>
#include <string.h>

#define PAIR_EMPTY UINT64_MAX

static inline size_t pair_hash(uint64_t key, size_t mask)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & mask;
}

static const struct tk_pair_slot *pair_get(const struct tk_enc *e, int32_t a, int32_t b)
{
	uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
	size_t mask = e->pair_cap - 1, i = pair_hash(key, mask);

	for (;;) {
		const struct tk_pair_slot *s = &e->pairs[i];
		if (s->key == key)
			return s;
		if (s->key == PAIR_EMPTY)
			return NULL;
		i = (i + 1) & mask;
	}
}

/* insert unless present (the first rank stays: tokenizers' merges hold no
 * pair twice, and for tiktoken every split of one token gives one rank) */
static void pair_put(struct tk_enc *e, int32_t a, int32_t b, uint32_t rank, int32_t id)
{
	uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
	size_t mask = e->pair_cap - 1, i = pair_hash(key, mask);

	for (;;) {
		struct tk_pair_slot *s = &e->pairs[i];
		if (s->key == key)
			return;
		if (s->key == PAIR_EMPTY) {
			*s = (struct tk_pair_slot){ key, rank, id };
			return;
		}
		i = (i + 1) & mask;
	}
}

static int alloc_pairs(struct tk_enc *e, size_t n, qk_err *err)
{
	size_t cap = 64;

	while (cap < n * 2)
		cap *= 2;
	e->pairs = malloc(cap * sizeof(e->pairs[0]));
	if (!e->pairs)
		return qk_err_set(err, QK_E_NOMEM, "tokenizer: out of memory for %zu merges", n);
	for (size_t i = 0; i < cap; i++)
		e->pairs[i].key = PAIR_EMPTY;
	e->pair_cap = cap;
	return QK_OK;
}

static int32_t id_of_bytes(const struct tk_enc *e, const char *p, size_t n)
{
	int64_t id = qk_hmap_get(&e->by_bytes, p, n);
	return id < 0 ? -1 : (int32_t)id;
}

int tk_bpe_build(struct tk_enc *e, bool tiktoken, qk_err *err)
{
	const struct tk_vocab *v = &e->v;
	size_t n = 0;
	int rc;

	if (tiktoken) {
		for (uint32_t id = 0; id < v->n_tokens; id++)
			n += e->off[id + 1] - e->off[id];
		if ((rc = alloc_pairs(e, n, err)))
			return rc;
		for (uint32_t id = 0; id < v->n_tokens; id++) {
			const char *t = e->bytes + e->off[id];
			size_t len = e->off[id + 1] - e->off[id];
			if (v->types[id] != TK_NORMAL)
				continue;
			for (size_t k = 1; k < len; k++) {
				int32_t a = id_of_bytes(e, t, k), b = id_of_bytes(e, t + k, len - k);
				if (a >= 0 && b >= 0)
					pair_put(e, a, b, id, (int32_t)id);
			}
		}
		return QK_OK;
	}
	if ((rc = alloc_pairs(e, v->n_merges, err)))
		return rc;
	for (uint32_t r = 0; r < v->n_merges; r++) {
		const char *m = v->merges[r], *sp = strchr(m, ' ');
		int64_t a, b, ab;
		size_t la;
		char *joined;

		if (!sp)
			continue; /* tokenizer.h's loaders refuse these */
		la = (size_t)(sp - m);
		joined = malloc(strlen(m));
		if (!joined)
			return qk_err_set(err, QK_E_NOMEM, "tokenizer: out of memory");
		memcpy(joined, m, la);
		strcpy(joined + la, sp + 1);
		/* merges name tokens by their vocabulary text */
		a = qk_hmap_get(&e->by_text, m, la);
		b = qk_hmap_get(&e->by_text, sp + 1, strlen(sp + 1));
		ab = qk_hmap_get(&e->by_text, joined, strlen(joined));
		free(joined);
		if (a >= 0 && b >= 0 && ab >= 0)
			pair_put(e, (int32_t)a, (int32_t)b, r, (int32_t)ab);
	}
	return QK_OK;
}

/* ---- the merge loop ---- */

static int grow_scratch(struct tk_scratch *s, size_t n, qk_err *err)
{
	size_t cap = s->cap ? s->cap : 64;
	void *a, *b, *c, *d;

	while (cap < n)
		cap *= 2;
	a = realloc(s->sym, cap * sizeof(s->sym[0]));
	if (a)
		s->sym = a;
	b = realloc(s->nxt, cap * sizeof(s->nxt[0]));
	if (b)
		s->nxt = b;
	c = realloc(s->prv, cap * sizeof(s->prv[0]));
	if (c)
		s->prv = c;
	d = realloc(s->heap, 3 * cap * sizeof(s->heap[0])); /* n pairs + 2 per merge */
	if (d)
		s->heap = d;
	if (!a || !b || !c || !d)
		return qk_err_set(err, QK_E_NOMEM, "tokenizer: out of memory for a %zu-byte piece", n);
	s->cap = cap;
	return QK_OK;
}

static void heap_push(uint64_t *h, size_t *n, uint64_t x)
{
	size_t i = (*n)++;

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (h[p] <= x)
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = x;
}

static uint64_t heap_pop(uint64_t *h, size_t *n)
{
	uint64_t top = h[0], x = h[--*n];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, m;
		if (l >= *n)
			break;
		m = l + 1 < *n && h[l + 1] < h[l] ? l + 1 : l;
		if (h[m] >= x)
			break;
		h[i] = h[m];
		i = m;
	}
	if (*n)
		h[i] = x;
	return top;
}

static void push_pair(const struct tk_enc *e, struct tk_scratch *s, size_t *nh, uint32_t i)
{
	const struct tk_pair_slot *p;
	uint32_t j = s->nxt[i];

	if (j == UINT32_MAX)
		return;
	p = pair_get(e, s->sym[i], s->sym[j]);
	if (p)
		heap_push(s->heap, nh, (uint64_t)p->rank << 32 | i);
}

int tk_bpe_piece(const struct tk_enc *e, const uint8_t *p, size_t n, struct tk_scratch *s,
		 struct tk_ids *out, qk_err *err)
{
	size_t nh = 0, ns = 0;
	uint32_t head = UINT32_MAX, last = UINT32_MAX;
	int rc;

	if (n == 0)
		return QK_OK;
	if (n == 1)
		return e->byte_id[p[0]] >= 0 ? tk_ids_push(out, e->byte_id[p[0]], err) : QK_OK;
	if (e->whole_piece) {
		int32_t id = id_of_bytes(e, (const char *)p, n);
		if (id >= 0)
			return tk_ids_push(out, id, err);
	}
	if (n > s->cap && (rc = grow_scratch(s, n, err)))
		return rc;
	/* one symbol per byte that has a token (tokenizers drops the others when
	 * there is no unk token; Qwen vocabularies have all 256) */
	for (size_t i = 0; i < n; i++) {
		int32_t id = e->byte_id[p[i]];
		if (id < 0)
			continue;
		s->sym[ns] = id;
		s->prv[ns] = last;
		s->nxt[ns] = UINT32_MAX;
		if (last != UINT32_MAX)
			s->nxt[last] = (uint32_t)ns;
		else
			head = (uint32_t)ns;
		last = (uint32_t)ns;
		ns++;
	}
	for (uint32_t i = 0; i < ns; i++)
		push_pair(e, s, &nh, i);
	while (nh) {
		uint64_t top = heap_pop(s->heap, &nh);
		uint32_t i = (uint32_t)top, j = s->nxt[i], rank = (uint32_t)(top >> 32);
		const struct tk_pair_slot *pr;

		if (s->sym[i] < 0 || j == UINT32_MAX)
			continue;
		pr = pair_get(e, s->sym[i], s->sym[j]);
		if (!pr || pr->rank != rank)
			continue; /* stale: a neighbour changed since it was pushed */
		s->sym[i] = pr->id;
		s->sym[j] = -1;
		s->nxt[i] = s->nxt[j];
		if (s->nxt[j] != UINT32_MAX)
			s->prv[s->nxt[j]] = i;
		if (s->prv[i] != UINT32_MAX)
			push_pair(e, s, &nh, s->prv[i]);
		push_pair(e, s, &nh, i);
	}
	for (uint32_t i = head; i != UINT32_MAX; i = s->nxt[i])
		if ((rc = tk_ids_push(out, s->sym[i], err)))
			return rc;
	return QK_OK;
}
