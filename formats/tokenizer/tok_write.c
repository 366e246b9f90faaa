/* tok_write.c - a vocabulary -> HF tokenizer.json + tokenizer_config.json
 * (tk_write_hf); the layout rules are in tokenizer.h.
 *
 * HF tokenizers gives model.vocab its written ids and every added token not
 * in model.vocab the next id in list order, so the files are laid out to
 * make those ids the vocabulary's: model.vocab = every token below the
 * first id from which only added (CONTROL/USER_DEFINED) tokens follow,
 * added_tokens in id order.
 */
#include "tok_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/outfile.h"
#include "../base/path.h"

/* ---- a small JSON writer over qk_out; the first error sticks ---- */

struct jw {
	struct qk_out *o;
	qk_err *err;
	int rc;
};

static void raw(struct jw *j, const char *s, size_t n)
{
	if (!j->rc && n)
		j->rc = qk_out_write(j->o, s, n, j->err);
}

static void put(struct jw *j, const char *s)
{
	raw(j, s, strlen(s));
}

static void fmt(struct jw *j, const char *f, ...) __attribute__((format(printf, 2, 3)));

static void fmt(struct jw *j, const char *f, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	if (n > 0)
		raw(j, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* a JSON string: ", \ and control characters escaped, UTF-8 as is (what
 * serde_json and json.dumps(ensure_ascii=False) write) */
static void str(struct jw *j, const char *s)
{
	char buf[512];
	size_t n = 0;

	buf[n++] = '"';
	for (; *s; s++) {
		uint8_t c = (uint8_t)*s;
		if (n + 8 > sizeof(buf)) {
			raw(j, buf, n);
			n = 0;
		}
		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c == '\n') {
			memcpy(buf + n, "\\n", 2);
			n += 2;
		} else if (c == '\t') {
			memcpy(buf + n, "\\t", 2);
			n += 2;
		} else if (c == '\r') {
			memcpy(buf + n, "\\r", 2);
			n += 2;
		} else if (c < 0x20) {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\\u%04x", c);
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n++] = '"';
	raw(j, buf, n);
}

static void str_or_null(struct jw *j, const char *s)
{
	if (s)
		str(j, s);
	else
		put(j, "null");
}

/* ---- layout ---- */

struct layout {
	const struct tk_vocab *v;
	uint32_t n_model;     /* model.vocab = ids [0, n_model) */
	uint32_t n_real;      /* ids >= n_real are [PAD] fillers */
	struct qk_hmap map;    /* model.vocab token -> id */
};

static bool is_added(int type)
{
	return type == TK_CONTROL || type == TK_USER_DEFINED;
}

static int plan(struct layout *l, qk_err *err)
{
	const struct tk_vocab *v = l->v;
	char show[TK_SHOW_MAX];
	uint32_t i;

	l->n_real = v->n_tokens;
	while (l->n_real > 0 && v->types[l->n_real - 1] == TK_UNUSED &&
	       tk_is_pad_filler(v->tokens[l->n_real - 1], l->n_real - 1))
		l->n_real--;
	if (l->n_real == 0)
		return qk_err_set(err, QK_E_UNSUPPORTED, "tk_write_hf: no tokens but [PAD] fillers");
	l->n_model = l->n_real;
	while (l->n_model > 0 && is_added(v->types[l->n_model - 1]))
		l->n_model--;
	if (qk_hmap_init(&l->map, l->n_real))
		return qk_err_set(err, QK_E_NOMEM, "tk_write_hf: out of memory");
	for (i = 0; i < l->n_real; i++) {
		const char *t = v->tokens[i];
		int64_t old;

		if (v->types[i] == TK_UNUSED && tk_is_pad_filler(t, i))
			return qk_err_set(err, QK_E_UNSUPPORTED,
					  "tk_write_hf: id %u is a [PAD] filler below token %u; "
					  "tokenizers cannot leave a hole in its ids",
					  (unsigned)i, (unsigned)l->n_real - 1);
		old = i < l->n_model ? qk_hmap_put(&l->map, t, strlen(t), i)
				     : qk_hmap_get(&l->map, t, strlen(t));
		if (old == -2)
			return qk_err_set(err, QK_E_NOMEM, "tk_write_hf: out of memory");
		if (old >= 0)
			return qk_err_set(err, QK_E_UNSUPPORTED,
					  "tk_write_hf: token '%s' is both id %lld and id %u",
					  tk_show(t, strlen(t), show, sizeof(show)), (long long)old,
					  (unsigned)i);
	}
	return QK_OK;
}

/* every merge must name model.vocab tokens, and so must its result */
static int check_merges(struct layout *l, qk_err *err)
{
	const struct tk_vocab *v = l->v;
	char show[TK_SHOW_MAX], *cat = NULL;
	size_t cap = 0;
	int rc = QK_OK;

	for (uint32_t i = 0; i < v->n_merges && !rc; i++) {
		const char *m = v->merges[i], *sp = m[0] ? strchr(m + 1, ' ') : NULL;
		size_t la, lb;

		if (!sp || !sp[1]) {
			rc = qk_err_set(err, QK_E_USAGE, "tk_write_hf: merge %u '%s' has no space", i,
					tk_show(m, strlen(m), show, sizeof(show)));
			break;
		}
		la = (size_t)(sp - m);
		lb = strlen(sp + 1);
		if (la + lb > cap) {
			char *p = realloc(cat, 2 * (la + lb));
			if (!p) {
				rc = qk_err_set(err, QK_E_NOMEM, "tk_write_hf: out of memory");
				break;
			}
			cat = p;
			cap = 2 * (la + lb);
		}
		memcpy(cat, m, la);
		memcpy(cat + la, sp + 1, lb);
		if (qk_hmap_get(&l->map, m, la) < 0 || qk_hmap_get(&l->map, sp + 1, lb) < 0 ||
		    qk_hmap_get(&l->map, cat, la + lb) < 0)
			rc = qk_err_set(err, QK_E_UNSUPPORTED,
					"tk_write_hf: merge %u '%s' names a token outside model.vocab "
					"(ids 0..%u), which tokenizers refuses", i,
					tk_show(m, strlen(m), show, sizeof(show)),
					(unsigned)l->n_model - 1);
	}
	free(cat);
	return rc;
}

/* ---- tokenizer.json ---- */

static void bytelevel(struct jw *j)
{
	put(j, "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": false, "
	       "\"use_regex\": false}");
}

static void added_entry(struct jw *j, const struct tk_vocab *v, uint32_t i, bool with_id,
			const char *indent)
{
	put(j, "{\n");
	if (with_id)
		fmt(j, "%s  \"id\": %u,\n", indent, (unsigned)i);
	fmt(j, "%s  \"content\": ", indent);
	str(j, v->tokens[i]);
	fmt(j, ",\n%s  \"single_word\": false,\n%s  \"lstrip\": false,\n%s  \"rstrip\": false,\n"
	       "%s  \"normalized\": false,\n%s  \"special\": %s\n%s}", indent, indent, indent,
	    indent, indent, v->types[i] == TK_CONTROL ? "true" : "false", indent);
}

static void write_tokenizer_json(struct jw *j, const struct layout *l)
{
	const struct tk_vocab *v = l->v;
	bool first = true;

	put(j, "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n"
	       "  \"added_tokens\": [");
	for (uint32_t i = 0; i < l->n_real; i++) {
		if (!is_added(v->types[i]))
			continue;
		put(j, first ? "\n    " : ",\n    ");
		added_entry(j, v, i, true, "    ");
		first = false;
	}
	put(j, first ? "],\n" : "\n  ],\n");
	put(j, "  \"normalizer\": {\"type\": \"NFC\"},\n  \"pre_tokenizer\": {\"type\": "
	       "\"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": ");
	str(j, tk_pre_by_name(v->pre)->hf_regex);
	put(j, "}, \"behavior\": \"Isolated\", \"invert\": false}, ");
	bytelevel(j);
	put(j, "]},\n  \"post_processor\": ");
	bytelevel(j);
	put(j, ",\n  \"decoder\": ");
	bytelevel(j);
	put(j, ",\n  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n"
	       "    \"unk_token\": null,\n    \"continuing_subword_prefix\": \"\",\n"
	       "    \"end_of_word_suffix\": \"\",\n    \"fuse_unk\": false,\n"
	       "    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n    \"vocab\": {");
	for (uint32_t i = 0; i < l->n_model; i++) {
		put(j, i ? ",\n      " : "\n      ");
		str(j, v->tokens[i]);
		fmt(j, ": %u", (unsigned)i);
	}
	put(j, "\n    },\n    \"merges\": [");
	for (uint32_t i = 0; i < v->n_merges; i++) {
		const char *m = v->merges[i], *sp = strchr(m + 1, ' ');
		char *a = tk_strndup(m, (size_t)(sp - m));

		if (!a) {
			if (!j->rc)
				j->rc = qk_err_set(j->err, QK_E_NOMEM, "tk_write_hf: out of memory");
			return;
		}
		put(j, i ? ",\n      [" : "\n      [");
		str(j, a);
		put(j, ", ");
		str(j, sp + 1);
		put(j, "]");
		free(a);
	}
	put(j, "\n    ]\n  }\n}\n");
}

/* ---- tokenizer_config.json ---- */

static int write_config_json(struct jw *j, const struct layout *l)
{
	static const struct { const char *key; size_t off; bool always; } names[] = {
		{ "bos_token", offsetof(struct tk_vocab, bos), true },
		{ "eos_token", offsetof(struct tk_vocab, eos), true },
		{ "unk_token", offsetof(struct tk_vocab, unk), true },
		{ "pad_token", offsetof(struct tk_vocab, pad), true },
		{ "sep_token", offsetof(struct tk_vocab, sep), false },
		{ "mask_token", offsetof(struct tk_vocab, mask), false },
	};
	const struct tk_vocab *v = l->v;
	bool first = true;

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		int64_t id = *(const int64_t *)(const void *)((const char *)v + names[k].off);
		if (id >= (int64_t)l->n_real)
			return qk_err_set(j->err, QK_E_UNSUPPORTED,
					  "tk_write_hf: %s is id %lld, a [PAD] filler", names[k].key,
					  (long long)id);
	}
	fmt(j, "{\n  \"add_bos_token\": %s,\n", v->add_bos == 1 ? "true" : "false");
	if (v->add_eos >= 0)
		fmt(j, "  \"add_eos_token\": %s,\n", v->add_eos ? "true" : "false");
	put(j, "  \"add_prefix_space\": false,\n  \"added_tokens_decoder\": {");
	for (uint32_t i = 0; i < l->n_real; i++) {
		if (!is_added(v->types[i]))
			continue;
		fmt(j, "%s    \"%u\": ", first ? "\n" : ",\n", (unsigned)i);
		added_entry(j, v, i, false, "    ");
		first = false;
	}
	put(j, first ? "},\n" : "\n  },\n");
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		int64_t id = *(const int64_t *)(const void *)((const char *)v + names[k].off);
		if (id < 0 && !names[k].always)
			continue;
		fmt(j, "  \"%s\": ", names[k].key);
		str_or_null(j, id >= 0 ? v->tokens[id] : NULL);
		put(j, ",\n");
	}
	if (v->chat_template) {
		put(j, "  \"chat_template\": ");
		str(j, v->chat_template);
		put(j, ",\n");
	}
	put(j, "  \"clean_up_tokenization_spaces\": false,\n  \"errors\": \"replace\",\n");
	if (v->model_max_length)
		fmt(j, "  \"model_max_length\": %llu,\n", (unsigned long long)v->model_max_length);
	put(j, "  \"split_special_tokens\": false,\n  \"tokenizer_class\": \"Qwen2Tokenizer\"\n}\n");
	return j->rc;
}

/* ---- files ---- */

static int open_out(struct jw *j, const char *dir, const char *name, qk_err *err)
{
	char *path = qk_path_join(dir, name);
	int rc;

	j->o = NULL;
	j->err = err;
	j->rc = QK_OK;
	if (!path)
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", dir);
	rc = qk_out_open(&j->o, path, err);
	free(path);
	return rc;
}

int tk_write_hf(const struct tk_vocab *v, const char *dir, qk_err *err)
{
	struct layout l = { .v = v };
	struct jw tj = { 0 }, cj = { 0 };
	int rc;

	if (!dir || !v->tokens || !v->types || v->n_tokens == 0 || !v->pre ||
	    !tk_pre_by_name(v->pre))
		return qk_err_set(err, QK_E_USAGE, "tk_write_hf: no directory or an empty vocabulary");
	rc = plan(&l, err);
	if (!rc)
		rc = check_merges(&l, err);
	if (!rc)
		rc = open_out(&tj, dir, "tokenizer.json", err);
	if (!rc) {
		write_tokenizer_json(&tj, &l);
		rc = tj.rc;
	}
	if (!rc)
		rc = open_out(&cj, dir, "tokenizer_config.json", err);
	if (!rc) {
		rc = write_config_json(&cj, &l);
	}
	if (!rc) {
		rc = qk_out_commit(tj.o, err);
		tj.o = NULL;
	}
	if (!rc) {
		rc = qk_out_commit(cj.o, err);
		cj.o = NULL;
	}
	qk_out_abort(tj.o);
	qk_out_abort(cj.o);
	qk_hmap_free(&l.map);
	return rc;
}
