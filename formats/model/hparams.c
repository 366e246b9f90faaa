/* hparams.c - architecture name tables; see hparams.h. */
#include "hparams.h"

#include <string.h>

/* One row per arch, indexed by enum qk_arch. Names: llama.cpp's
 * MODEL_ARCH_NAMES (gguf), transformers' class and model_type (hf). */
static const struct {
	const char *gguf;
	const char *hf;
	const char *model_type;
	const char *generation;
} arch_table[QK_ARCH_COUNT] = {
	[QK_ARCH_QWEN] = { "qwen", "QWenLMHeadModel", "qwen", "Qwen1" },
	[QK_ARCH_QWEN2] = { "qwen2", "Qwen2ForCausalLM", "qwen2", "Qwen2" },
	[QK_ARCH_QWEN2MOE] = { "qwen2moe", "Qwen2MoeForCausalLM", "qwen2_moe", "Qwen2-MoE" },
	[QK_ARCH_QWEN3] = { "qwen3", "Qwen3ForCausalLM", "qwen3", "Qwen3" },
	[QK_ARCH_QWEN3MOE] = { "qwen3moe", "Qwen3MoeForCausalLM", "qwen3_moe", "Qwen3-MoE" },
	[QK_ARCH_QWEN3NEXT] = { "qwen3next", "Qwen3NextForCausalLM", "qwen3_next", "Qwen3-Next" },
	[QK_ARCH_QWEN35] = { "qwen35", "Qwen3_5ForConditionalGeneration", "qwen3_5", "Qwen3.5" },
	[QK_ARCH_QWEN35MOE] = { "qwen35moe", "Qwen3_5MoeForConditionalGeneration", "qwen3_5_moe",
				"Qwen3.5-MoE" },
	[QK_ARCH_QWEN2VL] = { "qwen2vl", "Qwen2_5_VLForConditionalGeneration", "qwen2_5_vl",
			      "Qwen2-VL" },
	[QK_ARCH_QWEN3VL] = { "qwen3vl", "Qwen3VLForConditionalGeneration", "qwen3_vl", "Qwen3-VL" },
	[QK_ARCH_QWEN3VLMOE] = { "qwen3vlmoe", "Qwen3VLMoeForConditionalGeneration", "qwen3_vl_moe",
				 "Qwen3-VL-MoE" },
};

/* Other class names llama.cpp's converter maps to the same arch. */
static const struct {
	const char *hf;
	int arch;
} hf_alias[] = {
	{ "Qwen2Model", QK_ARCH_QWEN2 },
	{ "Qwen3Model", QK_ARCH_QWEN3 },
	{ "Qwen3_5ForCausalLM", QK_ARCH_QWEN35 },
	{ "Qwen3_5MoeForCausalLM", QK_ARCH_QWEN35MOE },
	{ "Qwen2VLForConditionalGeneration", QK_ARCH_QWEN2VL },
	{ "Qwen2VLModel", QK_ARCH_QWEN2VL },
};

/* Text-model model_types of the same arch (Qwen3_5ForCausalLM saves its
 * text config flat, with model_type qwen3_5_text). */
static const struct {
	const char *model_type;
	int arch;
} type_alias[] = {
	{ "qwen3_5_text", QK_ARCH_QWEN35 },
	{ "qwen3_5_moe_text", QK_ARCH_QWEN35MOE },
	{ "qwen2_vl", QK_ARCH_QWEN2VL },
	{ "qwen2_vl_text", QK_ARCH_QWEN2VL },
	{ "qwen2_5_vl_text", QK_ARCH_QWEN2VL },
	{ "qwen3_vl_text", QK_ARCH_QWEN3VL },
	{ "qwen3_vl_moe_text", QK_ARCH_QWEN3VLMOE },
};

static const char *const rope_names[] = {
	[QK_ROPE_DEFAULT] = "default",
	[QK_ROPE_LINEAR] = "linear",
	[QK_ROPE_DYNAMIC] = "dynamic",
	[QK_ROPE_YARN] = "yarn",
};

static bool arch_ok(int arch) { return arch >= 0 && arch < QK_ARCH_COUNT; }

const char *qk_arch_gguf_name(int arch) { return arch_ok(arch) ? arch_table[arch].gguf : NULL; }
const char *qk_arch_hf_name(int arch) { return arch_ok(arch) ? arch_table[arch].hf : NULL; }
const char *qk_arch_model_type(int arch)
{
	return arch_ok(arch) ? arch_table[arch].model_type : NULL;
}
const char *qk_arch_generation(int arch)
{
	return arch_ok(arch) ? arch_table[arch].generation : NULL;
}

int qk_arch_from_gguf(const char *s)
{
	for (int a = 0; s && a < QK_ARCH_COUNT; a++)
		if (strcmp(s, arch_table[a].gguf) == 0)
			return a;
	return -1;
}

int qk_arch_from_hf(const char *s)
{
	if (!s)
		return -1;
	for (int a = 0; a < QK_ARCH_COUNT; a++)
		if (strcmp(s, arch_table[a].hf) == 0)
			return a;
	for (size_t i = 0; i < sizeof(hf_alias) / sizeof(hf_alias[0]); i++)
		if (strcmp(s, hf_alias[i].hf) == 0)
			return hf_alias[i].arch;
	return -1;
}

int qk_arch_from_model_type(const char *s)
{
	for (int a = 0; s && a < QK_ARCH_COUNT; a++)
		if (strcmp(s, arch_table[a].model_type) == 0)
			return a;
	for (size_t i = 0; s && i < sizeof(type_alias) / sizeof(type_alias[0]); i++)
		if (strcmp(s, type_alias[i].model_type) == 0)
			return type_alias[i].arch;
	return -1;
}

const char *qk_rope_type_name(int type)
{
	if (type < 0 || type >= (int)(sizeof(rope_names) / sizeof(rope_names[0])))
		return NULL;
	return rope_names[type];
}
