/* hparams_hf.c - config.json -> struct qk_hparams; see hparams.h.
 *
 * Defaults are the transformers classes' (configuration_qwen2.py, _qwen2_moe,
 * _qwen3, _qwen3_moe, _qwen3_next at transformers 5.x, and Qwen's remote
 * configuration_qwen.py for Qwen1), except for the fields a model cannot be
 * built without, which are required: vocab_size, hidden_size,
 * num_hidden_layers, num_attention_heads, and intermediate_size for the
 * dense classes. RoPE follows the current transformers semantics
 * (hparams_rope.c).
 */
#include "hparams.h"
#include "hparams_hf_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "../base/io.h"
#include "../base/json.h"
#include "../base/path.h"

static const struct arch_rule rules[QK_ARCH_COUNT] = {
	[QK_ARCH_QWEN] = { "layer_norm_epsilon", 8192, 0, 128, NULL, true, false, false, 1.0,
			   0, 0, 0, 0, false, false, false, QK_VL_NONE, 0 },
	[QK_ARCH_QWEN2] = { "rms_norm_eps", 32768, 0, 0, NULL, true, false, false, 1.0,
			    0, 0, 0, 0, false, false, false, QK_VL_NONE, 0 },
	[QK_ARCH_QWEN2MOE] = { "rms_norm_eps", 32768, 5632, 0, "qkv_bias", true, false, false,
			       1.0, 60, 4, 1408, 5632, false, false, false, QK_VL_NONE, 0 },
	[QK_ARCH_QWEN3] = { "rms_norm_eps", 32768, 0, 128, "attention_bias", false, true, false,
			    1.0, 0, 0, 0, 0, false, false, false, QK_VL_NONE, 0 },
	[QK_ARCH_QWEN3MOE] = { "rms_norm_eps", 32768, 6144, 0, "attention_bias", false, true,
			       false, 1.0, 128, 8, 768, 0, false, false, false, QK_VL_NONE, 0 },
	[QK_ARCH_QWEN3NEXT] = { "rms_norm_eps", 32768, 5632, 256, "attention_bias", false, true,
				true, 0.25, 512, 10, 512, 512, true, false, false, QK_VL_NONE, 0 },
	[QK_ARCH_QWEN35] = { "rms_norm_eps", 32768, 12288, 256, "attention_bias", false, true,
			     true, 0.25, 0, 0, 0, 0, false, false, true, QK_VL_NONE, 0 },
	[QK_ARCH_QWEN35MOE] = { "rms_norm_eps", 32768, 0, 256, "attention_bias", false, true,
				true, 0.25, 256, 8, 512, 512, true, true, true, QK_VL_NONE, 0 },
	/* Qwen2VLTextConfig / Qwen2_5_VLTextConfig: Qwen2 with q/k/v bias always,
	 * rms_norm_eps 1e-5 by default */
	[QK_ARCH_QWEN2VL] = { "rms_norm_eps", 32768, 0, 0, NULL, true, false, false, 1.0,
			      0, 0, 0, 0, false, false, false, QK_VL_CHUNKED, 1e-5 },
	[QK_ARCH_QWEN3VL] = { "rms_norm_eps", 128000, 0, 128, "attention_bias", false, true,
			      false, 1.0, 0, 0, 0, 0, false, false, false, QK_VL_INTERLEAVED, 0 },
	/* Qwen3VLMoeTextConfig: num_experts (5.x configs: num_local_experts) */
	[QK_ARCH_QWEN3VLMOE] = { "rms_norm_eps", 128000, 5632, 128, "attention_bias", false, true,
				 false, 1.0, 60, 4, 1408, 0, true, false, false, QK_VL_INTERLEAVED,
				 0 },
};

/* architectures[0] (or model_type) -> arch */
static int pick_arch(const struct cfg *c, int *arch)
{
	struct item it;
	char val[80], list[256] = "";
	const char *name = NULL, *what = "architecture";
	int rc = hf_find(c, "architectures", &it);

	for (int a = 0; a < QK_ARCH_COUNT; a++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", a ? ", " : "",
			 qk_arch_hf_name(a));
	if (rc)
		return rc;
	if (it.v) {
		if (!cJSON_IsArray(it.v))
			return hf_bad(c, &it, "a list of class names");
		if (cJSON_GetArraySize(it.v) > 0) {
			const cJSON *first = cJSON_GetArrayItem(it.v, 0);
			if (!cJSON_IsString(first)) {
				it.v = first;
				strncat(it.path, "[0]", sizeof(it.path) - strlen(it.path) - 1);
				return hf_bad(c, &it, "a class name string");
			}
			name = first->valuestring;
			*arch = qk_arch_from_hf(name);
			hf_describe(first, val, sizeof(val));
		}
	}
	if (!name) {
		if ((rc = hf_find(c, "model_type", &it)))
			return rc;
		if (!it.v)
			return qk_err_set(c->err, QK_E_INVALID,
					  "%s: neither 'architectures' nor 'model_type' is present, "
					  "expected one of them to name the model class", c->fname);
		if (!cJSON_IsString(it.v))
			return hf_bad(c, &it, "a model type string");
		*arch = qk_arch_from_model_type(it.v->valuestring);
		hf_describe(it.v, val, sizeof(val));
		what = "model_type";
	}
	if (*arch < 0)
		return qk_err_set(c->err, QK_E_UNSUPPORTED,
				  "%s: %s %s is not supported; supported: %s", c->fname, what, val,
				  list);
	return QK_OK;
}

/* ---- attention shape ---- */

static int parse_attention(const struct cfg *c, const struct arch_rule *r,
			   struct qk_hparams *hp)
{
	struct item it;
	uint64_t q_width;
	int rc;

	if (hp->arch == QK_ARCH_QWEN) {
		/* MHA; kv_channels is the head width, and the remote code splits
		 * c_attn by hidden_size, so the two must agree */
		hp->n_head_kv = hp->n_head;
		if ((rc = hf_opt_u32(c, "kv_channels", 128, 1, UINT32_MAX, &hp->head_dim)))
			return rc;
		if ((uint64_t)hp->head_dim * hp->n_head != hp->n_embd)
			return qk_err_set(c->err, QK_E_INVALID,
					  "%s: 'kv_channels' %u x 'num_attention_heads' %u = %llu, "
					  "expected 'hidden_size' %u", c->fname, (unsigned)hp->head_dim,
					  (unsigned)hp->n_head,
					  (unsigned long long)hp->head_dim * hp->n_head,
					  (unsigned)hp->n_embd);
		if ((rc = hf_opt_num(c, NULL, "", "rotary_pct", 1.0, 0, 1, true, "a number in (0, 1]",
				  &hp->partial_rotary_factor)) ||
		    (rc = hf_opt_num(c, NULL, "", "rotary_emb_base", 10000.0, 0, HUGE_VAL, true,
				  "a number > 0", &hp->rope_theta)))
			return rc;
	} else {
		if ((rc = hf_opt_u32(c, "num_key_value_heads", hp->n_head, 1, UINT32_MAX,
				  &hp->n_head_kv)))
			return rc;
		if (hp->n_head % hp->n_head_kv)
			return qk_err_set(c->err, QK_E_INVALID,
					  "%s: 'num_key_value_heads' %u does not divide "
					  "'num_attention_heads' %u", c->fname, (unsigned)hp->n_head_kv,
					  (unsigned)hp->n_head);
		if ((rc = hf_find(c, "head_dim", &it)))
			return rc;
		if (it.v) {
			if ((rc = hf_u32_of(c, &it, 1, UINT32_MAX, &hp->head_dim)))
				return rc;
		} else if (r->head_dim_def) {
			hp->head_dim = r->head_dim_def;
		} else if (hp->n_embd % hp->n_head) {
			return qk_err_set(c->err, QK_E_INVALID,
					  "%s: 'num_attention_heads' %u does not divide 'hidden_size' "
					  "%u and there is no 'head_dim'", c->fname,
					  (unsigned)hp->n_head, (unsigned)hp->n_embd);
		} else {
			hp->head_dim = hp->n_embd / hp->n_head;
		}
		if ((rc = hf_parse_rope(c, r, hp)))
			return rc;
	}
	q_width = (uint64_t)hp->n_head * hp->head_dim * (r->next ? 2 : 1);
	if (q_width > UINT32_MAX)
		return qk_err_set(c->err, QK_E_INVALID,
				  "%s: %u heads x head_dim %u = %llu query rows, expected at most %u",
				  c->fname, (unsigned)hp->n_head, (unsigned)hp->head_dim,
				  (unsigned long long)q_width, (unsigned)UINT32_MAX);
	/* int() truncation, as transformers and the Qwen1 code compute it */
	hp->n_rot = (uint32_t)((double)hp->head_dim * hp->partial_rotary_factor);
	if (hp->n_rot < 2 || hp->n_rot % 2)
		return qk_err_set(c->err, QK_E_INVALID,
				  "%s: rotary width head_dim %u x %s %g = %u, expected an even "
				  "number >= 2", c->fname, (unsigned)hp->head_dim,
				  hp->arch == QK_ARCH_QWEN ? "rotary_pct" : "partial_rotary_factor",
				  hp->partial_rotary_factor, (unsigned)hp->n_rot);
	hp->attn_bias = r->bias_def;
	if (r->bias_key && (rc = hf_opt_bool(c, NULL, "", r->bias_key, r->bias_def, &hp->attn_bias)))
		return rc;
	hp->qk_norm = r->qk_norm;
	hp->zero_centred_norm = r->next;
	hp->attn_output_gate = r->next;
	return QK_OK;
}

/* ---- MoE ---- */

/* A layer is sparse iff it is not in mlp_only_layers and (i + 1) is a
 * multiple of decoder_sparse_step (qwen-forward-math §2.1). */
static int parse_moe(const struct cfg *c, const struct arch_rule *r, struct qk_hparams *hp)
{
	struct item it;
	const cJSON *e;
	int rc, idx = 0;

	if ((rc = hf_find(c, "num_experts", &it)))
		return rc;
	if (!it.v && (rc = hf_find(c, "num_local_experts", &it)))
		return rc;
	hp->n_expert = r->n_expert_def;
	if (it.v && (rc = hf_u32_of(c, &it, 1, QK_MAX_EXPERTS, &hp->n_expert)))
		return rc;
	if ((rc = hf_opt_u32(c, "num_experts_per_tok", r->n_used_def, 1, UINT32_MAX,
			  &hp->n_expert_used)) ||
	    (rc = hf_opt_u32(c, "moe_intermediate_size", r->ff_exp_def, 1, UINT32_MAX,
			  &hp->n_ff_exp)) ||
	    (rc = hf_opt_bool(c, NULL, "", "norm_topk_prob", r->norm_topk_def,
			   &hp->norm_topk_prob)) ||
	    (rc = hf_opt_u32(c, "decoder_sparse_step", 1, 1, UINT32_MAX,
			  &hp->decoder_sparse_step)))
		return rc;
	if (r->ff_shexp_def &&
	    (rc = hf_opt_u32(c, "shared_expert_intermediate_size", r->ff_shexp_def, 1, UINT32_MAX,
			  &hp->n_ff_shexp)))
		return rc;
	if (hp->n_expert_used > hp->n_expert)
		return qk_err_set(c->err, QK_E_INVALID,
				  "%s: 'num_experts_per_tok' %u is more than 'num_experts' %u",
				  c->fname, (unsigned)hp->n_expert_used, (unsigned)hp->n_expert);
	for (uint32_t i = 0; i < hp->n_layer; i++)
		if ((i + 1) % hp->decoder_sparse_step == 0)
			hp->layer_flags[i] |= QK_LAYER_MOE;

	if ((rc = hf_find(c, "mlp_only_layers", &it)))
		return rc;
	if (!it.v)
		return QK_OK;
	if (!cJSON_IsArray(it.v))
		return hf_bad(c, &it, "a list of layer indices");
	cJSON_ArrayForEach(e, it.v) {
		struct item el = { .v = e };
		uint32_t l;

		hf_index_path(&el, it.path, idx++);
		if ((rc = hf_u32_of(c, &el, 0, hp->n_layer - 1, &l)))
			return rc;
		hp->layer_flags[l] &= (uint8_t)~QK_LAYER_MOE;
	}
	return QK_OK;
}

/* ---- Qwen3-Next linear attention ---- */

static const struct {
	const char *name;
	bool linear;
} layer_kinds[] = {
	{ "linear_attention", true },
	{ "full_attention", false },
	{ "mamba", true },      /* legacy names transformers still remaps */
	{ "attention", false },
};

/* The interval k with "full iff (i+1) % k == 0" that the flags follow, or 0
 * when they follow none (llama.cpp can only express such a pattern). */
static uint32_t detect_interval(const struct qk_hparams *hp)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < hp->n_layer && !k; i++)
		if (!(hp->layer_flags[i] & QK_LAYER_LINEAR))
			k = i + 1;
	for (uint32_t i = 0; k && i < hp->n_layer; i++)
		if (!(hp->layer_flags[i] & QK_LAYER_LINEAR) != ((i + 1) % k == 0))
			return 0;
	return k;
}

static int parse_next(const struct cfg *c, struct qk_hparams *hp)
{
	struct item it;
	const cJSON *e;
	int rc, idx = 0;

	if ((rc = hf_opt_u32(c, "linear_conv_kernel_dim", 4, 1, UINT32_MAX, &hp->ssm_d_conv)) ||
	    (rc = hf_opt_u32(c, "linear_key_head_dim", 128, 1, UINT32_MAX, &hp->ssm_head_k_dim)) ||
	    (rc = hf_opt_u32(c, "linear_value_head_dim", 128, 1, UINT32_MAX, &hp->ssm_head_v_dim)) ||
	    (rc = hf_opt_u32(c, "linear_num_key_heads", 16, 1, UINT32_MAX, &hp->ssm_n_k_heads)) ||
	    (rc = hf_opt_u32(c, "linear_num_value_heads", 32, 1, UINT32_MAX, &hp->ssm_n_v_heads)) ||
	    (rc = hf_opt_u32(c, "mtp_num_hidden_layers", 0, 0, QK_MAX_LAYERS, &hp->n_mtp_layers)))
		return rc;
	if (hp->ssm_n_v_heads % hp->ssm_n_k_heads)
		return qk_err_set(c->err, QK_E_INVALID,
				  "%s: 'linear_num_value_heads' %u is not a multiple of "
				  "'linear_num_key_heads' %u", c->fname, (unsigned)hp->ssm_n_v_heads,
				  (unsigned)hp->ssm_n_k_heads);
	/* the in_proj_qkvz rows: 2 nk dk + 2 nv dv must fit */
	if ((uint64_t)hp->ssm_n_k_heads * hp->ssm_head_k_dim * 2 +
		    (uint64_t)hp->ssm_n_v_heads * hp->ssm_head_v_dim * 2 > UINT32_MAX)
		return qk_err_set(c->err, QK_E_INVALID,
				  "%s: linear attention projection of %u key heads x %u + %u value "
				  "heads x %u is too large", c->fname, (unsigned)hp->ssm_n_k_heads,
				  (unsigned)hp->ssm_head_k_dim, (unsigned)hp->ssm_n_v_heads,
				  (unsigned)hp->ssm_head_v_dim);

	if ((rc = hf_find(c, "layer_types", &it)))
		return rc;
	if (!it.v) {
		if ((rc = hf_opt_u32(c, "full_attention_interval", 4, 1, UINT32_MAX,
				  &hp->full_attention_interval)))
			return rc;
		for (uint32_t i = 0; i < hp->n_layer; i++)
			if ((i + 1) % hp->full_attention_interval)
				hp->layer_flags[i] |= QK_LAYER_LINEAR;
		return QK_OK;
	}
	if (!cJSON_IsArray(it.v))
		return hf_bad(c, &it, "a list of layer kinds");
	if ((uint32_t)cJSON_GetArraySize(it.v) != hp->n_layer || cJSON_GetArraySize(it.v) < 0)
		return qk_err_set(c->err, QK_E_INVALID,
				  "%s: '%s' has %d entries, expected one per layer "
				  "('num_hidden_layers' %u)", c->fname, it.path,
				  cJSON_GetArraySize(it.v), (unsigned)hp->n_layer);
	cJSON_ArrayForEach(e, it.v) {
		struct item el = { .v = e };
		size_t k = 0, nk = sizeof(layer_kinds) / sizeof(layer_kinds[0]);

		hf_index_path(&el, it.path, idx);
		while (cJSON_IsString(e) && k < nk && strcmp(e->valuestring, layer_kinds[k].name))
			k++;
		if (!cJSON_IsString(e) || k == nk)
			return hf_bad(c, &el, "\"linear_attention\" or \"full_attention\"");
		if (layer_kinds[k].linear)
			hp->layer_flags[idx] |= QK_LAYER_LINEAR;
		idx++;
	}
	hp->full_attention_interval = detect_interval(hp);
	return QK_OK;
}

/* ---- Qwen1 extras ---- */

static int parse_qwen1(const struct cfg *c, struct qk_hparams *hp)
{
	struct item it;
	int rc;

	if ((rc = hf_opt_bool(c, NULL, "", "use_dynamic_ntk", true, &hp->use_dynamic_ntk)) ||
	    (rc = hf_opt_bool(c, NULL, "", "use_logn_attn", true, &hp->use_logn_attn)) ||
	    (rc = hf_find(c, "seq_length", &it)))
		return rc;
	/* not a QWenConfig default: the remote code needs it from config.json,
	 * and its value only matters to dynamic NTK and logn attention */
	hp->seq_length = hp->n_ctx_train;
	if (it.v)
		return hf_u32_of(c, &it, 1, UINT32_MAX, &hp->seq_length);
	if (hp->use_dynamic_ntk || hp->use_logn_attn)
		return hf_missing(c, "seq_length",
			       "an integer >= 1, needed by use_dynamic_ntk and use_logn_attn");
	return QK_OK;
}

/* ---- special tokens ---- */

/* bos/eos/pad: absent or null -> -1; eos_token_id may be a list, of which
 * the first id is taken (generation stops at any of them; one is stored). */
static int token_id(const struct cfg *c, const char *key, bool list_ok, int64_t *out)
{
	struct item it;
	uint32_t v;
	int rc = hf_find(c, key, &it);

	*out = -1;
	if (rc || !it.v)
		return rc;
	if (list_ok && cJSON_IsArray(it.v)) {
		if (cJSON_GetArraySize(it.v) == 0)
			return QK_OK;
		it.v = cJSON_GetArrayItem(it.v, 0);
		strncat(it.path, "[0]", sizeof(it.path) - strlen(it.path) - 1);
	}
	if ((rc = hf_u32_of(c, &it, 0, INT32_MAX, &v)))
		return rc;
	*out = v;
	return QK_OK;
}

/* ---- the whole config ---- */

static int parse(const struct cfg *c, struct qk_hparams *hp)
{
	const struct arch_rule *r;
	int rc;

	if ((rc = pick_arch(c, &hp->arch)))
		return rc;
	r = &rules[hp->arch];
	if ((rc = hf_req_u32(c, "vocab_size", 1, UINT32_MAX, &hp->n_vocab)) ||
	    (rc = hf_req_u32(c, "hidden_size", 1, UINT32_MAX, &hp->n_embd)) ||
	    (rc = hf_req_u32(c, "num_hidden_layers", 1, QK_MAX_LAYERS, &hp->n_layer)) ||
	    (rc = hf_req_u32(c, "num_attention_heads", 1, UINT32_MAX, &hp->n_head)) ||
	    (rc = (r->ff_def || r->ff_none
			   ? hf_opt_u32(c, "intermediate_size", r->ff_def, 1, UINT32_MAX, &hp->n_ff_config)
			   : hf_req_u32(c, "intermediate_size", 1, UINT32_MAX, &hp->n_ff_config))) ||
	    (rc = hf_opt_u32(c, "max_position_embeddings", r->ctx_def, 1, UINT32_MAX,
			  &hp->n_ctx_train)) ||
	    (rc = hf_opt_num(c, NULL, "", r->eps_key, r->eps_def > 0 ? r->eps_def : 1e-6, 0, 1,
			  true, "a number in (0, 1]",
			  &hp->norm_eps)) ||
	    (rc = hf_opt_bool(c, NULL, "", "tie_word_embeddings", false, &hp->tie_word_embeddings)))
		return rc;
	hp->n_ff = hp->n_ff_config;
	hp->rope.type = QK_ROPE_DEFAULT;
	hp->rope.factor = 1.0;
	hp->rope.beta_fast = 32;
	hp->rope.beta_slow = 1;
	hp->rope.truncate = true;
	if (hp->arch == QK_ARCH_QWEN) {
		/* w1 and w2 are each intermediate_size / 2 wide */
		if (hp->n_ff_config % 2)
			return qk_err_set(c->err, QK_E_INVALID,
					  "%s: 'intermediate_size' %u is odd, expected an even number "
					  "(Qwen1 MLP halves are intermediate_size / 2)", c->fname,
					  (unsigned)hp->n_ff_config);
		hp->n_ff = hp->n_ff_config / 2;
	}
	if ((rc = parse_attention(c, r, hp)))
		return rc;
	if (r->n_expert_def && (rc = parse_moe(c, r, hp)))
		return rc;
	/* Qwen3_5MoeSparseMoeBlock and Qwen3VLMoeTextTopKRouter renormalise the
	 * top-k weights whatever the config says (they have no norm_topk_prob) */
	if ((r->q35 || r->vl) && r->n_expert_def)
		hp->norm_topk_prob = true;
	hp->ssm_v_tiled = r->q35;
	if (r->vl == QK_VL_INTERLEAVED && (rc = hf_parse_deepstack(c, hp)))
		return rc;
	if (r->next && (rc = parse_next(c, hp)))
		return rc;
	if (hp->arch == QK_ARCH_QWEN && (rc = parse_qwen1(c, hp)))
		return rc;
	if ((rc = token_id(c, "bos_token_id", false, &hp->bos_token_id)) ||
	    (rc = token_id(c, "eos_token_id", true, &hp->eos_token_id)) ||
	    (rc = token_id(c, "pad_token_id", false, &hp->pad_token_id)))
		return rc;
	return QK_OK;
}

int qk_hparams_from_config(struct qk_hparams *hp, const char *json, size_t len,
			   const char *fname, qk_err *err)
{
	struct qk_hparams tmp;
	struct cfg c = { .fname = fname ? fname : "config.json", .err = err };
	struct item tc;
	cJSON *root;
	int rc;

	memset(hp, 0, sizeof(*hp));
	rc = qk_json_parse(json, len, c.fname, 0, &root, err);
	if (rc)
		return rc;
	if (!cJSON_IsObject(root)) {
		rc = qk_err_set(err, QK_E_INVALID, "%s: top level is %s, expected a JSON object",
				c.fname, qk_json_kind(root));
		cJSON_Delete(root);
		return rc;
	}
	c.root = root;
	memset(&tmp, 0, sizeof(tmp));
	rc = hf_look(&c, root, "", "text_config", &tc);
	if (!rc && tc.v && !cJSON_IsObject(tc.v))
		rc = hf_bad(&c, &tc, "an object");
	if (!rc) {
		c.text = tc.v;
		rc = parse(&c, &tmp);
	}
	cJSON_Delete(root);
	if (rc)
		return rc;
	*hp = tmp;
	return QK_OK;
}

int qk_hparams_load_config(struct qk_hparams *hp, const char *dir, qk_err *err)
{
	char *path, *text = NULL;
	size_t len = 0;
	int rc;

	memset(hp, 0, sizeof(*hp));
	if (!dir)
		return qk_err_set(err, QK_E_USAGE, "no model directory given");
	path = qk_path_join(dir, "config.json");
	if (!path)
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", dir);
	rc = qk_read_file(path, QK_JSON_MAX_BYTES, &text, &len, err);
	if (!rc)
		rc = qk_hparams_from_config(hp, text, len, path, err);
	free(text);
	free(path);
	return rc;
}
