/* test_tok_dir.c - tokenizer directories and GGUF keys (formats/tokenizer/tokenizer.h):
 * tokenizer_config.json, chat templates and config.json ids as gguf-py's
 * SpecialVocab reads them, Qwen1's default ids, the tk_from_gguf rules, and
 * the corrupt corpus cases of testdata/corrupt/tok_cases.c through
 * tk_load_hf (tests/cli/corrupt.sh runs them through qwen-convert).
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
#include <unistd.h>

#include "testdir.h"
#include "../../formats/container/gguf.h"
#include "../../formats/model/hparams.h"
#include "../../formats/base/io.h"
#include "../../formats/tokenizer/tokenizer.h"
#include "../../testdata/corrupt/corrupt.h"

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

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* ---- the corrupt corpus, through tk_load_hf ----
 * tok_cases.c is compiled in here (its writers come from cc_util.c), so the
 * messages are checked without the CLI (tests/cli/corrupt.sh runs the same
 * cases through qwen-convert). */
#include "../../testdata/corrupt/tok_cases.c"

/* ---- a model directory: tokenizer_config.json, templates, config ids ---- */

static void mkfile(const char *d, const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", d, name);
	spit(p, text);
}

/* DIR/name with the corpus' valid tokenizer.json (tok_cases.c: 12 regular
 * tokens, <|endoftext|> 12 special, <think> 13 not), with or without its
 * ByteLevel post-processor */
static char *new_dir(const char *name, bool post)
{
	static char p[128];
	cJSON *r = cJSON_Parse(GOOD_JSON);
	char *text;

	assert_non_null(r);
	if (!post)
		cJSON_DeleteItemFromObject(r, "post_processor");
	text = cJSON_PrintUnformatted(r);
	snprintf(p, sizeof(p), "%s/%s", tdir, name);
	assert_int_equal(mkdir(p, 0755), 0);
	mkfile(p, "tokenizer.json", text);
	free(text);
	cJSON_Delete(r);
	return p;
}

static int load_dir(const char *d, const struct qk_hparams *hp, struct tk_vocab *v, qk_err *e)
{
	qk_err_clear(e);
	return tk_load_hf(v, d, QK_ARCH_QWEN2, 16, hp, e);
}

static void test_dir_rules(void **state)
{
	struct qk_hparams hp;
	struct tk_vocab v;
	qk_err e;
	char *d, p[256];

	(void)state;
	memset(&hp, 0, sizeof(hp));
	hp.bos_token_id = hp.eos_token_id = hp.pad_token_id = -1;

	/* no tokenizer_config.json: no template even with a .jinja; config ids */
	d = new_dir("plain", true);
	mkfile(d, "chat_template.jinja", "ignored");
	hp.bos_token_id = 12;
	hp.eos_token_id = 13;
	assert_int_equal(load_dir(d, &hp, &v, &e), QK_OK);
	assert_null(v.chat_template);
	assert_int_equal(v.bos, 12);
	assert_int_equal(v.eos, 13);
	assert_int_equal(v.add_bos, 0); /* ByteLevel post-processor */
	tk_free(&v);

	/* the config's eos wins over config.json; the .jinja when the key is absent */
	mkfile(d, "tokenizer_config.json", "{\"eos_token\":{\"content\":\"<|endoftext|>\"},"
					   "\"pad_token\":\"<think>\",\"unk_token\":\"abc\","
					   "\"add_bos_token\":true,\"model_max_length\":1e30}");
	assert_int_equal(load_dir(d, &hp, &v, &e), QK_OK);
	assert_string_equal(v.chat_template, "ignored");
	assert_int_equal(v.eos, 12);
	assert_int_equal(v.pad, 13);
	assert_int_equal(v.unk, -1);     /* only added_tokens are looked up */
	assert_int_equal(v.bos, 12);     /* config.json */
	assert_int_equal(v.add_bos, 0);  /* the post-processor wins over the flag */
	assert_int_equal(v.model_max_length, 0);
	tk_free(&v);

	/* "chat_template": null blocks the .jinja; cls_token stands in for bos */
	mkfile(d, "tokenizer_config.json", "{\"chat_template\":null,\"cls_token\":\"<think>\"}");
	hp.bos_token_id = -1;
	assert_int_equal(load_dir(d, &hp, &v, &e), QK_OK);
	assert_null(v.chat_template);
	assert_int_equal(v.bos, 13);
	tk_free(&v);

	/* chat_template.json when there is no .jinja; no post-processor: the flag counts */
	d = new_dir("json_template", false);
	mkfile(d, "tokenizer_config.json", "{\"add_bos_token\":true,\"add_eos_token\":\"yes\"}");
	mkfile(d, "chat_template.json", "{\"chat_template\":\"{{ x }}\"}");
	assert_int_equal(load_dir(d, NULL, &v, &e), QK_OK);
	assert_string_equal(v.chat_template, "{{ x }}");
	assert_int_equal(v.add_bos, 1);
	assert_int_equal(v.add_eos, -1); /* not a bool: ignored, as gguf-py does */
	tk_free(&v);

	/* errors */
	mkfile(d, "tokenizer_config.json", "{\"chat_template\":5}");
	assert_int_equal(load_dir(d, NULL, &v, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "tokenizer_config.json: chat_template: expected a string"));
	mkfile(d, "tokenizer_config.json", "{\"chat_template\":[{\"name\":\"a\",\"template\":\"b\"}]}");
	assert_int_equal(load_dir(d, NULL, &v, &e), QK_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "a list of named templates is not supported"));
	mkfile(d, "tokenizer_config.json", "{}");
	mkfile(d, "chat_template.json", "{\"chat_template\":[]}");
	assert_int_equal(load_dir(d, NULL, &v, &e), QK_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "chat_template.json: chat_template: a list"));
	mkfile(d, "chat_template.json", "{\"chat_template\":");
	assert_int_equal(load_dir(d, NULL, &v, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "chat_template.json: invalid JSON at byte 17 (line 1, column 18): the text ends"));
	mkfile(d, "chat_template.jinja", "\xff");
	assert_int_equal(load_dir(d, NULL, &v, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "chat_template.jinja: not UTF-8 text"));
	mkfile(d, "tokenizer_config.json", "[]");
	assert_int_equal(load_dir(d, NULL, &v, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "tokenizer_config.json: top level is an array, expected a JSON object"));
	assert_int_equal(v.n_tokens, 0);
	mkfile(d, "tokenizer_config.json", "{}");
	snprintf(p, sizeof(p), "%s/chat_template.jinja", d);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/chat_template.json", d);
	assert_int_equal(unlink(p), 0);
	hp.eos_token_id = 16;
	assert_int_equal(load_dir(d, &hp, &v, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "/config.json: eos_token_id 16 is not a token: vocab_size is 16"));
	assert_int_equal(tk_load_hf(&v, tdir, QK_ARCH_QWEN3, 0, NULL, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, ": no tokenizer.json"));
	assert_int_equal(tk_load_hf(&v, tdir, QK_ARCH_QWEN, 0, NULL, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, ": no tokenizer.json or qwen.tiktoken"));
	assert_int_equal(tk_load_hf(&v, tdir, 99, 0, NULL, &e), QK_E_USAGE);
}

/* Qwen1 directory: special ids from config.json win; unk defaults */
static void test_qwen1_ids(void **state)
{
	struct qk_hparams hp;
	struct tk_vocab v;
	char d[128];
	qk_err e;

	(void)state;
	snprintf(d, sizeof(d), "%s/qwen1", tdir);
	assert_int_equal(mkdir(d, 0755), 0);
	mkfile(d, "qwen.tiktoken", "YQ== 0\nYg== 1\nYWI= 2\n");
	memset(&hp, 0, sizeof(hp));
	hp.bos_token_id = hp.pad_token_id = -1;
	hp.eos_token_id = 4; /* <|im_start|> */
	assert_int_equal(tk_load_hf(&v, d, QK_ARCH_QWEN, 8, &hp, &e), QK_OK);
	assert_int_equal(v.eos, 4);
	assert_int_equal(v.bos, -1);  /* ids were found: no <|endoftext|> default */
	assert_int_equal(v.unk, 3);   /* always <|endoftext|> */
	assert_int_equal(v.add_bos, -1);
	assert_string_equal(v.tokens[7], "<|extra_1|>");
	tk_free(&v);
	/* <|endoftext|> beyond vocab_size */
	assert_int_equal(tk_load_hf(&v, d, QK_ARCH_QWEN, 3, NULL, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "<|endoftext|> would be id 3, beyond vocab_size 3"));
}

/* ---- tk_from_gguf rules ---- */

enum gmut { G_OK, G_MODEL, G_PRE, G_NOPRE, G_TYPES_U32, G_TYPES_SHORT, G_TYPE_9, G_BOS_I32,
	    G_BOS_RANGE, G_MERGE_BAD, G_NO_MERGES, G_TOKEN_EMPTY, G_FLAG_U8, G_TEMPLATE_I32 };

static void write_gguf_case(const char *path, enum gmut m)
{
	static const char *const toks[] = { "a", "b", "ab", "<|endoftext|>" };
	static const char *const merges[] = { "a b" };
	static const char *const bad_merges[] = { "a c" };
	static const char *const empty_tok[] = { "a", "", "ab", "x" };
	int32_t types[4] = { 1, 1, 1, 3 };
	uint32_t u32types[4] = { 1, 1, 1, 3 };
	struct gf_writer *w;
	qk_err e;

	if (m == G_TYPE_9)
		types[2] = 9;
	assert_int_equal(gf_writer_open(&w, path, &e), QK_OK);
	gf_writer_add_str(w, "tokenizer.ggml.model", m == G_MODEL ? "llama" : "gpt2", &e);
	if (m != G_NOPRE)
		gf_writer_add_str(w, "tokenizer.ggml.pre", m == G_PRE ? "llama-bpe" : "qwen2", &e);
	gf_writer_add_arr_str(w, "tokenizer.ggml.tokens", m == G_TOKEN_EMPTY ? empty_tok : toks,
			      NULL, 4, &e);
	if (m == G_TYPES_U32)
		gf_writer_add_arr(w, "tokenizer.ggml.token_type", GF_U32, u32types, 4, &e);
	else
		gf_writer_add_arr(w, "tokenizer.ggml.token_type", GF_I32, types,
				  m == G_TYPES_SHORT ? 3 : 4, &e);
	if (m != G_NO_MERGES)
		gf_writer_add_arr_str(w, "tokenizer.ggml.merges",
				      m == G_MERGE_BAD ? bad_merges : merges, NULL, 1, &e);
	if (m == G_BOS_I32)
		gf_writer_add_i32(w, "tokenizer.ggml.bos_token_id", 3, &e);
	else
		gf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", m == G_BOS_RANGE ? 4 : 3, &e);
	if (m == G_FLAG_U8)
		gf_writer_add_u8(w, "tokenizer.ggml.add_bos_token", 0, &e);
	else
		gf_writer_add_bool(w, "tokenizer.ggml.add_bos_token", false, &e);
	if (m == G_TEMPLATE_I32)
		gf_writer_add_i32(w, "tokenizer.chat_template", 1, &e);
	else
		gf_writer_add_str(w, "tokenizer.chat_template", "{{ t }}", &e);
	assert_int_equal(gf_writer_commit(w, &e), QK_OK);
}

static void test_gguf_cases(void **state)
{
	static const struct { enum gmut m; int code; const char *frag; } gcases[] = {
		{ G_OK, QK_OK, NULL },
		{ G_MODEL, QK_E_UNSUPPORTED, "key 'tokenizer.ggml.model' is 'llama', expected gpt2" },
		{ G_PRE, QK_E_UNSUPPORTED, "key 'tokenizer.ggml.pre' is 'llama-bpe', expected qwen2" },
		{ G_NOPRE, QK_E_INVALID, "key 'tokenizer.ggml.pre' is missing" },
		{ G_TYPES_U32, QK_E_INVALID,
		  "key 'tokenizer.ggml.token_type' is an array of u32, expected an array of i32" },
		{ G_TYPES_SHORT, QK_E_INVALID,
		  "key 'tokenizer.ggml.token_type' has 3 entries, but 'tokenizer.ggml.tokens' has 4" },
		{ G_TYPE_9, QK_E_INVALID, "token 2 'ab' has type 9, expected 1..6" },
		{ G_BOS_I32, QK_E_INVALID,
		  "key 'tokenizer.ggml.bos_token_id' has type i32, expected u32" },
		{ G_BOS_RANGE, QK_E_INVALID, "key 'tokenizer.ggml.bos_token_id' is 4, beyond the 4 tokens" },
		{ G_MERGE_BAD, QK_E_INVALID, "merge 0 'a c' is not two tokens separated by a space" },
		{ G_NO_MERGES, QK_E_INVALID, "key 'tokenizer.ggml.merges' is missing" },
		{ G_TOKEN_EMPTY, QK_E_INVALID, "key 'tokenizer.ggml.tokens': token 1 is empty" },
		{ G_FLAG_U8, QK_E_INVALID, "key 'tokenizer.ggml.add_bos_token' has type u8, expected bool" },
		{ G_TEMPLATE_I32, QK_E_INVALID, "key 'tokenizer.chat_template' has type i32, expected string" },
	};
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/g.gguf", tdir);
	for (size_t i = 0; i < sizeof(gcases) / sizeof(gcases[0]); i++) {
		struct gf_file *f;
		struct tk_vocab v;
		qk_err e;
		int rc;

		write_gguf_case(path, gcases[i].m);
		assert_int_equal(gf_open(&f, path, &e), QK_OK);
		qk_err_clear(&e);
		rc = tk_from_gguf(&v, f, &e);
		if (rc != gcases[i].code || (gcases[i].frag && !strstr(e.msg, gcases[i].frag)))
			fail_msg("case %zu: rc %d '%s', expected %d '%s'", i, rc, e.msg,
				 gcases[i].code, gcases[i].frag ? gcases[i].frag : "");
		if (rc == QK_OK) {
			assert_int_equal(v.n_tokens, 4);
			assert_int_equal(v.bos, 3);
			assert_int_equal(v.add_bos, 0);
			assert_int_equal(v.eos, -1);
			assert_string_equal(v.chat_template, "{{ t }}");
		} else {
			assert_null(v.tokens);
		}
		tk_free(&v);
		gf_close(f);
	}
}

static void test_corrupt_cases(void **state)
{
	size_t bad = 0;

	(void)state;
	assert_true(cc_tok_cases.n >= 8);
	for (size_t i = 0; i < cc_tok_cases.n; i++) {
		const struct cc_case *c = &cc_tok_cases.cases[i];
		struct qk_hparams hp;
		struct tk_vocab v;
		char path[256];
		qk_err err;
		int rc;

		snprintf(path, sizeof(path), "%s/%s", tdir, c->name);
		assert_int_equal(c->make(path), 0);
		qk_err_clear(&err);
		rc = qk_hparams_load_config(&hp, path, &err);
		assert_int_equal(rc, QK_OK);
		rc = tk_load_hf(&v, path, hp.arch, hp.n_vocab, &hp, &err);
		if ((rc != QK_E_INVALID && rc != QK_E_UNSUPPORTED) || !strstr(err.msg, c->fragment)) {
			print_error("case %s: rc %d, message '%s', expected '%s'\n", c->name, rc,
				    err.msg, c->fragment);
			bad++;
		}
		tk_free(&v);
	}
	assert_int_equal(bad, 0);
}

/* the valid base of the corpus loads */
static void test_corrupt_base_valid(void **state)
{
	struct qk_hparams hp;
	struct tk_vocab v;
	char path[256];
	qk_err e;

	(void)state;
	snprintf(path, sizeof(path), "%s/tok_base", tdir);
	assert_int_equal(qwen2_dir(path, qwen2_cfg, GOOD_JSON, GOOD_TOKCFG), 0);
	assert_int_equal(qk_hparams_load_config(&hp, path, &e), QK_OK);
	if (tk_load_hf(&v, path, hp.arch, hp.n_vocab, &hp, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(v.n_tokens, 16);
	assert_int_equal(v.n_merges, 7);
	assert_int_equal(v.eos, 12);
	tk_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir_rules),
		cmocka_unit_test(test_qwen1_ids),
		cmocka_unit_test(test_gguf_cases),
		cmocka_unit_test(test_corrupt_cases),
		cmocka_unit_test(test_corrupt_base_valid),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
