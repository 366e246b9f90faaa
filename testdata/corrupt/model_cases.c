/* model_cases.c - model directories whose files are well-formed but do not
 * make the model their config.json describes (formats/model/model.h); see
 * corrupt.h. Each case is a directory with config.json and model.safetensors.
 *
 * Tensor names and shapes follow the transformers modeling files (as
 * formats/model/arch_tables.c does); a case is a valid tiny model with one change.
 */
#include "corrupt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_T 160

struct mt {
	char name[96];
	const char *dtype;       /* "F32", "I32", ... (4 bytes unless noted) */
	int nd;
	unsigned d[4];
};

struct model {
	struct mt t[MAX_T];
	size_t n;
};

static void add(struct model *m, const char *dtype, const char *name, int nd, unsigned d0,
		unsigned d1, unsigned d2)
{
	struct mt *t;

	if (m->n == MAX_T)
		return;
	t = &m->t[m->n++];
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->dtype = dtype;
	t->nd = nd;
	t->d[0] = d0;
	t->d[1] = d1;
	t->d[2] = d2;
}

#define T1(m, name, a) add(m, "F32", name, 1, a, 0, 0)
#define T2(m, name, a, b) add(m, "F32", name, 2, a, b, 0)
#define T3(m, name, a, b, c) add(m, "F32", name, 3, a, b, c)

static void drop(struct model *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->t[i].name, name) == 0) {
			memmove(&m->t[i], &m->t[i + 1], (m->n - i - 1) * sizeof(m->t[0]));
			m->n--;
			return;
		}
	}
}

static struct mt *get(struct model *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->t[i].name, name) == 0)
			return &m->t[i];
	return &m->t[0]; /* a table mistake shows as a wrong case, not a crash */
}

static size_t esize(const char *dtype)
{
	return strcmp(dtype, "BF16") == 0 || strcmp(dtype, "F16") == 0 ? 2
	       : strcmp(dtype, "I8") == 0                                ? 1
									 : 4;
}

/* DIR/config.json and DIR/model.safetensors */
static int write_model(const char *dir, const char *config, const struct model *m)
{
	static char hdr[32768];
	char p[4096];
	size_t len = 0, off = 0;

	if (cc_mkdir(dir))
		return -1;
	snprintf(p, sizeof(p), "%s/config.json", dir);
	if (cc_write_text(p, config))
		return -1;
	len += (size_t)snprintf(hdr + len, sizeof(hdr) - len, "{");
	for (size_t i = 0; i < m->n && len < sizeof(hdr); i++) {
		const struct mt *t = &m->t[i];
		size_t n = esize(t->dtype);
		char shape[64];
		int k = 0;

		for (int d = 0; d < t->nd; d++) {
			n *= t->d[d];
			k += snprintf(shape + k, sizeof(shape) - (size_t)k, "%s%u", d ? "," : "",
				      t->d[d]);
		}
		len += (size_t)snprintf(hdr + len, sizeof(hdr) - len,
					"%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%s],"
					"\"data_offsets\":[%zu,%zu]}", i ? "," : "", t->name,
					t->dtype, shape, off, off + n);
		off += n;
	}
	if (len + 2 >= sizeof(hdr))
		return -1;
	memcpy(hdr + len, "}", 2);
	snprintf(p, sizeof(p), "%s/model.safetensors", dir);
	return cc_write_st(p, hdr, off);
}

/* ---- valid tiny models ---- */

#define CFG_HEAD(arch) "{\"architectures\":[\"" arch "\"],\"vocab_size\":16,\"hidden_size\":8," \
	"\"num_attention_heads\":2,\"num_key_value_heads\":1,\"rms_norm_eps\":1e-6,"

static const char qwen2_cfg[] = CFG_HEAD("Qwen2ForCausalLM")
	"\"num_hidden_layers\":1,\"intermediate_size\":16,\"tie_word_embeddings\":true}";
static const char qwen2_untied_cfg[] = CFG_HEAD("Qwen2ForCausalLM")
	"\"num_hidden_layers\":1,\"intermediate_size\":16,\"tie_word_embeddings\":false}";
static const char qwen3_cfg[] = CFG_HEAD("Qwen3ForCausalLM")
	"\"num_hidden_layers\":1,\"intermediate_size\":16,\"head_dim\":4,"
	"\"tie_word_embeddings\":true}";
static const char qwen2moe_cfg[] = CFG_HEAD("Qwen2MoeForCausalLM")
	"\"num_hidden_layers\":1,\"intermediate_size\":16,\"num_experts\":4,"
	"\"num_experts_per_tok\":2,\"moe_intermediate_size\":4,"
	"\"shared_expert_intermediate_size\":8,\"tie_word_embeddings\":true}";
static const char qwen3moe_cfg[] = CFG_HEAD("Qwen3MoeForCausalLM")
	"\"num_hidden_layers\":1,\"intermediate_size\":16,\"head_dim\":4,\"num_experts\":4,"
	"\"num_experts_per_tok\":2,\"moe_intermediate_size\":4,\"tie_word_embeddings\":true}";
/* layer 0 linear attention, layer 1 full; nk 1, dk 4, nv 2, dv 2, K 2 */
static const char qwen3next_cfg[] = CFG_HEAD("Qwen3NextForCausalLM")
	"\"num_hidden_layers\":2,\"intermediate_size\":16,\"head_dim\":8,"
	"\"full_attention_interval\":2,\"linear_num_key_heads\":1,\"linear_key_head_dim\":4,"
	"\"linear_num_value_heads\":2,\"linear_value_head_dim\":2,\"linear_conv_kernel_dim\":2,"
	"\"num_experts\":2,\"num_experts_per_tok\":1,\"moe_intermediate_size\":4,"
	"\"shared_expert_intermediate_size\":4,\"tie_word_embeddings\":true}";

/* globals + Qwen2-style attention of layer 0 (q [8,8], k/v [4,8], o [8,8]) */
static void attn(struct model *m, bool bias, bool qk_norm)
{
	T2(m, "model.embed_tokens.weight", 16, 8);
	T1(m, "model.norm.weight", 8);
	T1(m, "model.layers.0.input_layernorm.weight", 8);
	T2(m, "model.layers.0.self_attn.q_proj.weight", 8, 8);
	T2(m, "model.layers.0.self_attn.k_proj.weight", 4, 8);
	T2(m, "model.layers.0.self_attn.v_proj.weight", 4, 8);
	T2(m, "model.layers.0.self_attn.o_proj.weight", 8, 8);
	if (bias) {
		T1(m, "model.layers.0.self_attn.q_proj.bias", 8);
		T1(m, "model.layers.0.self_attn.k_proj.bias", 4);
		T1(m, "model.layers.0.self_attn.v_proj.bias", 4);
	}
	if (qk_norm) {
		T1(m, "model.layers.0.self_attn.q_norm.weight", 4);
		T1(m, "model.layers.0.self_attn.k_norm.weight", 4);
	}
	T1(m, "model.layers.0.post_attention_layernorm.weight", 8);
}

static void qwen2(struct model *m)
{
	m->n = 0;
	attn(m, true, false);
	T2(m, "model.layers.0.mlp.gate_proj.weight", 16, 8);
	T2(m, "model.layers.0.mlp.up_proj.weight", 16, 8);
	T2(m, "model.layers.0.mlp.down_proj.weight", 8, 16);
}

/* routed experts of block `blk` (E 4 or 2, Im 4, H 8), per expert */
static void experts(struct model *m, const char *blk, unsigned n_exp)
{
	char name[96];

	snprintf(name, sizeof(name), "%s.mlp.gate.weight", blk);
	T2(m, name, n_exp, 8);
	for (unsigned e = 0; e < n_exp; e++) {
		snprintf(name, sizeof(name), "%s.mlp.experts.%u.gate_proj.weight", blk, e);
		T2(m, name, 4, 8);
		snprintf(name, sizeof(name), "%s.mlp.experts.%u.up_proj.weight", blk, e);
		T2(m, name, 4, 8);
		snprintf(name, sizeof(name), "%s.mlp.experts.%u.down_proj.weight", blk, e);
		T2(m, name, 8, 4);
	}
}

static void shared(struct model *m, const char *blk, unsigned is)
{
	char name[96];

	snprintf(name, sizeof(name), "%s.mlp.shared_expert.gate_proj.weight", blk);
	T2(m, name, is, 8);
	snprintf(name, sizeof(name), "%s.mlp.shared_expert.up_proj.weight", blk);
	T2(m, name, is, 8);
	snprintf(name, sizeof(name), "%s.mlp.shared_expert.down_proj.weight", blk);
	T2(m, name, 8, is);
	snprintf(name, sizeof(name), "%s.mlp.shared_expert_gate.weight", blk);
	T2(m, name, 1, 8);
}

static void qwen2moe(struct model *m)
{
	m->n = 0;
	attn(m, true, false);
	experts(m, "model.layers.0", 4);
	shared(m, "model.layers.0", 8);
}

static void qwen3moe(struct model *m)
{
	m->n = 0;
	attn(m, false, true);
	experts(m, "model.layers.0", 4);
}

static void qwen3next(struct model *m)
{
	m->n = 0;
	T2(m, "model.embed_tokens.weight", 16, 8);
	T1(m, "model.norm.weight", 8);
	/* layer 0: Gated DeltaNet; qkvz rows 2*1*4 + 2*2*2 = 16, conv_dim 12 */
	T1(m, "model.layers.0.input_layernorm.weight", 8);
	T2(m, "model.layers.0.linear_attn.in_proj_qkvz.weight", 16, 8);
	T2(m, "model.layers.0.linear_attn.in_proj_ba.weight", 4, 8);
	T3(m, "model.layers.0.linear_attn.conv1d.weight", 12, 1, 2);
	T1(m, "model.layers.0.linear_attn.dt_bias", 2);
	T1(m, "model.layers.0.linear_attn.A_log", 2);
	T1(m, "model.layers.0.linear_attn.norm.weight", 2);
	T2(m, "model.layers.0.linear_attn.out_proj.weight", 8, 4);
	T1(m, "model.layers.0.post_attention_layernorm.weight", 8);
	experts(m, "model.layers.0", 2);
	shared(m, "model.layers.0", 4);
	/* layer 1: gated attention, q [2*2*8, 8] */
	T1(m, "model.layers.1.input_layernorm.weight", 8);
	T2(m, "model.layers.1.self_attn.q_proj.weight", 32, 8);
	T2(m, "model.layers.1.self_attn.k_proj.weight", 8, 8);
	T2(m, "model.layers.1.self_attn.v_proj.weight", 8, 8);
	T2(m, "model.layers.1.self_attn.o_proj.weight", 8, 16);
	T1(m, "model.layers.1.self_attn.q_norm.weight", 8);
	T1(m, "model.layers.1.self_attn.k_norm.weight", 8);
	T1(m, "model.layers.1.post_attention_layernorm.weight", 8);
	experts(m, "model.layers.1", 2);
	shared(m, "model.layers.1", 4);
}

/* ---- cases ---- */

static struct model mdl;

static int mk_missing_tensor(const char *path)
{
	qwen2(&mdl);
	drop(&mdl, "model.layers.0.mlp.up_proj.weight");
	return write_model(path, qwen2_cfg, &mdl);
}

static int mk_extra_tensor(const char *path)
{
	qwen2(&mdl);
	T1(&mdl, "model.layers.0.mlp.extra.weight", 8);
	return write_model(path, qwen2_cfg, &mdl);
}

static int mk_layer_beyond(const char *path)
{
	qwen2(&mdl);
	T1(&mdl, "model.layers.1.input_layernorm.weight", 8);
	return write_model(path, qwen2_cfg, &mdl);
}

static int mk_misshaped(const char *path)
{
	qwen2(&mdl);
	get(&mdl, "model.layers.0.mlp.down_proj.weight")->d[0] = 16;
	get(&mdl, "model.layers.0.mlp.down_proj.weight")->d[1] = 8;
	return write_model(path, qwen2_cfg, &mdl);
}

static int mk_wrong_rank(const char *path)
{
	struct mt *t;

	qwen2(&mdl);
	t = get(&mdl, "model.layers.0.self_attn.q_proj.weight");
	t->nd = 3;
	t->d[2] = 1;
	return write_model(path, qwen2_cfg, &mdl);
}

static int mk_norm_i32(const char *path)
{
	qwen2(&mdl);
	get(&mdl, "model.norm.weight")->dtype = "I32";
	return write_model(path, qwen2_cfg, &mdl);
}

static int mk_matrix_i8(const char *path)
{
	qwen2(&mdl);
	get(&mdl, "model.layers.0.mlp.up_proj.weight")->dtype = "I8";
	return write_model(path, qwen2_cfg, &mdl);
}

static int mk_untied_no_lm_head(const char *path)
{
	qwen2(&mdl);
	return write_model(path, qwen2_untied_cfg, &mdl);
}

static int mk_bias_off(const char *path)
{
	mdl.n = 0;
	attn(&mdl, false, true);
	T1(&mdl, "model.layers.0.self_attn.q_proj.bias", 8);
	T2(&mdl, "model.layers.0.mlp.gate_proj.weight", 16, 8);
	T2(&mdl, "model.layers.0.mlp.up_proj.weight", 16, 8);
	T2(&mdl, "model.layers.0.mlp.down_proj.weight", 8, 16);
	return write_model(path, qwen3_cfg, &mdl);
}

static int mk_missing_expert(const char *path)
{
	qwen2moe(&mdl);
	drop(&mdl, "model.layers.0.mlp.experts.2.up_proj.weight");
	return write_model(path, qwen2moe_cfg, &mdl);
}

static int mk_expert_beyond(const char *path)
{
	qwen2moe(&mdl);
	T2(&mdl, "model.layers.0.mlp.experts.4.gate_proj.weight", 4, 8);
	return write_model(path, qwen2moe_cfg, &mdl);
}

/* per-expert tensors and the transformers 5.x fused gate_up_proj together */
static int mk_both_expert_layouts(const char *path)
{
	qwen3moe(&mdl);
	T3(&mdl, "model.layers.0.mlp.experts.gate_up_proj", 4, 8, 8);
	return write_model(path, qwen3moe_cfg, &mdl);
}

static int mk_next_missing_linear(const char *path)
{
	qwen3next(&mdl);
	drop(&mdl, "model.layers.0.linear_attn.A_log");
	return write_model(path, qwen3next_cfg, &mdl);
}

static int mk_next_linear_on_full(const char *path)
{
	qwen3next(&mdl);
	T2(&mdl, "model.layers.1.linear_attn.in_proj_ba.weight", 4, 8);
	return write_model(path, qwen3next_cfg, &mdl);
}

static int mk_next_conv_squeezed(const char *path)
{
	struct mt *t;

	qwen3next(&mdl);
	t = get(&mdl, "model.layers.0.linear_attn.conv1d.weight");
	t->nd = 2;
	t->d[1] = 2;
	return write_model(path, qwen3next_cfg, &mdl);
}

#define CASE(n, frag, why) { "model_" #n, "", 3, frag, mk_##n, why }

static const struct cc_case cases[] = {
	CASE(missing_tensor, "missing tensor 'model.layers.0.mlp.up_proj.weight'",
	     "every required role must be present"),
	CASE(extra_tensor, "tensor 'model.layers.0.mlp.extra.weight' is not part of a qwen2 model",
	     "every tensor must be claimed by a role"),
	CASE(layer_beyond, "layer 1, but num_hidden_layers is 1",
	     "a tensor of a layer the config does not have"),
	CASE(misshaped, "shape [16, 8], expected [8, 16] (hidden_size 8, intermediate_size 16)",
	     "shapes follow the config"),
	CASE(wrong_rank, "shape [8, 8, 1], expected [8, 8]", "rank is part of the shape"),
	CASE(norm_i32, "dtype I32, expected F32, F16 or BF16 for output_norm",
	     "norms must be float"),
	CASE(matrix_i8, "dtype I8, expected a float or ggml quantized type",
	     "matrices must be float or quantized"),
	CASE(untied_no_lm_head, "missing tensor 'lm_head.weight'",
	     "an untied model needs its output matrix"),
	CASE(bias_off, "config.json turns attention biases off",
	     "a bias the config does not enable"),
	CASE(missing_expert, "missing tensor 'model.layers.0.mlp.experts.2.up_proj.weight'",
	     "every expert is required"),
	CASE(expert_beyond, "expert 4, but num_experts is 4", "experts beyond num_experts"),
	CASE(both_expert_layouts, "both hold ffn_gate_exps of layer 0",
	     "per-expert and fused experts would claim one role twice"),
	CASE(next_missing_linear, "missing tensor 'model.layers.0.linear_attn.A_log'",
	     "Qwen3-Next linear-attention layers need every ssm tensor"),
	CASE(next_linear_on_full, "ssm_ba belongs on linear-attention layers and layer 1 is "
	     "full-attention", "layer kinds follow full_attention_interval"),
	CASE(next_conv_squeezed, "shape [12, 2], expected [12, 1, 2]",
	     "HF conv1d kernels are [conv_dim, 1, K]"),
};

const struct cc_table cc_model_cases = { cases, sizeof(cases) / sizeof(cases[0]) };
