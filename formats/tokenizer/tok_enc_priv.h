/* tok_enc_priv.h - internals of the encoder (tok_encode.c, tok_bpe.c,
 * tok_pretok.c); not a public API. See tk_encode.h.
 */
#ifndef QK_TOK_ENC_PRIV_H
#define QK_TOK_ENC_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tk_encode.h"
#include "tok_priv.h"
#include "tok_unicode.h"

enum { TK_PRE_QWEN2, TK_PRE_QWEN35 };

/* The length in bytes of the pre-token at the start of s[0..n) (n >= 1,
 * valid UTF-8): the first match of the `kind` regex. */
size_t tk_pretok_next(const uint8_t *s, size_t n, int kind);

/* (left id, right id) -> (rank, merged id), open addressing */
struct tk_pair_slot {
	uint64_t key;      /* left << 32 | right, UINT64_MAX = empty */
	uint32_t rank;
	int32_t id;
};

struct tk_enc_added {
	const char *text;  /* the token's text (into the encoder's strings) */
	size_t len;
	int32_t id;
	uint8_t flags;     /* TK_ADDED_* */
};

struct tk_enc {
	struct tk_vocab v;
	int pre;                   /* TK_PRE_* */
	int nfc;                   /* Unicode version of the normalizer, 0 = none */
	bool nfc_whole;            /* Qwen1: NFC the whole text before specials */
	bool whole_piece;          /* tiktoken / ignore_merges: a piece that is a
				    * token is that token */
	int32_t byte_id[256];      /* token of each single byte, -1 = none */
	char *bytes;               /* every token's bytes, back to back */
	size_t *off;               /* [n_tokens + 1] token id -> bytes[off[id]..off[id+1]) */
	struct qk_hmap by_bytes;    /* token bytes -> id (keys into `bytes`) */
	struct qk_hmap by_text;     /* vocabulary text -> id (keys into v.tokens) */
	struct tk_pair_slot *pairs;/* [pair_cap] */
	uint64_t *byte_pairs;      /* [65536] (a << 8 | b) -> rank << 32 | merged id
				    * of the pair of single-byte tokens, or UINT64_MAX
				    * (the first merges, from a table that stays in cache) */
	size_t pair_cap;           /* power of two */
	struct tk_enc_added *added;/* [n_added] */
	size_t n_added;
	uint16_t *first;           /* [257] added tokens sorted by first byte, then
				    * longest first: by_first[first[b]..first[b+1]) */
	uint32_t *by_first;        /* [n_added] indices into added */
	char *added_text;          /* storage for added texts */
};

/* Per-call scratch memory of tk_encode. */
struct tk_scratch {
	int32_t *sym;      /* [cap] symbol ids */
	uint32_t *nxt;     /* [cap] next symbol, cap = none */
	uint32_t *prv;
	uint64_t *heap;    /* [3 * cap] rank << 32 | position */
	uint32_t *prank;   /* [cap] rank of the pair starting at each symbol, or UINT32_MAX */
	int32_t *pid;      /* [cap] its merged id */
	size_t cap;
	uint32_t *cp, *ncp;/* NFC buffers */
	size_t cp_cap, ncp_cap;
	uint8_t *buf;      /* normalized text */
	size_t buf_cap;
	/* piece -> ids cache of one call (texts repeat their words) */
	struct tk_cache_slot *cache; /* [TK_CACHE_SLOTS] */
	uint8_t *cbytes;   /* [TK_CACHE_BYTES] the cached pieces */
	int32_t *cids;     /* [TK_CACHE_BYTES] their ids */
	size_t cb_used, ci_used, c_used;
	bool use_cache;    /* the text is long enough for the cache to pay */
};

#define TK_CACHE_SLOTS 16384u   /* power of two */
#define TK_CACHE_BYTES (256u << 10)
#define TK_CACHE_PIECE 48u      /* longest piece cached, bytes */
#define TK_CACHE_MIN_TEXT 8192u /* shorter texts do without (1.5 MB to set up) */
struct tk_cache_slot {
	uint32_t hash;     /* 0 = empty */
	uint32_t off;      /* piece at cbytes[off], ids at cids[ids] */
	uint32_t ids;
	uint8_t len, n;    /* piece bytes, id count */
};
void tk_scratch_free(struct tk_scratch *s);

/* Build e->pairs from the merges (rank = merge index) or, with `tiktoken`,
 * from every split of every token into two tokens (rank = the merged
 * token's id). e->by_bytes and e->byte_id must be ready. */
int tk_bpe_build(struct tk_enc *e, bool tiktoken, qk_err *err);

/* BPE of one pre-token (its bytes), appending ids. QK_E_NOMEM only. */
int tk_bpe_piece(const struct tk_enc *e, const uint8_t *p, size_t n, struct tk_scratch *s,
		 struct tk_ids *out, qk_err *err);

/* Append one id. */
int tk_ids_push(struct tk_ids *ids, int32_t id, qk_err *err);

#endif
