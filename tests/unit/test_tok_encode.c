/* test_tok_encode.c - text to ids (formats/tokenizer/tk_encode.h) against
 * transformers: every fixture's expected.safetensors holds the texts
 * (metadata text.s) and the ids transformers 5.23.0 / tokenizers 0.23.3 gave
 * them (tokens.s); encoding each text from the fixture's tokenizer files and
 * from its vocab-only GGUF (testdata/tokenizer/, llama.cpp's converter) must
 * give those ids, and decoding them must give the text back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/container/catalog.h"
#include "../../formats/container/gguf.h"
#include "../../formats/container/safetensors.h"
#include "../../formats/model/hparams.h"
#include "../../formats/tokenizer/tk_encode.h"

#define MODELS "testdata/models"

static const char *const fixtures[] = {
	"qwen1", "qwen1_5", "qwen1_5_moe", "qwen2", "qwen2_5_yarn", "qwen2_moe",
	"qwen3", "qwen3_moe", "qwen3_next", "qwen3_realvocab",
};

/* sequences per fixture: a plain text and a ChatML conversation; the real
 * vocabulary's fixture keeps its chat-template sequence only (testdata
 * budget; the real tokenizer's plain texts are test_tok_corpus's) */
static int n_sequences(const char *fx)
{
	return strcmp(fx, "qwen3_realvocab") == 0 ? 1 : 2;
}

/* compare encode(text.s) with tokens.s for every sequence; returns the count */
static int check_fixture(const struct tk_enc *e, const char *fx, const char *how)
{
	struct qk_catalog exp;
	qk_err err = { 0 };
	char path[512], name[32];
	int s;

	qk_catalog_init(&exp);
	snprintf(path, sizeof(path), "%s/%s/expected.safetensors", MODELS, fx);
	if (st_open(&exp, path, &err))
		fail_msg("%s: %s", fx, err.msg);
	for (s = 0;; s++) {
		const struct qk_tensor *tok;
		const char *text;
		struct tk_ids ids = { 0 };
		char *back = NULL;
		size_t blen = 0;

		snprintf(name, sizeof(name), "tokens.%d", s);
		if (!(tok = qk_catalog_find(&exp, name)))
			break;
		snprintf(name, sizeof(name), "text.%d", s);
		text = qk_catalog_meta(&exp, 0, name);
		if (!text)
			fail_msg("%s: no %s in the metadata", fx, name);
		if (tk_encode(e, text, strlen(text), TK_ENC_PARSE_SPECIAL, &ids, &err))
			fail_msg("%s (%s): %s", fx, how, err.msg);
		for (size_t i = 0; i < ids.n || i < tok->n_elem; i++) {
			int32_t want = 0;
			if (i < tok->n_elem)
				memcpy(&want, tok->data + 4 * i, 4);
			if (i >= ids.n || i >= tok->n_elem || ids.id[i] != want)
				fail_msg("%s (%s): sequence %d: id %zu is %d, transformers gives %d "
					 "(%zu ids against %llu)", fx, how, s, i,
					 i < ids.n ? ids.id[i] : -1, i < tok->n_elem ? want : -1, ids.n,
					 (unsigned long long)tok->n_elem);
		}
		if (tk_decode(e, ids.id, ids.n, &back, &blen, &err))
			fail_msg("%s: %s", fx, err.msg);
		if (blen != strlen(text) || memcmp(back, text, blen) != 0)
			fail_msg("%s (%s): sequence %d: decode(encode(text)) is not the text", fx, how,
				 s);
		free(back);
		tk_ids_free(&ids);
	}
	qk_catalog_free(&exp);
	return s;
}

static void fixtures_hf(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		struct qk_hparams hp;
		struct tk_enc *e = NULL;
		qk_err err = { 0 };
		char dir[256];

		snprintf(dir, sizeof(dir), "%s/%s", MODELS, fixtures[i]);
		if (qk_hparams_load_config(&hp, dir, &err) ||
		    tk_enc_open_hf(&e, dir, hp.arch, hp.n_vocab, &hp, &err))
			fail_msg("%s: %s", fixtures[i], err.msg);
		assert_int_equal(check_fixture(e, fixtures[i], "tokenizer files"),
				 n_sequences(fixtures[i]));
		tk_enc_close(e);
	}
}

static void fixtures_gguf(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		struct gf_file *f = NULL;
		struct tk_enc *e = NULL;
		qk_err err = { 0 };
		char path[256];
		FILE *probe;

		snprintf(path, sizeof(path), "testdata/tokenizer/%s.gguf", fixtures[i]);
		if (!(probe = fopen(path, "rb")))
			continue; /* qwen3_realvocab has none */
		fclose(probe);
		if (gf_open(&f, path, &err) || tk_enc_open_gguf(&e, f, &err))
			fail_msg("%s: %s", path, err.msg);
		check_fixture(e, fixtures[i], "GGUF");
		tk_enc_close(e);
		gf_close(f);
	}
}

/* bad ids, empty text, a directory without a tokenizer */
static void edges(void **state)
{
	struct tk_enc *e = NULL;
	struct tk_ids ids = { 0 };
	qk_err err = { 0 };
	char *text = NULL;
	size_t len = 0;
	int32_t bad[2] = { 5, 0 };

	(void)state;
	if (tk_enc_open_hf(&e, MODELS "/qwen3", QK_ARCH_QWEN3, 0, NULL, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(tk_encode(e, "", 0, TK_ENC_PARSE_SPECIAL, &ids, &err), QK_OK);
	assert_int_equal(ids.n, 0);
	bad[1] = (int32_t)tk_enc_vocab(e)->n_tokens;
	assert_int_equal(tk_decode(e, bad, 2, &text, &len, &err), QK_E_INVALID);
	assert_null(text);
	assert_non_null(strstr(err.msg, "token id 448 at position 1 is outside the vocabulary"));
	bad[1] = -1;
	assert_int_equal(tk_decode(e, bad, 2, &text, &len, &err), QK_E_INVALID);
	assert_null(tk_enc_token_bytes(e, -1, &len));
	assert_int_equal(len, 0);
	/* a lone surrogate's bytes and a truncated character: one U+FFFD each */
	assert_int_equal(tk_encode(e, "\xed\xa0\x80|\xe4\xb8", 6, 0, &ids, &err), QK_OK);
	assert_int_equal(tk_decode(e, ids.id, ids.n, &text, &len, &err), QK_OK);
	assert_int_equal(len, 13);
	assert_memory_equal(text, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd", 13);
	free(text);
	tk_ids_free(&ids);
	tk_enc_close(e);
	e = NULL;
	assert_int_equal(tk_enc_open_hf(&e, "testdata/corrupt", QK_ARCH_QWEN3, 0, NULL, &err),
			 QK_E_INVALID);
	assert_null(e);
	assert_non_null(strstr(err.msg, "no tokenizer.json"));
	tk_enc_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixtures_hf),
		cmocka_unit_test(fixtures_gguf),
		cmocka_unit_test(edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
