/* tok_json.c - tokenizer.json (HF tokenizers, BPE) -> vocabulary; the
 * rules are listed in tokenizer.h.
 *
 * Ids follow what HF tokenizers does when it loads the file: model.vocab
 * gives ids 0..N-1 and each added token not in model.vocab gets the next
 * free id in list order, whatever id the file writes beside it (tokenizers
 * only warns). llama.cpp's converter uses those ids, so a file whose written
 * ids differ from them is refused rather than guessed at.
 */
#include "tok_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int nomem(struct tk_build *b)
{
	return tk_fail(b, QK_E_NOMEM, "out of memory");
}

/* A JSON number that is an integer in [0, limit). */
static bool int_in(const cJSON *j, double limit, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(j))
		return false;
	d = j->valuedouble;
	if (!isfinite(d) || d < 0 || d >= limit || d != floor(d))
		return false;
	*out = (int64_t)d;
	return true;
}

static const char *str_or_null(const cJSON *j)
{
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

/* ---- model options ---- */

/* `key` of model must be absent, null, or equal to `want` (a bool) */
static int opt_bool(struct tk_build *b, const cJSON *obj, const char *path, const char *key,
		    bool want)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!j || cJSON_IsNull(j))
		return QK_OK;
	if (!cJSON_IsBool(j))
		return tk_fail(b, QK_E_INVALID, "%s.%s: expected true or false", path, key);
	if (cJSON_IsTrue(j) != want)
		return tk_fail(b, QK_E_UNSUPPORTED, "%s.%s is %s, Qwen tokenizers have %s", path, key,
			    want ? "false" : "true", want ? "true" : "false");
	return QK_OK;
}

static int check_model(struct tk_build *b, const cJSON *model)
{
	static const char *const empty_str[] = { "continuing_subword_prefix",
						 "end_of_word_suffix" };
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type"), *drop;
	char show[TK_SHOW_MAX];
	int rc;

	if (!cJSON_IsString(type))
		return tk_fail(b, QK_E_INVALID, "model.type: expected a string");
	if (strcmp(type->valuestring, "BPE") != 0)
		return tk_fail(b, QK_E_UNSUPPORTED, "model.type '%s': expected BPE",
			    tk_show(type->valuestring, strlen(type->valuestring), show,
				    sizeof(show)));
	drop = cJSON_GetObjectItemCaseSensitive(model, "dropout");
	if (drop && !cJSON_IsNull(drop) && !(cJSON_IsNumber(drop) && drop->valuedouble == 0))
		return tk_fail(b, QK_E_UNSUPPORTED, "model.dropout: BPE dropout is not supported");
	for (size_t i = 0; i < sizeof(empty_str) / sizeof(empty_str[0]); i++) {
		const cJSON *j = cJSON_GetObjectItemCaseSensitive(model, empty_str[i]);
		if (!j || cJSON_IsNull(j) || (cJSON_IsString(j) && !j->valuestring[0]))
			continue;
		return tk_fail(b, QK_E_UNSUPPORTED, "model.%s: expected null or \"\"", empty_str[i]);
	}
	if ((rc = opt_bool(b, model, "model", "byte_fallback", false)) ||
	    (rc = opt_bool(b, model, "model", "ignore_merges", false)))
		return rc;
	return QK_OK;
}

/* ---- model.vocab ---- */

/* names[id] -> the vocab key (points into the cJSON tree) */
static int read_vocab(struct tk_build *b, const cJSON *vocab, struct qk_hmap *map,
		      const char ***names_out, uint32_t *n_out)
{
	char show[TK_SHOW_MAX], show2[TK_SHOW_MAX];
	const char **names;
	size_t n = 0;

	if (!cJSON_IsObject(vocab))
		return tk_fail(b, QK_E_INVALID, "model.vocab: expected an object of token -> id");
	for (const cJSON *c = vocab->child; c; c = c->next)
		n++;
	if (n == 0)
		return tk_fail(b, QK_E_INVALID, "model.vocab: empty");
	if (n > TK_MAX_VOCAB)
		return tk_fail(b, QK_E_UNSUPPORTED, "model.vocab: %zu tokens, more than %u", n,
			    TK_MAX_VOCAB);
	names = calloc(n, sizeof(names[0]));
	if (!names || qk_hmap_init(map, n + 64)) {
		free(names);
		return nomem(b);
	}
	*names_out = names;
	for (const cJSON *c = vocab->child; c; c = c->next) {
		size_t len = strlen(c->string);
		int64_t id, old;

		if (len == 0)
			return tk_fail(b, QK_E_INVALID, "model.vocab: an empty token");
		if (!int_in(c, (double)n, &id))
			return tk_fail(b, QK_E_INVALID,
				    "model.vocab['%s']: id is not an integer in 0..%zu (the ids of "
				    "%zu tokens must be 0..%zu)", tk_show(c->string, len, show, sizeof(show)),
				    n - 1, n, n - 1);
		if (names[id])
			return tk_fail(b, QK_E_INVALID, "model.vocab: id %lld belongs to both '%s' and '%s'",
				    (long long)id,
				    tk_show(names[id], strlen(names[id]), show2, sizeof(show2)),
				    tk_show(c->string, len, show, sizeof(show)));
		old = qk_hmap_put(map, c->string, len, id);
		if (old == -2)
			return nomem(b);
		if (old >= 0)
			return tk_fail(b, QK_E_INVALID, "model.vocab: token '%s' appears twice",
				    tk_show(c->string, len, show, sizeof(show)));
		names[id] = c->string;
	}
	*n_out = (uint32_t)n;
	return QK_OK;
}

/* ---- model.merges ---- */

struct merge_ctx {
	struct tk_build *b;
	const struct qk_hmap *vocab;
	struct qk_hmap seen;        /* GGUF merge string -> index */
	char *cat;                 /* scratch for a + b */
	size_t cat_cap;
};

/* the GGUF form of a part: a literal space becomes U+0120 (gguf-py) */
static size_t gguf_part_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == ' ' ? 2 : 1;
	return n;
}

static char *gguf_part_put(char *o, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ') {
			*o++ = '\xc4';
			*o++ = '\xa0';
		} else {
			*o++ = *s;
		}
	}
	return o;
}

/* a, b and a+b must be model.vocab tokens (tokenizers checks the same) */
static int merge_parts(struct merge_ctx *m, size_t i, const char *a, size_t la, const char *bb,
		       size_t lb)
{
	char show[TK_SHOW_MAX];
	const char *parts[2] = { a, bb };
	size_t lens[2] = { la, lb };

	for (int k = 0; k < 2; k++)
		if (lens[k] == 0 || qk_hmap_get(m->vocab, parts[k], lens[k]) < 0)
			return tk_fail(m->b, QK_E_INVALID,
				    "model.merges[%zu]: '%s' is not a token of model.vocab", i,
				    tk_show(parts[k], lens[k], show, sizeof(show)));
	if (la + lb > m->cat_cap) {
		char *p = realloc(m->cat, (la + lb) * 2);
		if (!p)
			return nomem(m->b);
		m->cat = p;
		m->cat_cap = (la + lb) * 2;
	}
	memcpy(m->cat, a, la);
	memcpy(m->cat + la, bb, lb);
	if (qk_hmap_get(m->vocab, m->cat, la + lb) < 0)
		return tk_fail(m->b, QK_E_INVALID,
			    "model.merges[%zu]: the merged token '%s' is not in model.vocab", i,
			    tk_show(m->cat, la + lb, show, sizeof(show)));
	return QK_OK;
}

static int one_merge(struct merge_ctx *m, const cJSON *e, size_t i, bool list_form, char **out)
{
	struct tk_build *b = m->b;
	const char *a, *bb, *sp;
	char show[TK_SHOW_MAX], *s, *o;
	int64_t old;
	int rc;

	*out = NULL;
	if (!list_form) {
		if (!cJSON_IsString(e))
			return tk_fail(b, QK_E_INVALID,
				    "model.merges[%zu]: expected a string like model.merges[0]", i);
		a = e->valuestring;
		sp = strchr(a, ' ');
		if (!sp || strchr(sp + 1, ' '))
			return tk_fail(b, QK_E_INVALID,
				    "model.merges[%zu]: '%s' is not two tokens separated by one space",
				    i, tk_show(a, strlen(a), show, sizeof(show)));
		rc = merge_parts(m, i, a, (size_t)(sp - a), sp + 1, strlen(sp + 1));
		if (rc)
			return rc;
		s = tk_strndup(a, strlen(a));
	} else {
		if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 ||
		    !(a = str_or_null(e->child)) || !(bb = str_or_null(e->child->next)))
			return tk_fail(b, QK_E_INVALID,
				    "model.merges[%zu]: expected a pair of strings like "
				    "model.merges[0]", i);
		rc = merge_parts(m, i, a, strlen(a), bb, strlen(bb));
		if (rc)
			return rc;
		s = malloc(gguf_part_len(a) + gguf_part_len(bb) + 2);
		if (s) {
			o = gguf_part_put(s, a);
			*o++ = ' ';
			o = gguf_part_put(o, bb);
			*o = '\0';
		}
	}
	if (!s)
		return nomem(b);
	*out = s;
	old = qk_hmap_put(&m->seen, s, strlen(s), (int64_t)i);
	if (old == -2)
		return nomem(b);
	if (old >= 0)
		return tk_fail(b, QK_E_INVALID, "model.merges[%zu]: '%s' repeats model.merges[%lld]", i,
			    tk_show(s, strlen(s), show, sizeof(show)), (long long)old);
	return QK_OK;
}

static int read_merges(struct tk_build *b, const cJSON *merges, const struct qk_hmap *vocab)
{
	struct merge_ctx m = { .b = b, .vocab = vocab };
	size_t n = 0, i = 0;
	bool list_form;
	int rc = QK_OK;

	if (!cJSON_IsArray(merges))
		return tk_fail(b, QK_E_INVALID, "model.merges: expected an array");
	for (const cJSON *c = merges->child; c; c = c->next)
		n++;
	if (n == 0)
		return tk_fail(b, QK_E_INVALID, "model.merges: empty, llama.cpp needs BPE merges");
	if (n > TK_MAX_VOCAB)
		return tk_fail(b, QK_E_UNSUPPORTED, "model.merges: %zu merges, more than %u", n,
			    TK_MAX_VOCAB);
	if (!cJSON_IsString(merges->child) && !cJSON_IsArray(merges->child))
		return tk_fail(b, QK_E_INVALID, "model.merges[0]: expected a string or a pair of strings");
	list_form = cJSON_IsArray(merges->child);
	b->v.merges = calloc(n, sizeof(b->v.merges[0]));
	if (!b->v.merges || qk_hmap_init(&m.seen, n))
		rc = nomem(b);
	for (const cJSON *c = merges->child; c && !rc; c = c->next, i++) {
		rc = one_merge(&m, c, i, list_form, &b->v.merges[i]);
		if (b->v.merges[i])
			b->v.n_merges = (uint32_t)(i + 1);
	}
	qk_hmap_free(&m.seen);
	free(m.cat);
	return rc;
}

/* ---- added_tokens ---- */

struct added_in {
	const char *content;
	int64_t id;
	bool special;
	uint8_t flags;     /* TK_ADDED_* */
};

/* tokenizers' AddedToken flags; normalized defaults to !special */
static int added_flags(struct tk_build *b, const cJSON *c, size_t i, const char *show,
		       uint8_t *out)
{
	static const struct { const char *key; uint8_t flag; } keys[] = {
		{ "special", TK_ADDED_SPECIAL }, { "single_word", TK_ADDED_SINGLE_WORD },
		{ "lstrip", TK_ADDED_LSTRIP }, { "rstrip", TK_ADDED_RSTRIP },
		{ "normalized", TK_ADDED_NORMALIZED },
	};
	const cJSON *sp = cJSON_GetObjectItemCaseSensitive(c, "special"), *nz = cJSON_GetObjectItemCaseSensitive(c, "normalized");

	*out = 0;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const cJSON *j = cJSON_GetObjectItemCaseSensitive(c, keys[k].key);
		if (j && !cJSON_IsBool(j))
			return tk_fail(b, QK_E_INVALID, "added_tokens[%zu] '%s': %s: expected true or false",
				    i, show, keys[k].key);
		if (cJSON_IsTrue(j))
			*out |= keys[k].flag;
	}
	if (!nz && !cJSON_IsTrue(sp))
		*out |= TK_ADDED_NORMALIZED;
	return QK_OK;
}

static int read_added(struct tk_build *b, const cJSON *arr, const struct qk_hmap *vocab,
		      uint32_t n_model, struct added_in **out, size_t *n_out, uint32_t *next_out)
{
	char show[TK_SHOW_MAX];
	struct added_in *in;
	struct qk_hmap seen;
	size_t n = 0, i = 0;
	int64_t next = n_model;
	int rc = QK_OK;

	*out = NULL;
	*n_out = 0;
	*next_out = n_model;
	if (!arr || cJSON_IsNull(arr))
		return QK_OK;
	if (!cJSON_IsArray(arr))
		return tk_fail(b, QK_E_INVALID, "added_tokens: expected an array");
	for (const cJSON *c = arr->child; c; c = c->next)
		n++;
	if (n > TK_MAX_VOCAB)
		return tk_fail(b, QK_E_UNSUPPORTED, "added_tokens: %zu tokens, more than %u", n,
			    TK_MAX_VOCAB);
	in = calloc(n + 1, sizeof(in[0]));
	if (!in || qk_hmap_init(&seen, n)) {
		free(in);
		return nomem(b);
	}
	for (const cJSON *c = arr->child; c && !rc; c = c->next, i++) {
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(c, "content"), *sp = cJSON_GetObjectItemCaseSensitive(c, "special");
		int64_t id, want, old;
		size_t len;
		uint8_t flags;

		if (!cJSON_IsObject(c)) {
			rc = tk_fail(b, QK_E_INVALID, "added_tokens[%zu]: expected an object", i);
			break;
		}
		if (!cJSON_IsString(content) || !content->valuestring[0]) {
			rc = tk_fail(b, QK_E_INVALID, "added_tokens[%zu].content: expected a non-empty string",
				  i);
			break;
		}
		len = strlen(content->valuestring);
		tk_show(content->valuestring, len, show, sizeof(show));
		if (!int_in(cJSON_GetObjectItemCaseSensitive(c, "id"), TK_MAX_VOCAB, &id)) {
			rc = tk_fail(b, QK_E_INVALID, "added_tokens[%zu] '%s': id is not an integer in 0..%u",
				  i, show, TK_MAX_VOCAB - 1);
			break;
		}
		if ((rc = added_flags(b, c, i, show, &flags)))
			break;
		old = qk_hmap_put(&seen, content->valuestring, len, (int64_t)i);
		if (old == -2) {
			rc = nomem(b);
			break;
		}
		if (old >= 0) {
			rc = tk_fail(b, QK_E_INVALID, "added_tokens[%zu]: '%s' repeats added_tokens[%lld]",
				  i, show, (long long)old);
			break;
		}
		want = qk_hmap_get(vocab, content->valuestring, len);
		if (want < 0)
			want = next++;
		if (id != want) {
			rc = tk_fail(b, QK_E_INVALID,
				  "added_tokens[%zu] '%s': id %lld, but tokenizers gives it id %lld "
				  "(%s)", i, show, (long long)id, (long long)want,
				  want < n_model ? "its id in model.vocab"
						 : "the next id after model.vocab and the added "
						   "tokens before it");
			break;
		}
		if (next > TK_MAX_VOCAB) {
			rc = tk_fail(b, QK_E_UNSUPPORTED, "added_tokens: more than %u tokens in all",
				  TK_MAX_VOCAB);
			break;
		}
		in[i] = (struct added_in){ content->valuestring, id, cJSON_IsTrue(sp), flags };
	}
	qk_hmap_free(&seen);
	if (rc) {
		free(in);
		return rc;
	}
	*out = in;
	*n_out = n;
	*next_out = (uint32_t)next;
	return QK_OK;
}

/* ---- pre_tokenizer, normalizer, post_processor ---- */

static bool is_type(const cJSON *j, const char *type)
{
	const char *t = str_or_null(cJSON_GetObjectItemCaseSensitive(j, "type"));
	return t && strcmp(t, type) == 0;
}

static bool is_false(const cJSON *j, const char *key)
{
	return cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, key));
}

/* The Split regex must be one a known pre stands for: the arch's, or another
 * (a Qwen3.5 regex in a tokenizer of another architecture): *pre is set to
 * it, as llama.cpp's converter picks the pre by what the tokenizer does. */
static int check_pre(struct tk_build *b, const cJSON *pt, const struct tk_pre **prep)
{
	const struct tk_pre *pre = *prep;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(pt, "pretokenizers"), *split, *bl, *inv;
	const char *re;
	char show[TK_SHOW_MAX];
	size_t n;

	if (!is_type(pt, "Sequence") || !cJSON_IsArray(list) || cJSON_GetArraySize(list) != 2 ||
	    !is_type(list->child, "Split") || !is_type(list->child->next, "ByteLevel"))
		return tk_fail(b, QK_E_UNSUPPORTED,
			    "pre_tokenizer: expected a Sequence of Split and ByteLevel, as Qwen's "
			    "tokenizers have");
	split = list->child;
	bl = split->next;
	re = str_or_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(split, "pattern"), "Regex"));
	inv = cJSON_GetObjectItemCaseSensitive(split, "invert");
	if (!re)
		return tk_fail(b, QK_E_UNSUPPORTED,
			    "pre_tokenizer.pretokenizers[0].pattern: expected a Regex");
	n = strlen(re);
	if (tk_pre_by_regex(re))
		pre = *prep = tk_pre_by_regex(re);
	for (const char *const *a = pre->accepted;; a++) {
		if (!*a) {
			memcpy(show, re, n < 120 ? n : 120);
			strcpy(show + (n < 120 ? n : 120), n > 120 ? "..." : "");
			return tk_fail(b, QK_E_UNSUPPORTED,
				    "pre_tokenizer.pretokenizers[0].pattern.Regex: unknown "
				    "pre-tokenizer regex '%s'%s, expected the %s regex", show,
				    strstr(re, "\\p{M}") ? " (Qwen3.5's)" : "", pre->name);
		}
		if (strcmp(*a, re) == 0)
			break;
	}
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(split, "behavior")) ||
	    strcmp(cJSON_GetObjectItemCaseSensitive(split, "behavior")->valuestring, "Isolated") != 0 ||
	    (inv && !cJSON_IsFalse(inv)))
		return tk_fail(b, QK_E_UNSUPPORTED,
			    "pre_tokenizer.pretokenizers[0]: expected behavior Isolated, invert false");
	if (!is_false(bl, "add_prefix_space") || !is_false(bl, "use_regex"))
		return tk_fail(b, QK_E_UNSUPPORTED,
			    "pre_tokenizer.pretokenizers[1]: expected ByteLevel with "
			    "add_prefix_space false and use_regex false");
	return QK_OK;
}

static int check_normalizer(struct tk_build *b, const cJSON *nz)
{
	const cJSON *list;
	const char *t;

	if (!nz || cJSON_IsNull(nz))
		return QK_OK;
	if (is_type(nz, "NFC")) {
		b->nfc = true;
		return QK_OK;
	}
	list = cJSON_GetObjectItemCaseSensitive(nz, "normalizers");
	if (is_type(nz, "Sequence") && cJSON_IsArray(list)) {
		for (const cJSON *c = list->child; c; c = c->next)
			if (!is_type(c, "NFC"))
				return tk_fail(b, QK_E_UNSUPPORTED,
					    "normalizer: a Sequence of other than NFC is not supported");
		b->nfc = list->child != NULL;
		return QK_OK;
	}
	t = str_or_null(cJSON_GetObjectItemCaseSensitive(nz, "type"));
	return tk_fail(b, QK_E_UNSUPPORTED, "normalizer %s%s%s: expected null or NFC",
		    t ? "'" : "", t ? t : "without a type", t ? "'" : "");
}

static int check_post(struct tk_build *b, const cJSON *pp)
{
	const cJSON *list;

	if (!pp || cJSON_IsNull(pp))
		return QK_OK;
	if (is_type(pp, "ByteLevel")) {
		b->post_bytelevel = true;
		return QK_OK;
	}
	list = cJSON_GetObjectItemCaseSensitive(pp, "processors");
	if (is_type(pp, "Sequence") && cJSON_IsArray(list)) {
		for (const cJSON *c = list->child; c; c = c->next)
			if (!is_type(c, "ByteLevel"))
				return tk_fail(b, QK_E_UNSUPPORTED,
					    "post_processor: only ByteLevel is supported");
		b->post_bytelevel = list->child != NULL;
		return QK_OK;
	}
	return tk_fail(b, QK_E_UNSUPPORTED, "post_processor: only ByteLevel is supported");
}

/* ---- the vocabulary ---- */

static int fill_tokens(struct tk_build *b, const char **names, uint32_t n_model,
		       const struct added_in *in, size_t n_in)
{
	struct tk_vocab *v = &b->v;

	for (uint32_t i = 0; i < n_model; i++) {
		if (!(v->tokens[i] = tk_strndup(names[i], strlen(names[i]))))
			return nomem(b);
		v->types[i] = TK_NORMAL;
	}
	b->added = calloc(n_in + 1, sizeof(b->added[0]));
	if (!b->added)
		return nomem(b);
	for (size_t i = 0; i < n_in; i++) {
		size_t len = strlen(in[i].content);
		char *t = tk_strndup(in[i].content, len), *c = tk_strndup(in[i].content, len);
		bool control = in[i].special || tk_looks_special(in[i].content);

		if (!t || !c) {
			free(t);
			free(c);
			return nomem(b);
		}
		b->added[b->n_added++] = (struct tk_added){ c, in[i].id, in[i].flags };
		if (!control) { /* llama.cpp: U+2581 -> ' ' in user-defined tokens */
			char *o = t;
			for (const char *p = t; *p;) {
				if (strncmp(p, "\xe2\x96\x81", 3) == 0) {
					*o++ = ' ';
					p += 3;
				} else {
					*o++ = *p++;
				}
			}
			*o = '\0';
		}
		free(v->tokens[in[i].id]);
		v->tokens[in[i].id] = t;
		v->types[in[i].id] = control ? TK_CONTROL : TK_USER_DEFINED;
	}
	return QK_OK;
}

static int build(struct tk_build *b, const cJSON *root, const struct tk_pre *pre,
		 uint32_t vocab_size)
{
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
	const char **names = NULL;
	struct added_in *in = NULL;
	struct qk_hmap vocab = { 0 };
	uint32_t n_model = 0, total = 0;
	size_t n_in = 0;
	int rc;

	if (!cJSON_IsObject(model))
		return tk_fail(b, QK_E_INVALID, "model: expected an object");
	if ((rc = check_model(b, model)) ||
	    (rc = read_vocab(b, cJSON_GetObjectItemCaseSensitive(model, "vocab"), &vocab, &names, &n_model)) ||
	    (rc = read_merges(b, cJSON_GetObjectItemCaseSensitive(model, "merges"), &vocab)) ||
	    (rc = read_added(b, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), &vocab, n_model, &in, &n_in,
			     &total)) ||
	    (rc = check_pre(b, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), &pre)) ||
	    (rc = check_normalizer(b, cJSON_GetObjectItemCaseSensitive(root, "normalizer"))) ||
	    (rc = check_post(b, cJSON_GetObjectItemCaseSensitive(root, "post_processor"))))
		goto out;
	if (vocab_size == 0) {
		vocab_size = total;
	} else if (total > vocab_size) {
		rc = tk_fail(b, QK_E_INVALID,
			  "%u tokens (ids 0..%u), more than config.json's vocab_size %u",
			  (unsigned)total, (unsigned)total - 1, (unsigned)vocab_size);
		goto out;
	}
	if ((rc = tk_vocab_alloc(&b->v, vocab_size, b->fname, b->err)) ||
	    (rc = fill_tokens(b, names, n_model, in, n_in)) ||
	    (rc = tk_fill_padding(&b->v, b->fname, b->err)))
		goto out;
	b->v.pre = pre->name;
	b->v.model = "gpt2";
out:
	qk_hmap_free(&vocab);
	free(names);
	free(in);
	return rc;
}

int tk_json_build(struct tk_build *b, const char *json, size_t len, int arch,
		  uint32_t vocab_size)
{
	const struct tk_pre *pre = tk_pre_for_arch(arch);
	cJSON *root;
	int rc;

	if (!pre)
		return qk_err_set(b->err, QK_E_USAGE, "no pre-tokenizer for arch %d", arch);
	if (vocab_size > TK_MAX_VOCAB)
		return tk_fail(b, QK_E_UNSUPPORTED, "vocab_size %u is more than %u", (unsigned)vocab_size,
			    TK_MAX_VOCAB);
	rc = qk_json_parse(json, len, b->fname, 0, &root, b->err);
	if (rc)
		return rc;
	b->json = true;
	if (!cJSON_IsObject(root))
		rc = tk_fail(b, QK_E_INVALID, "top level is %s, expected a JSON object",
			     qk_json_kind(root));
	else
		rc = build(b, root, pre, vocab_size);
	cJSON_Delete(root);
	return rc;
}
