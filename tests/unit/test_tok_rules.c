/* test_tok_rules.c - the tokenizer.json and qwen.tiktoken rules of
 * formats/tokenizer/tokenizer.h, case by case: each case is a small valid input with
 * one change, and the code and message the rule names.
 *
 * QK_WRITE_CORPUS=DIR ./test_tok_rules writes the fuzz seeds
 * (tests/fuzz/corpus/tokenizer/).
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

#include "../../formats/model/hparams.h"
#include "../../formats/tokenizer/tokenizer.h"

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}


/* ---- tokenizer.json rules, from a small valid file ---- */

#define QWEN_RE "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| " \
	"?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define LLAMA_RE "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}" \
	"\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

static cJSON *bytelevel(void)
{
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "type", "ByteLevel");
	cJSON_AddFalseToObject(b, "add_prefix_space");
	cJSON_AddFalseToObject(b, "trim_offsets");
	cJSON_AddFalseToObject(b, "use_regex");
	return b;
}

static cJSON *pair(const char *a, const char *b)
{
	const char *s[2] = { a, b };
	return cJSON_CreateStringArray(s, 2);
}

static cJSON *added(int id, const char *content, bool special)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddNumberToObject(a, "id", id);
	cJSON_AddStringToObject(a, "content", content);
	cJSON_AddBoolToObject(a, "special", special);
	cJSON_AddFalseToObject(a, "normalized");
	return a;
}

/* vocab a b c ab abc Ġ Ġa (0..6), merges (a b) (ab c) (Ġ a), added
 * <|endoftext|> 7 special, <think> 8 not special */
static cJSON *base_json(void)
{
	static const char *const toks[] = { "a", "b", "c", "ab", "abc", "\xc4\xa0", "\xc4\xa0" "a" };
	cJSON *root = cJSON_CreateObject(), *model, *vocab, *merges, *add, *pre, *split, *pat,
	      *list;

	cJSON_AddStringToObject(root, "version", "1.0");
	add = cJSON_AddArrayToObject(root, "added_tokens");
	cJSON_AddItemToArray(add, added(7, "<|endoftext|>", true));
	cJSON_AddItemToArray(add, added(8, "<think>", false));
	cJSON_AddItemToObject(cJSON_AddObjectToObject(root, "normalizer"), "type",
			      cJSON_CreateString("NFC"));
	pre = cJSON_AddObjectToObject(root, "pre_tokenizer");
	cJSON_AddStringToObject(pre, "type", "Sequence");
	list = cJSON_AddArrayToObject(pre, "pretokenizers");
	split = cJSON_CreateObject();
	cJSON_AddStringToObject(split, "type", "Split");
	pat = cJSON_AddObjectToObject(split, "pattern");
	cJSON_AddStringToObject(pat, "Regex", QWEN_RE);
	cJSON_AddStringToObject(split, "behavior", "Isolated");
	cJSON_AddFalseToObject(split, "invert");
	cJSON_AddItemToArray(list, split);
	cJSON_AddItemToArray(list, bytelevel());
	cJSON_AddItemToObject(root, "post_processor", bytelevel());
	cJSON_AddItemToObject(root, "decoder", bytelevel());
	model = cJSON_AddObjectToObject(root, "model");
	cJSON_AddStringToObject(model, "type", "BPE");
	cJSON_AddNullToObject(model, "dropout");
	cJSON_AddStringToObject(model, "continuing_subword_prefix", "");
	cJSON_AddFalseToObject(model, "byte_fallback");
	vocab = cJSON_AddObjectToObject(model, "vocab");
	for (int i = 0; i < 7; i++)
		cJSON_AddNumberToObject(vocab, toks[i], i);
	merges = cJSON_AddArrayToObject(model, "merges");
	cJSON_AddItemToArray(merges, pair("a", "b"));
	cJSON_AddItemToArray(merges, pair("ab", "c"));
	cJSON_AddItemToArray(merges, pair("\xc4\xa0", "a"));
	return root;
}

static cJSON *model_of(cJSON *r) { return cJSON_GetObjectItem(r, "model"); }
static cJSON *vocab_of(cJSON *r) { return cJSON_GetObjectItem(model_of(r), "vocab"); }
static cJSON *merges_of(cJSON *r) { return cJSON_GetObjectItem(model_of(r), "merges"); }
static cJSON *added_of(cJSON *r) { return cJSON_GetObjectItem(r, "added_tokens"); }
static cJSON *split_of(cJSON *r)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "pre_tokenizer"),
						      "pretokenizers"), 0);
}
static void set(cJSON *obj, const char *key, cJSON *val)
{
	if (cJSON_GetObjectItem(obj, key))
		cJSON_ReplaceItemInObject(obj, key, val);
	else
		cJSON_AddItemToObject(obj, key, val);
}

static void m_ok(cJSON *r) { (void)r; }
static void m_llama_regex(cJSON *r)
{
	set(cJSON_GetObjectItem(split_of(r), "pattern"), "Regex", cJSON_CreateString(LLAMA_RE));
}
static void m_string_merges(cJSON *r)
{
	cJSON *m = cJSON_CreateArray();
	cJSON_AddItemToArray(m, cJSON_CreateString("a b"));
	cJSON_AddItemToArray(m, cJSON_CreateString("ab c"));
	set(model_of(r), "merges", m);
}
static void m_no_added(cJSON *r) { cJSON_DeleteItemFromObject(r, "added_tokens"); }
static void m_wordpiece(cJSON *r) { set(model_of(r), "type", cJSON_CreateString("WordPiece")); }
static void m_no_model(cJSON *r) { cJSON_DeleteItemFromObject(r, "model"); }
static void m_vocab_array(cJSON *r) { set(model_of(r), "vocab", cJSON_CreateArray()); }
static void m_vocab_empty(cJSON *r) { set(model_of(r), "vocab", cJSON_CreateObject()); }
static void m_vocab_gap(cJSON *r) { set(vocab_of(r), "abc", cJSON_CreateNumber(9)); }
static void m_vocab_frac(cJSON *r) { set(vocab_of(r), "abc", cJSON_CreateNumber(4.5)); }
static void m_vocab_neg(cJSON *r) { set(vocab_of(r), "abc", cJSON_CreateNumber(-1)); }
static void m_vocab_str(cJSON *r) { set(vocab_of(r), "abc", cJSON_CreateString("4")); }
static void m_vocab_dup_id(cJSON *r) { set(vocab_of(r), "abc", cJSON_CreateNumber(3)); }
static void m_vocab_dup_key(cJSON *r)
{
	cJSON_DeleteItemFromObject(vocab_of(r), "abc");
	cJSON_AddItemToObject(vocab_of(r), "ab", cJSON_CreateNumber(4));
}
static void m_vocab_empty_key(cJSON *r)
{
	cJSON_DeleteItemFromObject(vocab_of(r), "abc");
	cJSON_AddItemToObject(vocab_of(r), "", cJSON_CreateNumber(4));
}
static void m_merge_unknown(cJSON *r) { cJSON_ReplaceItemInArray(merges_of(r), 1, pair("ab", "zz")); }
static void m_merge_result(cJSON *r) { cJSON_AddItemToArray(merges_of(r), pair("b", "c")); }
static void m_merge_dup(cJSON *r) { cJSON_AddItemToArray(merges_of(r), pair("a", "b")); }
static void m_merge_mixed(cJSON *r)
{
	cJSON_ReplaceItemInArray(merges_of(r), 2, cJSON_CreateString("\xc4\xa0 a"));
}
static void m_merge_triple(cJSON *r)
{
	const char *s[3] = { "a", "b", "c" };
	cJSON_ReplaceItemInArray(merges_of(r), 1, cJSON_CreateStringArray(s, 3));
}
static void m_merge_number(cJSON *r) { cJSON_ReplaceItemInArray(merges_of(r), 0, cJSON_CreateNumber(1)); }
static void m_merge_two_spaces(cJSON *r)
{
	cJSON *m = cJSON_CreateArray();
	cJSON_AddItemToArray(m, cJSON_CreateString("a b"));
	cJSON_AddItemToArray(m, cJSON_CreateString("a b c"));
	set(model_of(r), "merges", m);
}
static void m_merges_empty(cJSON *r) { set(model_of(r), "merges", cJSON_CreateArray()); }
static void m_merges_missing(cJSON *r) { cJSON_DeleteItemFromObject(model_of(r), "merges"); }
static void m_added_id(cJSON *r) { set(cJSON_GetArrayItem(added_of(r), 1), "id", cJSON_CreateNumber(20)); }
static void m_added_in_vocab(cJSON *r) { cJSON_AddItemToArray(added_of(r), added(4, "abc", false)); }
static void m_added_in_vocab_bad(cJSON *r) { cJSON_AddItemToArray(added_of(r), added(9, "abc", false)); }
static void m_added_dup(cJSON *r) { cJSON_AddItemToArray(added_of(r), added(9, "<think>", true)); }
static void m_added_special(cJSON *r)
{
	set(cJSON_GetArrayItem(added_of(r), 0), "special", cJSON_CreateString("yes"));
}
static void m_added_empty(cJSON *r)
{
	set(cJSON_GetArrayItem(added_of(r), 1), "content", cJSON_CreateString(""));
}
static void m_added_noid(cJSON *r) { cJSON_DeleteItemFromObject(cJSON_GetArrayItem(added_of(r), 1), "id"); }
static void m_regex_gpt2(cJSON *r)
{
	set(cJSON_GetObjectItem(split_of(r), "pattern"), "Regex",
	    cJSON_CreateString("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+"));
}
static void m_regex_qwen35(cJSON *r)
{
	set(cJSON_GetObjectItem(split_of(r), "pattern"), "Regex",
	    cJSON_CreateString("[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}"));
}
static void m_regex_string(cJSON *r)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "String", " ");
	set(split_of(r), "pattern", p);
}
static void m_pre_bytelevel_only(cJSON *r) { set(r, "pre_tokenizer", bytelevel()); }
static void m_pre_prefix_space(cJSON *r)
{
	cJSON *bl = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "pre_tokenizer"),
							   "pretokenizers"), 1);
	set(bl, "add_prefix_space", cJSON_CreateTrue());
}
static void m_split_invert(cJSON *r) { set(split_of(r), "invert", cJSON_CreateTrue()); }
static void m_byte_fallback(cJSON *r) { set(model_of(r), "byte_fallback", cJSON_CreateTrue()); }
static void m_byte_fallback_str(cJSON *r) { set(model_of(r), "byte_fallback", cJSON_CreateString("no")); }
static void m_dropout(cJSON *r) { set(model_of(r), "dropout", cJSON_CreateNumber(0.1)); }
static void m_prefix(cJSON *r) { set(model_of(r), "continuing_subword_prefix", cJSON_CreateString("##")); }
static void m_lowercase(cJSON *r)
{
	set(cJSON_GetObjectItem(r, "normalizer"), "type", cJSON_CreateString("Lowercase"));
}
static void m_template_post(cJSON *r)
{
	set(cJSON_GetObjectItem(r, "post_processor"), "type",
	    cJSON_CreateString("TemplateProcessing"));
}
static void m_top_array(cJSON *r)
{
	cJSON_DeleteItemFromObject(r, "model"); /* replaced below by the array text */
}

static const struct jcase {
	const char *name;
	void (*mutate)(cJSON *r);
	uint32_t vocab_size;
	int code;
	const char *frag;
} jcases[] = {
	{ "valid", m_ok, 0, QK_OK, NULL },
	{ "valid, padded", m_ok, 12, QK_OK, NULL },
	{ "llama.cpp's regex", m_llama_regex, 0, QK_OK, NULL },
	{ "string merges", m_string_merges, 0, QK_OK, NULL },
	{ "no added tokens", m_no_added, 0, QK_OK, NULL },
	{ "added token in vocab", m_added_in_vocab, 0, QK_OK, NULL },
	{ "not BPE", m_wordpiece, 0, QK_E_UNSUPPORTED, "model.type 'WordPiece': expected BPE" },
	{ "no model", m_no_model, 0, QK_E_INVALID, "model: expected an object" },
	{ "vocab array", m_vocab_array, 0, QK_E_INVALID, "model.vocab: expected an object" },
	{ "vocab empty", m_vocab_empty, 0, QK_E_INVALID, "model.vocab: empty" },
	{ "vocab gap", m_vocab_gap, 0, QK_E_INVALID,
	  "model.vocab['abc']: id is not an integer in 0..6 (the ids of 7 tokens must be 0..6)" },
	{ "vocab fraction", m_vocab_frac, 0, QK_E_INVALID, "model.vocab['abc']: id is not an integer" },
	{ "vocab negative", m_vocab_neg, 0, QK_E_INVALID, "model.vocab['abc']: id is not an integer" },
	{ "vocab string id", m_vocab_str, 0, QK_E_INVALID, "model.vocab['abc']: id is not an integer" },
	{ "vocab duplicate id", m_vocab_dup_id, 0, QK_E_INVALID,
	  "model.vocab: id 3 belongs to both 'ab' and 'abc'" },
	{ "vocab duplicate key", m_vocab_dup_key, 0, QK_E_INVALID,
	  "key 'ab' appears twice in object 'model.vocab'" },
	{ "vocab empty key", m_vocab_empty_key, 0, QK_E_INVALID, "model.vocab: an empty token" },
	{ "merge unknown part", m_merge_unknown, 0, QK_E_INVALID,
	  "model.merges[1]: 'zz' is not a token of model.vocab" },
	{ "merge result unknown", m_merge_result, 0, QK_E_INVALID,
	  "model.merges[3]: the merged token 'bc' is not in model.vocab" },
	{ "merge twice", m_merge_dup, 0, QK_E_INVALID, "model.merges[3]: 'a b' repeats model.merges[0]" },
	{ "merges mixed", m_merge_mixed, 0, QK_E_INVALID,
	  "model.merges[2]: expected a pair of strings like model.merges[0]" },
	{ "merge of three", m_merge_triple, 0, QK_E_INVALID,
	  "model.merges[1]: expected a pair of strings" },
	{ "merge number", m_merge_number, 0, QK_E_INVALID,
	  "model.merges[0]: expected a string or a pair of strings" },
	{ "merge two spaces", m_merge_two_spaces, 0, QK_E_INVALID,
	  "model.merges[1]: 'a b c' is not two tokens separated by one space" },
	{ "merges empty", m_merges_empty, 0, QK_E_INVALID, "model.merges: empty" },
	{ "merges missing", m_merges_missing, 0, QK_E_INVALID, "model.merges: expected an array" },
	{ "added id", m_added_id, 0, QK_E_INVALID,
	  "added_tokens[1] '<think>': id 20, but tokenizers gives it id 8 (the next id" },
	{ "added in vocab, other id", m_added_in_vocab_bad, 0, QK_E_INVALID,
	  "added_tokens[2] 'abc': id 9, but tokenizers gives it id 4 (its id in model.vocab)" },
	{ "added twice", m_added_dup, 0, QK_E_INVALID, "added_tokens[2]: '<think>' repeats added_tokens[1]" },
	{ "added special string", m_added_special, 0, QK_E_INVALID,
	  "added_tokens[0] '<|endoftext|>': special: expected true or false" },
	{ "added empty", m_added_empty, 0, QK_E_INVALID,
	  "added_tokens[1].content: expected a non-empty string" },
	{ "added without id", m_added_noid, 0, QK_E_INVALID,
	  "added_tokens[1] '<think>': id is not an integer" },
	{ "GPT-2 regex", m_regex_gpt2, 0, QK_E_UNSUPPORTED,
	  "pre_tokenizer.pretokenizers[0].pattern.Regex: unknown pre-tokenizer regex "
	  "''s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+', expected the qwen2 regex" },
	{ "Qwen3.5 regex", m_regex_qwen35, 0, QK_E_UNSUPPORTED, "(Qwen3.5's)" },
	{ "String pattern", m_regex_string, 0, QK_E_UNSUPPORTED, "pattern: expected a Regex" },
	{ "ByteLevel pre only", m_pre_bytelevel_only, 0, QK_E_UNSUPPORTED,
	  "pre_tokenizer: expected a Sequence of Split and ByteLevel" },
	{ "prefix space", m_pre_prefix_space, 0, QK_E_UNSUPPORTED,
	  "pre_tokenizer.pretokenizers[1]: expected ByteLevel with add_prefix_space false" },
	{ "inverted split", m_split_invert, 0, QK_E_UNSUPPORTED, "expected behavior Isolated" },
	{ "byte fallback", m_byte_fallback, 0, QK_E_UNSUPPORTED,
	  "model.byte_fallback is true, Qwen tokenizers have false" },
	{ "byte fallback string", m_byte_fallback_str, 0, QK_E_INVALID,
	  "model.byte_fallback: expected true or false" },
	{ "dropout", m_dropout, 0, QK_E_UNSUPPORTED, "model.dropout: BPE dropout is not supported" },
	{ "subword prefix", m_prefix, 0, QK_E_UNSUPPORTED, "model.continuing_subword_prefix" },
	{ "lowercase", m_lowercase, 0, QK_E_UNSUPPORTED, "normalizer 'Lowercase': expected null or NFC" },
	{ "template post", m_template_post, 0, QK_E_UNSUPPORTED, "post_processor: only ByteLevel" },
	{ "too big", m_ok, 8, QK_E_INVALID,
	  "9 tokens (ids 0..8), more than config.json's vocab_size 8" },
	{ "vocab_size too big", m_ok, TK_MAX_VOCAB + 1, QK_E_UNSUPPORTED, "vocab_size 4194305" },
	{ "top level", m_top_array, 0, QK_E_INVALID, "top level is an array, expected a JSON object" },
};

static void check_parse(const char *name, const char *text, size_t len, uint32_t vs, int code,
			const char *frag)
{
	struct tk_vocab v;
	qk_err e;
	int rc;

	qk_err_clear(&e);
	rc = tk_parse_tokenizer_json(&v, text, len, "t.json", QK_ARCH_QWEN2, vs, &e);
	if (rc != code || (frag && (!strstr(e.msg, frag) || strncmp(e.msg, "t.json: ", 8))))
		fail_msg("case '%s': rc %d '%s', expected %d '%s'", name, rc, e.msg, code,
			 frag ? frag : "");
	if (rc) {
		assert_int_equal(v.n_tokens, 0); /* zeroed on failure */
		assert_null(v.tokens);
	}
	tk_free(&v);
}

static void test_json_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(jcases) / sizeof(jcases[0]); i++) {
		const struct jcase *c = &jcases[i];
		cJSON *r = base_json();
		char *text;

		c->mutate(r);
		text = cJSON_PrintUnformatted(r);
		if (c->mutate == m_top_array) {
			free(text);
			text = strdup("[1, 2]");
		}
		check_parse(c->name, text, strlen(text), c->vocab_size, c->code, c->frag);
		free(text);
		cJSON_Delete(r);
	}
}

/* the valid base: values, types, padding, U+0120 in list-form merges */
static void test_json_values(void **state)
{
	cJSON *r = base_json();
	char *text;
	struct tk_vocab v;
	qk_err e;

	(void)state;
	/* a list-form merge with a literal space in a part, and its tokens */
	cJSON_AddNumberToObject(vocab_of(r), " ", 7);
	cJSON_AddNumberToObject(vocab_of(r), " b", 8);
	cJSON_AddItemToArray(merges_of(r), pair(" ", "b"));
	set(cJSON_GetArrayItem(added_of(r), 0), "id", cJSON_CreateNumber(9));
	set(cJSON_GetArrayItem(added_of(r), 1), "id", cJSON_CreateNumber(10));
	cJSON_AddItemToArray(added_of(r), added(11, "<|fim_pad|>", false));
	cJSON_AddItemToArray(added_of(r), added(12, "x\xe2\x96\x81y", false));
	text = cJSON_PrintUnformatted(r);
	assert_int_equal(tk_parse_tokenizer_json(&v, text, strlen(text), "t.json", QK_ARCH_QWEN3,
						 16, &e), QK_OK);
	assert_int_equal(v.n_tokens, 16);
	assert_int_equal(v.n_merges, 4);
	assert_string_equal(v.merges[2], "\xc4\xa0 a");
	assert_string_equal(v.merges[3], "\xc4\xa0 b"); /* ' ' -> U+0120, as gguf-py */
	assert_string_equal(v.tokens[8], " b");
	assert_string_equal(v.tokens[9], "<|endoftext|>");
	assert_int_equal(v.types[9], TK_CONTROL);
	assert_int_equal(v.types[10], TK_USER_DEFINED);
	assert_int_equal(v.types[11], TK_CONTROL);       /* looks special */
	assert_string_equal(v.tokens[12], "x y");        /* U+2581 -> ' ' */
	assert_int_equal(v.types[12], TK_USER_DEFINED);
	assert_string_equal(v.tokens[13], "[PAD13]");
	assert_int_equal(v.types[15], TK_UNUSED);
	assert_int_equal(v.bos, -1);
	assert_int_equal(v.add_bos, -1);
	assert_null(v.chat_template);
	tk_free(&v);
	free(text);
	cJSON_Delete(r);
}

static void test_json_text_errors(void **state)
{
	static const char bad_utf8[] = "{\"model\":\"\xff\"}";
	static const char nul[] = "{\"a\":1}\0";
	static const char esc[] = "{\"model\":{\"vocab\":{\"a\\u0000\":0}}}";
	static const char escaped_backslash[] = "{\"x\":\"\\\\u0000\"}";

	(void)state;
	check_parse("empty", "", 0, 0, QK_E_INVALID, "file is empty");
	check_parse("syntax", "{\n\"a\": [1,\n", 11, 0, QK_E_INVALID, "invalid JSON at byte 11 (line 3, column 1): the text ends where a value");
	check_parse("trailing", "{} x", 4, 0, QK_E_INVALID, "unexpected text after the JSON value");
	check_parse("utf8", bad_utf8, sizeof(bad_utf8) - 1, 0, QK_E_INVALID, "not valid UTF-8");
	check_parse("nul", nul, sizeof(nul) - 1, 0, QK_E_INVALID, "control byte 0x00 at byte 7 (line 1, column 8)");
	check_parse("\\u0000", esc, sizeof(esc) - 1, 0, QK_E_INVALID,
		    "escaped NUL (\\u0000) at byte 21 (line 1, column 22)");
	/* "\\u0000" is a backslash and text, not U+0000: passes the scan */
	check_parse("escaped backslash", escaped_backslash, sizeof(escaped_backslash) - 1, 0,
		    QK_E_INVALID, "model: expected an object");
}

/* ---- qwen.tiktoken rules ---- */

static const struct tcase {
	const char *name, *text;
	uint32_t vocab_size;
	int code;
	const char *frag;
} tcases[] = {
	/* a b c ab abc: merges "a b", "ab c" */
	{ "valid", "YQ== 0\nYg== 1\nYw== 2\nYWI= 3\nYWJj 4\n", 0, QK_OK, NULL },
	{ "crlf, blank lines, any order", "Yg== 1\r\n\r\nYQ== 0\r\nYw== 2\nYWJj 4\nYWI= 3", 300,
	  QK_OK, NULL },
	{ "empty", "\n\n", 0, QK_E_INVALID, "qwen.tiktoken: no tokens" },
	{ "one field", "YQ== 0\nYg==\n", 0, QK_E_INVALID, "line 2: expected 'base64 rank'" },
	{ "three fields", "YQ== 0 1\n", 0, QK_E_INVALID, "line 1: expected 'base64 rank'" },
	{ "bad base64", "YQ== 0\nY!== 1\n", 0, QK_E_INVALID, "line 2: 'Y!==' is not base64" },
	{ "short base64", "YQ= 0\n", 0, QK_E_INVALID, "line 1: 'YQ=' is not base64" },
	{ "empty token", "==== 0\n", 0, QK_E_INVALID, "line 1: '====' is not base64" },
	{ "rank sign", "YQ== -0\n", 0, QK_E_INVALID, "line 1: rank '-0' is not a decimal number" },
	{ "rank range", "YQ== 0\nYg== 2\n", 0, QK_E_INVALID,
	  "line 2: rank 2 is out of range: 2 tokens have ranks 0..1" },
	{ "rank twice", "YQ== 0\nYg== 0\n", 0, QK_E_INVALID, "line 2: rank 0 repeats line 1" },
	{ "bytes twice", "YQ== 0\nYQ== 1\n", 0, QK_E_INVALID, "line 2: token 'a' repeats line 1" },
	{ "no split", "YQ== 0\nYg== 1\nYw== 2\nYWJj 3\n", 0, QK_E_INVALID,
	  "token 'abc' (rank 3, line 4) does not split into two tokens of lower rank: "
	  "byte-level BPE leaves 3 parts" },
	{ "rank order", "YQ== 0\nYg== 1\nYw== 2\nYWJj 3\nYWI= 4\n", 0, QK_E_INVALID,
	  "token 'abc' (rank 3, line 4) does not split" },
	{ "part not a token", "YQ== 0\nYWI= 1\n", 0, QK_E_INVALID,
	  "token 'ab' (rank 1) merges from 'b', which is not a token" },
	{ "too many ranks", "YQ== 0\nYg== 1\nYw== 2\n", 2, QK_E_INVALID,
	  "3 tokens (ranks 0..2), more than config.json's vocab_size 2" },
};

static void test_tiktoken_cases(void **state)
{
	struct tk_vocab v;
	qk_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		const struct tcase *c = &tcases[i];
		int rc;

		qk_err_clear(&e);
		rc = tk_parse_tiktoken(&v, c->text, strlen(c->text), "qwen.tiktoken", c->vocab_size,
				       &e);
		if (rc != c->code || (c->frag && !strstr(e.msg, c->frag)))
			fail_msg("case '%s': rc %d '%s', expected %d '%s'", c->name, rc, e.msg,
				 c->code, c->frag ? c->frag : "");
		if (rc == QK_OK) {
			assert_int_equal(v.n_merges, 2);
			assert_string_equal(v.merges[0], "a b");
			assert_string_equal(v.merges[1], "ab c");
			assert_string_equal(v.tokens[5], "<|endoftext|>");
			assert_int_equal(v.types[5], TK_CONTROL);
		}
		if (rc == QK_OK && c->vocab_size == 0) {
			assert_int_equal(v.n_tokens, 5 + 208); /* every special kept */
			assert_string_equal(v.tokens[212], "<|extra_204|>");
		}
		if (rc == QK_OK && c->vocab_size == 300)
			assert_string_equal(v.tokens[299], "[PAD299]");
		tk_free(&v);
	}
	/* bytes through GPT-2's map: space -> U+0120, 0x00 -> U+0100, 0xff stays */
	assert_int_equal(tk_parse_tiktoken(&v, "IA== 0\nAA== 1\n/w== 2\nIP8= 3\n", 28, "t", 0, &e),
			 QK_OK);
	assert_string_equal(v.tokens[0], "\xc4\xa0");
	assert_string_equal(v.tokens[1], "\xc4\x80");
	assert_string_equal(v.tokens[2], "\xc3\xbf");
	assert_string_equal(v.merges[0], "\xc4\xa0 \xc3\xbf");
	tk_free(&v);
}


/* ---- fuzz seeds and the oracle writer ---- */

static void write_corpus(const char *out)
{
	cJSON *r = base_json();
	char p[512], *text = cJSON_Print(r);

	snprintf(p, sizeof(p), "%s/small_list.json", out);
	spit(p, text);
	free(text);
	m_string_merges(r);
	text = cJSON_PrintUnformatted(r);
	snprintf(p, sizeof(p), "%s/small_strings.json", out);
	spit(p, text);
	free(text);
	cJSON_Delete(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_cases),
		cmocka_unit_test(test_json_values),
		cmocka_unit_test(test_json_text_errors),
		cmocka_unit_test(test_tiktoken_cases),
	};
	const char *corpus = getenv("QK_WRITE_CORPUS");

	if (corpus) {
		write_corpus(corpus);
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
