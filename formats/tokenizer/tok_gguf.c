/* tok_gguf.c - the tokenizer keys of a GGUF file: read back (tk_from_gguf)
 * and written (tk_add_to_gguf); rules in tokenizer.h. Key names and types
 * are gguf-py's (constants.py Keys.Tokenizer, gguf_writer.py).
 */
#include "tok_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../container/gguf.h"
#include "../base/io.h"

#define K_MODEL "tokenizer.ggml.model"
#define K_PRE "tokenizer.ggml.pre"
#define K_TOKENS "tokenizer.ggml.tokens"
#define K_TYPES "tokenizer.ggml.token_type"
#define K_MERGES "tokenizer.ggml.merges"
#define K_TEMPLATE "tokenizer.chat_template"

static const struct {
	const char *key;
	size_t off;          /* int64_t in tk_vocab */
} id_keys[] = {
	{ "tokenizer.ggml.bos_token_id", offsetof(struct tk_vocab, bos) },
	{ "tokenizer.ggml.eos_token_id", offsetof(struct tk_vocab, eos) },
	{ "tokenizer.ggml.unknown_token_id", offsetof(struct tk_vocab, unk) },
	{ "tokenizer.ggml.seperator_token_id", offsetof(struct tk_vocab, sep) }, /* sic */
	{ "tokenizer.ggml.padding_token_id", offsetof(struct tk_vocab, pad) },
	{ "tokenizer.ggml.mask_token_id", offsetof(struct tk_vocab, mask) },
};

static const struct {
	const char *key;
	size_t off;          /* int in tk_vocab */
} flag_keys[] = {
	{ "tokenizer.ggml.add_bos_token", offsetof(struct tk_vocab, add_bos) },
	{ "tokenizer.ggml.add_eos_token", offsetof(struct tk_vocab, add_eos) },
	{ "tokenizer.ggml.add_sep_token", offsetof(struct tk_vocab, add_sep) },
};

#define ID_AT(v, o) ((int64_t *)(void *)((char *)(v) + (o)))
#define FLAG_AT(v, o) ((int *)(void *)((char *)(v) + (o)))
#define CID_AT(v, o) ((const int64_t *)(const void *)((const char *)(v) + (o)))
#define CFLAG_AT(v, o) ((const int *)(const void *)((const char *)(v) + (o)))

/* ---- reading ---- */

/* a GGUF string that is text: valid UTF-8 without NUL */
static bool text_ok(const char *s, size_t len)
{
	return strlen(s) == len && qk_utf8_valid(s, len);
}

static int read_tokens(struct tk_vocab *v, const struct gf_file *f, struct qk_hmap *map,
		       qk_err *err)
{
	const char *name = gf_name(f);
	char show[TK_SHOW_MAX];
	int64_t ti, yi;
	uint64_t n;
	int rc;

	if ((rc = gf_get_arr(f, K_TOKENS, GF_STRING, &ti, err)) ||
	    (rc = gf_get_arr(f, K_TYPES, GF_I32, &yi, err)))
		return rc;
	n = gf_arr_n(f, ti);
	if (n == 0 || n > TK_MAX_VOCAB)
		return qk_err_set(err, n ? QK_E_UNSUPPORTED : QK_E_INVALID,
				  "%s: key '%s' holds %llu tokens, expected 1..%u", name, K_TOKENS,
				  (unsigned long long)n, TK_MAX_VOCAB);
	if (gf_arr_n(f, yi) != n)
		return qk_err_set(err, QK_E_INVALID, "%s: key '%s' has %llu entries, but '%s' has %llu",
				  name, K_TYPES, (unsigned long long)gf_arr_n(f, yi), K_TOKENS,
				  (unsigned long long)n);
	if ((rc = tk_vocab_alloc(v, (uint32_t)n, name, err)))
		return rc;
	if (qk_hmap_init(map, n))
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", name);
	for (uint64_t j = 0; j < n; j++) {
		size_t len;
		const char *s = gf_arr_str(f, ti, j, &len);
		int64_t type = gf_arr_int(f, yi, j);

		if (len == 0 || !text_ok(s, len))
			return qk_err_set(err, QK_E_INVALID,
					  "%s: key '%s': token %llu is %s", name, K_TOKENS,
					  (unsigned long long)j,
					  len ? "not UTF-8 text without NUL bytes" : "empty");
		if (type < TK_NORMAL || type > TK_BYTE)
			return qk_err_set(err, QK_E_INVALID,
					  "%s: key '%s': token %llu '%s' has type %lld, expected 1..6",
					  name, K_TYPES, (unsigned long long)j,
					  tk_show(s, len, show, sizeof(show)), (long long)type);
		if (!(v->tokens[j] = tk_strndup(s, len)))
			return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", name);
		v->types[j] = (int32_t)type;
		if (qk_hmap_put(map, v->tokens[j], len, (int64_t)j) == -2)
			return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", name);
	}
	return QK_OK;
}

static int read_merges(struct tk_vocab *v, const struct gf_file *f, const struct qk_hmap *map,
		       qk_err *err)
{
	const char *name = gf_name(f);
	char show[TK_SHOW_MAX];
	int64_t mi;
	uint64_t n;
	int rc;

	if ((rc = gf_get_arr(f, K_MERGES, GF_STRING, &mi, err)))
		return rc;
	n = gf_arr_n(f, mi);
	if (n == 0 || n > TK_MAX_VOCAB)
		return qk_err_set(err, QK_E_INVALID, "%s: key '%s' holds %llu merges, expected 1..%u",
				  name, K_MERGES, (unsigned long long)n, TK_MAX_VOCAB);
	v->merges = calloc(n, sizeof(v->merges[0]));
	if (!v->merges)
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", name);
	for (uint64_t j = 0; j < n; j++) {
		size_t len;
		const char *s = gf_arr_str(f, mi, j, &len);
		/* llama.cpp splits at the first space after the first byte */
		const char *sp = len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;

		if (!text_ok(s, len) || !sp || (size_t)(sp - s) + 1 == len ||
		    qk_hmap_get(map, s, (size_t)(sp - s)) < 0 ||
		    qk_hmap_get(map, sp + 1, len - (size_t)(sp - s) - 1) < 0)
			return qk_err_set(err, QK_E_INVALID,
					  "%s: key '%s': merge %llu '%s' is not two tokens "
					  "separated by a space", name, K_MERGES,
					  (unsigned long long)j, tk_show(s, len, show, sizeof(show)));
		if (!(v->merges[j] = tk_strndup(s, len)))
			return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", name);
		v->n_merges = (uint32_t)(j + 1);
	}
	return QK_OK;
}

static int read_specials(struct tk_vocab *v, const struct gf_file *f, qk_err *err)
{
	const char *name = gf_name(f), *s;
	size_t len;
	int rc;

	for (size_t i = 0; i < sizeof(id_keys) / sizeof(id_keys[0]); i++) {
		uint32_t id;
		if (gf_find_key(f, id_keys[i].key) < 0)
			continue;
		if ((rc = gf_get_u32(f, id_keys[i].key, &id, err)))
			return rc;
		if (id >= v->n_tokens)
			return qk_err_set(err, QK_E_INVALID,
					  "%s: key '%s' is %u, beyond the %u tokens", name,
					  id_keys[i].key, (unsigned)id, (unsigned)v->n_tokens);
		*ID_AT(v, id_keys[i].off) = id;
	}
	for (size_t i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++) {
		bool b;
		if (gf_find_key(f, flag_keys[i].key) < 0)
			continue;
		if ((rc = gf_get_bool(f, flag_keys[i].key, &b, err)))
			return rc;
		*FLAG_AT(v, flag_keys[i].off) = b;
	}
	if (gf_find_key(f, K_TEMPLATE) >= 0) {
		if ((rc = gf_get_str(f, K_TEMPLATE, &s, &len, err)))
			return rc;
		if (!text_ok(s, len))
			return qk_err_set(err, QK_E_INVALID,
					  "%s: key '%s' is not UTF-8 text without NUL bytes", name,
					  K_TEMPLATE);
		if (!(v->chat_template = tk_strndup(s, len)))
			return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", name);
	}
	return QK_OK;
}

int tk_from_gguf(struct tk_vocab *v, const struct gf_file *f, qk_err *err)
{
	struct qk_hmap map = { 0 };
	const char *name = gf_name(f), *s;
	const struct tk_pre *pre;
	char show[TK_SHOW_MAX];
	size_t len;
	int rc;

	memset(v, 0, sizeof(*v));
	v->bos = v->eos = v->unk = v->sep = v->pad = v->mask = -1;
	v->add_bos = v->add_eos = v->add_sep = -1;
	if ((rc = gf_get_str(f, K_MODEL, &s, &len, err)))
		return rc;
	if (strcmp(s, "gpt2") != 0)
		return qk_err_set(err, QK_E_UNSUPPORTED, "%s: key '%s' is '%s', expected gpt2", name,
				  K_MODEL, tk_show(s, len, show, sizeof(show)));
	if ((rc = gf_get_str(f, K_PRE, &s, &len, err)))
		return rc;
	pre = tk_pre_by_name(s);
	if (!pre || strlen(s) != len)
		return qk_err_set(err, QK_E_UNSUPPORTED, "%s: key '%s' is '%s', expected qwen2 or qwen35", name,
				  K_PRE, tk_show(s, len, show, sizeof(show)));
	rc = read_tokens(v, f, &map, err);
	if (!rc)
		rc = read_merges(v, f, &map, err);
	if (!rc)
		rc = read_specials(v, f, err);
	qk_hmap_free(&map);
	if (rc) {
		tk_free(v);
		return rc;
	}
	v->pre = pre->name;
	v->model = "gpt2";
	return QK_OK;
}

/* ---- writing ---- */

int tk_add_to_gguf(const struct tk_vocab *v, struct gf_writer *w, qk_err *err)
{
	int rc;

	if (!v->tokens || !v->types || !v->pre || !v->model || v->n_tokens == 0)
		return qk_err_set(err, QK_E_USAGE, "tk_add_to_gguf: an empty vocabulary");
	if ((rc = gf_writer_add_str(w, K_MODEL, v->model, err)) ||
	    (rc = gf_writer_add_str(w, K_PRE, v->pre, err)) ||
	    (rc = gf_writer_add_arr_str(w, K_TOKENS, (const char *const *)v->tokens, NULL,
					v->n_tokens, err)) ||
	    (rc = gf_writer_add_arr(w, K_TYPES, GF_I32, v->types, v->n_tokens, err)))
		return rc;
	if (v->n_merges &&
	    (rc = gf_writer_add_arr_str(w, K_MERGES, (const char *const *)v->merges, NULL,
					v->n_merges, err)))
		return rc;
	/* group by group (tokenizer files, config.json, defaults), each in
	 * type order: the order llama.cpp's SpecialVocab finds them in */
	for (size_t k = 0; k < 3 * (sizeof(id_keys) / sizeof(id_keys[0])); k++) {
		size_t i = k % (sizeof(id_keys) / sizeof(id_keys[0]));
		int64_t id = *CID_AT(v, id_keys[i].off);
		if (id < 0 || v->id_group[i] != k / (sizeof(id_keys) / sizeof(id_keys[0])))
			continue;
		if (id >= (int64_t)v->n_tokens)
			return qk_err_set(err, QK_E_USAGE, "tk_add_to_gguf: %s %lld beyond %u tokens",
					  id_keys[i].key, (long long)id, (unsigned)v->n_tokens);
		if ((rc = gf_writer_add_u32(w, id_keys[i].key, (uint32_t)id, err)))
			return rc;
	}
	for (size_t i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++) {
		int flag = *CFLAG_AT(v, flag_keys[i].off);
		if (flag >= 0 && (rc = gf_writer_add_bool(w, flag_keys[i].key, flag != 0, err)))
			return rc;
	}
	if (v->chat_template && v->chat_template[0] &&
	    (rc = gf_writer_add_str(w, K_TEMPLATE, v->chat_template, err)))
		return rc;
	return QK_OK;
}
