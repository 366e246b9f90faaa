/* tok_encode.c - building an encoder and encoding/decoding text; see
 * tk_encode.h for the rules and tok_bpe.c / tok_pretok.c for the parts.
 */
#include "tok_enc_priv.h"

#include <stdlib.h>
#include <string.h>

#include "../container/gguf.h"
#include "../model/hparams.h"
#include "../model/open.h"

/* ---- ids ---- */

void tk_ids_free(struct tk_ids *ids)
{
	if (!ids)
		return;
	free(ids->id);
	memset(ids, 0, sizeof(*ids));
}

int tk_ids_push(struct tk_ids *ids, int32_t id, qk_err *err)
{
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 256;
		int32_t *p = realloc(ids->id, cap * sizeof(p[0]));
		if (!p)
			return qk_err_set(err, QK_E_NOMEM, "tokenizer: out of memory for %zu ids", cap);
		ids->id = p;
		ids->cap = cap;
	}
	ids->id[ids->n++] = id;
	return QK_OK;
}

void tk_scratch_free(struct tk_scratch *s)
{
	free(s->sym);
	free(s->nxt);
	free(s->prv);
	free(s->heap);
	free(s->prank);
	free(s->pid);
	free(s->cp);
	free(s->ncp);
	free(s->buf);
	free(s->cache);
	free(s->cbytes);
	free(s->cids);
	memset(s, 0, sizeof(*s));
}

/* ---- building ---- */

/* a token's bytes: byte-level text back to bytes; text that is not
 * byte-level (added tokens) stays as it is */
static size_t token_bytes(const char *text, bool bytelevel, const int16_t *cp_to_byte,
			  char *out)
{
	size_t n = strlen(text), o = 0;

	if (!bytelevel) {
		memcpy(out, text, n);
		return n;
	}
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t l = tk_utf8_next((const uint8_t *)text + i, n - i, &cp);
		int b = cp < 324 ? cp_to_byte[cp] : -1;
		if (b < 0) {
			memcpy(out + o, text + i, l);
			o += l;
		} else {
			out[o++] = (char)b;
		}
		i += l;
	}
	return o;
}

static int nomem(qk_err *err)
{
	return qk_err_set(err, QK_E_NOMEM, "tokenizer: out of memory building the encoder");
}

/* added: the tokens split out before pre-tokenizing, with their text and
 * flags; e->v is ready */
static int finish(struct tk_enc *e, struct tk_enc_added *added, size_t n_added, qk_err *err)
{
	const struct tk_vocab *v = &e->v;
	size_t total = 0, o = 0;
	uint16_t count[257] = { 0 };
	int16_t cp_to_byte[324]; /* GPT-2's bytes_to_unicode inverted, -1: none */
	int rc;

	for (unsigned i = 0; i < 324; i++)
		cp_to_byte[i] = -1;
	for (unsigned b = 0; b < 256; b++)
		cp_to_byte[tk_byte_to_cp((uint8_t)b)] = (int16_t)b;

	e->added = added;
	e->n_added = n_added;
	for (uint32_t id = 0; id < v->n_tokens; id++)
		total += strlen(v->tokens[id]);
	e->bytes = malloc(total + 1);
	e->off = malloc(((size_t)v->n_tokens + 1) * sizeof(e->off[0]));
	if (!e->bytes || !e->off || qk_hmap_init(&e->by_bytes, v->n_tokens) ||
	    qk_hmap_init(&e->by_text, v->n_tokens))
		return nomem(err);
	for (uint32_t id = 0; id < v->n_tokens; id++) {
		e->off[id] = o;
		if (v->types[id] != TK_UNUSED)
			o += token_bytes(v->tokens[id], v->types[id] == TK_NORMAL, cp_to_byte,
					 e->bytes + o);
	}
	e->off[v->n_tokens] = o;
	for (uint32_t id = 0; id < v->n_tokens; id++) {
		if (qk_hmap_put(&e->by_text, v->tokens[id], strlen(v->tokens[id]), id) == -2)
			return nomem(err);
		if (v->types[id] == TK_NORMAL &&
		    qk_hmap_put(&e->by_bytes, e->bytes + e->off[id], e->off[id + 1] - e->off[id],
			       id) == -2)
			return nomem(err);
	}
	for (unsigned b = 0; b < 256; b++) {
		char c = (char)b;
		int64_t id = qk_hmap_get(&e->by_bytes, &c, 1);
		e->byte_id[b] = id < 0 ? -1 : (int32_t)id;
	}
	if ((rc = tk_bpe_build(e, e->nfc_whole, err)))
		return rc;
	/* added tokens by first byte, longest first */
	e->first = calloc(257, sizeof(e->first[0]));
	e->by_first = malloc((n_added + 1) * sizeof(e->by_first[0]));
	if (!e->first || !e->by_first)
		return nomem(err);
	for (size_t i = 0; i < n_added; i++)
		count[(uint8_t)added[i].text[0] + 1]++;
	for (unsigned b = 0; b < 256; b++)
		e->first[b + 1] = (uint16_t)(e->first[b] + count[b + 1]);
	memcpy(count, e->first, sizeof(count));
	for (size_t i = 0; i < n_added; i++)
		e->by_first[count[(uint8_t)added[i].text[0]]++] = (uint32_t)i;
	for (unsigned b = 0; b < 256; b++) {
		uint32_t *a = e->by_first + e->first[b];
		size_t m = e->first[b + 1] - e->first[b];
		for (size_t i = 1; i < m; i++) { /* insertion sort, longest first */
			uint32_t x = a[i];
			size_t j = i;
			while (j > 0 && added[a[j - 1]].len < added[x].len) {
				a[j] = a[j - 1];
				j--;
			}
			a[j] = x;
		}
	}
	return QK_OK;
}

static int pre_kind(const char *pre, qk_err *err)
{
	if (pre && strcmp(pre, "qwen2") == 0)
		return TK_PRE_QWEN2;
	if (pre && strcmp(pre, "qwen35") == 0)
		return TK_PRE_QWEN35;
	qk_err_set(err, QK_E_UNSUPPORTED, "tokenizer: no encoder for pre-tokenizer '%s'",
		   pre ? pre : "(none)");
	return -1;
}

void tk_enc_close(struct tk_enc *e)
{
	if (!e)
		return;
	tk_free(&e->v);
	free(e->bytes);
	free(e->off);
	qk_hmap_free(&e->by_bytes);
	qk_hmap_free(&e->by_text);
	free(e->pairs);
	free(e->byte_pairs);
	free(e->added);
	free(e->first);
	free(e->by_first);
	free(e->added_text);
	free(e);
}

/* the added tokens of a vocabulary without tokenizer.json flags: its
 * CONTROL (special) and USER_DEFINED tokens */
static int added_from_types(struct tk_enc *e, struct tk_enc_added **out, size_t *n_out,
			    qk_err *err)
{
	const struct tk_vocab *v = &e->v;
	struct tk_enc_added *a;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	a = malloc((v->n_tokens + 1) * sizeof(a[0]));
	if (!a)
		return nomem(err);
	for (uint32_t id = 0; id < v->n_tokens; id++) {
		if (v->types[id] != TK_CONTROL && v->types[id] != TK_USER_DEFINED)
			continue;
		if (!v->tokens[id][0])
			continue;
		a[n++] = (struct tk_enc_added){ v->tokens[id], strlen(v->tokens[id]), (int32_t)id,
					       v->types[id] == TK_CONTROL ? TK_ADDED_SPECIAL : 0 };
	}
	*out = a;
	*n_out = n;
	return QK_OK;
}

/* an encoder from a loaded build (tk_load_hf_build, tk_json_build), which
 * it takes over (b->v) or frees */
static int from_build(struct tk_enc **out, struct tk_build *b, qk_err *err)
{
	struct tk_enc *e;
	struct tk_enc_added *added = NULL;
	size_t n_added = 0, total = 0;
	int rc;

	e = calloc(1, sizeof(*e));
	if (!e) {
		tk_build_free(b);
		tk_free(&b->v);
		return nomem(err);
	}
	e->v = b->v;
	memset(&b->v, 0, sizeof(b->v));
	if ((e->pre = pre_kind(e->v.pre, err)) < 0) {
		rc = err ? err->code : QK_E_UNSUPPORTED;
		goto fail;
	}
	if (b->qwen1) {
		e->nfc = TK_UC_NFC_PYTHON311;
		e->nfc_whole = true;
		e->whole_piece = true;
		rc = added_from_types(e, &added, &n_added, err);
	} else {
		e->nfc = b->nfc ? TK_UC_NFC_TOKENIZERS : 0;
		for (size_t i = 0; i < b->n_added; i++)
			total += strlen(b->added[i].content) + 1;
		e->added_text = malloc(total + 1);
		added = malloc((b->n_added + 1) * sizeof(added[0]));
		rc = e->added_text && added ? QK_OK : nomem(err);
		total = 0;
		for (size_t i = 0; !rc && i < b->n_added; i++) {
			size_t len = strlen(b->added[i].content);
			memcpy(e->added_text + total, b->added[i].content, len + 1);
			added[n_added++] = (struct tk_enc_added){ e->added_text + total, len,
								   (int32_t)b->added[i].id,
								   b->added[i].flags };
			total += len + 1;
		}
	}
	if (!rc)
		rc = finish(e, added, n_added, err); /* takes `added` */
	else
		free(added);
	if (rc)
		goto fail;
	tk_build_free(b);
	*out = e;
	return QK_OK;
fail:
	tk_build_free(b);
	tk_enc_close(e);
	return rc;
}

int tk_enc_open_hf(struct tk_enc **out, const char *dir, int arch, uint32_t vocab_size,
		   const struct qk_hparams *hp, qk_err *err)
{
	struct tk_build b;
	int rc;

	*out = NULL;
	if ((rc = tk_load_hf_build(&b, dir, arch, vocab_size, hp, err)))
		return rc;
	return from_build(out, &b, err);
}

int tk_enc_open_json(struct tk_enc **out, const char *json, size_t len, const char *fname,
		     qk_err *err)
{
	struct tk_build b = { .err = err, .fname = fname ? fname : "tokenizer.json",
			      .endoftext = -1 };
	int rc;

	*out = NULL;
	tk_vocab_init(&b.v);
	rc = tk_json_build(&b, json, len, QK_ARCH_QWEN3, 0);
	if (rc) {
		tk_build_free(&b);
		tk_free(&b.v);
		return rc;
	}
	return from_build(out, &b, err);
}

int tk_enc_open_gguf(struct tk_enc **out, const struct gf_file *f, qk_err *err)
{
	struct tk_enc *e;
	struct tk_enc_added *added = NULL;
	size_t n_added = 0;
	int rc;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return nomem(err);
	if ((rc = tk_from_gguf(&e->v, f, err)))
		goto fail;
	if ((e->pre = pre_kind(e->v.pre, err)) < 0) {
		rc = err ? err->code : QK_E_UNSUPPORTED;
		goto fail;
	}
	if ((rc = added_from_types(e, &added, &n_added, err)))
		goto fail;
	if ((rc = finish(e, added, n_added, err)))
		goto fail;
	*out = e;
	return QK_OK;
fail:
	tk_enc_close(e);
	return rc;
}

int tk_enc_open_input(struct tk_enc **out, const struct qk_input *in, qk_err *err)
{
	if (in->cat.gguf && in->cat.n_files && in->cat.gguf[0])
		return tk_enc_open_gguf(out, in->cat.gguf[0], err);
	return tk_enc_open_hf(out, in->cat.dir, in->hp.arch, in->hp.n_vocab, &in->hp, err);
}

const struct tk_vocab *tk_enc_vocab(const struct tk_enc *e)
{
	return &e->v;
}

int tk_enc_nfc(const struct tk_enc *e)
{
	return e->nfc != 0;
}

const char *tk_enc_token_bytes(const struct tk_enc *e, int32_t id, size_t *len)
{
	if (id < 0 || (uint32_t)id >= e->v.n_tokens) {
		*len = 0;
		return NULL;
	}
	*len = e->off[id + 1] - e->off[id];
	return e->bytes + e->off[id];
}

int tk_decode(const struct tk_enc *e, const int32_t *ids, size_t n, char **text, size_t *len,
	      qk_err *err)
{
	size_t total = 0, o = 0;
	char *p;

	*text = NULL;
	*len = 0;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] < 0 || (uint32_t)ids[i] >= e->v.n_tokens)
			return qk_err_set(err, QK_E_INVALID,
					  "token id %lld at position %zu is outside the vocabulary "
					  "(0..%u)", (long long)ids[i], i, (unsigned)e->v.n_tokens - 1);
		total += e->off[ids[i] + 1] - e->off[ids[i]];
	}
	p = malloc(total + 1);
	if (!p)
		return qk_err_set(err, QK_E_NOMEM, "tokenizer: out of memory for %zu bytes", total);
	for (size_t i = 0; i < n; i++) {
		size_t l = e->off[ids[i] + 1] - e->off[ids[i]];
		memcpy(p + o, e->bytes + e->off[ids[i]], l);
		o += l;
	}
	p[o] = '\0';
	*text = p;
	*len = o;
	return QK_OK;
}
