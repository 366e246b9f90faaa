/* config_cases.c - corrupt config.json inputs; see corrupt.h.
 *
 * Each case is a model directory: a bad config.json beside a tiny valid
 * model.safetensors, so the failure is the config's. qwen-inspect opens the
 * catalog, then reads DIR/config.json (qk_hparams_load_config).
 */
#include "corrupt.h"

#include <stdio.h>

/* one F32 [2] tensor: 8 bytes of data */
#define ST_HEADER "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"

static int write_case(const char *dir, const char *config)
{
	char path[4096];

	if (cc_mkdir(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	if (cc_write_st(path, ST_HEADER, 8))
		return -1;
	snprintf(path, sizeof(path), "%s/config.json", dir);
	return cc_write_text(path, config);
}

/* a valid Qwen2 config up to the closing brace; cases append one key */
#define Q2 "{\"architectures\": [\"Qwen2ForCausalLM\"], \"vocab_size\": 1000," \
	" \"num_hidden_layers\": 2, \"intermediate_size\": 96, "
#define DIMS "\"hidden_size\": 64, \"num_attention_heads\": 4"

#define CFG(name, json) \
	static int make_##name(const char *p) { return write_case(p, json); }

CFG(cfg_bad_json, Q2 DIMS ",, }")
CFG(cfg_not_object, "[\"Qwen2ForCausalLM\"]")
CFG(cfg_unknown_arch, "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64}")
CFG(cfg_missing_hidden, Q2 "\"num_attention_heads\": 4}")
CFG(cfg_negative_dim, "{\"architectures\": [\"Qwen2ForCausalLM\"], \"vocab_size\": 1000,"
		      " \"num_hidden_layers\": 2, \"intermediate_size\": -4, " DIMS "}")
CFG(cfg_zero_heads, Q2 "\"hidden_size\": 64, \"num_attention_heads\": 0}")
CFG(cfg_fractional_layers, "{\"architectures\": [\"Qwen2ForCausalLM\"], \"vocab_size\": 1000,"
			   " \"num_hidden_layers\": 2.5, \"intermediate_size\": 96, " DIMS "}")
CFG(cfg_huge_vocab, "{\"architectures\": [\"Qwen2ForCausalLM\"], \"vocab_size\": 1e20,"
		    " \"num_hidden_layers\": 2, \"intermediate_size\": 96, " DIMS "}")
CFG(cfg_too_many_layers, "{\"architectures\": [\"Qwen2ForCausalLM\"], \"vocab_size\": 1000,"
			 " \"num_hidden_layers\": 100000, \"intermediate_size\": 96, " DIMS "}")
CFG(cfg_string_dim, Q2 "\"hidden_size\": \"64\", \"num_attention_heads\": 4}")
CFG(cfg_heads_not_dividing, Q2 "\"hidden_size\": 64, \"num_attention_heads\": 6}")
CFG(cfg_kv_not_dividing, Q2 DIMS ", \"num_key_value_heads\": 3}")
CFG(cfg_layer_types_length,
    "{\"architectures\": [\"Qwen3NextForCausalLM\"], \"vocab_size\": 1000,"
    " \"num_hidden_layers\": 4, " DIMS ", \"layer_types\": [\"linear_attention\","
    " \"linear_attention\", \"full_attention\"]}")
CFG(cfg_mlp_only_out_of_range,
    "{\"architectures\": [\"Qwen3MoeForCausalLM\"], \"vocab_size\": 1000,"
    " \"num_hidden_layers\": 4, " DIMS ", \"mlp_only_layers\": [9]}")
CFG(cfg_experts_used_too_many,
    "{\"architectures\": [\"Qwen2MoeForCausalLM\"], \"vocab_size\": 1000,"
    " \"num_hidden_layers\": 4, " DIMS ", \"num_experts\": 8, \"num_experts_per_tok\": 9}")
CFG(cfg_rope_unsupported, Q2 DIMS ", \"rope_scaling\": {\"type\": \"longrope\", \"factor\": 4}}")
CFG(cfg_rope_factor_below_one, Q2 DIMS ", \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 0.25}}")
CFG(cfg_duplicate_key, Q2 DIMS ", \"hidden_size\": 128}")
CFG(cfg_nested_duplicate_key, Q2 DIMS ", \"rope_scaling\": {\"type\": \"yarn\", \"ty\\u0070e\": \"linear\","
    " \"factor\": 4}}")
CFG(cfg_nul_escape, Q2 DIMS ", \"model_type\": \"qwen2\\u0000\"}")
/* 65 nested arrays: one more than json.h's QK_JSON_MAX_DEPTH */
CFG(cfg_too_deep, Q2 DIMS ", \"x\": "
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}")
CFG(cfg_qwen1_kv_channels,
    "{\"architectures\": [\"QWenLMHeadModel\"], \"vocab_size\": 1000, \"num_hidden_layers\": 2,"
    " \"intermediate_size\": 96, " DIMS ", \"kv_channels\": 32, \"seq_length\": 2048}")

#define ROW(name, frag, why) { #name, "", 3, frag, make_##name, why }

static const struct cc_case cases[] = {
	ROW(cfg_bad_json, "config.json: invalid JSON at byte", "config.json must parse as JSON"),
	ROW(cfg_not_object, "config.json: top level is an array, expected a JSON object",
	    "config.json is an object"),
	ROW(cfg_missing_hidden, "config.json: missing required key 'hidden_size'",
	    "hidden_size has no sensible default"),
	ROW(cfg_negative_dim, "'intermediate_size' is -4, expected an integer in 1..4294967295",
	    "dimensions are positive integers"),
	ROW(cfg_zero_heads, "'num_attention_heads' is 0, expected an integer in 1..",
	    "zero heads is meaningless"),
	ROW(cfg_fractional_layers, "'num_hidden_layers' is 2.5, expected an integer in 1..512",
	    "counts are exact integers"),
	ROW(cfg_huge_vocab, "'vocab_size' is 1e+20, expected an integer in 1..4294967295",
	    "dimensions fit uint32"),
	ROW(cfg_too_many_layers, "'num_hidden_layers' is 100000, expected an integer in 1..512",
	    "n_layer <= QK_MAX_LAYERS (llama.cpp's LLAMA_MAX_LAYERS)"),
	ROW(cfg_string_dim, "'hidden_size' is \"64\", expected an integer",
	    "numbers must be JSON numbers"),
	ROW(cfg_heads_not_dividing,
	    "'num_attention_heads' 6 does not divide 'hidden_size' 64 and there is no 'head_dim'",
	    "head_dim = hidden / heads must be exact"),
	ROW(cfg_kv_not_dividing, "'num_key_value_heads' 3 does not divide 'num_attention_heads' 4",
	    "GQA groups must be whole"),
	ROW(cfg_layer_types_length, "'layer_types' has 3 entries, expected one per layer",
	    "Qwen3-Next layer_types has one kind per layer"),
	ROW(cfg_mlp_only_out_of_range, "'mlp_only_layers[0]' is 9, expected an integer in 0..3",
	    "mlp_only_layers holds layer indices"),
	ROW(cfg_experts_used_too_many, "'num_experts_per_tok' 9 is more than 'num_experts' 8",
	    "top-k cannot exceed the expert count"),
	ROW(cfg_rope_unsupported, "'rope_scaling.type' \"longrope\" is not supported",
	    "only default/linear/dynamic/yarn RoPE are implemented"),
	ROW(cfg_rope_factor_below_one, "'rope_scaling.factor' is 0.25, expected a number >= 1",
	    "a RoPE scaling factor below 1 shrinks the context"),
	ROW(cfg_duplicate_key, "key 'hidden_size' appears twice in the top-level object",
	    "JSON readers disagree on which duplicate wins"),
	ROW(cfg_nested_duplicate_key,
	    "key 'type' appears twice in object 'rope_scaling' (JSON keys must be unique)",
	    "one duplicate-key rule for every JSON file (json.h), keys compared unescaped"),
	ROW(cfg_nul_escape, "config.json: escaped NUL (\\u0000) at byte 174",
	    "one \\u0000 rule for every JSON file (json.h)"),
	ROW(cfg_too_deep, "config.json: nesting deeper than the limit of 64 arrays and objects at byte 222",
	    "one depth limit for every JSON file (json.h)"),
	ROW(cfg_qwen1_kv_channels,
	    "'kv_channels' 32 x 'num_attention_heads' 4 = 128, expected 'hidden_size' 64",
	    "Qwen1 splits c_attn by hidden_size, so kv_channels x heads must equal it"),
};

const struct cc_table cc_config_cases = { cases, sizeof(cases) / sizeof(cases[0]) };

/* Not a Qwen model at all: qwen-inspect lists such a checkpoint (exit 0), a
 * tool that writes refuses it. */
static const struct cc_case writer_cases[] = {
	ROW(cfg_unknown_arch, "architecture \"LlamaForCausalLM\" is not supported; supported: "
	    "QWenLMHeadModel", "architectures[0] must be a Qwen class"),
};

const struct cc_table cc_config_writer_cases = { writer_cases,
						 sizeof(writer_cases) / sizeof(writer_cases[0]) };
