/* tok_split.c - tk_encode: ill-formed UTF-8, added tokens, normalization,
 * then pre-tokens to BPE (tokenizers' AddedVocabulary::extract_and_normalize
 * and find_matches, step by step; see tk_encode.h).
 */
#include "tok_enc_priv.h"

#include <stdlib.h>
#include <string.h>

struct run {
	const struct tk_enc *e;
	unsigned flags;
	struct tk_scratch *s;
	struct tk_ids *out;
	qk_err *err;
};

/* ---- text clean-up ---- */

/* a copy of t with each ill-formed subpart replaced by U+FFFD, or NULL
 * (with *fixed = t) when t is valid */
static int clean_utf8(const uint8_t *t, size_t n, uint8_t **fixed, size_t *fn, qk_err *err)
{
	size_t i = 0, o = 0;
	uint8_t *p;

	*fixed = NULL;
	*fn = n;
	while (i < n) {
		uint32_t cp;
		size_t l;
		if (t[i] < 0x80) {
			i++;
			continue;
		}
		l = tk_utf8_next(t + i, n - i, &cp);
		if (cp == 0xfffd && !(l == 3 && t[i] == 0xef && t[i + 1] == 0xbf && t[i + 2] == 0xbd))
			break;
		i += l;
	}
	if (i == n)
		return QK_OK;
	if (n > (SIZE_MAX - 4) / 3 || !(p = malloc(n * 3 + 4)))
		return qk_err_set(err, QK_E_NOMEM, "tokenizer: out of memory for %zu bytes", n);
	memcpy(p, t, i);
	o = i;
	while (i < n) {
		uint32_t cp;
		size_t l = tk_utf8_next(t + i, n - i, &cp);
		if (cp == 0xfffd)
			o += tk_utf8_put(p + o, cp);
		else {
			memcpy(p + o, t + i, l);
			o += l;
		}
		i += l;
	}
	*fixed = p;
	*fn = o;
	return QK_OK;
}

static int reserve(void **buf, size_t *cap, size_t need, size_t elem, qk_err *err)
{
	void *p;

	if (need <= *cap)
		return QK_OK;
	if (need > SIZE_MAX / elem / 2)
		return qk_err_set(err, QK_E_NOMEM, "tokenizer: out of memory");
	p = realloc(*buf, need * 2 * elem);
	if (!p)
		return qk_err_set(err, QK_E_NOMEM, "tokenizer: out of memory for %zu bytes",
				  need * 2 * elem);
	*buf = p;
	*cap = need * 2;
	return QK_OK;
}

/* NFC of valid UTF-8 t[0..n) into s->buf (*out, *on), or *out = t when t
 * is already NFC by the quick check. Segments start at each code point
 * that is stable under NFC (class without TK_UC_NFC) and run to the next;
 * only segments holding another code point are normalized. */
static int nfc_text(struct tk_scratch *s, const uint8_t *t, size_t n, int version,
		    const uint8_t **out, size_t *on, qk_err *err)
{
	size_t i = 0, o = 0, seg = 0;
	bool dirty = false;
	int rc;

	*out = t;
	*on = n;
	while (i < n) {
		uint32_t cp;
		size_t l;
		if (t[i] < 0x80) {
			i++;
			continue;
		}
		l = tk_utf8_next(t + i, n - i, &cp);
		if (tk_uc_class(cp) & TK_UC_NFC)
			break;
		i += l;
	}
	if (i >= n)
		return QK_OK;
	if ((rc = reserve((void **)&s->buf, &s->buf_cap, n * 3 + 16, 1, err)))
		return rc;
	i = 0;
	while (i <= n) {
		uint32_t cp = 0;
		size_t l = 0;
		bool stable = true;

		if (i < n) {
			l = t[i] < 0x80 ? 1 : tk_utf8_next(t + i, n - i, &cp);
			if (t[i] < 0x80)
				cp = t[i];
			stable = !(tk_uc_class(cp) & TK_UC_NFC);
		}
		if (stable && i > seg) { /* flush t[seg..i) */
			if (!dirty) {
				memcpy(s->buf + o, t + seg, i - seg);
				o += i - seg;
			} else {
				size_t m = 0, r;
				if ((rc = reserve((void **)&s->cp, &s->cp_cap, i - seg, 4, err)) ||
				    (rc = reserve((void **)&s->ncp, &s->ncp_cap, tk_nfc_room(i - seg),
						  4, err)))
					return rc;
				for (size_t k = seg; k < i;)
					k += tk_utf8_next(t + k, i - k, &s->cp[m++]);
				r = tk_nfc(s->cp, m, s->ncp, s->ncp_cap, version);
				for (size_t k = 0; k < r; k++)
					o += tk_utf8_put(s->buf + o, s->ncp[k]);
			}
			seg = i;
			dirty = false;
		}
		if (i == n)
			break;
		if (!stable)
			dirty = true;
		i += l;
	}
	*out = s->buf;
	*on = o;
	return QK_OK;
}

/* ---- pre-tokens ---- */

/* BPE of one piece through the call's cache: a piece of at most
 * TK_CACHE_PIECE bytes seen before in this call gives the ids it gave then
 * (BPE of a piece depends on its bytes only). The cache is emptied when
 * full. */
static int piece(struct run *r, const uint8_t *p, size_t n)
{
	struct tk_scratch *s = r->s;
	struct tk_cache_slot *c;
	uint32_t h = 2166136261u;
	size_t i, before = r->out->n;
	int rc;

	if (n > TK_CACHE_PIECE || n < 2 || !s->use_cache)
		return tk_bpe_piece(r->e, p, n, s, r->out, r->err);
	if (!s->cache) {
		s->cache = calloc(TK_CACHE_SLOTS, sizeof(s->cache[0]));
		s->cbytes = malloc(TK_CACHE_BYTES);
		s->cids = malloc(TK_CACHE_BYTES * sizeof(s->cids[0]));
		if (!s->cache || !s->cbytes || !s->cids)
			return qk_err_set(r->err, QK_E_NOMEM, "tokenizer: out of memory");
	}
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	h |= 1;
	for (i = h & (TK_CACHE_SLOTS - 1);; i = (i + 1) & (TK_CACHE_SLOTS - 1)) {
		c = &s->cache[i];
		if (!c->hash)
			break;
		if (c->hash == h && c->len == n && memcmp(s->cbytes + c->off, p, n) == 0) {
			for (unsigned k = 0; k < c->n; k++)
				if ((rc = tk_ids_push(r->out, s->cids[c->ids + k], r->err)))
					return rc;
			return QK_OK;
		}
	}
	if ((rc = tk_bpe_piece(r->e, p, n, s, r->out, r->err)))
		return rc;
	if (s->c_used * 2 >= TK_CACHE_SLOTS || s->cb_used + n > TK_CACHE_BYTES ||
	    s->ci_used + n > TK_CACHE_BYTES) { /* full: start again */
		memset(s->cache, 0, TK_CACHE_SLOTS * sizeof(s->cache[0]));
		s->c_used = s->cb_used = s->ci_used = 0;
		for (i = h & (TK_CACHE_SLOTS - 1); s->cache[i].hash; i = (i + 1) & (TK_CACHE_SLOTS - 1))
			;
		c = &s->cache[i];
	}
	*c = (struct tk_cache_slot){ h, (uint32_t)s->cb_used, (uint32_t)s->ci_used, (uint8_t)n,
				     (uint8_t)(r->out->n - before) };
	memcpy(s->cbytes + s->cb_used, p, n);
	memcpy(s->cids + s->ci_used, r->out->id + before, (r->out->n - before) * sizeof(int32_t));
	s->cb_used += n;
	s->ci_used += r->out->n - before;
	s->c_used++;
	return QK_OK;
}

static int encode_plain(struct run *r, const uint8_t *t, size_t n)
{
	size_t i = 0;
	int rc;

	while (i < n) {
		size_t l = tk_pretok_next(t + i, n - i, r->e->pre);
		if ((rc = piece(r, t + i, l)))
			return rc;
		i += l;
	}
	return QK_OK;
}

/* ---- added tokens ---- */

static size_t prev_start(const uint8_t *t, size_t i)
{
	do
		i--;
	while (i > 0 && (t[i] & 0xc0) == 0x80);
	return i;
}

static unsigned class_at(const uint8_t *t, size_t n, size_t i)
{
	uint32_t cp;
	tk_utf8_next(t + i, n - i, &cp);
	return tk_uc_class(cp);
}

/* the leftmost, longest added token (of the normalized or the raw set) at or
 * after byte `from`: its start, or n */
static size_t find_added(const struct tk_enc *e, const uint8_t *t, size_t n, size_t from,
			 bool normalized, const struct tk_enc_added **hit)
{
	for (size_t i = from; i < n; i++) {
		unsigned b = t[i];
		for (unsigned k = e->first[b]; k < e->first[b + 1]; k++) {
			const struct tk_enc_added *a = &e->added[e->by_first[k]];
			if (((a->flags & TK_ADDED_NORMALIZED) != 0) != normalized)
				continue;
			if (a->len <= n - i && memcmp(t + i, a->text, a->len) == 0) {
				*hit = a;
				return i;
			}
		}
	}
	return n;
}

typedef int (*gap_fn)(struct run *r, const uint8_t *t, size_t n);

/* find_matches: split t at the added tokens of one set, encoding the gaps
 * with `gap` */
static int split_added(struct run *r, const uint8_t *t, size_t n, bool normalized, gap_fn gap)
{
	const struct tk_enc *e = r->e;
	size_t pos = 0, done = 0;
	int rc;

	for (;;) {
		const struct tk_enc_added *a = NULL;
		size_t start = find_added(e, t, n, pos, normalized, &a), stop;

		if (start >= n)
			break;
		stop = start + a->len;
		pos = stop; /* the matcher goes on after the match, whatever is done with it */
		if ((a->flags & TK_ADDED_SPECIAL) && !(r->flags & TK_ENC_PARSE_SPECIAL))
			continue;
		if (a->flags & TK_ADDED_SINGLE_WORD) {
			bool word_before = start > 0 &&
					   (class_at(t, n, prev_start(t, start)) & TK_UC_WORD);
			bool word_after = stop < n && (class_at(t, n, stop) & TK_UC_WORD);
			if (word_before || word_after)
				continue;
		}
		if (a->flags & TK_ADDED_LSTRIP) {
			size_t ns = start;
			while (ns > 0 && (class_at(t, n, prev_start(t, ns)) & TK_UC_WS))
				ns = prev_start(t, ns);
			start = ns > done ? ns : done;
		}
		if (a->flags & TK_ADDED_RSTRIP) {
			while (stop < n && (class_at(t, n, stop) & TK_UC_WS)) {
				uint32_t cp;
				stop += tk_utf8_next(t + stop, n - stop, &cp);
			}
		}
		if (done < start && (rc = gap(r, t + done, start - done)))
			return rc;
		if ((rc = tk_ids_push(r->out, a->id, r->err)))
			return rc;
		done = stop;
	}
	if (done < n)
		return gap(r, t + done, n - done);
	return QK_OK;
}

static int encode_normalized(struct run *r, const uint8_t *t, size_t n)
{
	return split_added(r, t, n, true, encode_plain);
}

/* a piece between raw added tokens: normalize, then the normalized ones */
static int encode_raw_gap(struct run *r, const uint8_t *t, size_t n)
{
	const uint8_t *nt = t;
	size_t nn = n;
	int rc;

	if (r->e->nfc && !r->e->nfc_whole &&
	    (rc = nfc_text(r->s, t, n, r->e->nfc, &nt, &nn, r->err)))
		return rc;
	return encode_normalized(r, nt, nn);
}

int tk_encode(const struct tk_enc *e, const char *text, size_t len, unsigned flags,
	      struct tk_ids *out, qk_err *err)
{
	struct tk_scratch s = { 0 };
	struct run r = { e, flags, &s, out, err };
	uint8_t *fixed = NULL, *whole = NULL;
	const uint8_t *t = (const uint8_t *)text;
	size_t n = len, n0 = out->n;
	int rc;

	if (len == 0)
		return QK_OK;
	s.use_cache = len >= TK_CACHE_MIN_TEXT;
	if ((rc = clean_utf8(t, n, &fixed, &n, err)))
		return rc;
	if (fixed)
		t = fixed;
	if (e->nfc_whole) {
		const uint8_t *nt;
		if ((rc = nfc_text(&s, t, n, e->nfc, &nt, &n, err)))
			goto out;
		if (nt == s.buf) { /* keep it: s.buf is reused below */
			whole = s.buf;
			s.buf = NULL;
			s.buf_cap = 0;
			t = whole;
		}
	}
	rc = split_added(&r, t, n, false, encode_raw_gap);
out:
	if (rc)
		out->n = n0;
	free(fixed);
	free(whole);
	tk_scratch_free(&s);
	return rc;
}
