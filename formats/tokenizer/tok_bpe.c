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

static int build_pairs(struct tk_enc *e, bool tiktoken, qk_err *err);

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

static int build_byte_pairs(struct tk_enc *e, qk_err *err)
{
	e->byte_pairs = malloc(65536 * sizeof(e->byte_pairs[0]));
	if (!e->byte_pairs)
		return qk_err_set(err, QK_E_NOMEM, "tokenizer: out of memory");
	for (unsigned a = 0; a < 256; a++) {
		for (unsigned b = 0; b < 256; b++) {
			const struct tk_pair_slot *p = NULL;
			if (e->byte_id[a] >= 0 && e->byte_id[b] >= 0)
				p = pair_get(e, e->byte_id[a], e->byte_id[b]);
			e->byte_pairs[a << 8 | b] =
				p ? (uint64_t)p->rank << 32 | (uint32_t)p->id : UINT64_MAX;
		}
	}
	return QK_OK;
}

int tk_bpe_build(struct tk_enc *e, bool tiktoken, qk_err *err)
{
	int rc = build_pairs(e, tiktoken, err);

	return rc ? rc : build_byte_pairs(e, err);
}

static int build_pairs(struct tk_enc *e, bool tiktoken, qk_err *err)
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
	void *p[6];
	bool ok = true;

	while (cap < n)
		cap *= 2;
	p[0] = realloc(s->sym, cap * sizeof(s->sym[0]));
	if (p[0])
		s->sym = p[0];
	p[1] = realloc(s->nxt, cap * sizeof(s->nxt[0]));
	if (p[1])
		s->nxt = p[1];
	p[2] = realloc(s->prv, cap * sizeof(s->prv[0]));
	if (p[2])
		s->prv = p[2];
	p[3] = realloc(s->heap, 3 * cap * sizeof(s->heap[0])); /* n pairs + 2 per merge */
	if (p[3])
		s->heap = p[3];
	p[4] = realloc(s->prank, cap * sizeof(s->prank[0]));
	if (p[4])
		s->prank = p[4];
	p[5] = realloc(s->pid, cap * sizeof(s->pid[0]));
	if (p[5])
		s->pid = p[5];
	for (int i = 0; i < 6; i++)
		ok = ok && p[i];
	if (!ok)
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

/* (re)compute the pair starting at symbol i: prank/pid remember it, so a
 * heap entry is current exactly when its rank is prank[i] */
static void set_pair(const struct tk_enc *e, struct tk_scratch *s, size_t *nh, uint32_t i)
{
	const struct tk_pair_slot *p;
	uint32_t j = s->nxt[i];

	s->prank[i] = UINT32_MAX;
	if (j == UINT32_MAX)
		return;
	p = pair_get(e, s->sym[i], s->sym[j]);
	if (!p)
		return;
	s->prank[i] = p->rank;
	s->pid[i] = p->id;
	heap_push(s->heap, nh, (uint64_t)p->rank << 32 | i);
}

int tk_bpe_piece(const struct tk_enc *e, const uint8_t *p, size_t n, struct tk_scratch *s,
		 struct tk_ids *out, qk_err *err)
{
	size_t nh = 0, ns = 0;
	uint32_t head = UINT32_MAX, last = UINT32_MAX;
	uint8_t lastb = 0;
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
	if (n >= UINT32_MAX / 4)
		return qk_err_set(err, QK_E_UNSUPPORTED, "tokenizer: a pre-token of %zu bytes, more "
				  "than %u", n, UINT32_MAX / 4 - 1);
	if (n > s->cap && (rc = grow_scratch(s, n, err)))
		return rc;
	/* one symbol per byte that has a token (tokenizers drops the others when
	 * there is no unk token; Qwen vocabularies have all 256); the pairs of
	 * bytes come from the byte-pair table */
	for (size_t i = 0; i < n; i++) {
		int32_t id = e->byte_id[p[i]];
		if (id < 0)
			continue;
		s->sym[ns] = id;
		s->prv[ns] = last;
		s->nxt[ns] = UINT32_MAX;
		s->prank[ns] = UINT32_MAX;
		if (last != UINT32_MAX) {
			uint64_t bp = e->byte_pairs[(unsigned)lastb << 8 | p[i]];
			s->nxt[last] = (uint32_t)ns;
			if (bp != UINT64_MAX) {
				s->prank[last] = (uint32_t)(bp >> 32);
				s->pid[last] = (int32_t)(uint32_t)bp;
				heap_push(s->heap, &nh, (bp & 0xffffffff00000000ull) | last);
			}
		} else {
			head = (uint32_t)ns;
		}
		last = (uint32_t)ns;
		lastb = p[i];
		ns++;
	}
	while (nh) {
		uint64_t top = heap_pop(s->heap, &nh);
		uint32_t i = (uint32_t)top, j, rank = (uint32_t)(top >> 32);

		if (s->sym[i] < 0 || s->prank[i] != rank)
			continue; /* stale: the pair at i changed since it was pushed */
		j = s->nxt[i];
		s->sym[i] = s->pid[i];
		s->sym[j] = -1;
		s->nxt[i] = s->nxt[j];
		if (s->nxt[j] != UINT32_MAX)
			s->prv[s->nxt[j]] = i;
		if (s->prv[i] != UINT32_MAX)
			set_pair(e, s, &nh, s->prv[i]);
		set_pair(e, s, &nh, i);
	}
	for (uint32_t i = head; i != UINT32_MAX; i = s->nxt[i])
		if ((rc = tk_ids_push(out, s->sym[i], err)))
			return rc;
	return QK_OK;
}
