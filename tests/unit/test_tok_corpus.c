/* test_tok_corpus.c - the tokenizer corpus (testdata/tokenizer/corpus/,
 * README.md there): every file encoded by tk_encode must give exactly the
 * ids Hugging Face tokenizers 0.23.3 / tiktoken 0.14.0 gave
 * (expected-*.ids, written by testdata/gen/tok_corpus.py), for the real
 * Qwen3 tokenizer (with and without special-token parsing), the same
 * vocabulary with the Qwen3.5 regex, the small fixtures' BPE and Qwen1's
 * qwen.tiktoken; and decode(encode(x)) == x for every valid UTF-8 file.
 * The GGUF of the fixtures' BPE (testdata/tokenizer/qwen3.gguf) must give
 * the same ids on the files that are already NFC (GGUF cannot say NFC).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../../formats/base/io.h"
#include "../../formats/container/gguf.h"
#include "../../formats/model/hparams.h"
#include "../../formats/tokenizer/tk_encode.h"
#include "../../formats/tokenizer/tok_enc_priv.h" /* tk_pretok_next */

#define CORPUS "testdata/tokenizer/corpus"
#define REAL "testdata/models/qwen3_realvocab"

/* expected ids of one file */
struct want {
	char name[64];
	bool nfc;      /* the text is its own NFC (tokenizers' normalizer) */
	int32_t *id;
	size_t n;
};

static size_t load_expected(const char *tk, struct want **out)
{
	char path[256], *raw = NULL;
	size_t len = 0, n = 0, cap = 0, o;
	uLongf size;
	unsigned char *buf;
	struct want *w = NULL;
	qk_err err = { 0 };

	snprintf(path, sizeof(path), "%s/expected-%s.ids", CORPUS, tk);
	if (qk_read_file(path, 64u << 20, &raw, &len, &err))
		fail_msg("%s", err.msg);
	if (len < 11 || memcmp(raw, "QKIDS1\n", 7) != 0)
		fail_msg("%s: not a QKIDS1 file", path);
	size = (uLongf)((uint8_t)raw[7] | (uint8_t)raw[8] << 8 | (uint8_t)raw[9] << 16 |
			(uint32_t)(uint8_t)raw[10] << 24);
	buf = malloc(size + 1);
	assert_non_null(buf);
	if (uncompress(buf, &size, (const unsigned char *)raw + 11, (uLong)(len - 11)) != Z_OK)
		fail_msg("%s: bad zlib stream", path);
	for (o = 0; o < size;) {
		unsigned nl = buf[o] | buf[o + 1] << 8;
		uint32_t count;
		struct want *x;

		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			w = realloc(w, cap * sizeof(*w));
			assert_non_null(w);
		}
		x = &w[n++];
		assert_true(nl < sizeof(x->name));
		memcpy(x->name, buf + o + 2, nl);
		x->name[nl] = '\0';
		o += 2 + nl;
		x->nfc = buf[o++] & 1;
		memcpy(&count, buf + o, 4);
		o += 4;
		x->n = count;
		x->id = malloc((count + 1) * sizeof(int32_t));
		assert_non_null(x->id);
		for (uint32_t i = 0; i < count; i++) {
			uint32_t v = 0;
			for (int sh = 0;; sh += 7) {
				uint8_t b = buf[o++];
				v |= (uint32_t)(b & 0x7f) << sh;
				if (!(b & 0x80))
					break;
			}
			x->id[i] = (int32_t)v;
		}
	}
	free(buf);
	free(raw);
	*out = w;
	return n;
}

static void free_expected(struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].id);
	free(w);
}

/* encode every file of the expected set and compare; `only_nfc` skips the
 * files that are not NFC (for a GGUF encoder); `strips`: the encoder has
 * lstrip/rstrip tokens, which drop whitespace, so no round trip */
static void check_ex(const struct tk_enc *e, const char *tk, unsigned flags, bool only_nfc,
		     bool strips)
{
	struct want *w;
	size_t n = load_expected(tk, &w), total = 0;

	assert_true(n > 0);
	for (size_t f = 0; f < n; f++) {
		char path[256], *text = NULL, *back = NULL;
		size_t len = 0, blen = 0;
		struct tk_ids ids = { 0 };
		qk_err err = { 0 };

		if (only_nfc && !w[f].nfc)
			continue;
		snprintf(path, sizeof(path), "%s/%s", CORPUS, w[f].name);
		if (qk_read_file(path, 16u << 20, &text, &len, &err) ||
		    tk_encode(e, text, len, flags, &ids, &err))
			fail_msg("%s: %s", path, err.msg);
		for (size_t i = 0; i < ids.n || i < w[f].n; i++) {
			if (i < ids.n && i < w[f].n && ids.id[i] == w[f].id[i])
				continue;
			fail_msg("%s (%s): id %zu is %d, the oracle gives %d (%zu ids against %zu); "
				 "ids before: %d %d %d", w[f].name, tk, i, i < ids.n ? ids.id[i] : -1,
				 i < w[f].n ? w[f].id[i] : -1, ids.n, w[f].n,
				 i > 2 ? w[f].id[i - 3] : -1, i > 1 ? w[f].id[i - 2] : -1,
				 i > 0 ? w[f].id[i - 1] : -1);
		}
		total += ids.n;
		if (tk_decode(e, ids.id, ids.n, &back, &blen, &err))
			fail_msg("%s: %s", path, err.msg);
		if (!strips && qk_utf8_valid(text, len) && (w[f].nfc || !tk_enc_nfc(e)) &&
		    (blen != len || memcmp(back, text, len) != 0))
			fail_msg("%s (%s): decode(encode(text)) is not the text", w[f].name, tk);
		free(back);
		free(text);
		tk_ids_free(&ids);
	}
	print_message("%s: %zu files, %zu ids identical\n", tk, n, total);
	free_expected(w, n);
}

static void check(const struct tk_enc *e, const char *tk, unsigned flags, bool only_nfc)
{
	check_ex(e, tk, flags, only_nfc, false);
}

static struct tk_enc *open_dir(const char *dir, int arch)
{
	struct tk_enc *e = NULL;
	qk_err err = { 0 };

	if (tk_enc_open_hf(&e, dir, arch, 0, NULL, &err))
		fail_msg("%s: %s", dir, err.msg);
	return e;
}

static void real_qwen3(void **state)
{
	struct tk_enc *e = open_dir(REAL, QK_ARCH_QWEN3);

	(void)state;
	check(e, "qwen3", TK_ENC_PARSE_SPECIAL, false);
	check(e, "qwen3_nospecial", 0, false);
	tk_enc_close(e);
}

/* the real vocabulary with the Qwen3.5 regex in its Split */
static void real_qwen35(void **state)
{
	static const char from[] = "\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{N}]+";
	static const char to[] =
		"\\\\p{L}\\\\p{N}]?[\\\\p{L}\\\\p{M}]+|\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{M}\\\\p{N}]+";
	char *json = NULL, *hit, *edited;
	size_t len = 0;
	struct tk_enc *e = NULL;
	qk_err err = { 0 };

	(void)state;
	if (qk_read_file(REAL "/tokenizer.json", 64u << 20, &json, &len, &err))
		fail_msg("%s", err.msg);
	hit = strstr(json, from);
	assert_non_null(hit);
	edited = malloc(len + sizeof(to));
	assert_non_null(edited);
	memcpy(edited, json, (size_t)(hit - json));
	memcpy(edited + (hit - json), to, sizeof(to) - 1);
	strcpy(edited + (hit - json) + sizeof(to) - 1, hit + sizeof(from) - 1);
	if (tk_enc_open_json(&e, edited, strlen(edited), "qwen35 tokenizer.json", &err))
		fail_msg("%s", err.msg);
	assert_string_equal(tk_enc_vocab(e)->pre, "qwen35");
	check(e, "qwen35", TK_ENC_PARSE_SPECIAL, false);
	tk_enc_close(e);
	free(edited);
	free(json);
}

static void fixture_bpe(void **state)
{
	struct tk_enc *e = open_dir("testdata/models/qwen3", QK_ARCH_QWEN3);
	struct gf_file *f = NULL;
	qk_err err = { 0 };

	(void)state;
	check(e, "fixture", TK_ENC_PARSE_SPECIAL, false);
	tk_enc_close(e);
	e = NULL;
	if (gf_open(&f, "testdata/tokenizer/qwen3.gguf", &err) || tk_enc_open_gguf(&e, f, &err))
		fail_msg("%s", err.msg);
	check(e, "fixture", TK_ENC_PARSE_SPECIAL, true);
	tk_enc_close(e);
	gf_close(f);
}

/* the fixtures' BPE with added tokens using every flag (lstrip, rstrip,
 * single_word, normalized, special or not, one a prefix of another) */
static void added_flags(void **state)
{
	char *json = NULL;
	size_t len = 0;
	struct tk_enc *e = NULL;
	qk_err err = { 0 };

	(void)state;
	if (qk_read_file(CORPUS "/flags-tokenizer.json", 16u << 20, &json, &len, &err) ||
	    tk_enc_open_json(&e, json, len, "flags-tokenizer.json", &err))
		fail_msg("%s", err.msg);
	check_ex(e, "flags", TK_ENC_PARSE_SPECIAL, false, true);
	check_ex(e, "flags_nospecial", 0, false, true);
	tk_enc_close(e);
	free(json);
}

static void qwen1_tiktoken(void **state)
{
	struct tk_enc *e = NULL;
	struct qk_hparams hp;
	qk_err err = { 0 };

	(void)state;
	if (qk_hparams_load_config(&hp, "testdata/models/qwen1", &err) ||
	    tk_enc_open_hf(&e, "testdata/models/qwen1", hp.arch, hp.n_vocab, &hp, &err))
		fail_msg("%s", err.msg);
	check(e, "qwen1", TK_ENC_PARSE_SPECIAL, false);
	tk_enc_close(e);
}

/* the pre-tokenizer alone against tokenizers' Split: piece by piece */
static void pretok_split(int kind, const char *tk)
{
	struct want *w;
	size_t n = load_expected(tk, &w), total = 0;

	for (size_t f = 0; f < n; f++) {
		char path[256], *text = NULL;
		size_t len = 0, o = 0, k = 0;
		qk_err err = { 0 };

		snprintf(path, sizeof(path), "%s/%s", CORPUS, w[f].name);
		if (qk_read_file(path, 16u << 20, &text, &len, &err))
			fail_msg("%s", err.msg);
		for (; o < len; k++) {
			size_t l = tk_pretok_next((const uint8_t *)text + o, len - o, kind);
			if (k >= w[f].n || (size_t)w[f].id[k] != l)
				fail_msg("%s (%s): piece %zu at byte %zu is %zu bytes, Oniguruma's %d",
					 w[f].name, tk, k, o, l, k < w[f].n ? w[f].id[k] : -1);
			o += l;
		}
		if (k != w[f].n)
			fail_msg("%s (%s): %zu pieces, Oniguruma has %zu", w[f].name, tk, k, w[f].n);
		total += k;
		free(text);
	}
	print_message("%s: %zu files, %zu pieces identical\n", tk, n, total);
	free_expected(w, n);
}

static void pretok_qwen2(void **state)
{
	(void)state;
	pretok_split(TK_PRE_QWEN2, "pieces-qwen2");
}

static void pretok_qwen35(void **state)
{
	(void)state;
	pretok_split(TK_PRE_QWEN35, "pieces-qwen35");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pretok_qwen2),
		cmocka_unit_test(pretok_qwen35),
		cmocka_unit_test(real_qwen3),
		cmocka_unit_test(real_qwen35),
		cmocka_unit_test(fixture_bpe),
		cmocka_unit_test(added_flags),
		cmocka_unit_test(qwen1_tiktoken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
