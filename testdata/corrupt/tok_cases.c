/* tok_cases.c - model directories whose weights are fine but whose tokenizer
 * files are broken (formats/tokenizer/tokenizer.h); see corrupt.h. Each case is a
 * directory with config.json, a tiny valid model.safetensors and one broken
 * tokenizer file. qwen-inspect does not read tokenizers, so every case runs
 * through qwen-convert (`qwen-convert DIR -o OUT.gguf`, exit 3, no output;
 * gen.c lists this table with that tool).
 *
 * The base tokenizer is a valid byte-level BPE in the shape of Qwen's
 * tokenizer.json: 12 regular tokens, 2 added ones, vocab_size 16.
 */
#include "corrupt.h"

#include <stdio.h>
#include <string.h>

/* ---- the tiny models (Qwen2 and Qwen2-MoE shapes, as in arch_tables.c) ---- */

struct tt {
	const char *name;
	unsigned nd, d[2];
};

/* Qwen2: V 16, H 8, 2 heads x 4 (kv 1 head), FF 16, tied */
static const struct tt qwen2_tensors[] = {
	{ "model.embed_tokens.weight", 2, { 16, 8 } },
	{ "model.norm.weight", 1, { 8 } },
	{ "model.layers.0.input_layernorm.weight", 1, { 8 } },
	{ "model.layers.0.self_attn.q_proj.weight", 2, { 8, 8 } },
	{ "model.layers.0.self_attn.q_proj.bias", 1, { 8 } },
	{ "model.layers.0.self_attn.k_proj.weight", 2, { 4, 8 } },
	{ "model.layers.0.self_attn.k_proj.bias", 1, { 4 } },
	{ "model.layers.0.self_attn.v_proj.weight", 2, { 4, 8 } },
	{ "model.layers.0.self_attn.v_proj.bias", 1, { 4 } },
	{ "model.layers.0.self_attn.o_proj.weight", 2, { 8, 8 } },
	{ "model.layers.0.post_attention_layernorm.weight", 1, { 8 } },
	{ "model.layers.0.mlp.gate_proj.weight", 2, { 16, 8 } },
	{ "model.layers.0.mlp.up_proj.weight", 2, { 16, 8 } },
	{ "model.layers.0.mlp.down_proj.weight", 2, { 8, 16 } },
	{ NULL, 0, { 0 } },
};

/* Qwen1: V 16, H 8, 2 heads x 4, intermediate_size 16 (FF 8), untied */
static const struct tt qwen1_tensors[] = {
	{ "transformer.wte.weight", 2, { 16, 8 } },
	{ "transformer.ln_f.weight", 1, { 8 } },
	{ "lm_head.weight", 2, { 16, 8 } },
	{ "transformer.h.0.ln_1.weight", 1, { 8 } },
	{ "transformer.h.0.attn.c_attn.weight", 2, { 24, 8 } },
	{ "transformer.h.0.attn.c_attn.bias", 1, { 24 } },
	{ "transformer.h.0.attn.c_proj.weight", 2, { 8, 8 } },
	{ "transformer.h.0.ln_2.weight", 1, { 8 } },
	{ "transformer.h.0.mlp.w1.weight", 2, { 8, 8 } },
	{ "transformer.h.0.mlp.w2.weight", 2, { 8, 8 } },
	{ "transformer.h.0.mlp.c_proj.weight", 2, { 8, 8 } },
	{ NULL, 0, { 0 } },
};

#define QWEN2_CFG_HEAD "{\"architectures\":[\"Qwen2ForCausalLM\"],\"vocab_size\":16," \
	"\"hidden_size\":8,\"num_attention_heads\":2,\"num_key_value_heads\":1," \
	"\"rms_norm_eps\":1e-6,\"num_hidden_layers\":1,\"intermediate_size\":16," \
	"\"tie_word_embeddings\":true"
static const char qwen2_cfg[] = QWEN2_CFG_HEAD ",\"bos_token_id\":12,\"eos_token_id\":12}";
static const char qwen1_cfg[] = "{\"architectures\":[\"QWenLMHeadModel\"],\"vocab_size\":16,"
	"\"hidden_size\":8,\"num_attention_heads\":2,\"kv_channels\":4,\"num_hidden_layers\":1,"
	"\"intermediate_size\":16,\"layer_norm_epsilon\":1e-6,\"max_position_embeddings\":64,"
	"\"seq_length\":64,\"use_dynamic_ntk\":false,\"use_logn_attn\":false,"
	"\"tie_word_embeddings\":false}";

static int write_model(const char *dir, const char *config, const struct tt *t)
{
	char hdr[4096], p[4096];
	size_t len = 1, off = 0;

	if (cc_mkdir(dir))
		return -1;
	snprintf(p, sizeof(p), "%s/config.json", dir);
	if (cc_write_text(p, config))
		return -1;
	hdr[0] = '{';
	for (size_t i = 0; t[i].name && len < sizeof(hdr); i++) {
		size_t n = 4 * t[i].d[0] * (t[i].nd > 1 ? t[i].d[1] : 1);
		char shape[32];

		if (t[i].nd > 1)
			snprintf(shape, sizeof(shape), "%u,%u", t[i].d[0], t[i].d[1]);
		else
			snprintf(shape, sizeof(shape), "%u", t[i].d[0]);
		len += (size_t)snprintf(hdr + len, sizeof(hdr) - len,
					"%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%s],"
					"\"data_offsets\":[%zu,%zu]}", i ? "," : "", t[i].name, shape,
					off, off + n);
		off += n;
	}
	if (len + 2 >= sizeof(hdr))
		return -1;
	memcpy(hdr + len, "}", 2);
	snprintf(p, sizeof(p), "%s/model.safetensors", dir);
	return cc_write_st(p, hdr, off);
}

/* ---- tokenizer.json pieces ---- */

/* Qwen2's Split regex, JSON-escaped as tokenizer.json holds it */
#define QWEN_RE_JSON "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|" \
	"\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+"
#define BYTELEVEL "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false," \
	"\"use_regex\":false}"
#define PRE(re) "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":" \
	"{\"Regex\":\"" re "\"},\"behavior\":\"Isolated\",\"invert\":false}," BYTELEVEL "]}"
#define VOCAB "{\"a\":0,\"b\":1,\"c\":2,\"d\":3,\"\xc4\xa0\":4,\"ab\":5,\"abc\":6,\"cd\":7," \
	"\"\xc4\xa0" "a\":8,\"\xc4\xa0" "ab\":9,\"\xc4\xa0" "abc\":10,\"dd\":11}"
#define MERGES "[[\"a\",\"b\"],[\"ab\",\"c\"],[\"c\",\"d\"],[\"\xc4\xa0\",\"a\"]," \
	"[\"\xc4\xa0" "a\",\"b\"],[\"\xc4\xa0" "ab\",\"c\"],[\"d\",\"d\"]]"
#define ADDED "[{\"id\":12,\"content\":\"<|endoftext|>\",\"special\":true,\"normalized\":false}," \
	"{\"id\":13,\"content\":\"<think>\",\"special\":false,\"normalized\":false}]"

/* a tokenizer.json from its parts */
#define TOKJSON(type, vocab, merges, added, pre)                                    \
	"{\"version\":\"1.0\",\"added_tokens\":" added ",\"normalizer\":{\"type\":\"NFC\"}," \
	"\"pre_tokenizer\":" pre ",\"post_processor\":" BYTELEVEL ",\"decoder\":" BYTELEVEL \
	",\"model\":{\"type\":\"" type "\",\"dropout\":null,\"unk_token\":null,"     \
	"\"continuing_subword_prefix\":\"\",\"end_of_word_suffix\":\"\",\"fuse_unk\":false," \
	"\"byte_fallback\":false,\"ignore_merges\":false,\"vocab\":" vocab ",\"merges\":" \
	merges "}}"

#define GOOD_JSON TOKJSON("BPE", VOCAB, MERGES, ADDED, PRE(QWEN_RE_JSON))
#define GOOD_TOKCFG "{\"bos_token\":null,\"eos_token\":\"<|endoftext|>\",\"chat_template\":" \
	"\"{{ messages }}\",\"tokenizer_class\":\"Qwen2Tokenizer\"}"

/* DIR: the qwen2 model plus tokenizer.json = json (NULL: none) and
 * tokenizer_config.json = tokcfg (NULL: none) */
static int qwen2_dir(const char *dir, const char *config, const char *json, const char *tokcfg)
{
	char p[4096];

	if (write_model(dir, config, qwen2_tensors))
		return -1;
	snprintf(p, sizeof(p), "%s/tokenizer.json", dir);
	if (json && cc_write_text(p, json))
		return -1;
	snprintf(p, sizeof(p), "%s/tokenizer_config.json", dir);
	return tokcfg ? cc_write_text(p, tokcfg) : 0;
}

/* DIR: the qwen1 model plus qwen.tiktoken = text */
static int qwen1_dir(const char *dir, const char *text)
{
	char p[4096];

	if (write_model(dir, qwen1_cfg, qwen1_tensors))
		return -1;
	snprintf(p, sizeof(p), "%s/qwen.tiktoken", dir);
	return cc_write_text(p, text);
}

/* ---- the cases ---- */

static int mk_missing(const char *p)
{
	return qwen2_dir(p, qwen2_cfg, NULL, GOOD_TOKCFG);
}

static int mk_bad_json(const char *p)
{
	/* cut short inside model.vocab */
	return qwen2_dir(p, qwen2_cfg, "{\"model\":{\"type\":\"BPE\",\n\"vocab\":{\"a\":0,", NULL);
}

static int mk_not_bpe(const char *p)
{
	return qwen2_dir(p, qwen2_cfg, TOKJSON("Unigram", VOCAB, MERGES, ADDED, PRE(QWEN_RE_JSON)),
			 GOOD_TOKCFG);
}

static int mk_vocab_hole(const char *p)
{
	/* "dd" at 14 instead of 11: 12 tokens must have ids 0..11 */
	return qwen2_dir(p, qwen2_cfg,
			 TOKJSON("BPE", "{\"a\":0,\"b\":1,\"c\":2,\"d\":3,\"\xc4\xa0\":4,\"ab\":5,"
				 "\"abc\":6,\"cd\":7,\"\xc4\xa0" "a\":8,\"\xc4\xa0" "ab\":9,"
				 "\"\xc4\xa0" "abc\":10,\"dd\":14}", MERGES, ADDED,
				 PRE(QWEN_RE_JSON)), GOOD_TOKCFG);
}

static int mk_merge_unknown(const char *p)
{
	return qwen2_dir(p, qwen2_cfg,
			 TOKJSON("BPE", VOCAB, "[[\"a\",\"b\"],[\"ab\",\"x\"]]", ADDED,
				 PRE(QWEN_RE_JSON)), GOOD_TOKCFG);
}

static int mk_merge_form(const char *p)
{
	return qwen2_dir(p, qwen2_cfg,
			 TOKJSON("BPE", VOCAB, "[[\"a\",\"b\"],7]", ADDED, PRE(QWEN_RE_JSON)),
			 GOOD_TOKCFG);
}

static int mk_added_id(const char *p)
{
	/* <think> written as 15; tokenizers gives it 13 */
	return qwen2_dir(p, qwen2_cfg,
			 TOKJSON("BPE", VOCAB, MERGES,
				 "[{\"id\":12,\"content\":\"<|endoftext|>\",\"special\":true},"
				 "{\"id\":15,\"content\":\"<think>\",\"special\":false}]",
				 PRE(QWEN_RE_JSON)), GOOD_TOKCFG);
}

static int mk_regex(const char *p)
{
	/* GPT-2's pattern */
	return qwen2_dir(p, qwen2_cfg,
			 TOKJSON("BPE", VOCAB, MERGES, ADDED,
				 PRE("'s|'t|'re|'ve|'m|'ll|'d| ?\\\\p{L}+| ?\\\\p{N}+| "
				     "?[^\\\\s\\\\p{L}\\\\p{N}]+|\\\\s+(?!\\\\S)|\\\\s+")),
			 GOOD_TOKCFG);
}

static int mk_too_big(const char *p)
{
	/* 17 tokens for vocab_size 16 */
	return qwen2_dir(p, qwen2_cfg,
			 TOKJSON("BPE", VOCAB, MERGES,
				 "[{\"id\":12,\"content\":\"<|endoftext|>\",\"special\":true},"
				 "{\"id\":13,\"content\":\"<|im_start|>\",\"special\":true},"
				 "{\"id\":14,\"content\":\"<|im_end|>\",\"special\":true},"
				 "{\"id\":15,\"content\":\"<think>\",\"special\":false},"
				 "{\"id\":16,\"content\":\"</think>\",\"special\":false}]",
				 PRE(QWEN_RE_JSON)), GOOD_TOKCFG);
}

static int mk_template_list(const char *p)
{
	return qwen2_dir(p, qwen2_cfg, GOOD_JSON,
			 "{\"eos_token\":\"<|endoftext|>\",\"chat_template\":[{\"name\":\"default\","
			 "\"template\":\"x\"},{\"name\":\"tool_use\",\"template\":\"y\"}]}");
}

static int mk_config_bos(const char *p)
{
	return qwen2_dir(p, QWEN2_CFG_HEAD ",\"bos_token_id\":99}", GOOD_JSON,
			 "{\"eos_token\":\"<|endoftext|>\"}");
}

static int mk_nul_escape(const char *p)
{
	return qwen2_dir(p, qwen2_cfg,
			 TOKJSON("BPE", VOCAB, MERGES,
				 "[{\"id\":12,\"content\":\"<|end\\u0000|>\",\"special\":true}]",
				 PRE(QWEN_RE_JSON)), GOOD_TOKCFG);
}

/* an added token with "special" twice (Python's json keeps the last, cJSON's
 * lookup the first) */
static int mk_dup_key(const char *p)
{
	return qwen2_dir(p, qwen2_cfg,
			 TOKJSON("BPE", VOCAB, MERGES,
				 "[{\"id\":12,\"content\":\"<|endoftext|>\",\"special\":true,"
				 "\"special\":false}]",
				 PRE(QWEN_RE_JSON)), GOOD_TOKCFG);
}

/* tiktoken: "a" "b" "c" "d" then "abc" with neither "ab" nor "bc" below it */
static int mk_tiktoken_split(const char *p)
{
	return qwen1_dir(p, "YQ== 0\nYg== 1\nYw== 2\nZA== 3\nYWJj 4\n");
}

static int mk_tiktoken_b64(const char *p)
{
	return qwen1_dir(p, "YQ== 0\nYg== 1\nY*== 2\n");
}

static int mk_tiktoken_rank(const char *p)
{
	return qwen1_dir(p, "YQ== 0\nYg== 1\nYw== 3\n");
}

#define CASE(n, frag, why) { "tok_" #n, "", 3, frag, mk_##n, why }

static const struct cc_case cases[] = {
	CASE(missing, "no tokenizer.json", "a model directory needs its tokenizer"),
	CASE(bad_json, "tokenizer.json: invalid JSON at byte 39 (line 2, column 16)",
	     "syntax errors name the byte, line and column"),
	CASE(not_bpe, "model.type 'Unigram': expected BPE", "Qwen tokenizers are BPE"),
	CASE(vocab_hole, "model.vocab['dd']: id is not an integer in 0..11",
	     "ids 0..N-1 without holes (tokenizers would renumber the added tokens)"),
	CASE(merge_unknown, "model.merges[1]: 'x' is not a token of model.vocab",
	     "merge parts must be tokens (tokenizers refuses the file)"),
	CASE(merge_form, "model.merges[1]: expected a pair of strings like model.merges[0]",
	     "one merges form per file"),
	CASE(added_id, "added_tokens[1] '<think>': id 15, but tokenizers gives it id 13",
	     "added-token ids are what tokenizers assigns"),
	CASE(regex, "unknown pre-tokenizer regex ''s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+",
	     "pre is qwen2 only for Qwen's Split regex"),
	CASE(too_big, "17 tokens (ids 0..16), more than config.json's vocab_size 16",
	     "a tokenizer larger than the embedding"),
	CASE(template_list, "chat_template: a list of named templates is not supported",
	     "only one chat template"),
	CASE(config_bos, "config.json: bos_token_id 99 is not a token: vocab_size is 16",
	     "config ids must be tokens"),
	CASE(nul_escape, "escaped NUL (\\u0000) at byte 58",
	     "cJSON would cut the token at U+0000"),
	CASE(dup_key, "tokenizer.json: key 'special' appears twice in object 'added_tokens[0]'",
	     "one duplicate-key rule for every JSON file (json.h)"),
	CASE(tiktoken_split, "token 'abc' (rank 4, line 5) does not split into two tokens",
	     "Qwen1 merges are rebuilt by rank-limited BPE"),
	CASE(tiktoken_b64, "qwen.tiktoken: line 3: 'Y*==' is not base64 of a token",
	     "tiktoken lines are base64 and a rank"),
	CASE(tiktoken_rank, "line 3: rank 3 is out of range: 3 tokens have ranks 0..2",
	     "tiktoken ranks are 0..n-1"),
};

const struct cc_table cc_tok_cases = { cases, sizeof(cases) / sizeof(cases[0]) };
