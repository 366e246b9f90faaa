/* kld_base.c - see kld_base.h. */
#include "kld_base.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float ld_f32(const uint8_t *p)
{
	const uint32_t u = qk_ld32(p);
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static void st_f32(uint8_t *p, float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	qk_st32(p, u);
}

size_t kb_record_bytes(uint32_t n_vocab)
{
	return 2 * (2 * (((size_t)n_vocab + 1) / 2) + 4);
}

void kb_close(struct kb_file *f)
{
	if (!f)
		return;
	free(f->tokens);
	qk_map_close(&f->map);
	memset(f, 0, sizeof(*f));
}

/* the records' two floats: finite, in range */
static int check_records(const struct kb_file *f, const char *name, qk_err *err)
{
	const size_t n = (size_t)f->n_chunk * f->n_scored;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = f->records + i * f->rec_bytes;
		const float scale = ld_f32(r), mlp = ld_f32(r + 4);

		if (!(scale >= 0 && scale <= KB_MAX_SCALE))
			return qk_err_set(err, QK_E_INVALID, "%s: chunk %zu record %zu: scale %g is "
					  "not in [0, %g]", name, i / f->n_scored, i % f->n_scored,
					  (double)scale, (double)KB_MAX_SCALE);
		if (!(mlp >= KB_MIN_LOG_PROB && mlp <= 0))
			return qk_err_set(err, QK_E_INVALID, "%s: chunk %zu record %zu: min_log_prob "
					  "%g is not in [%g, 0]", name, i / f->n_scored,
					  i % f->n_scored, (double)mlp, (double)KB_MIN_LOG_PROB);
	}
	return QK_OK;
}

int kb_parse(struct kb_file *f, const uint8_t *data, size_t size, const char *name,
	     qk_err *err)
{
	uint64_t n_tok, tok_bytes, n_rec, rec_total, want;
	int32_t v_vocab, v_chunk;
	int rc;

	memset(f, 0, sizeof(*f));
	if (size < KB_HEADER_BYTES || memcmp(data, KB_MAGIC, 8) != 0)
		return qk_err_set(err, QK_E_INVALID, "%s: not a llama-perplexity KL-divergence base "
				  "file: %s", name, size < 8 ? "shorter than its 8-byte magic"
				  : size < KB_HEADER_BYTES ? "shorter than its 20-byte header"
				  : "no \"_logits_\" magic");
	f->n_ctx = qk_ld32(data + 8);
	v_vocab = (int32_t)qk_ld32(data + 12);
	v_chunk = (int32_t)qk_ld32(data + 16);
	if (f->n_ctx < 3 || f->n_ctx > KB_MAX_CTX)
		return qk_err_set(err, QK_E_INVALID, "%s: n_ctx %u is not in [3, %u]", name,
				  (unsigned)f->n_ctx, KB_MAX_CTX);
	if (v_vocab < 1 || (uint32_t)v_vocab > KB_MAX_VOCAB)
		return qk_err_set(err, QK_E_INVALID, "%s: n_vocab %ld is not in [1, %u]", name,
				  (long)v_vocab, KB_MAX_VOCAB);
	if (v_chunk < 1)
		return qk_err_set(err, QK_E_INVALID, "%s: n_chunk %ld is not positive", name,
				  (long)v_chunk);
	f->n_vocab = (uint32_t)v_vocab;
	f->n_chunk = (uint32_t)v_chunk;
	f->n_scored = f->n_ctx - 1 - f->n_ctx / 2;
	f->rec_bytes = kb_record_bytes(f->n_vocab);
	if (!qk_mul_u64(f->n_chunk, f->n_ctx, &n_tok) || !qk_mul_u64(n_tok, 4, &tok_bytes) ||
	    !qk_mul_u64(f->n_chunk, f->n_scored, &n_rec) ||
	    !qk_mul_u64(n_rec, f->rec_bytes, &rec_total) ||
	    !qk_add_u64(KB_HEADER_BYTES, tok_bytes, &want) || !qk_add_u64(want, rec_total, &want))
		return qk_err_set(err, QK_E_INVALID, "%s: n_chunk %u x n_ctx %u x n_vocab %u "
				  "overflows", name, (unsigned)f->n_chunk, (unsigned)f->n_ctx,
				  (unsigned)f->n_vocab);
	if (want != size)
		return qk_err_set(err, QK_E_INVALID, "%s: %zu bytes, expected %llu (20-byte header, "
				  "%u x %u tokens, %u x %zu records of %zu bytes)%s", name, size,
				  (unsigned long long)want, (unsigned)f->n_chunk, (unsigned)f->n_ctx,
				  (unsigned)f->n_chunk, f->n_scored, f->rec_bytes,
				  size < want ? ": truncated" : ": trailing bytes");
	f->tokens = malloc((size_t)tok_bytes ? (size_t)tok_bytes : 1);
	if (!f->tokens)
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory for %llu tokens", name,
				  (unsigned long long)n_tok);
	for (size_t i = 0; i < (size_t)n_tok; i++) {
		const int32_t t = (int32_t)qk_ld32(data + KB_HEADER_BYTES + 4 * i);

		if (t < 0 || (uint32_t)t >= f->n_vocab) {
			rc = qk_err_set(err, QK_E_INVALID, "%s: token %zu (chunk %zu position %zu) is "
					"%ld, expected an id in [0, %u)", name, i, i / f->n_ctx,
					i % f->n_ctx, (long)t, (unsigned)f->n_vocab);
			goto fail;
		}
		f->tokens[i] = t;
	}
	f->records = data + KB_HEADER_BYTES + (size_t)tok_bytes;
	if ((rc = check_records(f, name, err)))
		goto fail;
	return QK_OK;
fail:
	free(f->tokens);
	memset(f, 0, sizeof(*f));
	return rc;
}

int kb_open(struct kb_file *f, const char *path, qk_err *err)
{
	qk_map map;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = qk_map_open(&map, path, err)))
		return rc;
	if ((rc = kb_parse(f, map.data, map.size, path, err))) {
		qk_map_close(&map);
		return rc;
	}
	f->map = map;
	return QK_OK;
}

void kb_decode(const struct kb_file *f, size_t i, float *lp)
{
	const uint8_t *r = f->records + i * f->rec_bytes;
	const float scale = ld_f32(r), mlp = ld_f32(r + 4);

	r += 8;
	for (size_t k = 0; k < f->n_vocab; k++)
		lp[k] = scale * (float)qk_ld16(r + 2 * k) + mlp;
}

void kb_put_header(uint8_t *buf, uint32_t n_ctx, uint32_t n_vocab, uint32_t n_chunk,
		   const int32_t *tokens)
{
	memcpy(buf, KB_MAGIC, 8);
	qk_st32(buf + 8, n_ctx);
	qk_st32(buf + 12, n_vocab);
	qk_st32(buf + 16, n_chunk);
	for (size_t i = 0; i < (size_t)n_chunk * n_ctx; i++)
		qk_st32(buf + KB_HEADER_BYTES + 4 * i, (uint32_t)tokens[i]);
}

/* llama.cpp's nearest_int: round half to even for |x| < 2^22 */
static int nearest_int(float x)
{
	const float v = x + 12582912.f;
	int32_t i;

	memcpy(&i, &v, sizeof(i));
	return (i & 0x007fffff) - 0x00400000;
}

double kb_encode(const float *logits, uint32_t n_vocab, uint32_t next, uint8_t *rec)
{
	float max_l = logits[0], min_l = logits[0], lse, mlp, scale;
	double sum = 0.0;

	for (uint32_t i = 1; i < n_vocab; i++) {
		max_l = logits[i] > max_l ? logits[i] : max_l;
		min_l = logits[i] < min_l ? logits[i] : min_l;
	}
	if (min_l < max_l - 16)
		min_l = max_l - 16;
	for (uint32_t i = 0; i < n_vocab; i++)
		sum += expf(logits[i] - max_l);
	lse = (float)log(sum);
	mlp = min_l - max_l - lse;
	scale = (max_l - min_l) / 65535.f;
	st_f32(rec, scale);
	st_f32(rec + 4, mlp);
	memset(rec + 8, 0, kb_record_bytes(n_vocab) - 8);
	if (scale != 0) {
		const float inv = 1 / scale;

		for (uint32_t i = 0; i < n_vocab; i++)
			if (logits[i] > min_l)
				qk_st16(rec + 8 + 2 * (size_t)i,
					(uint16_t)nearest_int(inv * (logits[i] - min_l)));
	}
	return (double)(max_l + lse - logits[next]);
}
