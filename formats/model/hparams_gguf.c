/* hparams_gguf.c - GGUF key/values -> struct qk_hparams; see hparams.h.
 *
 * Which key holds which field, and the defaults, follow llama.cpp's runtime
 * (llama_model::load_hparams / load_tensors in src/llama-model.cpp, and the
 * keys convert_hf_to_gguf.py writes; formats/README.md, "Where the facts come
 * from"): a file llama.cpp loads gives the hyperparameters llama.cpp would
 * run it with.
 */
#include "hparams.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../container/gguf.h"

/* A read in progress: the file, its arch string (the key prefix). */
struct gk {
	const struct gf_file *f;
	const char *arch;
	uint32_t n_block;   /* block_count: the layers, then the MTP layers */
	qk_err *err;
};

/* What the runtime does per arch. */
static const struct {
	bool ff_required;  /* dense FFN: feed_forward_length is needed */
	bool moe, shexp;   /* routed experts; a shared expert */
	bool norm_topk;    /* top-k weights renormalised (hard-coded in llama.cpp) */
	bool qk_norm, bias, next;
	bool q35;          /* value heads tiled, rope.dimension_sections */
	uint8_t vl;        /* Qwen-VL text tower: 1 MROPE (qwen2vl), 2 IMROPE with
			    * n_deepstack_layers (qwen3vl, qwen3vlmoe); 0 otherwise */
} rules[QK_ARCH_COUNT] = {
	[QK_ARCH_QWEN] = { true, false, false, false, false, true, false, false, 0 },
	[QK_ARCH_QWEN2] = { true, false, false, false, false, true, false, false, 0 },
	[QK_ARCH_QWEN2MOE] = { false, true, true, false, false, true, false, false, 0 },
	[QK_ARCH_QWEN3] = { true, false, false, false, true, false, false, false, 0 },
	[QK_ARCH_QWEN3MOE] = { false, true, false, true, true, false, false, false, 0 },
	[QK_ARCH_QWEN3NEXT] = { false, true, true, true, true, false, true, false, 0 },
	[QK_ARCH_QWEN35] = { true, false, false, false, true, false, true, true, 0 },
	[QK_ARCH_QWEN35MOE] = { false, true, true, true, true, false, true, true, 0 },
	[QK_ARCH_QWEN2VL] = { true, false, false, false, false, true, false, false, 1 },
	[QK_ARCH_QWEN3VL] = { true, false, false, false, true, false, false, false, 2 },
	[QK_ARCH_QWEN3VLMOE] = { false, true, false, true, true, false, false, false, 2 },
};

/* "{arch}.suffix" (suffix starting with '.' = a full key without prefix) */
static void full_key(const struct gk *g, const char *suffix, char *key, size_t n)
{
	if (suffix[0] == '.')
		snprintf(key, n, "%s", suffix + 1);
	else
		snprintf(key, n, "%s.%s", g->arch, suffix);
}

static int missing(const struct gk *g, const char *key)
{
	return qk_err_set(g->err, QK_E_INVALID, "%s: missing required key '%s'", gf_name(g->f),
			  key);
}

static int wrong_type(const struct gk *g, const char *key, int64_t i, const char *expect)
{
	int t = gf_kv_type(g->f, i);

	if (t == GF_ARRAY)
		return qk_err_set(g->err, QK_E_INVALID,
				  "%s: key '%s' has type array of %s, expected %s", gf_name(g->f),
				  key, gf_type_name(gf_arr_type(g->f, i)), expect);
	return qk_err_set(g->err, QK_E_INVALID, "%s: key '%s' has type %s, expected %s",
			  gf_name(g->f), key, gf_type_name(t), expect);
}

static bool is_int_type(int t)
{
	return t == GF_U8 || t == GF_I8 || t == GF_U16 || t == GF_I16 || t == GF_U32 ||
	       t == GF_I32 || t == GF_U64 || t == GF_I64;
}

/* An integer value in [lo, hi]. Any integer width is taken (llama.cpp's
 * converter writes u32); an array is taken when `per_layer` and all its
 * block_count entries agree (llama.cpp's get_key_or_arr allows per-layer
 * values; this struct holds one). */
static int get_u32(const struct gk *g, const char *suffix, bool required, uint32_t def,
		   uint32_t lo, uint32_t hi, bool per_layer, uint32_t n_layer, uint32_t *out)
{
	char key[160];
	int64_t i, v = 0;
	int t;

	full_key(g, suffix, key, sizeof(key));
	*out = def;
	i = gf_find_key(g->f, key);
	if (i < 0)
		return required ? missing(g, key) : QK_OK;
	t = gf_kv_type(g->f, i);
	if (t == GF_ARRAY && per_layer && is_int_type(gf_arr_type(g->f, i))) {
		uint64_t n = gf_arr_n(g->f, i);

		if (n != n_layer)
			return qk_err_set(g->err, QK_E_INVALID,
					  "%s: key '%s' has %llu per-layer values, expected %u (block_count)",
					  gf_name(g->f), key, (unsigned long long)n, (unsigned)n_layer);
		for (uint64_t j = 0; j < n; j++) {
			int64_t e = gf_arr_int(g->f, i, j);
			if (e != gf_arr_int(g->f, i, 0))
				return qk_err_set(g->err, QK_E_UNSUPPORTED,
						  "%s: key '%s' differs between layers (%lld at layer 0, "
						  "%lld at layer %llu); only uniform values are supported",
						  gf_name(g->f), key, (long long)gf_arr_int(g->f, i, 0),
						  (long long)e, (unsigned long long)j);
		}
		v = gf_arr_int(g->f, i, 0);
	} else if (is_int_type(t)) {
		if (!gf_kv_int(g->f, i, INT64_MIN, INT64_MAX, &v))
			return qk_err_set(g->err, QK_E_INVALID,
					  "%s: key '%s' is %llu, expected an integer in %u..%u",
					  gf_name(g->f), key, (unsigned long long)gf_kv_u64(g->f, i),
					  (unsigned)lo, (unsigned)hi);
	} else {
		return wrong_type(g, key, i, per_layer ? "u32 or an array of u32" : "u32");
	}
	if (v < (int64_t)lo || v > (int64_t)hi)
		return qk_err_set(g->err, QK_E_INVALID, "%s: key '%s' is %lld, expected an integer in %u..%u",
				  gf_name(g->f), key, (long long)v, (unsigned)lo, (unsigned)hi);
	*out = (uint32_t)v;
	return QK_OK;
}

/* A f32 (or f64) value in (lo, hi]; *found (if given) tells whether present. */
static int get_num(const struct gk *g, const char *suffix, bool required, double def, double lo,
		   double hi, double *out, bool *found)
{
	char key[160];
	int64_t i;

	full_key(g, suffix, key, sizeof(key));
	*out = def;
	i = gf_find_key(g->f, key);
	if (found)
		*found = i >= 0;
	if (i < 0)
		return required ? missing(g, key) : QK_OK;
	if (!gf_kv_float(g->f, i, out))
		return wrong_type(g, key, i, "f32");
	if (!isfinite(*out) || !(*out > lo) || *out > hi)
		return qk_err_set(g->err, QK_E_INVALID, "%s: key '%s' is %g, expected a number in (%g, %g]",
				  gf_name(g->f), key, *out, lo, hi);
	return QK_OK;
}

/* Special token ids: absent -> -1. */
static int get_token(const struct gk *g, const char *key, int64_t *out)
{
	uint32_t v;
	int rc;

	*out = -1;
	if (gf_find_key(g->f, key + 1) < 0)
		return QK_OK;
	rc = get_u32(g, key, false, 0, 0, INT32_MAX, false, 0, &v);
	if (!rc)
		*out = v;
	return rc;
}

/* ---- pieces ---- */

/* llama.cpp's nextn layout (--keep-mtp): the last nextn_predict_layers of
 * block_count blocks are MTP layers. */
static int read_nextn(struct gk *g, struct qk_hparams *hp)
{
	char key[160];
	int rc;

	if ((rc = get_u32(g, "nextn_predict_layers", false, 0, 0, g->n_block - 1, false, 0,
			  &hp->n_mtp_layers)))
		return rc;
	full_key(g, "nextn_predict_layers", key, sizeof(key));
	if (hp->n_mtp_layers && !rules[hp->arch].next)
		return qk_err_set(g->err, QK_E_UNSUPPORTED,
				  "%s: key '%s' is %u: MTP layers are supported for qwen3next, "
				  "qwen35 and qwen35moe only",
				  gf_name(g->f), key, (unsigned)hp->n_mtp_layers);
	hp->n_layer = g->n_block - hp->n_mtp_layers;
	return QK_OK;
}

static int read_attention(const struct gk *g, struct qk_hparams *hp)
{
	uint32_t v_len;
	char key[160];
	int rc;

	if ((rc = get_u32(g, "attention.head_count", true, 0, 1, UINT32_MAX, true, g->n_block,
			  &hp->n_head)) ||
	    (rc = get_u32(g, "attention.head_count_kv", false, hp->n_head, 1, UINT32_MAX, true,
			  g->n_block, &hp->n_head_kv)))
		return rc;
	if (hp->n_head % hp->n_head_kv)
		return qk_err_set(g->err, QK_E_INVALID,
				  "%s: '%s.attention.head_count_kv' %u does not divide "
				  "'%s.attention.head_count' %u", gf_name(g->f), g->arch,
				  (unsigned)hp->n_head_kv, g->arch, (unsigned)hp->n_head);
	full_key(g, "attention.key_length", key, sizeof(key));
	if (gf_find_key(g->f, key) < 0 && hp->n_embd % hp->n_head)
		return qk_err_set(g->err, QK_E_INVALID,
				  "%s: '%s.attention.head_count' %u does not divide "
				  "'%s.embedding_length' %u and there is no '%s'", gf_name(g->f),
				  g->arch, (unsigned)hp->n_head, g->arch, (unsigned)hp->n_embd, key);
	if ((rc = get_u32(g, "attention.key_length", false, hp->n_embd / hp->n_head, 1,
			  UINT32_MAX, false, 0, &hp->head_dim)) ||
	    (rc = get_u32(g, "attention.value_length", false, hp->head_dim, 1, UINT32_MAX, false,
			  0, &v_len)))
		return rc;
	if (v_len != hp->head_dim)
		return qk_err_set(g->err, QK_E_UNSUPPORTED,
				  "%s: '%s.attention.value_length' %u differs from key_length %u; "
				  "only equal head widths are supported", gf_name(g->f), g->arch,
				  (unsigned)v_len, (unsigned)hp->head_dim);
	if ((uint64_t)hp->n_head * hp->head_dim * (rules[hp->arch].next ? 2 : 1) > UINT32_MAX)
		return qk_err_set(g->err, QK_E_INVALID,
				  "%s: %u heads x key_length %u is too large", gf_name(g->f),
				  (unsigned)hp->n_head, (unsigned)hp->head_dim);
	if ((rc = get_u32(g, "rope.dimension_count", false, hp->head_dim, 2, hp->head_dim, false,
			  0, &hp->n_rot)))
		return rc;
	if (hp->n_rot % 2)
		return qk_err_set(g->err, QK_E_INVALID,
				  "%s: '%s.rope.dimension_count' %u is odd, expected an even number",
				  gf_name(g->f), g->arch, (unsigned)hp->n_rot);
	hp->partial_rotary_factor = (double)hp->n_rot / hp->head_dim;
	hp->attn_bias = rules[hp->arch].bias;
	hp->qk_norm = rules[hp->arch].qk_norm;
	hp->zero_centred_norm = rules[hp->arch].next;
	hp->attn_output_gate = rules[hp->arch].next;
	return get_num(g, "rope.freq_base", false, 10000.0, 0, HUGE_VAL, &hp->rope_theta, NULL);
}

/* rope.scaling.*: llama.cpp reads a missing type as "linear" and a missing
 * factor (or 0) as 1, so no keys at all means plain RoPE. */
static int read_rope_scaling(const struct gk *g, struct qk_hparams *hp)
{
	static const struct {
		const char *name;
		int type;
	} types[] = {
		{ "none", QK_ROPE_DEFAULT }, { "linear", QK_ROPE_LINEAR }, { "yarn", QK_ROPE_YARN },
	};
	char key[160];
	const char *s = NULL;
	double attn = 1.0;
	bool have_factor, have_attn;
	int64_t i;
	int rc;

	hp->rope.type = QK_ROPE_DEFAULT;
	full_key(g, "rope.scaling.factor", key, sizeof(key));
	if (gf_find_key(g->f, key) < 0)
		full_key(g, "rope.scale_linear", key, sizeof(key));
	if ((rc = get_num(g, strchr(key, '.') + 1, false, 1.0, -HUGE_VAL, HUGE_VAL,
			  &hp->rope.factor, &have_factor)))
		return rc;
	if (have_factor && hp->rope.factor == 0) { /* llama.cpp: 0 means unset */
		hp->rope.factor = 1.0;
		have_factor = false;
	}
	if (hp->rope.factor < 1)
		return qk_err_set(g->err, QK_E_INVALID, "%s: key '%s' is %g, expected a number >= 1",
				  gf_name(g->f), key, hp->rope.factor);
	full_key(g, "rope.scaling.type", key, sizeof(key));
	i = gf_find_key(g->f, key);
	if (i >= 0) {
		size_t k = 0, n = sizeof(types) / sizeof(types[0]);

		if (gf_kv_type(g->f, i) != GF_STRING)
			return wrong_type(g, key, i, "string");
		s = gf_kv_str(g->f, i, NULL);
		while (k < n && strcmp(s, types[k].name))
			k++;
		if (k == n)
			return qk_err_set(g->err, QK_E_UNSUPPORTED,
					  "%s: key '%s' is '%.40s', not supported (expected none, "
					  "linear or yarn)", gf_name(g->f), key, s);
		hp->rope.type = types[k].type;
	} else if (have_factor && hp->rope.factor != 1.0) {
		hp->rope.type = QK_ROPE_LINEAR;
	}
	if (hp->rope.type == QK_ROPE_DEFAULT)
		hp->rope.factor = 1.0;
	if (hp->rope.type != QK_ROPE_YARN)
		return QK_OK;
	if ((rc = get_u32(g, "rope.scaling.original_context_length", false, hp->n_ctx_train, 1,
			  UINT32_MAX, false, 0, &hp->rope.original_ctx)) ||
	    (rc = get_num(g, "rope.scaling.yarn_beta_fast", false, 32.0, 0, HUGE_VAL,
			  &hp->rope.beta_fast, NULL)) ||
	    (rc = get_num(g, "rope.scaling.yarn_beta_slow", false, 1.0, 0, HUGE_VAL,
			  &hp->rope.beta_slow, NULL)) ||
	    (rc = get_num(g, "rope.scaling.attn_factor", false, 1.0, 0, HUGE_VAL, &attn,
			  &have_attn)))
		return rc;
	/* ggml multiplies attn_factor by its own 1 + 0.1 ln(factor); the struct
	 * holds transformers' total attention_factor (0 = derive) */
	if (have_attn && attn != 1.0)
		hp->rope.attention_factor =
			attn * (hp->rope.factor > 1 ? 0.1 * log(hp->rope.factor) + 1.0 : 1.0);
	return QK_OK;
}

static int read_moe(const struct gk *g, struct qk_hparams *hp)
{
	char key[160];
	int rc;

	if ((rc = get_u32(g, "expert_count", true, 0, 1, QK_MAX_EXPERTS, false, 0,
			  &hp->n_expert)) ||
	    (rc = get_u32(g, "expert_used_count", true, 0, 1, UINT32_MAX, false, 0,
			  &hp->n_expert_used)))
		return rc;
	if (hp->n_expert_used > hp->n_expert)
		return qk_err_set(g->err, QK_E_INVALID,
				  "%s: '%s.expert_used_count' %u is more than '%s.expert_count' %u",
				  gf_name(g->f), g->arch, (unsigned)hp->n_expert_used, g->arch,
				  (unsigned)hp->n_expert);
	/* llama.cpp's fallbacks: n_ff / n_expert_used and n_ff */
	full_key(g, "expert_feed_forward_length", key, sizeof(key));
	if (hp->n_ff == 0 && gf_find_key(g->f, key) < 0)
		return missing(g, key);
	if ((rc = get_u32(g, "expert_feed_forward_length", false, hp->n_ff / hp->n_expert_used,
			  1, UINT32_MAX, false, 0, &hp->n_ff_exp)))
		return rc;
	if (rules[hp->arch].shexp) {
		full_key(g, "expert_shared_feed_forward_length", key, sizeof(key));
		if (hp->n_ff == 0 && gf_find_key(g->f, key) < 0)
			return missing(g, key);
		if ((rc = get_u32(g, "expert_shared_feed_forward_length", false, hp->n_ff, 1,
				  UINT32_MAX, false, 0, &hp->n_ff_shexp)))
			return rc;
	}
	hp->norm_topk_prob = rules[hp->arch].norm_topk;
	hp->decoder_sparse_step = 1; /* llama.cpp: every layer is MoE */
	for (uint32_t l = 0; l < hp->n_layer; l++)
		hp->layer_flags[l] |= QK_LAYER_MOE;
	return QK_OK;
}

/* Qwen3.5: {arch}.rope.dimension_sections, an array of 4 integers (llama.cpp
 * requires it; qwenkit takes it as absent when missing) */
static int read_sections(const struct gk *g, struct qk_hparams *hp)
{
	char key[160];
	int64_t i;

	full_key(g, "rope.dimension_sections", key, sizeof(key));
	i = gf_find_key(g->f, key);
	hp->mrope_interleaved = true; /* llama.cpp runs qwen35 with IMROPE */
	if (i < 0)
		return QK_OK;
	if (gf_kv_type(g->f, i) != GF_ARRAY ||
	    (gf_arr_type(g->f, i) != GF_I32 && gf_arr_type(g->f, i) != GF_U32) ||
	    gf_arr_n(g->f, i) != 4)
		return wrong_type(g, key, i, "array of 4 int32");
	for (int k = 0; k < 4; k++) {
		int64_t v = gf_arr_int(g->f, i, (uint64_t)k);

		if (v < 0 || v > (1 << 20))
			return qk_err_set(g->err, QK_E_INVALID, "%s: key '%s'[%d] is %d, expected "
					  "a count in 0..%d", gf_name(g->f), key, k, (int)v, 1 << 20);
		hp->rope_sections[k] = (uint32_t)v;
	}
	hp->has_rope_sections = true;
	return QK_OK;
}

/* Qwen-VL text towers: rope.dimension_sections (MROPE for qwen2vl, IMROPE
 * for qwen3vl/qwen3vlmoe, as llama.cpp's rope type table has them) and the
 * deepstack count (default 0) */
static int read_vl(const struct gk *g, struct qk_hparams *hp)
{
	int rc = read_sections(g, hp);

	hp->mrope_interleaved = rules[hp->arch].vl == 2;
	if (rc || rules[hp->arch].vl != 2)
		return rc;
	return get_u32(g, "n_deepstack_layers", false, 0, 0, QK_MAX_LAYERS, false, 0,
		       &hp->n_deepstack);
}

static int read_ssm(const struct gk *g, struct qk_hparams *hp)
{
	uint32_t inner;
	int rc;

	if ((rc = get_u32(g, "ssm.conv_kernel", true, 0, 1, UINT32_MAX, false, 0,
			  &hp->ssm_d_conv)) ||
	    (rc = get_u32(g, "ssm.state_size", true, 0, 1, UINT32_MAX, false, 0,
			  &hp->ssm_head_k_dim)) ||
	    (rc = get_u32(g, "ssm.group_count", true, 0, 1, UINT32_MAX, false, 0,
			  &hp->ssm_n_k_heads)) ||
	    (rc = get_u32(g, "ssm.time_step_rank", true, 0, 1, UINT32_MAX, false, 0,
			  &hp->ssm_n_v_heads)) ||
	    (rc = get_u32(g, "ssm.inner_size", true, 0, 1, UINT32_MAX, false, 0, &inner)) ||
	    (rc = get_u32(g, "full_attention_interval", false, 4, 1, UINT32_MAX, false, 0,
			  &hp->full_attention_interval)))
		return rc;
	/* inner_size = linear_value_head_dim * linear_num_value_heads */
	if (inner % hp->ssm_n_v_heads)
		return qk_err_set(g->err, QK_E_INVALID,
				  "%s: '%s.ssm.inner_size' %u is not a multiple of "
				  "'%s.ssm.time_step_rank' %u", gf_name(g->f), g->arch, (unsigned)inner,
				  g->arch, (unsigned)hp->ssm_n_v_heads);
	hp->ssm_head_v_dim = inner / hp->ssm_n_v_heads;
	if (hp->ssm_n_v_heads % hp->ssm_n_k_heads)
		return qk_err_set(g->err, QK_E_INVALID,
				  "%s: '%s.ssm.time_step_rank' %u is not a multiple of "
				  "'%s.ssm.group_count' %u", gf_name(g->f), g->arch,
				  (unsigned)hp->ssm_n_v_heads, g->arch, (unsigned)hp->ssm_n_k_heads);
	if ((uint64_t)hp->ssm_n_k_heads * hp->ssm_head_k_dim * 2 + (uint64_t)inner * 2 > UINT32_MAX)
		return qk_err_set(g->err, QK_E_INVALID,
				  "%s: linear attention projection of %u key heads x %u + %u is too "
				  "large", gf_name(g->f), (unsigned)hp->ssm_n_k_heads,
				  (unsigned)hp->ssm_head_k_dim, (unsigned)inner);
	for (uint32_t l = 0; l < hp->n_layer; l++)
		if ((l + 1) % hp->full_attention_interval)
			hp->layer_flags[l] |= QK_LAYER_LINEAR;
	hp->ssm_v_tiled = rules[hp->arch].q35;
	return rules[hp->arch].q35 ? read_sections(g, hp) : QK_OK;
}

/* n_vocab: {arch}.vocab_size, else the length of tokenizer.ggml.tokens */
static int read_vocab(const struct gk *g, struct qk_hparams *hp)
{
	int64_t i;
	char key[160];

	full_key(g, "vocab_size", key, sizeof(key));
	if (gf_find_key(g->f, key) >= 0)
		return get_u32(g, "vocab_size", false, 0, 1, UINT32_MAX, false, 0, &hp->n_vocab);
	i = gf_find_key(g->f, "tokenizer.ggml.tokens");
	if (i < 0)
		return QK_OK;
	if (gf_kv_type(g->f, i) != GF_ARRAY || gf_arr_type(g->f, i) != GF_STRING)
		return wrong_type(g, "tokenizer.ggml.tokens", i, "array of string");
	if (gf_arr_n(g->f, i) > UINT32_MAX)
		return qk_err_set(g->err, QK_E_INVALID, "%s: key 'tokenizer.ggml.tokens' has %llu "
				  "entries, expected at most %u", gf_name(g->f),
				  (unsigned long long)gf_arr_n(g->f, i), (unsigned)UINT32_MAX);
	hp->n_vocab = (uint32_t)gf_arr_n(g->f, i);
	return QK_OK;
}

static int read_all(struct gk *g, struct qk_hparams *hp)
{
	char list[128] = "";
	const char *s;
	bool found;
	int64_t i;
	int rc;

	i = gf_find_key(g->f, "general.architecture");
	if (i < 0)
		return missing(g, "general.architecture");
	if (gf_kv_type(g->f, i) != GF_STRING)
		return wrong_type(g, "general.architecture", i, "string");
	s = gf_kv_str(g->f, i, NULL);
	hp->arch = qk_arch_from_gguf(s);
	if (hp->arch < 0) {
		for (int a = 0; a < QK_ARCH_COUNT; a++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 a ? ", " : "", qk_arch_gguf_name(a));
		return qk_err_set(g->err, QK_E_UNSUPPORTED,
				  "%s: general.architecture '%.40s' is not supported; supported: %s",
				  gf_name(g->f), s, list);
	}
	g->arch = qk_arch_gguf_name(hp->arch);
	if ((rc = get_u32(g, "block_count", true, 0, 1, QK_MAX_LAYERS, false, 0, &g->n_block)) ||
	    (rc = read_nextn(g, hp)) ||
	    (rc = get_u32(g, "context_length", true, 0, 1, UINT32_MAX, false, 0,
			  &hp->n_ctx_train)) ||
	    (rc = get_u32(g, "embedding_length", true, 0, 1, UINT32_MAX, false, 0, &hp->n_embd)) ||
	    (rc = get_u32(g, "feed_forward_length", rules[hp->arch].ff_required, 0, 1, UINT32_MAX,
			  true, g->n_block, &hp->n_ff_config)))
		return rc;
	/* Qwen1 files carry intermediate_size unhalved */
	hp->n_ff = hp->n_ff_config;
	if (hp->arch == QK_ARCH_QWEN) {
		if (hp->n_ff_config % 2)
			return qk_err_set(g->err, QK_E_INVALID,
					  "%s: 'qwen.feed_forward_length' %u is odd, expected an even "
					  "number (the FFN is half of it wide)", gf_name(g->f),
					  (unsigned)hp->n_ff_config);
		hp->n_ff = hp->n_ff_config / 2;
	}
	/* Qwen1 files from current llama.cpp converters hold only the non-RMS key */
	if ((rc = get_num(g, "attention.layer_norm_rms_epsilon", hp->arch != QK_ARCH_QWEN, 0, 0, 1,
			  &hp->norm_eps, &found)))
		return rc;
	if (!found && (rc = get_num(g, "attention.layer_norm_epsilon", false, 0, 0, 1,
				    &hp->norm_eps, &found)))
		return rc;
	if (!found)
		return qk_err_set(g->err, QK_E_INVALID, "%s: missing required key "
				  "'qwen.attention.layer_norm_rms_epsilon' (or "
				  "'qwen.attention.layer_norm_epsilon')", gf_name(g->f));
	hp->rope.beta_fast = 32;
	hp->rope.beta_slow = 1;
	hp->rope.truncate = true;
	if ((rc = read_attention(g, hp)) || (rc = read_rope_scaling(g, hp)) ||
	    (rules[hp->arch].vl && (rc = read_vl(g, hp))) ||
	    (rules[hp->arch].moe && (rc = read_moe(g, hp))) ||
	    (rules[hp->arch].next && (rc = read_ssm(g, hp))) || (rc = read_vocab(g, hp)) ||
	    (rc = get_token(g, ".tokenizer.ggml.bos_token_id", &hp->bos_token_id)) ||
	    (rc = get_token(g, ".tokenizer.ggml.eos_token_id", &hp->eos_token_id)) ||
	    (rc = get_token(g, ".tokenizer.ggml.padding_token_id", &hp->pad_token_id)))
		return rc;
	/* neither dynamic NTK nor logn attention exists in llama.cpp's qwen */
	hp->seq_length = hp->arch == QK_ARCH_QWEN ? hp->n_ctx_train : 0;
	return QK_OK;
}

int qk_hparams_from_gguf(struct qk_hparams *hp, const struct gf_file *f, qk_err *err)
{
	struct qk_hparams tmp;
	struct gk g = { .f = f, .arch = "", .err = err };
	int rc;

	memset(hp, 0, sizeof(*hp));
	memset(&tmp, 0, sizeof(tmp));
	tmp.bos_token_id = tmp.eos_token_id = tmp.pad_token_id = -1;
	rc = read_all(&g, &tmp);
	if (rc)
		return rc;
	*hp = tmp;
	return QK_OK;
}
