/* index_cases.c - corrupt sharded checkpoints: model directories whose
 * model.safetensors.index.json or shards break a rule of formats/container/safetensors_index.h
 * (the "why" column says why each rule exists). Each case is a directory
 * with a tiny qwen2 config.json, the index and two shards. */
#include "corrupt.h"

#include <stdio.h>
#include <string.h>

#define S1 "model-00001-of-00002.safetensors"
#define S2 "model-00002-of-00002.safetensors"
#define E "model.embed_tokens.weight"
#define N "model.norm.weight"
#define L "lm_head.weight"

/* shard 1: embed F32 [16, 8] (512 bytes) and norm F32 [8] (32 bytes) */
#define SH1 "{\"__metadata__\":{\"format\":\"pt\"}," \
	"\"" E "\":{\"dtype\":\"F32\",\"shape\":[16,8],\"data_offsets\":[0,512]}," \
	"\"" N "\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[512,544]}}"
#define SH1_LEN 544
/* shard 2: lm_head F32 [16, 8] */
#define SH2 "{\"" L "\":{\"dtype\":\"F32\",\"shape\":[16,8],\"data_offsets\":[0,512]}}"
#define SH2_LEN 512

#define MAP3(s_e, s_n, s_l) \
	"{\"metadata\":{\"total_size\":1056},\"weight_map\":{" \
	"\"" E "\":\"" s_e "\",\"" N "\":\"" s_n "\",\"" L "\":\"" s_l "\"}}"

static const char config[] =
	"{\"architectures\":[\"Qwen2ForCausalLM\"],\"model_type\":\"qwen2\",\"hidden_size\":8,"
	"\"intermediate_size\":16,\"num_hidden_layers\":1,\"num_attention_heads\":2,"
	"\"num_key_value_heads\":1,\"vocab_size\":16,\"rms_norm_eps\":1e-6}";

/* dir with config.json, index text (NULL: none), shard 1 header (NULL:
 * none) and shard 2 (if with_s2) */
static int make_model(const char *dir, const char *index, const char *sh1, size_t sh1_len,
		      int with_s2)
{
	char p[4096];

	if (cc_mkdir(dir))
		return -1;
	snprintf(p, sizeof(p), "%s/config.json", dir);
	if (cc_write_text(p, config))
		return -1;
	if (index) {
		snprintf(p, sizeof(p), "%s/model.safetensors.index.json", dir);
		if (cc_write_text(p, index))
			return -1;
	}
	if (sh1) {
		snprintf(p, sizeof(p), "%s/" S1, dir);
		if (cc_write_st(p, sh1, sh1_len))
			return -1;
	}
	if (with_s2) {
		snprintf(p, sizeof(p), "%s/" S2, dir);
		if (cc_write_st(p, SH2, SH2_LEN))
			return -1;
	}
	return 0;
}

#define IDX_CASE(fn, index) \
	static int fn(const char *dir) { return make_model(dir, index, SH1, SH1_LEN, 1); }

IDX_CASE(mk_not_json, "{\"weight_map\":{\"" E "\":")
IDX_CASE(mk_no_weight_map, "{\"metadata\":{\"total_size\":1056}}")
IDX_CASE(mk_map_not_object, "{\"weight_map\":[\"" S1 "\",\"" S2 "\"]}")
/* seen on the Hub: weight_map values given as objects */
IDX_CASE(mk_value_object, "{\"weight_map\":{\"" E "\":{\"file\":\"" S1 "\"}}}")
/* mediapipe#6278: names from a file used as paths */
IDX_CASE(mk_traversal, MAP3(S1, S1, "../" S2))
IDX_CASE(mk_absolute, MAP3(S1, S1, "/etc/passwd"))
IDX_CASE(mk_dup_entry, "{\"weight_map\":{\"" E "\":\"" S1 "\",\"" N "\":\"" S1 "\",\"" L "\":\"" S2
	 "\",\"" E "\":\"" S2 "\"}}")
IDX_CASE(mk_unlisted, "{\"weight_map\":{\"" E "\":\"" S1 "\",\"" L "\":\"" S2 "\"}}")
IDX_CASE(mk_wrong_shard, MAP3(S1, S2, S2))
IDX_CASE(mk_listed_missing, "{\"weight_map\":{\"" E "\":\"" S1 "\",\"" N "\":\"" S1 "\",\"" L
	 "\":\"" S2 "\",\"model.layers.0.mlp.up_proj.weight\":\"" S2 "\"}}")

static int mk_missing_shard(const char *dir)
{
	return make_model(dir, MAP3(S1, S1, S2), SH1, SH1_LEN, 0);
}

/* a broken shard: norm's offsets leave a hole */
static int mk_bad_shard(const char *dir)
{
	return make_model(dir, MAP3(S1, S1, S2),
			  "{\"" E "\":{\"dtype\":\"F32\",\"shape\":[16,8],\"data_offsets\":[0,512]},"
			  "\"" N "\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[520,552]}}",
			  552, 1);
}

/* lm_head in both shards (the index lists it in the first) */
static int mk_dup_across(const char *dir)
{
	return make_model(dir,
			  "{\"weight_map\":{\"" E "\":\"" S1 "\",\"" N "\":\"" S1 "\",\"" L "\":\"" S1
			  "\",\"model.extra\":\"" S2 "\"}}",
			  "{\"" E "\":{\"dtype\":\"F32\",\"shape\":[16,8],\"data_offsets\":[0,512]},"
			  "\"" N "\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[512,544]},"
			  "\"" L "\":{\"dtype\":\"F32\",\"shape\":[16,8],\"data_offsets\":[544,1056]}}",
			  1056, 1);
}

/* two shards and no index to say how they fit together */
static int mk_no_index(const char *dir)
{
	return make_model(dir, NULL, SH1, SH1_LEN, 1);
}

#define BAD(name, frag, why) { "index_" #name, "", 3, frag, mk_##name, why }

static const struct cc_case cases[] = {
	BAD(not_json, "model.safetensors.index.json: invalid JSON at byte", "index must be JSON"),
	BAD(no_weight_map, "model.safetensors.index.json: no weight_map", "weight_map required"),
	BAD(map_not_object, "weight_map is an array, expected an object", "weight_map shape"),
	BAD(value_object, "tensor '" E "': weight_map value is an object, expected a shard file name",
	    "broken Hub indexes with object values (reference §2)"),
	BAD(traversal, "tensor '" L "': shard '../" S2 "' is not a plain file name",
	    "no path traversal through shard names (mediapipe#6278)"),
	BAD(absolute, "shard '/etc/passwd' is not a plain file name", "no absolute shard paths"),
	BAD(dup_entry, "key '" E "' appears twice in object 'weight_map'", "duplicate weight_map keys"),
	BAD(missing_shard, "shard '" S2 "' (holding tensor '" L "') does not exist", "shard must exist"),
	BAD(unlisted, "tensor '" N "' in shard '" S1 "' is not listed in weight_map",
	    "every shard tensor listed"),
	BAD(wrong_shard, "tensor '" N "' is in shard '" S1 "' but weight_map puts it in shard '" S2 "'",
	    "weight_map agrees with the shard headers"),
	BAD(listed_missing, "weight_map puts tensor 'model.layers.0.mlp.up_proj.weight' in shard '" S2
	    "', which does not hold it", "every listed tensor exists"),
	BAD(bad_shard, "hole of 8 bytes between tensor '" E "' (ends at 512) and tensor '" N "'",
	    "a shard's own errors come through, named by index and shard"),
	BAD(dup_across, "duplicate tensor name '" L "'", "one tensor in two shards"),
	BAD(no_index, "2 *.safetensors files and no model.safetensors.index.json",
	    "several shards without an index"),
};

const struct cc_table cc_index_cases = { cases, sizeof(cases) / sizeof(cases[0]) };
