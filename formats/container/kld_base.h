/* kld_base.h - llama-perplexity's KL-divergence base file ("logits file"),
 * read and written byte for byte as llama.cpp does, so a qwenkit fp32
 * reference can be the base of `llama-perplexity --kl-divergence` and a base
 * written by `llama-perplexity --kl-divergence-base` can be read here.
 *
 * Layout (tools/perplexity/perplexity.cpp of the llama.cpp vendored by
 * llama-cpp-python 0.3.36; little-endian, no padding, no alignment):
 *   char[8]  "_logits_"
 *   u32      n_ctx
 *   i32      n_vocab
 *   i32      n_chunk
 *   i32      tokens[n_chunk * n_ctx]     the evaluated tokens, chunk after
 *                                        chunk (as tokenized: a BOS that
 *                                        replaced a chunk's first token is
 *                                        not stored)
 *   then for each chunk, for each scored position j = n_ctx/2 .. n_ctx-2
 *   (n_scored = n_ctx - 1 - n_ctx/2 of them) one record of
 *   nv = 2 ceil(n_vocab / 2) + 4 uint16:
 *     f32 scale, f32 min_log_prob      (the first 4 uint16)
 *     u16 q[n_vocab]                   (then one zero uint16 when n_vocab is odd)
 *   decoding: log p_i = scale * q_i + min_log_prob, in float.
 * Encoding one row of logits l (llama.cpp's log_softmax with uint16
 * output), in float except the sum: max = max l, min = max(min l, max - 16),
 * lse = (float)log(sum_i (double)expf(l_i - max)), min_log_prob = min - max -
 * lse, scale = (max - min) / 65535; q_i = nearest_int((l_i - min) / scale)
 * (as l_i - min times the float 1/scale, rounded half to even through the
 * 12582912 trick, stored as uint16) when l_i > min, else 0; all q are 0 when
 * scale is 0.
 *
 * Reading is validation first (the file is untrusted; QK_E_INVALID naming the
 * file, the field or record and the value): the magic; 3 <= n_ctx <=
 * KB_MAX_CTX (fewer than 3 leaves no scored position); 1 <= n_vocab <=
 * KB_MAX_VOCAB; n_chunk >= 1; every size computed without overflow; the file
 * exactly as long as the header, tokens and records say (a truncated file or
 * trailing bytes are refused); every token in [0, n_vocab); every record's
 * scale finite in [0, KB_MAX_SCALE] and min_log_prob finite in
 * [KB_MIN_LOG_PROB, 0]. llama.cpp itself checks only the magic and short
 * reads.
 */
#ifndef KB_KLD_BASE_H
#define KB_KLD_BASE_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../base/io.h"

#define KB_MAGIC "_logits_"
#define KB_HEADER_BYTES 20u
#define KB_MAX_CTX (1u << 24)
#define KB_MAX_VOCAB (1u << 24)
/* the largest scale llama.cpp can write: 16 / 65535 plus float rounding */
#define KB_MAX_SCALE (16.0f / 65535.0f * 1.001f)
#define KB_MIN_LOG_PROB (-1e4f)

struct kb_file {
	qk_map map;            /* the whole file */
	uint32_t n_ctx, n_vocab, n_chunk;
	size_t n_scored;       /* records per chunk: n_ctx - 1 - n_ctx/2 */
	size_t rec_bytes;      /* bytes per record: 2 nv */
	int32_t *tokens;       /* [n_chunk, n_ctx], owned */
	const uint8_t *records; /* [n_chunk, n_scored, rec_bytes] inside map */
};

/* Map and validate `path`. On error *f is left empty (kb_close harmless). */
int kb_open(struct kb_file *f, const char *path, qk_err *err);
/* Validate a file image in memory (`name` for messages); f->map is not
 * filled and f->records points into data. For tests and fuzzing. */
int kb_parse(struct kb_file *f, const uint8_t *data, size_t size, const char *name,
	     qk_err *err);
/* Release; accepts NULL and an empty file. */
void kb_close(struct kb_file *f);

/* Decode record i (0 .. n_chunk * n_scored - 1) into lp[n_vocab]. */
void kb_decode(const struct kb_file *f, size_t i, float *lp);

/* Bytes of one record for n_vocab: 2 (2 ceil(n_vocab / 2) + 4). */
size_t kb_record_bytes(uint32_t n_vocab);
/* The header and tokens for n_chunk chunks of n_ctx tokens into buf, which
 * holds KB_HEADER_BYTES + 4 n_chunk n_ctx bytes. */
void kb_put_header(uint8_t *buf, uint32_t n_ctx, uint32_t n_vocab, uint32_t n_chunk,
		   const int32_t *tokens);
/* Encode one row of n_vocab logits into rec[kb_record_bytes(n_vocab)] as
 * llama.cpp does (above); returns llama.cpp's negative log-likelihood of
 * token `next` computed alongside (max + lse - l[next], in float). */
double kb_encode(const float *logits, uint32_t n_vocab, uint32_t next, uint8_t *rec);

#endif
