/* test_tokenizer.c - HF tokenizer files / qwen.tiktoken -> GGUF vocabulary
 * and back (formats/tokenizer/tokenizer.h).
 *
 * Where the expected values come from:
 *  - the real Qwen3 tokenizer (testdata/models/qwen3_realvocab, the published
 *    files; provenance in testdata/gen/README.md): read here with cJSON, independently of
 *    the module: every model.vocab entry, every model.merges pair, the
 *    added tokens and their `special` flags, tokenizer_config.json's
 *    eos/pad strings and chat template; types follow llama.cpp's rule
 *    (get_vocab_base: special or "<|...|>" -> CONTROL, else USER_DEFINED);
 *  - testdata/tokenizer/<fixture>.gguf: the vocab-only GGUFs llama.cpp's own
 *    convert_hf_to_gguf.py wrote for the small fixtures
 *    (testdata/gen/tok_oracle.py golden), compared key by key;
 *  - Qwen1: a qwen.tiktoken made here from the Qwen3 regular tokens (GPT-2
 *    byte map and base64 written out below); the merges rebuilt from it must
 *    be the Qwen3 tokenizer.json merges (tok_oracle.py check shows that
 *    llama.cpp's own rebuild gives exactly those);
 * The rules and error cases are in test_tok_rules.c and test_tok_dir.c.
 *
 * QK_TOK_ORACLE_IN=dir1:dir2 QK_TOK_ORACLE_OUT=DIR ./test_tokenizer writes our
 * vocab-only DIR/<name>.gguf and DIR/<name>/tokenizer*.json for each dir
 * (used by tok_oracle.py check) instead of testing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testdir.h"
#include "../../formats/container/gguf.h"
#include "../../formats/model/hparams.h"
#include "../../formats/base/io.h"
#include "../../formats/tokenizer/tokenizer.h"

#define MODELS "testdata/models"
#define GOLDEN "testdata/tokenizer"

static char tdir[64];

static int setup(void **state)
{
	(void)state;
	return td_make(tdir, sizeof(tdir), "tok");
}

static int teardown(void **state)
{
	(void)state;
	return td_remove(tdir);
}

static char *slurp(const char *path, size_t *n)
{
	char *p = NULL;
	qk_err e;

	if (qk_read_file(path, 1u << 30, &p, n, &e))
		fail_msg("cannot read %s: %s", path, e.msg);
	return p;
}

static cJSON *read_json(const char *path)
{
	size_t n;
	char *t = slurp(path, &n);
	cJSON *j = cJSON_ParseWithLength(t, n);

	free(t);
	assert_non_null(j);
	return j;
}

/* load a model directory with its config.json */
static void load(const char *mdir, struct tk_vocab *v, struct qk_hparams *hp)
{
	qk_err e;
	int rc;

	if (qk_hparams_load_config(hp, mdir, &e))
		fail_msg("%s", e.msg);
	qk_err_clear(&e);
	rc = tk_load_hf(v, mdir, hp->arch, hp->n_vocab, hp, &e);
	if (rc)
		fail_msg("%s: %s", mdir, e.msg);
}

static void vocab_equal(const struct tk_vocab *a, const struct tk_vocab *b, bool flags)
{
	assert_int_equal(a->n_tokens, b->n_tokens);
	for (uint32_t i = 0; i < a->n_tokens; i++) {
		if (strcmp(a->tokens[i], b->tokens[i]) || a->types[i] != b->types[i])
			fail_msg("token %u: '%s' %d vs '%s' %d", i, a->tokens[i], a->types[i],
				 b->tokens[i], b->types[i]);
	}
	assert_int_equal(a->n_merges, b->n_merges);
	for (uint32_t i = 0; i < a->n_merges; i++)
		assert_string_equal(a->merges[i], b->merges[i]);
	assert_int_equal(a->bos, b->bos);
	assert_int_equal(a->eos, b->eos);
	assert_int_equal(a->unk, b->unk);
	assert_int_equal(a->sep, b->sep);
	assert_int_equal(a->pad, b->pad);
	assert_int_equal(a->mask, b->mask);
	if (flags) {
		assert_int_equal(a->add_bos, b->add_bos);
		assert_int_equal(a->add_eos, b->add_eos);
		assert_int_equal(a->add_sep, b->add_sep);
	}
	assert_true((a->chat_template == NULL) == (b->chat_template == NULL));
	if (a->chat_template)
		assert_string_equal(a->chat_template, b->chat_template);
	assert_string_equal(a->pre, b->pre);
	assert_string_equal(a->model, b->model);
}

/* ---- the real Qwen3 tokenizer, checked against its own files ---- */

static void test_qwen3_real(void **state)
{
	const char *mdir = MODELS "/qwen3_realvocab";
	cJSON *tj = read_json(MODELS "/qwen3_realvocab/tokenizer.json");
	cJSON *tc = read_json(MODELS "/qwen3_realvocab/tokenizer_config.json");
	const cJSON *vocab = cJSON_GetObjectItem(cJSON_GetObjectItem(tj, "model"), "vocab");
	const cJSON *merges = cJSON_GetObjectItem(cJSON_GetObjectItem(tj, "model"), "merges");
	const cJSON *added = cJSON_GetObjectItem(tj, "added_tokens"), *c;
	struct qk_hparams hp;
	struct tk_vocab v;
	int64_t max_id = -1, eos = -1, pad = -1;
	char buf[512];
	size_t i;

	(void)state;
	load(mdir, &v, &hp);
	assert_int_equal(v.n_tokens, 151936); /* config.json vocab_size */
	cJSON_ArrayForEach(c, vocab) {
		int id = c->valueint;
		assert_string_equal(v.tokens[id], c->string);
		assert_int_equal(v.types[id], TK_NORMAL);
		max_id = id > max_id ? id : max_id;
	}
	i = 0;
	cJSON_ArrayForEach(c, merges) {
		snprintf(buf, sizeof(buf), "%s %s", c->child->valuestring,
			 c->child->next->valuestring);
		assert_string_equal(v.merges[i], buf);
		i++;
	}
	assert_int_equal(v.n_merges, (unsigned)cJSON_GetArraySize(merges));
	assert_int_equal(v.n_merges, 151387);
	cJSON_ArrayForEach(c, added) {
		const char *content = cJSON_GetObjectItem(c, "content")->valuestring;
		int id = cJSON_GetObjectItem(c, "id")->valueint;
		bool special = cJSON_IsTrue(cJSON_GetObjectItem(c, "special"));
		bool bars = strncmp(content, "<|", 2) == 0 &&
			    strcmp(content + strlen(content) - 2, "|>") == 0;

		assert_string_equal(v.tokens[id], content);
		assert_int_equal(v.types[id], special || bars ? TK_CONTROL : TK_USER_DEFINED);
		max_id = id > max_id ? id : max_id;
		if (strcmp(content, cJSON_GetObjectItem(tc, "eos_token")->valuestring) == 0)
			eos = id;
		if (strcmp(content, cJSON_GetObjectItem(tc, "pad_token")->valuestring) == 0)
			pad = id;
	}
	/* the ids and flags the task names, from the file */
	assert_string_equal(v.tokens[151643], "<|endoftext|>");
	assert_string_equal(v.tokens[151644], "<|im_start|>");
	assert_string_equal(v.tokens[151645], "<|im_end|>");
	assert_int_equal(v.types[151644], TK_CONTROL);
	assert_string_equal(v.tokens[151667], "<think>");
	assert_int_equal(v.types[151667], TK_USER_DEFINED);    /* special: false in the file */
	assert_string_equal(v.tokens[151659], "<|fim_prefix|>");
	assert_int_equal(v.types[151659], TK_CONTROL);         /* special: false, looks special */
	/* padding from the first id no token has */
	assert_int_equal(max_id, 151668);
	for (uint32_t k = (uint32_t)max_id + 1; k < v.n_tokens; k++) {
		snprintf(buf, sizeof(buf), "[PAD%u]", k);
		assert_string_equal(v.tokens[k], buf);
		assert_int_equal(v.types[k], TK_UNUSED);
	}
	assert_int_equal(v.eos, eos);             /* tokenizer_config.json eos_token */
	assert_int_equal(v.eos, 151645);
	assert_int_equal(v.pad, pad);
	assert_int_equal(v.pad, 151643);
	assert_int_equal(v.bos, hp.bos_token_id); /* bos_token null -> config.json */
	assert_int_equal(v.bos, 151643);
	assert_int_equal(v.unk, -1);
	assert_int_equal(v.add_bos, 0);
	assert_int_equal(v.add_eos, 0);           /* ByteLevel post-processor */
	assert_string_equal(v.chat_template,
			    cJSON_GetObjectItem(tc, "chat_template")->valuestring);
	assert_int_equal(v.model_max_length, 131072);
	assert_string_equal(v.pre, "qwen2");
	assert_string_equal(v.model, "gpt2");
	tk_free(&v);
	tk_free(&v); /* harmless twice */
	cJSON_Delete(tj);
	cJSON_Delete(tc);
}

/* ---- llama.cpp's own output for the small fixtures ---- */

static void compare_golden(const struct tk_vocab *v, const char *gpath)
{
	static const struct { const char *key; size_t off; } ids[] = {
		{ "tokenizer.ggml.bos_token_id", offsetof(struct tk_vocab, bos) },
		{ "tokenizer.ggml.eos_token_id", offsetof(struct tk_vocab, eos) },
		{ "tokenizer.ggml.unknown_token_id", offsetof(struct tk_vocab, unk) },
		{ "tokenizer.ggml.seperator_token_id", offsetof(struct tk_vocab, sep) },
		{ "tokenizer.ggml.padding_token_id", offsetof(struct tk_vocab, pad) },
		{ "tokenizer.ggml.mask_token_id", offsetof(struct tk_vocab, mask) },
	};
	static const struct { const char *key; size_t off; } flags[] = {
		{ "tokenizer.ggml.add_bos_token", offsetof(struct tk_vocab, add_bos) },
		{ "tokenizer.ggml.add_eos_token", offsetof(struct tk_vocab, add_eos) },
		{ "tokenizer.ggml.add_sep_token", offsetof(struct tk_vocab, add_sep) },
	};
	struct gf_file *f;
	const char *s;
	int64_t ti, yi, mi;
	size_t len;
	qk_err e;
	int n_tok_keys = 0;

	if (gf_open(&f, gpath, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(gf_get_str(f, "tokenizer.ggml.model", &s, &len, &e), QK_OK);
	assert_string_equal(s, v->model);
	assert_int_equal(gf_get_str(f, "tokenizer.ggml.pre", &s, &len, &e), QK_OK);
	assert_string_equal(s, v->pre);
	assert_int_equal(gf_get_arr(f, "tokenizer.ggml.tokens", GF_STRING, &ti, &e), QK_OK);
	assert_int_equal(gf_get_arr(f, "tokenizer.ggml.token_type", GF_I32, &yi, &e), QK_OK);
	assert_int_equal(gf_get_arr(f, "tokenizer.ggml.merges", GF_STRING, &mi, &e), QK_OK);
	assert_int_equal(gf_arr_n(f, ti), v->n_tokens);
	for (uint32_t i = 0; i < v->n_tokens; i++) {
		assert_string_equal(gf_arr_str(f, ti, i, NULL), v->tokens[i]);
		assert_int_equal(gf_arr_int(f, yi, i), v->types[i]);
	}
	assert_int_equal(gf_arr_n(f, mi), v->n_merges);
	for (uint32_t i = 0; i < v->n_merges; i++)
		assert_string_equal(gf_arr_str(f, mi, i, NULL), v->merges[i]);
	for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
		int64_t want = *(const int64_t *)(const void *)((const char *)v + ids[k].off);
		uint32_t got;
		if (gf_find_key(f, ids[k].key) < 0) {
			assert_int_equal(want, -1);
			continue;
		}
		assert_int_equal(gf_get_u32(f, ids[k].key, &got, &e), QK_OK); /* UINT32 */
		assert_int_equal(got, want);
	}
	for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
		int want = *(const int *)(const void *)((const char *)v + flags[k].off);
		bool got;
		if (gf_find_key(f, flags[k].key) < 0) {
			assert_int_equal(want, -1);
			continue;
		}
		assert_int_equal(gf_get_bool(f, flags[k].key, &got, &e), QK_OK);
		assert_int_equal(got, want);
	}
	assert_int_equal(gf_get_str(f, "tokenizer.chat_template", &s, &len, &e), QK_OK);
	assert_string_equal(s, v->chat_template);
	/* no tokenizer key we do not know of */
	for (int64_t k = 0; k < gf_n_kv(f); k++)
		n_tok_keys += strncmp(gf_key(f, k), "tokenizer.", 10) == 0;
	{
		int ours = 6;
		for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++)
			ours += *(const int64_t *)(const void *)((const char *)v + ids[k].off) >= 0;
		for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
			ours += *(const int *)(const void *)((const char *)v + flags[k].off) >= 0;
		assert_int_equal(n_tok_keys, ours);
	}
	gf_close(f);
}

static void write_vocab_gguf(const struct tk_vocab *v, const char *path);

/* the tokenizer.* keys of two GGUF files appear in the same order */
static void same_key_order(const char *ours, const char *theirs)
{
	struct gf_file *a, *b;
	int64_t i = 0, j = 0;
	qk_err e;

	if (gf_open(&a, ours, &e) || gf_open(&b, theirs, &e))
		fail_msg("%s", e.msg);
	for (;;) {
		while (i < gf_n_kv(a) && strncmp(gf_key(a, i), "tokenizer.", 10) != 0)
			i++;
		while (j < gf_n_kv(b) && strncmp(gf_key(b, j), "tokenizer.", 10) != 0)
			j++;
		if (i == gf_n_kv(a) || j == gf_n_kv(b))
			break;
		if (strcmp(gf_key(a, i), gf_key(b, j)) != 0)
			fail_msg("%s: key '%s' where llama.cpp writes '%s'", theirs, gf_key(a, i),
				 gf_key(b, j));
		i++;
		j++;
	}
	assert_true(i == gf_n_kv(a) && j == gf_n_kv(b));
	gf_close(a);
	gf_close(b);
}

static void test_golden_fixtures(void **state)
{
	static const char *const fx[] = { "qwen1", "qwen1_5", "qwen1_5_moe", "qwen2",
					  "qwen2_5_yarn", "qwen2_moe", "qwen3", "qwen3_moe",
					  "qwen3_next" };
	char mdir[128], gpath[128];

	(void)state;
	for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
		struct qk_hparams hp;
		struct tk_vocab v;

		snprintf(mdir, sizeof(mdir), MODELS "/%s", fx[i]);
		snprintf(gpath, sizeof(gpath), GOLDEN "/%s.gguf", fx[i]);
		load(mdir, &v, &hp);
		compare_golden(&v, gpath);
		{
			char tmp[] = "/tmp/qk_tkorder_XXXXXX";
			char path[64];
			assert_non_null(mkdtemp(tmp));
			snprintf(path, sizeof(path), "%s/v.gguf", tmp);
			write_vocab_gguf(&v, path);
			same_key_order(path, gpath);
			unlink(path);
			rmdir(tmp);
		}
		tk_free(&v);
	}
}

/* ---- GGUF round trip ---- */

static void write_vocab_gguf(const struct tk_vocab *v, const char *path)
{
	struct gf_writer *w;
	qk_err e;

	assert_int_equal(gf_writer_open(&w, path, &e), QK_OK);
	assert_int_equal(gf_writer_add_str(w, "general.architecture", "qwen2", &e), QK_OK);
	if (tk_add_to_gguf(v, w, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(gf_writer_commit(w, &e), QK_OK);
}

static void test_gguf_roundtrip(void **state)
{
	static const char *const fx[] = { "qwen3_realvocab", "qwen1", "qwen2" };
	char mdir[128], path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/rt.gguf", tdir);
	for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
		struct qk_hparams hp;
		struct tk_vocab v, back;
		struct gf_file *f;
		qk_err e;

		snprintf(mdir, sizeof(mdir), MODELS "/%s", fx[i]);
		load(mdir, &v, &hp);
		write_vocab_gguf(&v, path);
		assert_int_equal(gf_open(&f, path, &e), QK_OK);
		if (tk_from_gguf(&back, f, &e))
			fail_msg("%s", e.msg);
		gf_close(f);
		vocab_equal(&v, &back, true);
		if (i < 2)      /* the llama.cpp file of a fixture reads back as we load it */
			compare_golden(&back, i ? GOLDEN "/qwen1.gguf" : path);
		tk_free(&back);
		tk_free(&v);
	}
}

/* ---- tk_write_hf round trip ---- */

static void test_write_hf_roundtrip(void **state)
{
	static const struct { const char *fx; int reload_arch; } fx[] = {
		{ "qwen3_realvocab", QK_ARCH_QWEN3 },
		{ "qwen2", QK_ARCH_QWEN2 },
		{ "qwen1", QK_ARCH_QWEN2 }, /* tiktoken in, tokenizer.json out */
	};
	char mdir[128], out[128], path[160];

	(void)state;
	for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
		struct qk_hparams hp;
		struct tk_vocab v, back;
		cJSON *cfg;
		qk_err e;

		snprintf(mdir, sizeof(mdir), MODELS "/%s", fx[i].fx);
		snprintf(out, sizeof(out), "%s/hf_%s", tdir, fx[i].fx);
		assert_int_equal(mkdir(out, 0755), 0);
		load(mdir, &v, &hp);
		if (tk_write_hf(&v, out, &e))
			fail_msg("%s", e.msg);
		/* reload without config.json ids: the files alone carry them */
		if (tk_load_hf(&back, out, fx[i].reload_arch, v.n_tokens, NULL, &e))
			fail_msg("%s", e.msg);
		vocab_equal(&v, &back, false);
		assert_int_equal(back.add_bos, 0);
		assert_int_equal(back.add_eos, 0);
		assert_int_equal(back.model_max_length, v.model_max_length);
		snprintf(path, sizeof(path), "%s/tokenizer_config.json", out);
		cfg = read_json(path);
		assert_string_equal(cJSON_GetObjectItem(cfg, "tokenizer_class")->valuestring,
				    "Qwen2Tokenizer");
		assert_true(cJSON_IsFalse(cJSON_GetObjectItem(cfg, "add_bos_token")));
		assert_string_equal(cJSON_GetObjectItem(cfg, "eos_token")->valuestring,
				    v.tokens[v.eos]);
		cJSON_Delete(cfg);
		tk_free(&back);
		tk_free(&v);
	}
}

/* a [PAD] hole below a real token cannot be written for tokenizers */
static void test_write_hf_hole(void **state)
{
	struct qk_hparams hp;
	struct tk_vocab v;
	char out[128];
	qk_err e;

	(void)state;
	load(MODELS "/qwen2", &v, &hp);
	free(v.tokens[446]);
	v.tokens[446] = strdup("[PAD446]");
	v.types[446] = TK_UNUSED;
	snprintf(out, sizeof(out), "%s/hole", tdir);
	assert_int_equal(mkdir(out, 0755), 0);
	assert_int_equal(tk_write_hf(&v, out, &e), QK_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "id 446 is a [PAD] filler below token 447"));
	snprintf(out, sizeof(out), "%s/hole/tokenizer.json", tdir);
	assert_int_equal(access(out, F_OK), -1); /* nothing written */
	tk_free(&v);
}

/* ---- Qwen1: a qwen.tiktoken made from the Qwen3 regular tokens ---- */

/* GPT-2's byte map, inverted: code point -> byte (written out here from
 * its definition: printable Latin-1 stays, the other bytes get U+0100..) */
static int cp_to_byte(uint32_t cp)
{
	static int inv[512];
	static int ready;

	if (!ready) {
		uint32_t next = 256;
		for (int i = 0; i < 512; i++)
			inv[i] = -1;
		for (unsigned b = 0; b < 256; b++) {
			bool keep = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
			inv[keep ? b : next++] = (int)b;
		}
		ready = 1;
	}
	return cp < 512 ? inv[cp] : -1;
}

static size_t token_bytes(const char *s, uint8_t *out)
{
	size_t n = 0;

	while (*s) {
		uint8_t c = (uint8_t)*s;
		uint32_t cp = c < 0x80 ? c : ((uint32_t)(c & 0x1f) << 6) | ((uint8_t)s[1] & 0x3f);
		int b = cp_to_byte(cp);
		assert_true(b >= 0);
		out[n++] = (uint8_t)b;
		s += c < 0x80 ? 1 : 2;
	}
	return n;
}

static size_t base64(const uint8_t *p, size_t n, char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		out[o++] = al[v >> 18];
		out[o++] = al[(v >> 12) & 63];
		out[o++] = i + 1 < n ? al[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? al[v & 63] : '=';
	}
	return o;
}

static void test_tiktoken_from_qwen3(void **state)
{
	cJSON *tj = read_json(MODELS "/qwen3_realvocab/tokenizer.json");
	const cJSON *model = cJSON_GetObjectItem(tj, "model"), *c;
	const cJSON *vocab = cJSON_GetObjectItem(model, "vocab");
	const cJSON *merges = cJSON_GetObjectItem(model, "merges");
	size_t cap = 8u << 20, len = 0, i = 0;
	char *text = malloc(cap), buf[512];
	uint8_t bytes[256];
	struct tk_vocab v;
	clock_t t0;
	qk_err e;

	(void)state;
	assert_non_null(text);
	cJSON_ArrayForEach(c, vocab) { /* the file lists ids in order */
		size_t n = token_bytes(c->string, bytes);
		assert_int_equal(c->valueint, (int)i);
		len += base64(bytes, n, text + len);
		len += (size_t)sprintf(text + len, " %zu\n", i);
		i++;
	}
	t0 = clock();
	if (tk_parse_tiktoken(&v, text, len, "qwen.tiktoken", 151936, &e))
		fail_msg("%s", e.msg);
	print_message("qwen.tiktoken of %zu ranks: merges rebuilt in %.2f s\n", i,
		      (double)(clock() - t0) / CLOCKS_PER_SEC);
	/* the tokens are the Qwen3 ones, the specials Qwen1's, the merges the file's */
	cJSON_ArrayForEach(c, vocab)
		assert_string_equal(v.tokens[c->valueint], c->string);
	assert_string_equal(v.tokens[151643], "<|endoftext|>");
	assert_string_equal(v.tokens[151645], "<|im_end|>");
	assert_string_equal(v.tokens[151646], "<|extra_0|>");
	assert_string_equal(v.tokens[151850], "<|extra_204|>");
	assert_int_equal(v.types[151850], TK_CONTROL);
	assert_string_equal(v.tokens[151851], "[PAD151851]");
	assert_int_equal(v.types[151851], TK_UNUSED);
	assert_int_equal(v.n_merges, (unsigned)cJSON_GetArraySize(merges));
	i = 0;
	cJSON_ArrayForEach(c, merges) {
		snprintf(buf, sizeof(buf), "%s %s", c->child->valuestring,
			 c->child->next->valuestring);
		if (strcmp(v.merges[i], buf) != 0)
			fail_msg("merge %zu: '%s', the file has '%s'", i, v.merges[i], buf);
		i++;
	}
	tk_free(&v);
	free(text);
	cJSON_Delete(tj);
}


/* ---- the oracle writer (testdata/gen/tok_oracle.py check) ---- */

static int oracle_write(const char *in, const char *out)
{
	char *list = strdup(in), *save = NULL;

	for (char *d = strtok_r(list, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		const char *name = strrchr(d, '/') ? strrchr(d, '/') + 1 : d;
		char path[1024];
		struct qk_hparams hp;
		struct tk_vocab v;
		struct gf_writer *w;
		qk_err e;

		if (qk_hparams_load_config(&hp, d, &e) ||
		    tk_load_hf(&v, d, hp.arch, hp.n_vocab, &hp, &e)) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
		snprintf(path, sizeof(path), "%s/%s.gguf", out, name);
		if (gf_writer_open(&w, path, &e) ||
		    gf_writer_add_str(w, "general.architecture", qk_arch_gguf_name(hp.arch), &e) ||
		    tk_add_to_gguf(&v, w, &e) || gf_writer_commit(w, &e)) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
		snprintf(path, sizeof(path), "%s/%s", out, name);
		mkdir(path, 0755);
		if (tk_write_hf(&v, path, &e)) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
		tk_free(&v);
	}
	free(list);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qwen3_real),
		cmocka_unit_test(test_golden_fixtures),
		cmocka_unit_test(test_gguf_roundtrip),
		cmocka_unit_test(test_write_hf_roundtrip),
		cmocka_unit_test(test_write_hf_hole),
		cmocka_unit_test(test_tiktoken_from_qwen3),
	};
	const char *in = getenv("QK_TOK_ORACLE_IN"), *out = getenv("QK_TOK_ORACLE_OUT");

	if (in && out)
		return oracle_write(in, out);
	return cmocka_run_group_tests(tests, setup, teardown);
}
