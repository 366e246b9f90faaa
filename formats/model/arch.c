/* arch.c - dimension rules, names and pattern matching of the architecture
 * tables; the tables themselves are in arch_tables.c. See arch.h. */
#include "arch.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../base/io.h"

/* ---- roles ---- */

static const struct {
	const char *name;
	uint8_t kind;
	bool expert;
} roles[QK_ROLE_COUNT] = {
	[QK_R_TOKEN_EMBD] = { "token_embd", QK_KIND_MATRIX, false },
	[QK_R_OUTPUT_NORM] = { "output_norm", QK_KIND_SMALL, false },
	[QK_R_OUTPUT] = { "output", QK_KIND_MATRIX, false },
	[QK_R_ATTN_NORM] = { "attn_norm", QK_KIND_SMALL, false },
	[QK_R_ATTN_Q] = { "attn_q", QK_KIND_MATRIX, false },
	[QK_R_ATTN_Q_B] = { "attn_q.bias", QK_KIND_SMALL, false },
	[QK_R_ATTN_K] = { "attn_k", QK_KIND_MATRIX, false },
	[QK_R_ATTN_K_B] = { "attn_k.bias", QK_KIND_SMALL, false },
	[QK_R_ATTN_V] = { "attn_v", QK_KIND_MATRIX, false },
	[QK_R_ATTN_V_B] = { "attn_v.bias", QK_KIND_SMALL, false },
	[QK_R_ATTN_QKV] = { "attn_qkv", QK_KIND_MATRIX, false },
	[QK_R_ATTN_QKV_B] = { "attn_qkv.bias", QK_KIND_SMALL, false },
	[QK_R_ATTN_GATE] = { "attn_gate", QK_KIND_MATRIX, false },
	[QK_R_ATTN_OUT] = { "attn_output", QK_KIND_MATRIX, false },
	[QK_R_ATTN_OUT_B] = { "attn_output.bias", QK_KIND_SMALL, false },
	[QK_R_ATTN_Q_NORM] = { "attn_q_norm", QK_KIND_SMALL, false },
	[QK_R_ATTN_K_NORM] = { "attn_k_norm", QK_KIND_SMALL, false },
	[QK_R_FFN_NORM] = { "ffn_norm", QK_KIND_SMALL, false },
	[QK_R_ATTN_POST_NORM] = { "post_attention_norm", QK_KIND_SMALL, false },
	[QK_R_FFN_GATE] = { "ffn_gate", QK_KIND_MATRIX, false },
	[QK_R_FFN_UP] = { "ffn_up", QK_KIND_MATRIX, false },
	[QK_R_FFN_DOWN] = { "ffn_down", QK_KIND_MATRIX, false },
	[QK_R_FFN_GATE_INP] = { "ffn_gate_inp", QK_KIND_MATRIX, false },
	[QK_R_FFN_GATE_EXPS] = { "ffn_gate_exps", QK_KIND_MATRIX, true },
	[QK_R_FFN_UP_EXPS] = { "ffn_up_exps", QK_KIND_MATRIX, true },
	[QK_R_FFN_DOWN_EXPS] = { "ffn_down_exps", QK_KIND_MATRIX, true },
	[QK_R_FFN_GATE_SHEXP] = { "ffn_gate_shexp", QK_KIND_MATRIX, false },
	[QK_R_FFN_UP_SHEXP] = { "ffn_up_shexp", QK_KIND_MATRIX, false },
	[QK_R_FFN_DOWN_SHEXP] = { "ffn_down_shexp", QK_KIND_MATRIX, false },
	[QK_R_FFN_GATE_INP_SHEXP] = { "ffn_gate_inp_shexp", QK_KIND_SMALL, false },
	[QK_R_SSM_A] = { "ssm_a", QK_KIND_SMALL, false },
	[QK_R_SSM_DT_B] = { "ssm_dt.bias", QK_KIND_SMALL, false },
	[QK_R_SSM_CONV1D] = { "ssm_conv1d", QK_KIND_SMALL, false },
	[QK_R_SSM_BA] = { "ssm_ba", QK_KIND_MATRIX, false },
	[QK_R_SSM_BETA] = { "ssm_beta", QK_KIND_MATRIX, false },
	[QK_R_SSM_ALPHA] = { "ssm_alpha", QK_KIND_MATRIX, false },
	[QK_R_SSM_NORM] = { "ssm_norm", QK_KIND_SMALL, false },
	[QK_R_SSM_OUT] = { "ssm_out", QK_KIND_MATRIX, false },
	[QK_R_MTP_FC] = { "mtp_fc", QK_KIND_MATRIX, false },
	[QK_R_MTP_NORM_EMB] = { "mtp_pre_fc_norm_embedding", QK_KIND_SMALL, false },
	[QK_R_MTP_NORM_HID] = { "mtp_pre_fc_norm_hidden", QK_KIND_SMALL, false },
	[QK_R_MTP_NORM] = { "mtp_norm", QK_KIND_SMALL, false },
	[QK_R_VISION] = { "vision", QK_KIND_NONE, false },
	[QK_R_PROJECTOR] = { "projector", QK_KIND_NONE, false },
	[QK_R_V_PATCH] = { "v.patch_embd", QK_KIND_MATRIX, false },
	[QK_R_V_PATCH_1] = { "v.patch_embd.1", QK_KIND_MATRIX, false },
	[QK_R_V_PATCH_B] = { "v.patch_embd.bias", QK_KIND_SMALL, false },
	[QK_R_V_POS] = { "v.position_embd", QK_KIND_MATRIX, false },
	[QK_R_V_LN1] = { "v.ln1", QK_KIND_SMALL, false },
	[QK_R_V_LN1_B] = { "v.ln1.bias", QK_KIND_SMALL, false },
	[QK_R_V_ATTN_Q] = { "v.attn_q", QK_KIND_MATRIX, false },
	[QK_R_V_ATTN_Q_B] = { "v.attn_q.bias", QK_KIND_SMALL, false },
	[QK_R_V_ATTN_K] = { "v.attn_k", QK_KIND_MATRIX, false },
	[QK_R_V_ATTN_K_B] = { "v.attn_k.bias", QK_KIND_SMALL, false },
	[QK_R_V_ATTN_V] = { "v.attn_v", QK_KIND_MATRIX, false },
	[QK_R_V_ATTN_V_B] = { "v.attn_v.bias", QK_KIND_SMALL, false },
	[QK_R_V_ATTN_QKV] = { "v.attn_qkv", QK_KIND_MATRIX, false },
	[QK_R_V_ATTN_QKV_B] = { "v.attn_qkv.bias", QK_KIND_SMALL, false },
	[QK_R_V_ATTN_OUT] = { "v.attn_out", QK_KIND_MATRIX, false },
	[QK_R_V_ATTN_OUT_B] = { "v.attn_out.bias", QK_KIND_SMALL, false },
	[QK_R_V_LN2] = { "v.ln2", QK_KIND_SMALL, false },
	[QK_R_V_LN2_B] = { "v.ln2.bias", QK_KIND_SMALL, false },
	[QK_R_V_FFN_UP] = { "v.ffn_up", QK_KIND_MATRIX, false },
	[QK_R_V_FFN_UP_B] = { "v.ffn_up.bias", QK_KIND_SMALL, false },
	[QK_R_V_FFN_GATE] = { "v.ffn_gate", QK_KIND_MATRIX, false },
	[QK_R_V_FFN_GATE_B] = { "v.ffn_gate.bias", QK_KIND_SMALL, false },
	[QK_R_V_FFN_DOWN] = { "v.ffn_down", QK_KIND_MATRIX, false },
	[QK_R_V_FFN_DOWN_B] = { "v.ffn_down.bias", QK_KIND_SMALL, false },
	[QK_R_V_POST_LN] = { "v.post_ln", QK_KIND_SMALL, false },
	[QK_R_V_POST_LN_B] = { "v.post_ln.bias", QK_KIND_SMALL, false },
	[QK_R_V_MM0] = { "mm.0", QK_KIND_MATRIX, false },
	[QK_R_V_MM0_B] = { "mm.0.bias", QK_KIND_SMALL, false },
	[QK_R_V_MM2] = { "mm.2", QK_KIND_MATRIX, false },
	[QK_R_V_MM2_B] = { "mm.2.bias", QK_KIND_SMALL, false },
	[QK_R_V_DS_NORM] = { "v.deepstack.norm", QK_KIND_SMALL, false },
	[QK_R_V_DS_NORM_B] = { "v.deepstack.norm.bias", QK_KIND_SMALL, false },
	[QK_R_V_DS_FC1] = { "v.deepstack.fc1", QK_KIND_MATRIX, false },
	[QK_R_V_DS_FC1_B] = { "v.deepstack.fc1.bias", QK_KIND_SMALL, false },
	[QK_R_V_DS_FC2] = { "v.deepstack.fc2", QK_KIND_MATRIX, false },
	[QK_R_V_DS_FC2_B] = { "v.deepstack.fc2.bias", QK_KIND_SMALL, false },
};

static const char *const xform_names[QK_X_COUNT] = {
	[QK_X_NONE] = "none",
	[QK_X_STACK] = "stack experts",
	[QK_X_SPLIT_GATE_UP] = "split gate_up",
	[QK_X_SPLIT_QKVZ] = "split qkvz",
	[QK_X_NEG_EXP] = "-exp",
	[QK_X_PLUS_ONE] = "w+1",
	[QK_X_SQUEEZE] = "squeeze",
	[QK_X_V_REORDER] = "v-head reorder",
	[QK_X_TRANSPOSE] = "transpose",
};

const char *qk_role_name(int role)
{
	return role >= 0 && role < QK_ROLE_COUNT ? roles[role].name : NULL;
}

int qk_role_kind(int role)
{
	return role >= 0 && role < QK_ROLE_COUNT ? roles[role].kind : -1;
}

bool qk_role_is_expert(int role)
{
	return role >= 0 && role < QK_ROLE_COUNT && roles[role].expert;
}

const char *qk_xform_name(int xform)
{
	return xform >= 0 && xform < QK_X_COUNT ? xform_names[xform] : "?";
}

bool qk_when_applies(int when, unsigned layer_flags)
{
	switch (when) {
	case QK_W_ALL: return true;
	case QK_W_FULL: return !(layer_flags & QK_LAYER_LINEAR);
	case QK_W_LINEAR: return (layer_flags & QK_LAYER_LINEAR) != 0;
	case QK_W_MOE: return (layer_flags & QK_LAYER_MOE) != 0;
	case QK_W_DENSE: return !(layer_flags & QK_LAYER_MOE);
	default: return false; /* global rows belong to no layer */
	}
}

/* ---- dimensions ---- */

/* hparams fields a dimension is built from, with the config.json name that
 * messages show */
enum { F_ONE = 0, F_VOCAB, F_EMBD, F_HEAD, F_HEAD_KV, F_HEAD_DIM, F_FF, F_FF_HALF, F_FF_EXP,
       F_FF_SHEXP, F_EXPERT, F_NK, F_DK, F_NV, F_DV, F_DCONV, F_COUNT };

static const struct {
	const char *name;
	size_t off;
} fields[F_COUNT] = {
	[F_ONE] = { NULL, 0 },
	[F_VOCAB] = { "vocab_size", offsetof(struct qk_hparams, n_vocab) },
	[F_EMBD] = { "hidden_size", offsetof(struct qk_hparams, n_embd) },
	[F_HEAD] = { "num_attention_heads", offsetof(struct qk_hparams, n_head) },
	[F_HEAD_KV] = { "num_key_value_heads", offsetof(struct qk_hparams, n_head_kv) },
	[F_HEAD_DIM] = { "head_dim", offsetof(struct qk_hparams, head_dim) },
	[F_FF] = { "intermediate_size", offsetof(struct qk_hparams, n_ff) },
	[F_FF_HALF] = { "intermediate_size / 2", offsetof(struct qk_hparams, n_ff) },
	[F_FF_EXP] = { "moe_intermediate_size", offsetof(struct qk_hparams, n_ff_exp) },
	[F_FF_SHEXP] = { "shared_expert_intermediate_size",
			 offsetof(struct qk_hparams, n_ff_shexp) },
	[F_EXPERT] = { "num_experts", offsetof(struct qk_hparams, n_expert) },
	[F_NK] = { "linear_num_key_heads", offsetof(struct qk_hparams, ssm_n_k_heads) },
	[F_DK] = { "linear_key_head_dim", offsetof(struct qk_hparams, ssm_head_k_dim) },
	[F_NV] = { "linear_num_value_heads", offsetof(struct qk_hparams, ssm_n_v_heads) },
	[F_DV] = { "linear_value_head_dim", offsetof(struct qk_hparams, ssm_head_v_dim) },
	[F_DCONV] = { "linear_conv_kernel_dim", offsetof(struct qk_hparams, ssm_d_conv) },
};

/* value = c1 * a * b + c2 * c * d (F_ONE = 1; c2 == 0: no second term) */
static const struct {
	uint8_t c1, a, b, c2, c, d;
} dims[QK_D_COUNT] = {
	[QK_D_1] = { 1, F_ONE, F_ONE, 0, 0, 0 },
	[QK_D_VOCAB] = { 1, F_VOCAB, F_ONE, 0, 0, 0 },
	[QK_D_EMBD] = { 1, F_EMBD, F_ONE, 0, 0, 0 },
	[QK_D_2EMBD] = { 2, F_EMBD, F_ONE, 0, 0, 0 },
	[QK_D_Q] = { 1, F_HEAD, F_HEAD_DIM, 0, 0, 0 },
	[QK_D_QG] = { 2, F_HEAD, F_HEAD_DIM, 0, 0, 0 },
	[QK_D_3Q] = { 3, F_HEAD, F_HEAD_DIM, 0, 0, 0 },
	[QK_D_KV] = { 1, F_HEAD_KV, F_HEAD_DIM, 0, 0, 0 },
	[QK_D_HEAD] = { 1, F_HEAD_DIM, F_ONE, 0, 0, 0 },
	[QK_D_FF] = { 1, F_FF, F_ONE, 0, 0, 0 },
	[QK_D_FF_HALF] = { 1, F_FF_HALF, F_ONE, 0, 0, 0 },
	[QK_D_FF_EXP] = { 1, F_FF_EXP, F_ONE, 0, 0, 0 },
	[QK_D_2FF_EXP] = { 2, F_FF_EXP, F_ONE, 0, 0, 0 },
	[QK_D_FF_SHEXP] = { 1, F_FF_SHEXP, F_ONE, 0, 0, 0 },
	[QK_D_EXPERT] = { 1, F_EXPERT, F_ONE, 0, 0, 0 },
	[QK_D_NV] = { 1, F_NV, F_ONE, 0, 0, 0 },
	[QK_D_2NV] = { 2, F_NV, F_ONE, 0, 0, 0 },
	[QK_D_DV] = { 1, F_DV, F_ONE, 0, 0, 0 },
	[QK_D_VALUE] = { 1, F_NV, F_DV, 0, 0, 0 },
	[QK_D_CONV] = { 2, F_NK, F_DK, 1, F_NV, F_DV },
	[QK_D_QKVZ] = { 2, F_NK, F_DK, 2, F_NV, F_DV },
	[QK_D_DCONV] = { 1, F_DCONV, F_ONE, 0, 0, 0 },
};

static uint64_t field(const struct qk_hparams *hp, int f)
{
	uint32_t v;

	if (f == F_ONE)
		return 1;
	memcpy(&v, (const char *)hp + fields[f].off, sizeof(v));
	return v;
}

/* c * a * b with overflow check */
static bool term(const struct qk_hparams *hp, unsigned c, int a, int b, uint64_t *out)
{
	uint64_t t;

	return qk_mul_u64(c, field(hp, a), &t) && qk_mul_u64(t, field(hp, b), out);
}

bool qk_shape_eval(const struct qk_shape_rule *r, const struct qk_hparams *hp,
		   uint64_t out[QK_SHAPE_MAX])
{
	for (int i = 0; i < r->n && i < QK_SHAPE_MAX; i++) {
		uint64_t x, y = 0;
		int d = r->d[i];

		if (d <= QK_D_NONE || d >= QK_D_COUNT)
			return false;
		if (!term(hp, dims[d].c1, dims[d].a, dims[d].b, &x) ||
		    (dims[d].c2 && !term(hp, dims[d].c2, dims[d].c, dims[d].d, &y)) ||
		    !qk_add_u64(x, y, &out[i]))
			return false;
	}
	return true;
}

void qk_shape_explain(const struct qk_shape_rule *r, const struct qk_hparams *hp,
		      char *buf, size_t size)
{
	bool seen[F_COUNT] = { false };
	size_t len = 0;

	if (!size)
		return;
	buf[0] = '\0';
	for (int i = 0; i < r->n && i < QK_SHAPE_MAX; i++) {
		int d = r->d[i];
		const uint8_t used[4] = { dims[d].a, dims[d].b, dims[d].c, dims[d].d };

		if (d <= QK_D_NONE || d >= QK_D_COUNT)
			continue;
		for (int k = 0; k < 4; k++) {
			int f = used[k];

			if (f == F_ONE || seen[f] || (k >= 2 && !dims[d].c2))
				continue;
			seen[f] = true;
			if (len < size)
				len += (size_t)snprintf(buf + len, size - len, "%s%s %llu",
							len ? ", " : "", fields[f].name,
							(unsigned long long)field(hp, f));
		}
	}
}

/* ---- names ---- */

bool qk_name_expand(const char *pattern, const char *block, long layer, long expert,
		    char *buf, size_t size)
{
	size_t len = 0;

	if (!size)
		return false;
	for (const char *p = pattern; *p; p++) {
		int n;

		if (*p == '@') {
			if (!block || layer < 0)
				return false;
			n = snprintf(buf + len, size - len, "%s%ld", block, layer);
		} else if (*p == '#') {
			if (expert < 0)
				return false;
			n = snprintf(buf + len, size - len, "%ld", expert);
		} else {
			n = snprintf(buf + len, size - len, "%c", *p);
		}
		if (n < 0 || (size_t)n >= size - len)
			return false;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return true;
}

bool qk_name_nest(const char *name, const char *nest, char *buf, size_t size)
{
	int n;

	if (nest && strncmp(name, "model.", 6) == 0)
		n = snprintf(buf, size, "%s%s", nest, name + 6);
	else
		n = snprintf(buf, size, "%s", name);
	return n >= 0 && (size_t)n < size;
}

/* A decimal number as the patterns write it: no sign, no leading zeros, at
 * most 9 digits. */
static bool match_num(const char **s, long *out)
{
	const char *p = *s;
	long v = 0;
	int n = 0;

	while (*p >= '0' && *p <= '9' && n < 10) {
		v = v * 10 + (*p - '0');
		p++;
		n++;
	}
	if (n == 0 || n > 9 || (n > 1 && **s == '0'))
		return false;
	*s = p;
	*out = v;
	return true;
}

/* name == pattern + suffix, with '@' matching blocks[0] or blocks[1] plus a
 * number and '#' a number */
static bool match_one(const char *pat, const char *suffix, const char *name,
		      const char *const blocks[2], struct qk_name_match *m)
{
	const char *s = name;

	m->layer = -1;
	m->expert = -1;
	m->mtp = false;
	for (const char *p = pat; *p; p++) {
		if (*p == '@') {
			int k;

			for (k = 0; k < 2; k++)
				if (blocks[k] && strncmp(s, blocks[k], strlen(blocks[k])) == 0)
					break;
			if (k == 2)
				return false;
			s += strlen(blocks[k]);
			m->mtp = k == 1;
			if (!match_num(&s, &m->layer))
				return false;
		} else if (*p == '#') {
			if (!match_num(&s, &m->expert))
				return false;
		} else if (*s++ != *p) {
			return false;
		}
	}
	return strcmp(s, suffix) == 0;
}

bool qk_name_match(const struct qk_arch_table *t, bool gguf, const char *name,
		   struct qk_name_match *m)
{
	const char *const hf_blocks[2] = { t->hf_block, t->mtp_block };
	const char *const gguf_blocks[2] = { t->gguf_block, NULL };

	for (size_t i = 0; i < t->n_rows; i++) {
		const struct qk_role_row *r = &t->rows[i];
		const char *pats[3] = { gguf ? r->gguf : r->hf, gguf ? NULL : r->hf_fused,
					gguf ? NULL : r->hf_fused };
		const char *suffix[3] = { "", "", ".weight" };

		for (int k = 0; k < 3; k++) {
			if (pats[k] && match_one(pats[k], suffix[k], name,
						 gguf ? gguf_blocks : hf_blocks, m)) {
				m->row = r;
				return true;
			}
		}
	}
	return false;
}

/* llama.cpp's prepare_tensors skips these suffixes; Qwen1 exports spell the
 * attention module "attn" */
static const char *const ignored_suffixes[] = {
	".rotary_emb.inv_freq",
	".attn.masked_bias",
	".attn.bias",
	".attention.masked_bias",
	".attention.bias",
};

bool qk_name_ignored(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(ignored_suffixes) / sizeof(ignored_suffixes[0]); i++) {
		size_t k = strlen(ignored_suffixes[i]);

		if (n >= k && strcmp(name + n - k, ignored_suffixes[i]) == 0)
			return true;
	}
	return false;
}
