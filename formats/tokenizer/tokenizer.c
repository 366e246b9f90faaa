/* tokenizer.c - loading an HF tokenizer directory (tokenizer.json or
 * qwen.tiktoken, then tokenizer_config.json, chat templates and config.json
 * ids) and the helpers the other tok_*.c files share; see tokenizer.h.
 *
 * The special-token rules follow gguf-py's SpecialVocab step by step, so
 * that the ids, flags and template are the ones llama.cpp's converter writes.
 */
#include "tok_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../model/hparams.h"
#include "../base/io.h"
#include "../base/json.h"
#include "../base/path.h"

/* ---- small helpers ---- */

char *tk_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		if (n)
			memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

const char *tk_show(const char *s, size_t n, char *buf, size_t size)
{
	size_t o = 0, i = 0, limit = 60;

	if (size < 16) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	while (i < n && o + 8 < size) {
		uint8_t c = (uint8_t)s[i];
		if (i >= limit && (c & 0xc0) != 0x80) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
		i++;
	}
	buf[o] = '\0';
	return buf;
}

bool tk_is_pad_filler(const char *s, uint32_t id)
{
	char want[32];

	snprintf(want, sizeof(want), "[PAD%u]", (unsigned)id);
	return strcmp(s, want) == 0;
}

static bool starts_ends(const char *s, size_t n, const char *a, const char *z)
{
	size_t la = strlen(a), lz = strlen(z);
	return n >= la + lz && memcmp(s, a, la) == 0 && memcmp(s + n - lz, z, lz) == 0;
}

bool tk_looks_special(const char *s)
{
	static const char *const exact[] = { "<pad>", "<mask>", "<2mass>", "[@BOS@]" };
	size_t n = strlen(s);

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strcmp(s, exact[i]) == 0)
			return true;
	/* "<|...|>", the fullwidth "<｜...｜>" (U+FF5C) and "<unused...>" */
	return starts_ends(s, n, "<|", "|>") ||
	       starts_ends(s, n, "<\xef\xbd\x9c", "\xef\xbd\x9c>") ||
	       starts_ends(s, n, "<unused", ">");
}

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the
 * other 68 to U+0100.. in byte order. */
uint32_t tk_byte_to_cp(uint8_t b)
{
	static uint32_t table[256];
	static int ready;

	if (!ready) {
		uint32_t next = 256;
		for (unsigned i = 0; i < 256; i++) {
			bool keep = (i >= 0x21 && i <= 0x7e) || (i >= 0xa1 && i <= 0xac) ||
				    (i >= 0xae && i <= 0xff);
			table[i] = keep ? i : next++;
		}
		ready = 1;
	}
	return table[b];
}

/* ---- pre-tokenizers ---- */

/* Qwen2's regex as HF tokenizer.json files (and Qwen1's tiktoken PAT_STR)
 * spell it, and as llama.cpp's runtime spells it (case classes instead of
 * (?i:...)); both split text the same way. */
#define QWEN2_HF_REGEX                                                                    \
	"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+" \
	"[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define QWEN2_LLAMA_REGEX                                                                  \
	"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+" \
	"|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* Qwen3.5's: Qwen2's with combining marks (\p{M}) joining letter runs, as
 * its tokenizer.json spells it and as llama.cpp's qwen35 pre-tokenizer
 * (LLAMA_VOCAB_PRE_TYPE_QWEN35) spells it */
#define QWEN35_HF_REGEX                                                                   \
	"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?"        \
	"[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define QWEN35_LLAMA_REGEX                                                                \
	"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?"   \
	"[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

static const char *const qwen2_regexes[] = { QWEN2_HF_REGEX, QWEN2_LLAMA_REGEX, NULL };
static const char *const qwen35_regexes[] = { QWEN35_HF_REGEX, QWEN35_LLAMA_REGEX, NULL };

static const struct tk_pre pres[] = {
	{ "qwen2", QWEN2_HF_REGEX, qwen2_regexes },
	{ "qwen35", QWEN35_HF_REGEX, qwen35_regexes },
};

/* [enum qk_arch] -> index in pres[]: qwen2 up to Qwen3-Next, qwen35 after */
static const int8_t arch_pre[QK_ARCH_COUNT] = {
	[QK_ARCH_QWEN] = 0, [QK_ARCH_QWEN2] = 0, [QK_ARCH_QWEN2MOE] = 0,
	[QK_ARCH_QWEN3] = 0, [QK_ARCH_QWEN3MOE] = 0, [QK_ARCH_QWEN3NEXT] = 0,
	[QK_ARCH_QWEN35] = 1, [QK_ARCH_QWEN35MOE] = 1,
	[QK_ARCH_QWEN2VL] = 0, [QK_ARCH_QWEN3VL] = 0, [QK_ARCH_QWEN3VLMOE] = 0,
};

const struct tk_pre *tk_pre_for_arch(int arch)
{
	if (arch < 0 || arch >= QK_ARCH_COUNT)
		return NULL;
	return &pres[arch_pre[arch]];
}

const struct tk_pre *tk_pre_by_regex(const char *regex)
{
	for (size_t i = 0; i < sizeof(pres) / sizeof(pres[0]); i++)
		for (const char *const *a = pres[i].accepted; *a; a++)
			if (strcmp(*a, regex) == 0)
				return &pres[i];
	return NULL;
}

const struct tk_pre *tk_pre_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(pres) / sizeof(pres[0]); i++)
		if (strcmp(pres[i].name, name) == 0)
			return &pres[i];
	return NULL;
}

const char *tk_type_name(int type)
{
	static const char *const names[] = {
		[TK_NORMAL] = "NORMAL", [TK_UNKNOWN] = "UNKNOWN", [TK_CONTROL] = "CONTROL",
		[TK_USER_DEFINED] = "USER_DEFINED", [TK_UNUSED] = "UNUSED", [TK_BYTE] = "BYTE",
	};
	if (type < TK_NORMAL || type > TK_BYTE)
		return "?";
	return names[type];
}

/* ---- JSON text ---- */

/* ---- vocabulary building blocks ---- */

void tk_vocab_init(struct tk_vocab *v)
{
	memset(v, 0, sizeof(*v));
	v->bos = v->eos = v->unk = v->sep = v->pad = v->mask = -1;
	v->add_bos = v->add_eos = v->add_sep = -1;
}

int tk_vocab_alloc(struct tk_vocab *v, uint32_t n, const char *fname, qk_err *err)
{
	if (n == 0 || n > TK_MAX_VOCAB)
		return qk_err_set(err, QK_E_UNSUPPORTED,
				  "%s: a vocabulary of %u tokens, expected 1..%u", fname,
				  (unsigned)n, TK_MAX_VOCAB);
	v->tokens = calloc(n, sizeof(v->tokens[0]));
	v->types = calloc(n, sizeof(v->types[0]));
	if (!v->tokens || !v->types)
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory for %u tokens", fname,
				  (unsigned)n);
	v->n_tokens = n;
	return QK_OK;
}

int tk_fill_padding(struct tk_vocab *v, const char *fname, qk_err *err)
{
	char buf[32];

	for (uint32_t i = 0; i < v->n_tokens; i++) {
		if (v->tokens[i])
			continue;
		snprintf(buf, sizeof(buf), "[PAD%u]", (unsigned)i);
		v->tokens[i] = tk_strndup(buf, strlen(buf));
		if (!v->tokens[i])
			return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", fname);
		v->types[i] = TK_UNUSED;
	}
	return QK_OK;
}

void tk_free(struct tk_vocab *v)
{
	if (!v)
		return;
	if (v->tokens)
		for (uint32_t i = 0; i < v->n_tokens; i++)
			free(v->tokens[i]);
	if (v->merges)
		for (uint32_t i = 0; i < v->n_merges; i++)
			free(v->merges[i]);
	free(v->tokens);
	free(v->types);
	free(v->merges);
	free(v->chat_template);
	memset(v, 0, sizeof(*v));
}

void tk_build_free(struct tk_build *b)
{
	for (size_t i = 0; i < b->n_added; i++)
		free(b->added[i].content);
	free(b->added);
	b->added = NULL;
	b->n_added = 0;
}

/* ---- special tokens (gguf-py SpecialVocab) ---- */

static const struct special_slot {
	const char *typ;       /* "bos" -> bos_token, add_bos_token, bos_token_id */
	ptrdiff_t id_off;      /* offset of the int64_t id in tk_vocab, -1: none */
	ptrdiff_t add_off;     /* offset of the add_* int, or -1: no GGUF key */
} special_slots[] = {
	{ "bos", offsetof(struct tk_vocab, bos), offsetof(struct tk_vocab, add_bos) },
	{ "eos", offsetof(struct tk_vocab, eos), offsetof(struct tk_vocab, add_eos) },
	{ "unk", offsetof(struct tk_vocab, unk), -1 },
	{ "sep", offsetof(struct tk_vocab, sep), offsetof(struct tk_vocab, add_sep) },
	{ "pad", offsetof(struct tk_vocab, pad), -1 },
	{ "cls", -1, -1 },  /* looked up, but gguf-py has no key for it */
	{ "mask", offsetof(struct tk_vocab, mask), -1 },
};
#define N_SLOTS (sizeof(special_slots) / sizeof(special_slots[0]))

static int64_t *id_slot(struct tk_vocab *v, const struct special_slot *s)
{
	return s->id_off >= 0 ? (int64_t *)(void *)((char *)v + s->id_off) : NULL;
}

/* Python truthiness of a JSON value, as SpecialVocab tests entries */
static bool truthy(const cJSON *j)
{
	if (!j || cJSON_IsNull(j) || cJSON_IsFalse(j))
		return false;
	if (cJSON_IsString(j))
		return j->valuestring[0] != '\0';
	if (cJSON_IsNumber(j))
		return j->valuedouble != 0;
	if (cJSON_IsArray(j) || cJSON_IsObject(j))
		return j->child != NULL;
	return true;
}

static int64_t added_id(const struct tk_build *b, const char *content)
{
	for (size_t i = 0; i < b->n_added; i++)
		if (strcmp(b->added[i].content, content) == 0)
			return b->added[i].id;
	return -1;
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Read a small text file that must be UTF-8 without NUL bytes. */
static int read_text(const char *path, char **out, size_t *len, qk_err *err)
{
	int rc = qk_read_file(path, TK_SMALL_MAX_BYTES, out, len, err);

	if (rc)
		return rc;
	if (memchr(*out, '\0', *len) || !qk_utf8_valid(*out, *len)) {
		free(*out);
		*out = NULL;
		return qk_err_set(err, QK_E_INVALID, "%s: not UTF-8 text", path);
	}
	return QK_OK;
}

static int read_json(const char *path, cJSON **root, qk_err *err)
{
	int rc = qk_json_load(path, root, err);

	if (!rc && !cJSON_IsObject(*root))
		rc = qk_err_set(err, QK_E_INVALID, "%s: top level is %s, expected a JSON object", path,
				qk_json_kind(*root));
	if (rc) {
		cJSON_Delete(*root);
		*root = NULL;
	}
	return rc;
}

/* chat_template.jinja, else chat_template.json's "chat_template" (NULL if
 * neither) */
static int alt_template(const char *dir, char **out, qk_err *err)
{
	char *jinja = qk_path_join(dir, "chat_template.jinja");
	char *json = qk_path_join(dir, "chat_template.json");
	cJSON *root = NULL;
	size_t len;
	int rc = QK_OK;

	*out = NULL;
	if (!jinja || !json) {
		rc = qk_err_set(err, QK_E_NOMEM, "%s: out of memory", dir);
	} else if (is_file(jinja)) {
		rc = read_text(jinja, out, &len, err);
	} else if (is_file(json)) {
		rc = read_json(json, &root, err);
		if (!rc) {
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "chat_template");
			if (cJSON_IsString(t)) {
				if (!(*out = tk_strndup(t->valuestring, strlen(t->valuestring))))
					rc = qk_err_set(err, QK_E_NOMEM, "%s: out of memory", json);
			} else if (cJSON_IsArray(t)) {
				rc = qk_err_set(err, QK_E_UNSUPPORTED,
						"%s: chat_template: a list of named templates is "
						"not supported", json);
			} else if (t && !cJSON_IsNull(t)) {
				rc = qk_err_set(err, QK_E_INVALID,
						"%s: chat_template: expected a string", json);
			}
		}
	}
	cJSON_Delete(root);
	free(jinja);
	free(json);
	return rc;
}

static int set_template(struct tk_build *b, const char *dir, const cJSON *cfg, const char *path)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(cfg, "chat_template");

	if (!t)
		return alt_template(dir, &b->v.chat_template, b->err);
	if (cJSON_IsNull(t))
		return QK_OK;
	if (cJSON_IsArray(t))
		return qk_err_set(b->err, QK_E_UNSUPPORTED,
				  "%s: chat_template: a list of named templates is not supported",
				  path);
	if (!cJSON_IsString(t))
		return qk_err_set(b->err, QK_E_INVALID, "%s: chat_template: expected a string",
				  path);
	b->v.chat_template = tk_strndup(t->valuestring, strlen(t->valuestring));
	return b->v.chat_template ? QK_OK
				  : qk_err_set(b->err, QK_E_NOMEM, "%s: out of memory", path);
}

/* tokenizer_config.json: template, add_* flags, special-token strings */
static int apply_tokenizer_config(struct tk_build *b, const char *dir)
{
	char *path = qk_path_join(dir, "tokenizer_config.json"), key[32];
	const cJSON *bos_e, *eos_e, *mml;
	cJSON *cfg = NULL;
	int rc;

	if (!path)
		return qk_err_set(b->err, QK_E_NOMEM, "%s: out of memory", dir);
	if (b->post_bytelevel) { /* before the config: the post-processor wins */
		b->v.add_bos = 0;
		b->v.add_eos = 0;
	}
	if (!is_file(path)) {
		free(path);
		return QK_OK;
	}
	rc = read_json(path, &cfg, b->err);
	if (!rc)
		rc = set_template(b, dir, cfg, path);
	if (rc)
		goto out;
	/* bos falls back to cls_token, eos to sep_token (tokenizer.json only) */
	bos_e = cJSON_GetObjectItemCaseSensitive(cfg, "bos_token");
	eos_e = cJSON_GetObjectItemCaseSensitive(cfg, "eos_token");
	if (b->json && !truthy(bos_e) && truthy(cJSON_GetObjectItemCaseSensitive(cfg, "cls_token")))
		bos_e = cJSON_GetObjectItemCaseSensitive(cfg, "cls_token");
	if (b->json && !truthy(eos_e) && truthy(cJSON_GetObjectItemCaseSensitive(cfg, "sep_token")))
		eos_e = cJSON_GetObjectItemCaseSensitive(cfg, "sep_token");
	for (size_t i = 0; i < N_SLOTS; i++) {
		const struct special_slot *s = &special_slots[i];
		const cJSON *flag, *e, *content;
		int64_t *slot = id_slot(&b->v, s), id;

		snprintf(key, sizeof(key), "add_%s_token", s->typ);
		flag = cJSON_GetObjectItemCaseSensitive(cfg, key);
		if (s->add_off >= 0 && cJSON_IsBool(flag)) {
			int *add = (int *)(void *)((char *)&b->v + s->add_off);
			if (*add < 0)
				*add = cJSON_IsTrue(flag);
		}
		snprintf(key, sizeof(key), "%s_token", s->typ);
		e = i == 0 ? bos_e : i == 1 ? eos_e : cJSON_GetObjectItemCaseSensitive(cfg, key);
		content = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "content") : e;
		if (!slot || !cJSON_IsString(content))
			continue;
		id = added_id(b, content->valuestring);
		if (id >= 0 && *slot < 0)
			*slot = id;
	}
	mml = cJSON_GetObjectItemCaseSensitive(cfg, "model_max_length");
	if (cJSON_IsNumber(mml) && mml->valuedouble >= 1 && mml->valuedouble <= 9007199254740992.0 &&
	    mml->valuedouble == (double)(uint64_t)mml->valuedouble)
		b->v.model_max_length = (uint64_t)mml->valuedouble;
out:
	cJSON_Delete(cfg);
	free(path);
	return rc;
}

/* config.json bos/eos/pad_token_id, where still unset */
static int apply_hparams(struct tk_build *b, const struct qk_hparams *hp, const char *dir)
{
	const struct { const char *key; int64_t id; int64_t *slot; int idx; } ids[] = {
		{ "bos_token_id", hp->bos_token_id, &b->v.bos, 0 },
		{ "eos_token_id", hp->eos_token_id, &b->v.eos, 1 },
		{ "pad_token_id", hp->pad_token_id, &b->v.pad, 4 },
	};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		if (ids[i].id < 0 || *ids[i].slot >= 0)
			continue;
		if (ids[i].id >= (int64_t)b->v.n_tokens)
			return qk_err_set(b->err, QK_E_INVALID,
					  "%s/config.json: %s %lld is not a token: vocab_size is %u",
					  dir, ids[i].key, (long long)ids[i].id,
					  (unsigned)b->v.n_tokens);
		*ids[i].slot = ids[i].id;
		b->v.id_group[ids[i].idx] = 1;
	}
	return QK_OK;
}

/* Qwen1: no ids found -> bos = eos = <|endoftext|>; unk always defaults to it */
static int qwen1_defaults(struct tk_build *b)
{
	struct tk_vocab *v = &b->v;
	bool none = v->bos < 0 && v->eos < 0 && v->unk < 0 && v->sep < 0 && v->pad < 0 &&
		    v->mask < 0;

	if ((none || v->unk < 0) && b->endoftext >= (int64_t)v->n_tokens)
		return qk_err_set(b->err, QK_E_INVALID,
				  "%s: <|endoftext|> would be id %lld, beyond vocab_size %u",
				  b->fname, (long long)b->endoftext, (unsigned)v->n_tokens);
	if (none) {
		v->bos = v->eos = b->endoftext;
		v->id_group[0] = v->id_group[1] = 2;
	}
	if (v->unk < 0) {
		v->unk = b->endoftext;
		v->id_group[2] = 2;
	}
	return QK_OK;
}

static int read_tokenizer(struct tk_build *b, const char *dir, int arch, uint32_t vocab_size,
			  char **fname)
{
	char *tj = qk_path_join(dir, "tokenizer.json"), *tt = qk_path_join(dir, "qwen.tiktoken");
	char *text = NULL;
	size_t len = 0;
	int rc;

	*fname = NULL;
	if (!tj || !tt) {
		rc = qk_err_set(b->err, QK_E_NOMEM, "%s: out of memory", dir);
	} else if (is_file(tj)) {
		*fname = tj;
		tj = NULL;
		b->fname = *fname;
		rc = qk_read_file(b->fname, QK_JSON_MAX_BYTES, &text, &len, b->err);
		if (!rc)
			rc = tk_json_build(b, text, len, arch, vocab_size);
	} else if (arch == QK_ARCH_QWEN && is_file(tt)) {
		*fname = tt;
		tt = NULL;
		b->fname = *fname;
		rc = qk_read_file(b->fname, TK_TIKTOKEN_MAX_BYTES, &text, &len, b->err);
		if (!rc)
			rc = tk_tiktoken_build(b, text, len, vocab_size);
	} else {
		rc = qk_err_set(b->err, QK_E_INVALID, "%s: no tokenizer.json%s", dir,
				arch == QK_ARCH_QWEN ? " or qwen.tiktoken" : "");
	}
	free(text);
	free(tj);
	free(tt);
	return rc;
}

int tk_load_hf_build(struct tk_build *b, const char *dir, int arch, uint32_t vocab_size,
		     const struct qk_hparams *hp, qk_err *err)
{
	char *fname = NULL;
	int rc;

	memset(b, 0, sizeof(*b));
	b->err = err;
	b->endoftext = -1;
	if (!dir || arch < 0 || arch >= QK_ARCH_COUNT)
		return qk_err_set(err, QK_E_USAGE, "tk_load_hf: no directory or a bad arch %d",
				  arch);
	tk_vocab_init(&b->v);
	rc = read_tokenizer(b, dir, arch, vocab_size, &fname);
	if (!rc)
		rc = apply_tokenizer_config(b, dir);
	if (!rc && hp)
		rc = apply_hparams(b, hp, dir);
	if (!rc && b->qwen1)
		rc = qwen1_defaults(b);
	free(fname);
	b->fname = NULL;
	if (rc) {
		tk_build_free(b);
		tk_free(&b->v);
	}
	return rc;
}

int tk_load_hf(struct tk_vocab *v, const char *dir, int arch, uint32_t vocab_size,
	       const struct qk_hparams *hp, qk_err *err)
{
	struct tk_build b;
	int rc;

	memset(v, 0, sizeof(*v));
	rc = tk_load_hf_build(&b, dir, arch, vocab_size, hp, err);
	if (rc)
		return rc;
	tk_build_free(&b);
	*v = b.v;
	return QK_OK;
}

int tk_parse_tokenizer_json(struct tk_vocab *v, const char *json, size_t len,
			    const char *fname, int arch, uint32_t vocab_size, qk_err *err)
{
	struct tk_build b = { .err = err, .fname = fname ? fname : "tokenizer.json",
			      .endoftext = -1 };
	int rc;

	memset(v, 0, sizeof(*v));
	if (arch < 0 || arch >= QK_ARCH_COUNT)
		return qk_err_set(err, QK_E_USAGE, "tk_parse_tokenizer_json: bad arch %d", arch);
	tk_vocab_init(&b.v);
	rc = tk_json_build(&b, json, len, arch, vocab_size);
	tk_build_free(&b);
	if (rc) {
		tk_free(&b.v);
		return rc;
	}
	*v = b.v;
	return QK_OK;
}

int tk_parse_tiktoken(struct tk_vocab *v, const char *text, size_t len, const char *fname,
		      uint32_t vocab_size, qk_err *err)
{
	struct tk_build b = { .err = err, .fname = fname ? fname : "qwen.tiktoken",
			      .endoftext = -1 };
	int rc;

	memset(v, 0, sizeof(*v));
	tk_vocab_init(&b.v);
	rc = tk_tiktoken_build(&b, text, len, vocab_size);
	tk_build_free(&b);
	if (rc) {
		tk_free(&b.v);
		return rc;
	}
	*v = b.v;
	return QK_OK;
}
