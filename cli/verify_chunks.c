/* verify_chunks.c - llama-perplexity's protocol: the input as one token
 * stream, cut into chunks of n_ctx tokens, the BOS rule, the scored
 * positions. See verify.h (struct verify_stream) and man/qwen-verify.1. */
#include "verify.h"
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/container/kld_base.h"
#include "../formats/tokenizer/tokenizer.h"

/* The model's vocabulary: the GGUF's tokenizer keys, or the tokenizer files
 * beside a safetensors model. QK_E_IO when there are none. */
static int load_vocab(const struct verify_model *m, struct tk_vocab *v, qk_err *err)
{
	const struct qk_catalog *cat = &m->in.cat;

	memset(v, 0, sizeof(*v));
	if (cat->format == QK_FMT_GGUF && cat->gguf && cat->gguf[0])
		return tk_from_gguf(v, cat->gguf[0], err);
	if (!cat->dir)
		return qk_err_set(err, QK_E_IO, "%s: no directory with tokenizer files", m->path);
	return tk_load_hf(v, cat->dir, m->in.hp.arch, m->in.hp.n_vocab, &m->in.hp, err);
}

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

/* llama.cpp's BOS rule from m's vocabulary (none without tokenizer files) */
static int stream_bos(struct verify_stream *st, const struct verify_model *m, qk_err *err)
{
	struct tk_vocab v;
	qk_err verr;
	int rc;

	rc = load_vocab(m, &v, &verr);
	if (rc && rc != QK_E_IO) {
		if (err)
			*err = verr;
		return rc;
	}
	st->has_vocab = rc == QK_OK;
	if (st->has_vocab && v.add_bos == 1 && v.bos >= 0 && v.bos < m->in.hp.n_vocab) {
		st->add_bos = true;
		st->bos = (int32_t)v.bos;
	}
	tk_free(&v);
	return QK_OK;
}

int verify_stream_from_base(struct verify_stream *st, const struct kb_file *kb,
			    const struct verify_model *m, qk_err *err)
{
	const size_t n = (size_t)kb->n_chunk * kb->n_ctx;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = stream_bos(st, m, err)))
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
		       const struct verify_model *m, qk_err *err)
{
	struct verify_seqs q;
	int rc;

	memset(st, 0, sizeof(*st));
	st->n_ctx = o->n_ctx ? o->n_ctx : VERIFY_DEFAULT_CTX;
	if ((rc = stream_bos(st, m, err)) ||
	    (rc = verify_seqs_load(&q, o, m->in.hp.n_vocab, err)))
		return rc;
	st->source = q.source;
	if (strcmp(q.source, "default") == 0) {
		verify_seqs_free(&q);
		return qk_err_set(err, QK_E_USAGE, "llama-perplexity's chunks need an input: "
				  "--tokens or --tokens-file");
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
