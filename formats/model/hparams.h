/* hparams.h - one hyperparameter struct for every Qwen architecture.
 *
 * Filled from an HF config.json (hparams_hf.c, with transformers' defaults) or
 * from GGUF key/values (hparams_gguf.c). Field names follow llama.cpp's
 * (n_embd, n_head, ...). Facts: the transformers config classes and
 * llama.cpp's loader (formats/README.md, "Where the facts come from").
 */
#ifndef QK_HPARAMS_H
#define QK_HPARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "../base/err.h"

#define QK_MAX_LAYERS 512      /* llama.cpp's LLAMA_MAX_LAYERS */
#define QK_MAX_EXPERTS 4096

enum qk_arch {
	QK_ARCH_QWEN = 0,  /* Qwen 1.0, QWenLMHeadModel */
	QK_ARCH_QWEN2,     /* Qwen1.5, 2, 2.5, QwQ */
	QK_ARCH_QWEN2MOE,  /* Qwen1.5-MoE, Qwen2-57B-A14B */
	QK_ARCH_QWEN3,
	QK_ARCH_QWEN3MOE,
	QK_ARCH_QWEN3NEXT,
	QK_ARCH_QWEN35,    /* Qwen3.5 / Qwen3.6 dense (qwen3_5) */
	QK_ARCH_QWEN35MOE, /* Qwen3.5 / Qwen3.6 MoE (qwen3_5_moe) */
	QK_ARCH_QWEN2VL,   /* Qwen2-VL and Qwen2.5-VL text towers (chunked M-RoPE) */
	QK_ARCH_QWEN3VL,   /* Qwen3-VL text tower (interleaved M-RoPE, deepstack) */
	QK_ARCH_QWEN3VLMOE, /* Qwen3-VL-MoE text tower */
	QK_ARCH_COUNT
};

enum qk_rope_type { QK_ROPE_DEFAULT = 0, QK_ROPE_LINEAR, QK_ROPE_DYNAMIC, QK_ROPE_YARN };

/* per-layer flags */
enum {
	QK_LAYER_MOE = 1u << 0,    /* sparse MoE FFN (else dense SwiGLU) */
	QK_LAYER_LINEAR = 1u << 1, /* Gated DeltaNet (else full attention) */
};

struct qk_rope_scaling {
	int type;                  /* enum qk_rope_type */
	double factor;             /* linear/dynamic/yarn; 1 when default */
	uint32_t original_ctx;     /* yarn: original_max_position_embeddings */
	double beta_fast, beta_slow; /* yarn: defaults 32, 1 */
	double attention_factor;   /* yarn: 0 = derive from factor (0.1 ln f + 1) */
	double mscale, mscale_all_dim; /* yarn: 0 = absent */
	bool truncate;             /* yarn: floor/ceil the correction range (default true) */
};

struct qk_hparams {
	int arch;                  /* enum qk_arch */
	uint32_t n_vocab;          /* vocab_size (embedding rows) */
	uint32_t n_embd;           /* hidden_size */
	uint32_t n_layer;          /* num_hidden_layers, <= QK_MAX_LAYERS */
	uint32_t n_head;           /* num_attention_heads */
	uint32_t n_head_kv;        /* num_key_value_heads (= n_head when absent) */
	uint32_t head_dim;         /* explicit head_dim, else n_embd / n_head */
	uint32_t n_ff;             /* real dense FFN width (Qwen1: intermediate_size / 2) */
	uint32_t n_ff_config;      /* intermediate_size as the config states it */
	uint32_t n_ctx_train;      /* max_position_embeddings */
	double norm_eps;           /* rms_norm_eps (Qwen1: layer_norm_epsilon) */
	double rope_theta;         /* rope_theta (Qwen1: rotary_emb_base) */
	double partial_rotary_factor; /* 1.0 except Qwen3-Next (0.25) */
	uint32_t n_rot;            /* rotary dims per head = head_dim * partial factor */
	struct qk_rope_scaling rope;
	bool tie_word_embeddings;
	bool attn_bias;            /* q/k/v biases (Qwen1 c_attn, Qwen2, Qwen2-MoE) */
	bool qk_norm;              /* q_norm/k_norm (Qwen3 family) */
	bool zero_centred_norm;    /* norms scale by 1 + w (Qwen3-Next) */
	bool attn_output_gate;     /* q_proj carries a per-head gate (Qwen3-Next) */

	/* MoE */
	uint32_t n_expert;         /* num_experts (0 for dense models) */
	uint32_t n_expert_used;    /* num_experts_per_tok */
	uint32_t n_ff_exp;         /* moe_intermediate_size */
	uint32_t n_ff_shexp;       /* shared_expert_intermediate_size (0 = none) */
	bool norm_topk_prob;
	uint32_t decoder_sparse_step;

	/* Qwen3-Next linear attention */
	uint32_t full_attention_interval;
	uint32_t ssm_d_conv;       /* linear_conv_kernel_dim */
	uint32_t ssm_n_k_heads;    /* linear_num_key_heads */
	uint32_t ssm_n_v_heads;    /* linear_num_value_heads */
	uint32_t ssm_head_k_dim;   /* linear_key_head_dim */
	uint32_t ssm_head_v_dim;   /* linear_value_head_dim */
	uint32_t n_mtp_layers;     /* mtp_num_hidden_layers (0 = none) */
	/* Qwen3.5: the canonical (GGUF) form keeps value heads in llama.cpp's
	 * tiled order, value head h reading key head h % nk; otherwise
	 * (Qwen3-Next) grouped, value head h reading key head h / (nv / nk) */
	bool ssm_v_tiled;
	/* Qwen3.5 interleaved M-RoPE: mrope_section padded to 4 (rotary pairs
	 * per position stream t, h, w, -); all zero when the config has none.
	 * With text positions (t = h = w) it is plain partial NeoX RoPE. */
	uint32_t rope_sections[4];
	bool has_rope_sections;    /* the config (or GGUF) states them */
	bool mrope_interleaved;
	/* Qwen2-VL / Qwen3-VL: the class default sections fill rope_sections
	 * when the config states none (has_rope_sections stays false) */
	uint32_t n_deepstack;      /* Qwen3-VL: len(vision_config.deepstack_visual_indexes) */

	/* Qwen1 */
	uint32_t seq_length;       /* training length for dynamic NTK / logn */
	bool use_dynamic_ntk;
	bool use_logn_attn;

	/* special tokens from config.json (-1 = absent) */
	int64_t bos_token_id, eos_token_id, pad_token_id;

	uint8_t layer_flags[QK_MAX_LAYERS]; /* [n_layer] QK_LAYER_* */
};

/* GGUF arch string ("qwen2moe") and HF architectures[0] ("Qwen2MoeForCausalLM")
 * and a generation label ("Qwen2-MoE") for an arch; NULL if out of range. */
const char *qk_arch_gguf_name(int arch);
const char *qk_arch_hf_name(int arch);
const char *qk_arch_generation(int arch);
/* Reverse lookups; -1 if unknown. qk_arch_from_hf also takes the aliases
 * llama.cpp registers for the same class (Qwen2Model, Qwen3Model). */
int qk_arch_from_gguf(const char *s);
int qk_arch_from_hf(const char *s);
/* config.json `model_type` ("qwen2_moe") of an arch, and the reverse. */
const char *qk_arch_model_type(int arch);
int qk_arch_from_model_type(const char *s);
/* "default", "linear", "dynamic", "yarn" for enum qk_rope_type; NULL if out
 * of range. */
const char *qk_rope_type_name(int type);

/* Parse config.json text (len bytes, need not be NUL-terminated; the file
 * name is only for messages). On failure *hp is zeroed.
 *
 * The arch comes from architectures[0], else model_type. A text_config
 * object is merged over the top level (its keys win), as llama.cpp does.
 * JSON null counts as absent. Missing keys take the transformers class
 * default of that arch (QWenConfig for Qwen1), with these exceptions and
 * choices:
 *  - required: vocab_size, hidden_size, num_hidden_layers,
 *    num_attention_heads; intermediate_size for qwen/qwen2/qwen3; Qwen1
 *    seq_length when use_dynamic_ntk or use_logn_attn is on (else it is set
 *    to max_position_embeddings);
 *  - num_key_value_heads defaults to num_attention_heads (llama.cpp's rule;
 *    the classes' fixed numbers only fit their own default head counts);
 *  - head_dim: explicit, else the class default (qwen3 128, qwen3next 256),
 *    else hidden_size / num_attention_heads, which must divide exactly;
 *  - Qwen1: head_dim = kv_channels and kv_channels * heads must equal
 *    hidden_size (the remote code splits c_attn by hidden_size);
 *    n_ff = intermediate_size / 2 (must be even); no GQA; rope_scaling is
 *    ignored (the remote code does not read it);
 *  - RoPE: rope_parameters (5.x) else rope_scaling (4.x); rope_theta and
 *    partial_rotary_factor from that dict, else the top level; rope_type
 *    wins over its alias type; linear/dynamic need factor >= 1; yarn: an
 *    explicit factor wins, a missing one is max_position_embeddings /
 *    original_max_position_embeddings, a missing original length is
 *    max_position_embeddings (current transformers, after PR #40320);
 *    other types (longrope, llama3, mrope, ...) are QK_E_UNSUPPORTED;
 *  - n_rot = int(head_dim * partial_rotary_factor) must be even and >= 2;
 *  - MoE: num_experts (or num_local_experts) 1..QK_MAX_EXPERTS,
 *    num_experts_per_tok <= num_experts; layer i is QK_LAYER_MOE iff
 *    (i + 1) % decoder_sparse_step == 0 and i is not in mlp_only_layers;
 *    decoder_sparse_step is 0 for dense archs;
 *  - Qwen3-Next: layer_types (one "linear_attention"/"full_attention" per
 *    layer; legacy "mamba"/"attention" accepted) else
 *    full_attention_interval; full_attention_interval is then the period
 *    the kinds follow, or 0 when they follow none;
 *  - eos_token_id may be a list: the first id is kept.
 * Errors name the file, the key (with its text_config./rope_scaling. path)
 * and the value, and say what was expected: QK_E_INVALID for malformed or
 * inconsistent values, QK_E_UNSUPPORTED for unknown architectures and RoPE
 * types. */
int qk_hparams_from_config(struct qk_hparams *hp, const char *json, size_t len,
			   const char *fname, qk_err *err);
/* Read and parse DIR/config.json. */
int qk_hparams_load_config(struct qk_hparams *hp, const char *dir, qk_err *err);

struct gf_file;
/* From a GGUF file's key/values (general.architecture, {arch}.*), with
 * llama.cpp's runtime defaults (llama_model::load_hparams).
 * On failure *hp is zeroed.
 *  - required: block_count (<= QK_MAX_LAYERS), context_length,
 *    embedding_length, attention.head_count,
 *    attention.layer_norm_rms_epsilon (qwen: or attention.layer_norm_epsilon,
 *    which current llama.cpp converters write instead), feed_forward_length
 *    for dense archs, expert_count/expert_used_count for MoE archs, the five
 *    ssm.* keys for qwen3next;
 *  - defaults: head_count_kv = head_count; key_length = embedding_length /
 *    head_count (must divide); value_length must equal key_length;
 *    rope.dimension_count = key_length (even); freq_base 10000;
 *    expert_feed_forward_length = feed_forward_length / expert_used_count;
 *    expert_shared_feed_forward_length = feed_forward_length;
 *    full_attention_interval 4;
 *  - qwen: n_ff = feed_forward_length / 2 (the file holds the config value);
 *    use_dynamic_ntk/use_logn_attn false (llama.cpp implements neither);
 *  - RoPE: rope.scaling.type none/linear/yarn (others QK_E_UNSUPPORTED); a
 *    missing type with a factor != 1 is linear, as llama.cpp reads it;
 *    factor from rope.scaling.factor or the older rope.scale_linear (0 =
 *    unset); yarn original_context_length defaults to context_length; a
 *    rope.scaling.attn_factor a != 1 becomes attention_factor
 *    a * (1 + 0.1 ln factor) (ggml multiplies it by its own mscale);
 *  - norm_topk_prob as llama.cpp computes it: true for qwen3moe and
 *    qwen3next, false for qwen2moe; every layer of a MoE arch is MoE;
 *  - qwen3next: ssm_head_k_dim = ssm.state_size, ssm_head_v_dim =
 *    ssm.inner_size / ssm.time_step_rank; zero_centred_norm is set, but GGUF
 *    norm weights already hold 1 + w (model assembly accounts for that);
 *  - MTP (llama.cpp's nextn layout): n_mtp_layers = nextn_predict_layers
 *    (default 0, at most block_count - 1; non-zero for another arch is
 *    QK_E_UNSUPPORTED) and n_layer = block_count - n_mtp_layers: the last
 *    blocks are the MTP layers;
 *  - head_count, head_count_kv and feed_forward_length may be per-layer
 *    arrays of block_count equal values (unequal: QK_E_UNSUPPORTED);
 *  - any integer width is accepted where llama.cpp writes u32, f64 where it
 *    writes f32; another type is QK_E_INVALID naming the key, the type found
 *    and the type expected;
 *  - n_vocab: {arch}.vocab_size, else the length of tokenizer.ggml.tokens,
 *    else 0 (the token_embd tensor then decides; not visible from keys);
 *  - tie_word_embeddings is false: the absence of output.weight decides it,
 *    which model assembly sees and this function does not;
 *  - bos/eos/pad from tokenizer.ggml.{bos,eos,padding}_token_id, else -1. */
int qk_hparams_from_gguf(struct qk_hparams *hp, const struct gf_file *f, qk_err *err);

#endif
