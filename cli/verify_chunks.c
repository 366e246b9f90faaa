/* verify_chunks.c - llama-perplexity's protocol: the input as one token
 * stream, cut into chunks of n_ctx tokens, the BOS rule, the scored
 * positions. See verify.h (struct verify_stream) and man/qwen-verify.1. */
#include "verify.h"
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/container/kld_base.h"
#include "../formats/tokenizer/tk_encode.h"

/* every id of every sequence, in order */
static int flatten(struct verify_stream *st, const struct verify_seqs *q, qk_err *err)
{
	size_t n = verify_seqs_positions(q), k = 0;

	st->ids = malloc((n ? n : 1) * sizeof(*st->ids));
	if (!st->ids)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu token ids", n);
	for (size_t s = 0; s < q->n; s++) {
		memcpy(st->ids + k, q->seq[s].ids, q->seq[s].T * sizeof(*st->ids));
		k += q->seq[s].T;
	}
	st->n = n;
	return QK_OK;
}

/* llama.cpp's BOS rule from m's vocabulary. Token ids can be scored
 * without a tokenizer (then no BOS); text needs one (verify_text_ids fails). */
static int stream_bos(struct verify_stream *st, struct verify_model *m)
{
	const struct tk_vocab *v;

	st->has_vocab = verify_encoder(m, NULL) == QK_OK;
	if (!st->has_vocab)
		return QK_OK;
	v = tk_enc_vocab(m->enc);
	if (v->add_bos == 1 && v->bos >= 0 && v->bos < m->in.hp.n_vocab) {
		st->add_bos = true;
		st->bos = (int32_t)v->bos;
	}
	return QK_OK;
}

int verify_stream_from_base(struct verify_stream *st, const struct kb_file *kb,
			    struct verify_model *m, qk_err *err)
{
	const size_t n = (size_t)kb->n_chunk * kb->n_ctx;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = stream_bos(st, m)))
		return rc;
	if (!(st->ids = malloc(n * sizeof(*st->ids))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu token ids", n);
	memcpy(st->ids, kb->tokens, n * sizeof(*st->ids));
	st->n = n;
	st->source = "--base";
	st->n_ctx = kb->n_ctx;
	st->n_chunk = kb->n_chunk;
	st->first = st->n_ctx / 2;
	st->n_scored = st->n_ctx - 1 - st->first;
	return QK_OK;
}

int verify_stream_load(struct verify_stream *st, const struct verify_opts *o,
		       struct verify_model *m, qk_err *err)
{
	struct verify_seqs q;
	int rc;

	memset(st, 0, sizeof(*st));
	st->n_ctx = o->n_ctx ? o->n_ctx : VERIFY_DEFAULT_CTX;
	if ((rc = stream_bos(st, m)) ||
	    (rc = verify_seqs_load(&q, o, m, true, err)))
		return rc;
	st->source = q.source;
	if (strcmp(q.source, "default") == 0) {
		verify_seqs_free(&q);
		return qk_err_set(err, QK_E_USAGE, "llama-perplexity's chunks need an input: "
				  "--text-file, --text, --chat, --tokens or --tokens-file");
	}
	rc = flatten(st, &q, err);
	verify_seqs_free(&q);
	if (rc)
		goto fail;
	if (st->n / 2 < st->n_ctx) {
		rc = qk_err_set(err, QK_E_USAGE, "%s: %zu tokens, need at least 2 x n_ctx = %lu "
				"(lower --ctx)", st->source, st->n, 2ul * st->n_ctx);
		goto fail;
	}
	st->n_chunk = (uint32_t)(st->n / st->n_ctx);
	if (o->n_chunks && o->n_chunks < st->n_chunk)
		st->n_chunk = o->n_chunks;
	st->first = st->n_ctx / 2;
	st->n_scored = st->n_ctx - 1 - st->first;
	return QK_OK;
fail:
	verify_stream_free(st);
	return rc;
}

void verify_stream_free(struct verify_stream *st)
{
	free(st->ids);
	memset(st, 0, sizeof(*st));
}

void verify_chunk_tokens(const struct verify_stream *st, size_t c, int32_t *buf)
{
	memcpy(buf, st->ids + c * st->n_ctx, st->n_ctx * sizeof(*buf));
	if (st->add_bos)
		buf[0] = st->bos;
}

void verify_stream_describe(const struct verify_stream *st, char *buf, size_t size)
{
	snprintf(buf, size, "%zu tokens (%s), n_ctx %u, %u chunks of %u scored tokens, BOS %s",
		 st->n, st->source, (unsigned)st->n_ctx, (unsigned)st->n_chunk,
		 (unsigned)st->n_scored, st->add_bos ? "added" : st->has_vocab ? "not added"
		 : "not added (no tokenizer)");
}

cJSON *verify_stream_json(const struct verify_stream *st)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "source", st->source);
	cJSON_AddNumberToObject(o, "n_tokens", (double)st->n);
	cJSON_AddNumberToObject(o, "n_ctx", st->n_ctx);
	cJSON_AddNumberToObject(o, "n_chunk", st->n_chunk);
	cJSON_AddNumberToObject(o, "n_scored_per_chunk", st->n_scored);
	cJSON_AddBoolToObject(o, "add_bos", st->add_bos);
	return o;
}
