/* plan_kv.c - the key/values of a converted GGUF file, in llama.cpp's order
 * with llama.cpp's names and types; see plan.h.
 *
 * Order (llamacpp-gguf-mapping.md §1.0, §4.5; checked against the files
 * llama.cpp's convert_hf_to_gguf.py writes for our fixtures):
 *   general.architecture, general.type, general.sampling.* (from
 *   generation_config.json), general.name and the authorship keys
 *   (plan_names.c), then the arch keys of the table below (the generic
 *   TextModel keys, general.file_type among them, then the MoE, MTP and
 *   Qwen3-Next extras), then general.quantization_version.
 * Tokenizer keys follow; the caller adds them.
 *
 * Deliberate differences from llama.cpp's converter: Qwen1 carries
 * qwen.attention.layer_norm_rms_epsilon (the runtime requires it; llama.cpp
 * writes the non-RMS key); yarn beta_fast / beta_slow are written only when
 * they differ from the runtime defaults (32 and 1), since the
 * hyperparameters do not record whether config.json spelled them out; MoE
 * archs with leading dense layers (Qwen3-MoE mlp_only_layers) get
 * {arch}.leading_dense_block_count, which llama.cpp's converter cannot
 * produce (it refuses such checkpoints).
 */
#include "plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "../../quant/qtype.h"
#include "../base/io.h"
#include "../base/json.h"
#include "../base/path.h"
#include "plan_priv.h"

#define KEY_MAX 128

/* ---- the list ---- */

static struct wp_kv *kv_new(struct wp_meta *md, const char *key, int kind, qk_err *err)
{
	struct wp_kv *kv;

	if (md->n == md->cap) {
		size_t nc = md->cap ? md->cap * 2 : 32;

		kv = realloc(md->kv, nc * sizeof(*kv));
		if (!kv)
			goto nomem;
		md->kv = kv;
		md->cap = nc;
	}
	kv = &md->kv[md->n];
	memset(kv, 0, sizeof(*kv));
	kv->key = strdup(key);
	if (!kv->key)
		goto nomem;
	kv->kind = kind;
	md->n++;
	return kv;
nomem:
	qk_err_set(err, QK_E_NOMEM, "out of memory adding key '%s'", key);
	return NULL;
}

int wp_kv_u32(struct wp_meta *md, const char *key, uint32_t v, qk_err *err)
{
	struct wp_kv *kv = kv_new(md, key, WP_KV_U32, err);

	if (!kv)
		return QK_E_NOMEM;
	kv->u32 = v;
	return QK_OK;
}

int wp_kv_i32(struct wp_meta *md, const char *key, int32_t v, qk_err *err)
{
	struct wp_kv *kv = kv_new(md, key, WP_KV_I32, err);

	if (!kv)
		return QK_E_NOMEM;
	kv->i32 = v;
	return QK_OK;
}

int wp_kv_f32(struct wp_meta *md, const char *key, float v, qk_err *err)
{
	struct wp_kv *kv = kv_new(md, key, WP_KV_F32, err);

	if (!kv)
		return QK_E_NOMEM;
	kv->f32 = v;
	return QK_OK;
}

int wp_kv_str(struct wp_meta *md, const char *key, const char *v, qk_err *err)
{
	struct wp_kv *kv;

	if (!v || !*v)
		return QK_OK;
	if (!(kv = kv_new(md, key, WP_KV_STR, err)))
		return QK_E_NOMEM;
	if (!(kv->str = strdup(v)))
		return qk_err_set(err, QK_E_NOMEM, "out of memory adding key '%s'", key);
	return QK_OK;
}

int wp_kv_arr_str(struct wp_meta *md, const char *key, char *const *v, size_t n, qk_err *err)
{
	struct wp_kv *kv;

	if (!n)
		return QK_OK;
	if (!(kv = kv_new(md, key, WP_KV_ARR_STR, err)))
		return QK_E_NOMEM;
	if (!(kv->strs = calloc(n, sizeof(*kv->strs))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory adding key '%s'", key);
	kv->n = n;
	for (size_t i = 0; i < n; i++)
		if (!(kv->strs[i] = strdup(v[i] ? v[i] : "")))
			return qk_err_set(err, QK_E_NOMEM, "out of memory adding key '%s'", key);
	return QK_OK;
}

int wp_kv_arr_bool(struct wp_meta *md, const char *key, const bool *v, size_t n, qk_err *err)
{
	struct wp_kv *kv;

	if (!n)
		return QK_OK;
	if (!(kv = kv_new(md, key, WP_KV_ARR_BOOL, err)))
		return QK_E_NOMEM;
	if (!(kv->bools = malloc(n * sizeof(*kv->bools))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory adding key '%s'", key);
	memcpy(kv->bools, v, n * sizeof(*v));
	kv->n = n;
	return QK_OK;
}

int wp_kv_arr_i32(struct wp_meta *md, const char *key, const int32_t *v, size_t n, qk_err *err)
{
	struct wp_kv *kv;

	if (!n)
		return QK_OK;
	if (!(kv = kv_new(md, key, WP_KV_ARR_I32, err)))
		return QK_E_NOMEM;
	if (!(kv->ints = malloc(n * sizeof(*kv->ints))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory adding key '%s'", key);
	memcpy(kv->ints, v, n * sizeof(*v));
	kv->n = n;
	return QK_OK;
}

int wp_kv_bool(struct wp_meta *md, const char *key, bool v, qk_err *err)
{
	struct wp_kv *kv = kv_new(md, key, WP_KV_BOOL, err);

	if (!kv)
		return QK_E_NOMEM;
	kv->b = v;
	return QK_OK;
}

int wp_kv_arr_f32(struct wp_meta *md, const char *key, const float *v, size_t n, qk_err *err)
{
	struct wp_kv *kv;

	if (!n)
		return QK_OK;
	if (!(kv = kv_new(md, key, WP_KV_ARR_F32, err)))
		return QK_E_NOMEM;
	if (!(kv->floats = malloc(n * sizeof(*kv->floats))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory adding key '%s'", key);
	memcpy(kv->floats, v, n * sizeof(*v));
	kv->n = n;
	return QK_OK;
}

void wp_meta_free(struct wp_meta *md)
{
	if (!md)
		return;
	for (size_t i = 0; i < md->n; i++) {
		struct wp_kv *kv = &md->kv[i];

		free(kv->key);
		free(kv->str);
		free(kv->bools);
		free(kv->ints);
		free(kv->floats);
		for (uint64_t j = 0; kv->strs && j < kv->n; j++)
			free(kv->strs[j]);
		free(kv->strs);
	}
	free(md->kv);
	memset(md, 0, sizeof(*md));
}

const struct wp_kv *wp_meta_find(const struct wp_meta *md, const char *key)
{
	for (size_t i = 0; i < md->n; i++)
		if (strcmp(md->kv[i].key, key) == 0)
			return &md->kv[i];
	return NULL;
}

int wp_meta_write(const struct wp_meta *md, struct gf_writer *w, qk_err *err)
{
	for (size_t i = 0; i < md->n; i++) {
		const struct wp_kv *kv = &md->kv[i];
		int rc = QK_OK;

		switch (kv->kind) {
		case WP_KV_U32: rc = gf_writer_add_u32(w, kv->key, kv->u32, err); break;
		case WP_KV_I32: rc = gf_writer_add_i32(w, kv->key, kv->i32, err); break;
		case WP_KV_F32: rc = gf_writer_add_f32(w, kv->key, kv->f32, err); break;
		case WP_KV_STR: rc = gf_writer_add_str(w, kv->key, kv->str, err); break;
		case WP_KV_ARR_BOOL:
			rc = gf_writer_add_arr(w, kv->key, GF_BOOL, kv->bools, kv->n, err);
			break;
		case WP_KV_ARR_STR:
			rc = gf_writer_add_arr_str(w, kv->key, (const char *const *)kv->strs, NULL,
						   kv->n, err);
			break;
		case WP_KV_ARR_I32:
			rc = gf_writer_add_arr(w, kv->key, GF_I32, kv->ints, kv->n, err);
			break;
		case WP_KV_BOOL: rc = gf_writer_add_bool(w, kv->key, kv->b, err); break;
		case WP_KV_ARR_F32:
			rc = gf_writer_add_arr(w, kv->key, GF_F32, kv->floats, kv->n, err);
			break;
		default: rc = qk_err_set(err, QK_E_USAGE, "key '%s': kind %d", kv->key, kv->kind);
		}
		if (rc)
			return rc;
	}
	return QK_OK;
}

/* ---- arch keys ---- */

struct kctx {
	const struct wp_plan *p;
	const struct qk_hparams *hp;
};

/* a value a getter produces */
struct kval {
	uint32_t u32;
	float f32;
	const char *str;
	bool *bools;               /* malloc'd by the getter, freed by the caller */
	int32_t ints[4];
	size_t n;
};

/* a getter fills the value and says whether the key is written */
typedef bool (*kget_fn)(const struct kctx *c, struct kval *v);

#define A(x) (1u << QK_ARCH_##x)
#define ALL_ARCHS ((1u << QK_ARCH_COUNT) - 1u)
#define MOE_ARCHS (A(QWEN2MOE) | A(QWEN3MOE) | A(QWEN3NEXT) | A(QWEN35MOE) | A(QWEN3VLMOE))
#define Q35_ARCHS (A(QWEN35) | A(QWEN35MOE))
/* Qwen-VL text towers; with deepstack (Qwen3VLTextModel, Qwen3VLMoeTextModel) */
#define VL_ARCHS (A(QWEN2VL) | A(QWEN3VL) | A(QWEN3VLMOE))
#define DS_ARCHS (A(QWEN3VL) | A(QWEN3VLMOE))
/* Gated DeltaNet hybrids (Qwen3NextModel's keys) */
#define HYBRID_ARCHS (A(QWEN3NEXT) | Q35_ARCHS)
/* archs whose configs always state head_dim (class defaults 128 / 256) */
#define HEAD_DIM_ARCHS (A(QWEN3) | A(QWEN3MOE) | HYBRID_ARCHS | DS_ARCHS)

static bool g_block_count(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->n_layer + c->p->n_mtp;
	return true;
}

static bool g_ctx(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->n_ctx_train;
	return v->u32 != 0;
}

static bool g_embd(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->n_embd;
	return true;
}

/* intermediate_size as config.json states it (Qwen1: not halved) */
static bool g_ff(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->n_ff_config;
	return v->u32 != 0;
}

static bool g_head(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->n_head;
	return true;
}

static bool g_head_kv(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->n_head_kv;
	return true;
}

static const char *const rope_gguf_names[] = {
	[QK_ROPE_LINEAR] = "linear", [QK_ROPE_YARN] = "yarn",
};

static bool rope_is(const struct kctx *c, int type)
{
	return c->hp->rope.type == type;
}

static bool g_rope_type(const struct kctx *c, struct kval *v)
{
	int t = c->hp->rope.type;

	if (t < 0 || (size_t)t >= sizeof(rope_gguf_names) / sizeof(rope_gguf_names[0]) ||
	    !rope_gguf_names[t])
		return false; /* default and dynamic: nothing (as llama.cpp) */
	v->str = rope_gguf_names[t];
	return true;
}

static bool g_rope_factor(const struct kctx *c, struct kval *v)
{
	v->f32 = (float)c->hp->rope.factor;
	return rope_is(c, QK_ROPE_LINEAR) || rope_is(c, QK_ROPE_YARN);
}

static bool g_rope_orig(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->rope.original_ctx;
	return rope_is(c, QK_ROPE_YARN);
}

static bool g_yarn_attn(const struct kctx *c, struct kval *v)
{
	v->f32 = (float)c->hp->rope.attention_factor;
	return rope_is(c, QK_ROPE_YARN) && c->hp->rope.attention_factor != 0;
}

static bool g_yarn_beta_fast(const struct kctx *c, struct kval *v)
{
	v->f32 = (float)c->hp->rope.beta_fast;
	return rope_is(c, QK_ROPE_YARN) && c->hp->rope.beta_fast != 32;
}

static bool g_yarn_beta_slow(const struct kctx *c, struct kval *v)
{
	v->f32 = (float)c->hp->rope.beta_slow;
	return rope_is(c, QK_ROPE_YARN) && c->hp->rope.beta_slow != 1;
}

static bool g_theta(const struct kctx *c, struct kval *v)
{
	v->f32 = (float)c->hp->rope_theta;
	return true;
}

static bool g_rms_eps(const struct kctx *c, struct kval *v)
{
	v->f32 = (float)c->hp->norm_eps;
	return true;
}

static bool g_n_expert(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->n_expert;
	return v->u32 != 0;
}

static bool g_n_expert_used(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->n_expert_used;
	return c->hp->n_expert != 0;
}

static bool g_head_dim(const struct kctx *c, struct kval *v)
{
	const struct qk_hparams *hp = c->hp;

	v->u32 = hp->head_dim;
	return (HEAD_DIM_ARCHS & (1u << hp->arch)) ||
	       (uint64_t)hp->head_dim * hp->n_head != hp->n_embd;
}

static bool g_ftype(const struct kctx *c, struct kval *v)
{
	v->u32 = c->p->ftype;
	return true;
}

static bool g_ff_exp(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->n_ff_exp;
	return v->u32 != 0;
}

static bool g_ff_shexp(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->n_ff_shexp;
	return v->u32 != 0;
}

/* dense layers of a MoE arch, all leading (checked by dense_prefix) */
static bool g_leading_dense(const struct kctx *c, struct kval *v)
{
	uint32_t n = 0;

	while (n < c->hp->n_layer && !(c->hp->layer_flags[n] & QK_LAYER_MOE))
		n++;
	v->u32 = n;
	return n != 0;
}

static bool g_nextn(const struct kctx *c, struct kval *v)
{
	v->u32 = c->p->n_mtp;
	return v->u32 != 0;
}

static bool g_d_conv(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->ssm_d_conv;
	return true;
}

static bool g_state(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->ssm_head_k_dim;
	return true;
}

static bool g_groups(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->ssm_n_k_heads;
	return true;
}

static bool g_dt_rank(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->ssm_n_v_heads;
	return true;
}

static bool g_inner(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->ssm_head_v_dim * c->hp->ssm_n_v_heads;
	return true;
}

/* one bool per block (MTP blocks are full attention) */
static bool g_recurrent(const struct kctx *c, struct kval *v)
{
	uint32_t n = c->hp->n_layer + c->p->n_mtp;

	v->bools = calloc(n ? n : 1, sizeof(bool));
	if (!v->bools)
		return true; /* reported as out of memory by the caller */
	for (uint32_t i = 0; i < c->hp->n_layer; i++)
		v->bools[i] = (c->hp->layer_flags[i] & QK_LAYER_LINEAR) != 0;
	v->n = n;
	return true;
}

static bool g_fa_interval(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->full_attention_interval;
	return v->u32 != 0;
}

/* mrope_section padded to 4: at TextModel's place when the config states it,
 * else Qwen3.5's default [11, 11, 10, 0] last (_Qwen35MRopeMixin) */
static bool sections(const struct kctx *c, struct kval *v, bool stated)
{
	static const int32_t def[4] = { 11, 11, 10, 0 };

	for (int i = 0; i < 4; i++)
		v->ints[i] = stated ? (int32_t)c->hp->rope_sections[i] : def[i];
	v->n = 4;
	return c->hp->has_rope_sections == stated;
}

static bool g_sections(const struct kctx *c, struct kval *v)
{
	return sections(c, v, true);
}

static bool g_sections_default(const struct kctx *c, struct kval *v)
{
	return sections(c, v, false);
}

static bool g_deepstack(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->n_deepstack;
	return true;
}

static bool g_rot(const struct kctx *c, struct kval *v)
{
	v->u32 = c->hp->n_rot;
	return true;
}

struct arch_key {
	const char *key;   /* ".x": "<arch>.x"; else the key itself */
	int kind;          /* enum wp_kv_kind */
	unsigned archs;    /* bit per enum qk_arch */
	kget_fn get;
};

/* llama.cpp's TextModel.set_gguf_parameters, then Qwen2MoeModel's,
 * _QwenMtpMixin's and Qwen3NextModel's additions, in that order, and for
 * Qwen3.5 (Qwen3_5TextModel, Qwen3_5MoeTextModel, which inherit all of
 * these) _Qwen35MRopeMixin's default sections last */
static const struct arch_key arch_keys[] = {
	{ ".block_count", WP_KV_U32, ALL_ARCHS, g_block_count },
	{ ".context_length", WP_KV_U32, ALL_ARCHS, g_ctx },
	{ ".embedding_length", WP_KV_U32, ALL_ARCHS, g_embd },
	{ ".feed_forward_length", WP_KV_U32, ALL_ARCHS, g_ff },
	{ ".attention.head_count", WP_KV_U32, ALL_ARCHS, g_head },
	/* Qwen1 configs have no num_key_value_heads */
	{ ".attention.head_count_kv", WP_KV_U32, ALL_ARCHS & ~A(QWEN), g_head_kv },
	{ ".rope.scaling.type", WP_KV_STR, ALL_ARCHS, g_rope_type },
	{ ".rope.scaling.factor", WP_KV_F32, ALL_ARCHS, g_rope_factor },
	{ ".rope.scaling.original_context_length", WP_KV_U32, ALL_ARCHS, g_rope_orig },
	{ ".rope.scaling.yarn_attn_factor", WP_KV_F32, ALL_ARCHS, g_yarn_attn },
	{ ".rope.scaling.yarn_beta_fast", WP_KV_F32, ALL_ARCHS, g_yarn_beta_fast },
	{ ".rope.scaling.yarn_beta_slow", WP_KV_F32, ALL_ARCHS, g_yarn_beta_slow },
	{ ".rope.dimension_sections", WP_KV_ARR_I32, Q35_ARCHS | VL_ARCHS, g_sections },
	{ ".rope.freq_base", WP_KV_F32, ALL_ARCHS, g_theta },
	{ ".attention.layer_norm_rms_epsilon", WP_KV_F32, ALL_ARCHS, g_rms_eps },
	{ ".expert_count", WP_KV_U32, MOE_ARCHS, g_n_expert },
	{ ".expert_used_count", WP_KV_U32, MOE_ARCHS, g_n_expert_used },
	{ ".attention.key_length", WP_KV_U32, ALL_ARCHS, g_head_dim },
	{ ".attention.value_length", WP_KV_U32, ALL_ARCHS, g_head_dim },
	{ "general.file_type", WP_KV_U32, ALL_ARCHS, g_ftype },
	{ ".expert_feed_forward_length", WP_KV_U32, MOE_ARCHS, g_ff_exp },
	{ ".expert_shared_feed_forward_length", WP_KV_U32, MOE_ARCHS, g_ff_shexp },
	{ ".leading_dense_block_count", WP_KV_U32, MOE_ARCHS, g_leading_dense },
	{ ".nextn_predict_layers", WP_KV_U32, HYBRID_ARCHS, g_nextn },
	{ ".ssm.conv_kernel", WP_KV_U32, HYBRID_ARCHS, g_d_conv },
	{ ".ssm.state_size", WP_KV_U32, HYBRID_ARCHS, g_state },
	{ ".ssm.group_count", WP_KV_U32, HYBRID_ARCHS, g_groups },
	{ ".ssm.time_step_rank", WP_KV_U32, HYBRID_ARCHS, g_dt_rank },
	{ ".ssm.inner_size", WP_KV_U32, HYBRID_ARCHS, g_inner },
	{ ".attention.recurrent_layers", WP_KV_ARR_BOOL, HYBRID_ARCHS, g_recurrent },
	{ ".full_attention_interval", WP_KV_U32, HYBRID_ARCHS, g_fa_interval },
	{ ".rope.dimension_count", WP_KV_U32, HYBRID_ARCHS, g_rot },
	{ ".rope.dimension_sections", WP_KV_ARR_I32, Q35_ARCHS, g_sections_default },
	{ ".n_deepstack_layers", WP_KV_U32, DS_ARCHS, g_deepstack },
};

/* dense layers of a MoE arch must be a leading run: GGUF can say how many
 * lead (leading_dense_block_count), not which */
static int dense_prefix(const struct qk_hparams *hp, qk_err *err)
{
	uint32_t i = 0;

	if (!(MOE_ARCHS & (1u << hp->arch)))
		return QK_OK;
	while (i < hp->n_layer && !(hp->layer_flags[i] & QK_LAYER_MOE))
		i++;
	for (; i < hp->n_layer; i++)
		if (!(hp->layer_flags[i] & QK_LAYER_MOE))
			return qk_err_set(err, QK_E_UNSUPPORTED,
					  "config.json: layer %u is dense (mlp_only_layers / "
					  "decoder_sparse_step) after a MoE layer; a %s GGUF file can "
					  "only hold leading dense layers", (unsigned)i,
					  qk_arch_gguf_name(hp->arch));
	return QK_OK;
}

static int add_arch_keys(struct wp_meta *md, const struct wp_plan *p, qk_err *err)
{
	const struct kctx c = { p, &p->m->hp };
	const char *arch = qk_arch_gguf_name(c.hp->arch);
	int rc = QK_OK;

	for (size_t i = 0; !rc && i < sizeof(arch_keys) / sizeof(arch_keys[0]); i++) {
		const struct arch_key *k = &arch_keys[i];
		struct kval v;
		char key[KEY_MAX];

		if (!(k->archs & (1u << c.hp->arch)))
			continue;
		memset(&v, 0, sizeof(v));
		if (!k->get(&c, &v))
			continue;
		snprintf(key, sizeof(key), "%s%s", k->key[0] == '.' ? arch : "", k->key);
		switch (k->kind) {
		case WP_KV_U32: rc = wp_kv_u32(md, key, v.u32, err); break;
		case WP_KV_F32: rc = wp_kv_f32(md, key, v.f32, err); break;
		case WP_KV_STR: rc = wp_kv_str(md, key, v.str, err); break;
		case WP_KV_ARR_BOOL:
			rc = v.bools ? wp_kv_arr_bool(md, key, v.bools, v.n, err)
				     : qk_err_set(err, QK_E_NOMEM, "out of memory adding '%s'", key);
			free(v.bools);
			break;
		case WP_KV_ARR_I32: rc = wp_kv_arr_i32(md, key, v.ints, v.n, err); break;
		default: rc = qk_err_set(err, QK_E_USAGE, "key '%s': kind %d", key, k->kind);
		}
	}
	return rc;
}

/* ---- general.sampling.* from generation_config.json ---- */

static const struct {
	const char *key;
	int kind;
	const char *json[2];      /* first present wins */
} sampling[] = {
	{ "general.sampling.sequence", WP_KV_STR, { "sequence" } },
	{ "general.sampling.top_k", WP_KV_I32, { "top_k" } },
	{ "general.sampling.top_p", WP_KV_F32, { "top_p" } },
	{ "general.sampling.min_p", WP_KV_F32, { "min_p" } },
	{ "general.sampling.xtc_probability", WP_KV_F32, { "xtc_probability" } },
	{ "general.sampling.xtc_threshold", WP_KV_F32, { "xtc_threshold" } },
	{ "general.sampling.temp", WP_KV_F32, { "temperature" } },
	{ "general.sampling.penalty_last_n", WP_KV_I32, { "penalty_last_n" } },
	{ "general.sampling.penalty_repeat", WP_KV_F32, { "penalty_repeat", "repetition_penalty" } },
	{ "general.sampling.mirostat", WP_KV_I32, { "mirostat" } },
	{ "general.sampling.mirostat_tau", WP_KV_F32, { "mirostat_tau" } },
	{ "general.sampling.mirostat_eta", WP_KV_F32, { "mirostat_eta" } },
};

/* generation_config.json is optional and, as llama.cpp treats it, ignored
 * when missing, unreadable or not valid JSON (json.h's rules); running out
 * of memory is still an error */
static int add_sampling(struct wp_meta *md, const char *dir, qk_err *err)
{
	cJSON *root;
	int rc = qk_json_load_optional(dir, "generation_config.json", &root, err);

	if (rc)
		return rc;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return QK_OK;
	}
	for (size_t i = 0; !rc && i < sizeof(sampling) / sizeof(sampling[0]); i++) {
		const cJSON *v = NULL;

		for (int j = 0; j < 2 && sampling[i].json[j] && !v; j++) {
			v = cJSON_GetObjectItemCaseSensitive(root, sampling[i].json[j]);
			if (cJSON_IsNull(v))
				v = NULL;
		}
		if (!v)
			continue;
		if (sampling[i].kind == WP_KV_STR && cJSON_IsString(v))
			rc = wp_kv_str(md, sampling[i].key, v->valuestring, err);
		else if (sampling[i].kind == WP_KV_F32 && cJSON_IsNumber(v))
			rc = wp_kv_f32(md, sampling[i].key, (float)v->valuedouble, err);
		else if (sampling[i].kind == WP_KV_I32 && cJSON_IsNumber(v) &&
			 v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 2147483648.0)
			rc = wp_kv_i32(md, sampling[i].key, (int32_t)v->valuedouble, err);
	}
	cJSON_Delete(root);
	return rc;
}

/* ---- authorship keys ---- */

static const char *const auth_keys[WP_A_COUNT] = {
	[WP_A_NAME] = "general.name", [WP_A_AUTHOR] = "general.author",
	[WP_A_VERSION] = "general.version", [WP_A_ORGANIZATION] = "general.organization",
	[WP_A_FINETUNE] = "general.finetune", [WP_A_BASENAME] = "general.basename",
	[WP_A_DESCRIPTION] = "general.description", [WP_A_QUANTIZED_BY] = "general.quantized_by",
	[WP_A_SIZE_LABEL] = "general.size_label", [WP_A_LICENSE] = "general.license",
	[WP_A_LICENSE_NAME] = "general.license.name", [WP_A_LICENSE_LINK] = "general.license.link",
	[WP_A_URL] = "general.url", [WP_A_DOI] = "general.doi", [WP_A_UUID] = "general.uuid",
	[WP_A_REPO_URL] = "general.repo_url", [WP_A_SOURCE_URL] = "general.source.url",
	[WP_A_SOURCE_DOI] = "general.source.doi", [WP_A_SOURCE_UUID] = "general.source.uuid",
	[WP_A_SOURCE_REPO_URL] = "general.source.repo_url",
};

static const char *const source_keys[WP_S_COUNT] = {
	[WP_S_NAME] = "name", [WP_S_AUTHOR] = "author", [WP_S_VERSION] = "version",
	[WP_S_ORGANIZATION] = "organization", [WP_S_DESCRIPTION] = "description",
	[WP_S_URL] = "url", [WP_S_DOI] = "doi", [WP_S_UUID] = "uuid", [WP_S_REPO_URL] = "repo_url",
};

static int add_sources(struct wp_meta *md, const char *what, bool has,
		       const struct wp_source *s, size_t n, qk_err *err)
{
	char key[KEY_MAX];
	int rc;

	if (!has)
		return QK_OK;
	snprintf(key, sizeof(key), "general.%s.count", what);
	if ((rc = wp_kv_u32(md, key, (uint32_t)n, err)))
		return rc;
	for (size_t i = 0; i < n; i++)
		for (int f = 0; f < WP_S_COUNT; f++) {
			snprintf(key, sizeof(key), "general.%s.%zu.%s", what, i, source_keys[f]);
			if ((rc = wp_kv_str(md, key, s[i].f[f], err)))
				return rc;
		}
	return QK_OK;
}

int wp_add_general(struct wp_meta *md, const struct wp_plan *p, const struct wp_meta_opts *o,
		   const char *arch, const char *type, qk_err *err)
{
	struct wp_auth a;
	int rc;

	if ((rc = wp_kv_str(md, "general.architecture", arch, err)) ||
	    (rc = wp_kv_str(md, "general.type", type, err)) ||
	    (rc = add_sampling(md, o->dir, err)))
		return rc;
	if ((rc = wp_auth_load(&a, p, o, err)))
		return rc;
	snprintf(md->note, sizeof(md->note), "%s", a.note);
	for (int f = 0; !rc && f < WP_A_COUNT; f++)
		rc = wp_kv_str(md, auth_keys[f], a.f[f], err);
	if (!rc)
		rc = add_sources(md, "base_model", a.has_base, a.base, a.n_base, err);
	if (!rc)
		rc = add_sources(md, "dataset", a.has_data, a.data, a.n_data, err);
	if (!rc)
		rc = wp_kv_arr_str(md, "general.tags", a.tags, a.n_tags, err);
	if (!rc)
		rc = wp_kv_arr_str(md, "general.languages", a.langs, a.n_langs, err);
	wp_auth_free(&a);
	return rc;
}

int wp_meta_build(struct wp_meta *md, const struct wp_plan *p, const struct wp_meta_opts *o,
		  qk_err *err)
{
	static const struct wp_meta_opts none = { NULL, NULL };
	int rc;

	memset(md, 0, sizeof(*md));
	if (!o)
		o = &none;
	if ((rc = dense_prefix(&p->m->hp, err)) || (rc = wp_add_general(md, p, o, qk_arch_gguf_name(p->m->hp.arch), "model", err)) ||
	    (rc = add_arch_keys(md, p, err)) ||
	    (rc = wp_kv_u32(md, "general.quantization_version", WP_QUANT_VERSION, err)))
		wp_meta_free(md);
	return rc;
}
