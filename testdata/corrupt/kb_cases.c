/* kb_cases.c - broken llama-perplexity KL-divergence base files, one per
 * rule of formats/container/kld_base.h, run as
 * `qwen-verify compare --base FILE testdata/models/qwen3` (n_vocab 512).
 *
 * A good file is built field by field: "_logits_", u32 n_ctx 8, i32 n_vocab
 * 512, i32 n_chunk 1, 8 tokens, then 3 records (positions 4..6) of 516
 * uint16: f32 scale 16/65535, f32 min_log_prob -20, 512 q values and no pad
 * (512 is even). Each case changes one field. */
#include "corrupt.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

struct kb_spec {
	const char *magic;
	uint32_t n_ctx;
	int32_t n_vocab, n_chunk;
	int32_t bad_token;       /* stored at token 3 when != 0 */
	float scale, mlp;        /* of record 1 */
	long size_delta;         /* bytes removed (< 0) or added (> 0) at the end */
};

static const struct kb_spec good = { "_logits_", 8, 512, 1, 0, 16.0f / 65535.0f, -20.0f, 0 };

static int kb_make(const char *path, const struct kb_spec *s)
{
	struct cc_buf b = { 0 };
	const uint32_t v = s->n_vocab >= 1 && s->n_vocab <= 4096 ? (uint32_t)s->n_vocab : 512;
	const uint32_t nv = 2 * ((v + 1) / 2) + 4;
	int rc;

	cc_put(&b, s->magic, 8);
	cc_u32(&b, s->n_ctx);
	cc_u32(&b, (uint32_t)s->n_vocab);
	cc_u32(&b, (uint32_t)s->n_chunk);
	for (uint32_t i = 0; i < 8; i++)
		cc_u32(&b, i == 3 && s->bad_token ? (uint32_t)s->bad_token : 100 + i);
	for (uint32_t r = 0; r < 3; r++) {
		cc_f32(&b, r == 1 ? s->scale : good.scale);
		cc_f32(&b, r == 1 ? s->mlp : good.mlp);
		for (uint32_t k = 0; k + 4 < nv; k++) {
			cc_u8(&b, (uint8_t)(k * 37));
			cc_u8(&b, (uint8_t)(k >> 2));
		}
	}
	if (s->size_delta > 0)
		cc_zeros(&b, (size_t)s->size_delta);
	else
		b.n -= (size_t)(-s->size_delta);
	rc = cc_write(path, b.p, b.n);
	cc_free(&b);
	return rc;
}

#define KB(fn, ...) \
	static int fn(const char *path) \
	{ \
		struct kb_spec s = good; \
		__VA_ARGS__; \
		return kb_make(path, &s); \
	}

KB(kb_magic, s.magic = "_logitz_")
KB(kb_ctx2, s.n_ctx = 2)
KB(kb_ctx_huge, s.n_ctx = 0x7fffffffu)
KB(kb_vocab_neg, s.n_vocab = -5)
KB(kb_vocab0, s.n_vocab = 0)
KB(kb_chunk0, s.n_chunk = 0)
KB(kb_overflow, s.n_ctx = 1u << 24; s.n_vocab = 1 << 24; s.n_chunk = 0x7fffffff)
KB(kb_truncated, s.size_delta = -1)
KB(kb_trailing, s.size_delta = 2)
KB(kb_more_chunks, s.n_chunk = 2)
KB(kb_token_big, s.bad_token = 512)
KB(kb_token_neg, s.bad_token = -1)
KB(kb_scale_nan, s.scale = NAN)
KB(kb_scale_neg, s.scale = -1e-6f)
KB(kb_scale_big, s.scale = 1.0f)
KB(kb_mlp_pos, s.mlp = 1.0f)
KB(kb_mlp_inf, s.mlp = -INFINITY)
KB(kb_vocab_other, s.n_vocab = 256)

static int kb_short(const char *path)
{
	return cc_write(path, "_log", 4);
}

static int kb_header_short(const char *path)
{
	return cc_write(path, "_logits_\x08\0\0\0", 12);
}

static const struct cc_case cases[] = {
	{ "kb_short", ".kld", 3, "shorter than its 8-byte magic", kb_short, "file < 8 bytes" },
	{ "kb_header_short", ".kld", 3, "shorter than its 20-byte header", kb_header_short,
	  "file < 20 bytes" },
	{ "kb_magic", ".kld", 3, "no \"_logits_\" magic", kb_magic, "magic" },
	{ "kb_ctx2", ".kld", 3, "n_ctx 2 is not in [3, 16777216]", kb_ctx2,
	  "n_ctx 2 leaves no scored position" },
	{ "kb_ctx_huge", ".kld", 3, "n_ctx 2147483647 is not in [3, 16777216]", kb_ctx_huge,
	  "n_ctx bound" },
	{ "kb_vocab_neg", ".kld", 3, "n_vocab -5 is not in [1, 16777216]", kb_vocab_neg,
	  "i32 n_vocab negative" },
	{ "kb_vocab0", ".kld", 3, "n_vocab 0 is not in [1, 16777216]", kb_vocab0, "n_vocab 0" },
	{ "kb_chunk0", ".kld", 3, "n_chunk 0 is not positive", kb_chunk0, "n_chunk 0" },
	{ "kb_overflow", ".kld", 3, "overflows", kb_overflow,
	  "n_chunk x n_scored x record bytes past 2^64" },
	{ "kb_truncated", ".kld", 3, ": truncated", kb_truncated, "file shorter than its counts" },
	{ "kb_trailing", ".kld", 3, ": trailing bytes", kb_trailing, "bytes after the records" },
	{ "kb_more_chunks", ".kld", 3, "6276 (20-byte header, 2 x 8 tokens", kb_more_chunks,
	  "n_chunk larger than the records present" },
	{ "kb_token_big", ".kld", 3, "token 3 (chunk 0 position 3) is 512, expected an id in [0, 512)",
	  kb_token_big, "token id >= n_vocab" },
	{ "kb_token_neg", ".kld", 3, "is -1, expected an id in [0, 512)", kb_token_neg,
	  "negative token id" },
	{ "kb_scale_nan", ".kld", 3, "chunk 0 record 1: scale nan is not in", kb_scale_nan,
	  "NaN scale" },
	{ "kb_scale_neg", ".kld", 3, "chunk 0 record 1: scale -1e-06 is not in", kb_scale_neg,
	  "negative scale" },
	{ "kb_scale_big", ".kld", 3, "chunk 0 record 1: scale 1 is not in", kb_scale_big,
	  "scale above 16/65535" },
	{ "kb_mlp_pos", ".kld", 3, "chunk 0 record 1: min_log_prob 1 is not in", kb_mlp_pos,
	  "positive log-probability" },
	{ "kb_mlp_inf", ".kld", 3, "min_log_prob -inf is not in", kb_mlp_inf,
	  "infinite log-probability" },
	{ "kb_vocab_other", ".kld", 3, "logits over different vocabularies", kb_vocab_other,
	  "a well-formed file of another vocabulary than the candidate" },
};

const struct cc_table cc_kb_cases = { cases, sizeof(cases) / sizeof(cases[0]) };
