/* mix.h - llama-quantize's choice of a ggml type for every tensor of a model.
 *
 * A "mix" (llama_ftype: Q4_K_M, Q3_K_S, Q8_0, ...) is a default type plus
 * rules that give some tensors more or fewer bits: the output head (and the
 * token embedding of a tied model), attn_v and ffn_down on the layers chosen
 * by use_more_bits, attn_output, the 8-expert and the 70B special cases, and
 * a fallback when a row length is not a multiple of the chosen block size.
 * The result must equal llama.cpp's exactly, because output files are
 * byte-identical to llama-quantize's. Specification: src/llama-quant.cpp of
 * the llama.cpp that llama-cpp-python 0.3.36 vendors (quant/README.md,
 * "Mixes"). Checked against that llama.cpp by
 * tests/unit/test_mix.c (testdata/quant/mix_golden.tsv).
 *
 * How to use it, as llama-quantize does:
 *   1. qm_state_init with the model's hyperparameters and the names of ALL
 *      its tensors (they decide whether the model is tied and how many
 *      attn_v-like tensors there are);
 *   2. sort the tensors with qm_name_cmp: that is the order llama-quantize
 *      writes them in, and the order the rules must see them in (counters);
 *   3. call qm_tensor_type once per tensor in that order, all of them before
 *      writing anything (a QM_ERR_LAYER from any tensor fails the model).
 *
 * Every llama-quantize mix is here, the IQ*, TQ*, Q2_K_S and MXFP4_MOE ones
 * included; whether an importance matrix is given changes some rules
 * (qm_options.has_imatrix), and some types cannot be made without one
 * (qm_requires_imatrix). Not modelled (llama-quantize options qwen-quant
 * does not offer): --keep-split (file order instead of sorted order),
 * --prune-layers (renames blocks), and architectures other than the six Qwen
 * ones (Falcon and GLM5-Next have rules of their own).
 *
 * Types are ggml type ids (quant/qtype.h). Pure compute: no I/O, no
 * allocation; a qm_state is caller-owned and needs no release.
 */
#ifndef QM_MIX_H
#define QM_MIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum qm_status {
	QM_OK = 0,
	/* qm_state_init: an architecture this table has no rules for */
	QM_ERR_ARCH = -1,
	/* qm_tensor_type: a MoE model (expert_count > 1) whose ffn_up/ffn_gate/
	 * ffn_down tensor (after --pure / manual types are ruled out) has no
	 * "blk.N." prefix or an N outside [0, block_count). llama-quantize
	 * refuses the whole model ("failed to determine layer" / "bad layer") */
	QM_ERR_LAYER = -2,
	/* an option or manual type that is not a ggml type id, or a chosen type
	 * whose blocks do not fit the row and that has no fallback (e.g. a
	 * manual Q8_K; llama-quantize: "no tensor type fallback is defined") */
	QM_ERR_TYPE = -3,
};

/* One llama-quantize --type choice. */
struct qm_mix {
	const char *name;  /* "Q4_K_M", as llama-quantize spells it */
	int ftype;         /* llama_ftype: the value written to general.file_type */
	int default_type;  /* the type of every tensor no rule touches */
};

size_t qm_mix_count(void);
/* The i-th mix (i < qm_mix_count()), NULL past the end. */
const struct qm_mix *qm_mix_at(size_t i);
/* Case-insensitive, with llama-quantize's aliases (Q3_K = Q3_K_M,
 * Q4_K = Q4_K_M, Q5_K = Q5_K_M); NULL if not a mix we have. */
const struct qm_mix *qm_mix_by_name(const char *name);
const struct qm_mix *qm_mix_by_ftype(int ftype);

/* What the rules read from the model; the GGUF keys named are the ones
 * llama.cpp reads (for an HF checkpoint, what qwen-convert would write). */
struct qm_model_info {
	const char *arch;        /* general.architecture: "qwen", "qwen2",
	                          * "qwen2moe", "qwen3", "qwen3moe", "qwen3next" */
	uint32_t n_layer;        /* {arch}.block_count (MTP layers included) */
	uint32_t n_layer_nextn;  /* {arch}.nextn_predict_layers, 0 when absent */
	uint32_t n_expert;       /* {arch}.expert_count, 0 when absent */
	uint32_t n_head;         /* {arch}.attention.head_count of layer 0 */
	uint32_t n_head_kv;      /* ...head_count_kv of layer 0 (n_head when absent) */
};

/* llama-quantize's options that change types. A type of -1 means unset. */
struct qm_options {
	bool pure;            /* --pure: no mix rules, default type + fallback */
	bool keep_output;     /* --leave-output-tensor: output.weight keeps its type */
	int output_type;      /* --output-tensor-type */
	int token_embd_type;  /* --token-embedding-type */
	bool has_imatrix;     /* --imatrix given (IQ3_XXS, IQ4_NL, IQ4_XS, Q4_0 and
	                       * Q5_0 choose differently with one) */
};
#define QM_OPTIONS_DEFAULT { false, false, -1, -1, false }

/* The running state of one pass over a model. Read-only to callers except
 * n_fallback, which they may report (llama-quantize prints it). */
struct qm_state {
	const struct qm_mix *mix;
	struct qm_options opt;
	int n_layer;          /* block_count: the n of the ffn rules */
	int n_expert;         /* expert_count */
	int n_gqa;            /* n_head / n_head_kv of layer 0, 0 if n_head_kv is 0 */
	bool is_70b;          /* llama.cpp types the model "70B" (attn_v bump) */
	bool tied;            /* no tensor named output.weight */
	int n_attention_wv;   /* attn_v-like tensors in the model (attn_v, attn_qkv,
	                       * attn_kv_b), quantizable or not */
	int i_attention_wv;   /* attn_v-like tensors the mix rules have seen */
	int i_ffn_down, i_ffn_gate, i_ffn_up; /* likewise; dense models use
	                       * i_ffn_down as the layer number */
	int n_fallback;       /* tensors whose rows did not fit the chosen type */
};

/* Start a pass. mix: from qm_mix_at/_by_name/_by_ftype (its rules are found
 * by address). names: every tensor of the model (n_names of them), in any
 * order; only read during the call. opt: NULL for defaults. 0, QM_ERR_ARCH or
 * QM_ERR_TYPE (an option type that is not a ggml type id). */
int qm_state_init(struct qm_state *st, const struct qm_model_info *mi,
		  const struct qm_mix *mix, const struct qm_options *opt,
		  const char *const *names, size_t n_names);

/* The type llama-quantize gives tensor `name` (ne: ggml dims, ne[0] = row
 * length, unused dims 1; n_dims as ggml counts them: trailing 1s do not
 * count, so ne {n, 1} is one-dimensional). src_type: the tensor's type in the
 * GGUF llama-quantize would read; tensors that are never quantized keep it.
 * manual_type: a type a user rule (llama-quantize --tensor-type) gave this
 * tensor, or -1. Call in qm_name_cmp order. Returns a ggml type id (possibly
 * one quant/ has no kernel for, e.g. IQ4_NL from a manual IQ type: the
 * caller must refuse it) or QM_ERR_LAYER / QM_ERR_TYPE. */
int qm_tensor_type(struct qm_state *st, const char *name, const int64_t ne[4],
		   int src_type, int manual_type);

/* llama-quantize's "this quantization requires an importance matrix": a
 * quantizable tensor given `type` by qm_tensor_type, other than
 * token_embd.weight, per_layer_token_embd.weight and output.weight, whose
 * type is IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S or IQ3_XXS, or Q2_K within
 * the Q2_K_S mix. llama-quantize refuses the whole model without one. */
bool qm_requires_imatrix(const struct qm_state *st, const char *name, int type);

/* llama-quantize's "may this tensor be quantized at all": two or more
 * dimensions (as ggml counts them), a name ending in "weight", not a norm,
 * router, conv1d, positional embedding or another excluded kind, and not
 * output.weight under keep_output. */
bool qm_is_quantizable(const char *name, const int64_t ne[4], bool keep_output);

/* llama-quantize's tensor order: by the layer number N of a "blk.N." prefix
 * (tensors without one count as -1 and come first), then by name (strcmp).
 * <0, 0, >0 like strcmp. */
int qm_name_cmp(const char *a, const char *b);

#endif
