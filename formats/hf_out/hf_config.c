/* hf_config.c - config.json for an exported model; see hf_export.h.
 *
 * The keys are those transformers 5.23 save_pretrained writes for each
 * config class (checked by loading our fixtures' configs with AutoConfig and
 * saving them again): sorted, 2-space indent, Python's float repr, the
 * 5.x rope_parameters dict, layer_types, "dtype"; Qwen3-MoE as
 * num_local_experts, as 5.23 spells it. Qwen1 has no transformers class:
 * its keys are those of Qwen's remote QWenConfig as the Qwen-7B checkpoints
 * ship them (intermediate_size = 2 x the FFN width, kv_channels,
 * rotary_emb_base, layer_norm_epsilon, seq_length, auto_map), except
 * tokenizer_class: the exported tokenizer is a tokenizer.json, whose
 * tokenizer_config.json names its class. Values the hyperparameters do not
 * hold (initializer_range, dropouts, router_aux_loss_coef, use_cache) take
 * the class defaults the fixtures were written with.
 *
 * Numbers from a GGUF's f32 keys (eps, rope_theta, rope factors) are written
 * with the fewest digits that give back the same f32, so 1e-06 stays 1e-06
 * rather than 9.999999974752427e-07.
 */
#include "hf_export.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "../base/dtype.h"
#include "../base/strbuf.h"
#include "hf_priv.h"

#define A(x) (1u << QK_ARCH_##x)
/* the Qwen-VL text towers take the keys of the text model they extend
 * (Qwen2_5_VLTextConfig, Qwen3VLTextConfig, Qwen3VLMoeTextConfig) inside
 * text_config (vl_wrap) */
#define AQ2 (A(QWEN2) | A(QWEN2VL))
#define AQ3 (A(QWEN3) | A(QWEN3VL))
#define AQ3MOE (A(QWEN3MOE) | A(QWEN3VLMOE))
#define VL (A(QWEN2VL) | A(QWEN3VL) | A(QWEN3VLMOE))
/* Qwen3.5 is exported as its text model (Qwen3_5TextConfig /
 * Qwen3_5MoeTextConfig, the classes Qwen3_5(Moe)ForCausalLM load): a GGUF
 * holds no vision tower */
#define Q35 (A(QWEN35) | A(QWEN35MOE))
#define MODERN (AQ2 | A(QWEN2MOE) | AQ3 | AQ3MOE | A(QWEN3NEXT) | Q35)
#define MOE (A(QWEN2MOE) | AQ3MOE | A(QWEN3NEXT) | A(QWEN35MOE))
#define MOE_OLD (MOE & ~A(QWEN35MOE))  /* with decoder_sparse_step and friends */
#define HYBRID (A(QWEN3NEXT) | Q35)
#define ALL (A(QWEN) | MODERN)

/* text-model class and model_type of the archs exported that way */
static const char *const text_class[QK_ARCH_COUNT][2] = {
	[QK_ARCH_QWEN35] = { "Qwen3_5ForCausalLM", "qwen3_5_text" },
	[QK_ARCH_QWEN35MOE] = { "Qwen3_5MoeForCausalLM", "qwen3_5_moe_text" },
	[QK_ARCH_QWEN2VL] = { NULL, "qwen2_5_vl_text" },
	[QK_ARCH_QWEN3VL] = { NULL, "qwen3_vl_text" },
	[QK_ARCH_QWEN3VLMOE] = { NULL, "qwen3_vl_moe_text" },
};

static const char *const bias_keys[QK_ARCH_COUNT] = {
	[QK_ARCH_QWEN2MOE] = "qkv_bias", [QK_ARCH_QWEN3] = "attention_bias",
	[QK_ARCH_QWEN3MOE] = "attention_bias", [QK_ARCH_QWEN3NEXT] = "attention_bias",
	[QK_ARCH_QWEN35] = "attention_bias", [QK_ARCH_QWEN35MOE] = "attention_bias",
	[QK_ARCH_QWEN3VL] = "attention_bias", [QK_ARCH_QWEN3VLMOE] = "attention_bias",
};

const char *hx_bias_key(int arch)
{
	return arch >= 0 && arch < QK_ARCH_COUNT ? bias_keys[arch] : NULL;
}

/* ---- numbers as Python's json module writes them ---- */

/* repr(float): the shortest digits that read back as the same double (as
 * the same float when f32), fixed notation for exponents -4..15, else
 * d.ddde+XX */
static void py_float(double v, bool f32, char *out, size_t n)
{
	char tmp[40], digits[24], *e;
	int exp10, nd = 0, k = 0;
	bool neg = v < 0;

	if (!isfinite(v)) {
		snprintf(out, n, "null");
		return;
	}
	for (int p = 1; p <= 17; p++) {
		double back;

		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
		back = strtod(tmp, NULL);
		if (f32 ? (float)back == (float)v : back == v)
			break;
	}
	e = strchr(tmp, 'e');
	exp10 = (int)strtol(e + 1, NULL, 10);
	for (const char *s = tmp + neg; s < e; s++)
		if (*s >= '0' && *s <= '9')
			digits[nd++] = *s;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	if (neg)
		out[k++] = '-';
	if (exp10 < -4 || exp10 >= 16) {
		k += snprintf(out + k, n - (size_t)k, "%c%s%s", digits[0], nd > 1 ? "." : "",
			      digits + 1);
		snprintf(out + k, n - (size_t)k, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
	} else if (exp10 < 0) {
		k += snprintf(out + k, n - (size_t)k, "0.");
		for (int i = -1; i > exp10; i--)
			out[k++] = '0';
		snprintf(out + k, n - (size_t)k, "%s", digits);
	} else {
		for (int i = 0; i <= exp10; i++)
			out[k++] = i < nd ? digits[i] : '0';
		snprintf(out + k, n - (size_t)k, ".%s", nd > exp10 + 1 ? digits + exp10 + 1 : "0");
	}
}

/* ---- building the tree (numbers as raw text, so ints stay ints) ---- */

struct cctx {
	const struct hx_plan *p;
	const struct qk_hparams *hp;
	bool gguf;          /* f32-valued keys came from a GGUF file */
	bool oom;
};

static void chk(struct cctx *c, const void *item)
{
	c->oom |= item == NULL;
}

static void put_u(struct cctx *c, cJSON *o, const char *k, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	chk(c, cJSON_AddRawToObject(o, k, s));
}

static void put_f(struct cctx *c, cJSON *o, const char *k, double v, bool f32)
{
	char s[48];

	py_float(v, f32 && c->gguf, s, sizeof(s));
	chk(c, cJSON_AddRawToObject(o, k, s));
}

static void put_id(struct cctx *c, cJSON *o, const char *k, int64_t id)
{
	if (id < 0)
		chk(c, cJSON_AddNullToObject(o, k));
	else
		put_u(c, o, k, (uint64_t)id);
}

static const char *dtype_torch_name(int dt)
{
	return dt == QK_DT_F32 ? "float32" : dt == QK_DT_F16 ? "float16" : "bfloat16";
}

/* ---- keys that need more than a field ---- */

static void k_architectures(struct cctx *c, cJSON *o, const char *k)
{
	cJSON *a = cJSON_AddArrayToObject(o, k);

	const char *tc = text_class[c->hp->arch][0];
	cJSON *s = cJSON_CreateString(tc ? tc : qk_arch_hf_name(c->hp->arch));

	chk(c, a);
	chk(c, s);
	if (a && s)
		cJSON_AddItemToArray(a, s);
	else
		cJSON_Delete(s);
}

static void k_model_type(struct cctx *c, cJSON *o, const char *k)
{
	const char *tt = text_class[c->hp->arch][1];

	chk(c, cJSON_AddStringToObject(o, k, tt ? tt : qk_arch_model_type(c->hp->arch)));
}

static void k_dtype(struct cctx *c, cJSON *o, const char *k)
{
	chk(c, cJSON_AddStringToObject(o, k, dtype_torch_name(c->p->dtype)));
}

static void k_bias(struct cctx *c, cJSON *o, const char *k)
{
	chk(c, cJSON_AddBoolToObject(o, k, c->p->attn_bias));
}

static void k_tie(struct cctx *c, cJSON *o, const char *k)
{
	chk(c, cJSON_AddBoolToObject(o, k, c->p->m->tied));
}

static void k_bos(struct cctx *c, cJSON *o, const char *k) { put_id(c, o, k, c->hp->bos_token_id); }
static void k_eos(struct cctx *c, cJSON *o, const char *k) { put_id(c, o, k, c->hp->eos_token_id); }
static void k_pad(struct cctx *c, cJSON *o, const char *k) { put_id(c, o, k, c->hp->pad_token_id); }

/* Qwen1 configs carry no special ids; a GGUF's (its tokenizer's) are kept */
static void k_ids_if_set(struct cctx *c, cJSON *o, const char *k)
{
	int64_t id = strcmp(k, "bos_token_id") == 0 ? c->hp->bos_token_id
		     : strcmp(k, "eos_token_id") == 0 ? c->hp->eos_token_id : c->hp->pad_token_id;

	if (id >= 0)
		put_u(c, o, k, (uint64_t)id);
}

static void k_ff(struct cctx *c, cJSON *o, const char *k)
{
	if (c->hp->n_ff_config)
		put_u(c, o, k, c->hp->n_ff_config);
}

/* always for the Qwen3 family, else only when not hidden_size / heads */
static void k_head_dim(struct cctx *c, cJSON *o, const char *k)
{
	const struct qk_hparams *hp = c->hp;

	if (((AQ3 | AQ3MOE | HYBRID) & (1u << hp->arch)) ||
	    (uint64_t)hp->head_dim * hp->n_head != hp->n_embd)
		put_u(c, o, k, hp->head_dim);
}

static void k_n_layer(struct cctx *c, cJSON *o, const char *k)
{
	put_u(c, o, k, c->hp->n_layer);
}

static void k_mtp(struct cctx *c, cJSON *o, const char *k)
{
	put_u(c, o, k, c->p->n_mtp);
}

static void k_sparse_step(struct cctx *c, cJSON *o, const char *k)
{
	put_u(c, o, k, c->hp->decoder_sparse_step ? c->hp->decoder_sparse_step : 1);
}

static void k_layer_types(struct cctx *c, cJSON *o, const char *k)
{
	cJSON *a = cJSON_AddArrayToObject(o, k);

	chk(c, a);
	for (uint32_t i = 0; a && i < c->hp->n_layer; i++) {
		bool lin = (c->hp->layer_flags[i] & QK_LAYER_LINEAR) != 0;
		cJSON *s = cJSON_CreateString(lin ? "linear_attention" : "full_attention");

		chk(c, s);
		cJSON_AddItemToArray(a, s);
	}
}

/* layers the sparse step would make MoE but that are dense */
static void k_mlp_only(struct cctx *c, cJSON *o, const char *k)
{
	const uint32_t step = c->hp->decoder_sparse_step ? c->hp->decoder_sparse_step : 1;
	cJSON *a = cJSON_AddArrayToObject(o, k);

	chk(c, a);
	for (uint32_t i = 0; a && i < c->hp->n_layer; i++) {
		if ((i + 1) % step == 0 && !(c->hp->layer_flags[i] & QK_LAYER_MOE)) {
			cJSON *n = cJSON_CreateNumber(i);

			chk(c, n);
			cJSON_AddItemToArray(a, n);
		}
	}
}

static void k_rope(struct cctx *c, cJSON *o, const char *k)
{
	const struct qk_hparams *hp = c->hp;
	const struct qk_rope_scaling *r = &hp->rope;
	cJSON *d = cJSON_AddObjectToObject(o, k);

	chk(c, d);
	if (!d)
		return;
	put_f(c, d, "rope_theta", hp->rope_theta, true);
	chk(c, cJSON_AddStringToObject(d, "rope_type", qk_rope_type_name(r->type)));
	if ((HYBRID & (1u << hp->arch)) || hp->partial_rotary_factor != 1.0)
		put_f(c, d, "partial_rotary_factor", hp->partial_rotary_factor, false);
	if (hp->has_rope_sections) {
		cJSON *a = cJSON_AddArrayToObject(d, "mrope_section");

		chk(c, a);
		/* transformers' three streams t, h, w; GGUF pads a fourth 0 */
		for (int i = 0; a && i < (hp->rope_sections[3] ? 4 : 3); i++) {
			cJSON *n = cJSON_CreateNumber(hp->rope_sections[i]);

			chk(c, n);
			cJSON_AddItemToArray(a, n);
		}
		chk(c, cJSON_AddBoolToObject(d, "mrope_interleaved", hp->mrope_interleaved));
	}
	if (r->type == QK_ROPE_DEFAULT)
		return;
	put_f(c, d, "factor", r->factor, true);
	if (r->type != QK_ROPE_YARN)
		return;
	put_u(c, d, "original_max_position_embeddings", r->original_ctx);
	if (r->beta_fast != 32)
		put_f(c, d, "beta_fast", r->beta_fast, true);
	if (r->beta_slow != 1)
		put_f(c, d, "beta_slow", r->beta_slow, true);
	if (r->attention_factor != 0)
		put_f(c, d, "attention_factor", r->attention_factor, false);
	if (r->mscale != 0)
		put_f(c, d, "mscale", r->mscale, false);
	if (r->mscale_all_dim != 0)
		put_f(c, d, "mscale_all_dim", r->mscale_all_dim, false);
	if (!r->truncate)
		chk(c, cJSON_AddFalseToObject(d, "truncate"));
}

static void k_eps(struct cctx *c, cJSON *o, const char *k)
{
	put_f(c, o, k, c->hp->norm_eps, true);
}

static void k_theta(struct cctx *c, cJSON *o, const char *k)
{
	put_f(c, o, k, c->hp->rope_theta, true);
}

static void k_rotary_pct(struct cctx *c, cJSON *o, const char *k)
{
	put_f(c, o, k, c->hp->partial_rotary_factor, false);
}

static void k_auto_map(struct cctx *c, cJSON *o, const char *k)
{
	cJSON *d = cJSON_AddObjectToObject(o, k);

	chk(c, d);
	if (d) {
		chk(c, cJSON_AddStringToObject(d, "AutoConfig", "configuration_qwen.QWenConfig"));
		chk(c, cJSON_AddStringToObject(d, "AutoModelForCausalLM",
					       "modeling_qwen.QWenLMHeadModel"));
	}
}

/* ---- the key table ---- */

enum kind { K_U32, K_BOOL, K_STR, K_FLOAT, K_TRUE, K_FALSE, K_NULL, K_FN };

struct key {
	const char *name;
	unsigned archs;             /* bit per enum qk_arch */
	uint8_t kind;
	size_t off;                 /* K_U32 / K_BOOL: field of qk_hparams */
	const char *str;            /* K_STR */
	double num;                 /* K_FLOAT (0 for integers like sliding_window 0) */
	void (*fn)(struct cctx *c, cJSON *o, const char *k);
};

#define U(n, a, f) { n, a, K_U32, offsetof(struct qk_hparams, f), NULL, 0, NULL }
#define B(n, a, f) { n, a, K_BOOL, offsetof(struct qk_hparams, f), NULL, 0, NULL }
#define S(n, a, s) { n, a, K_STR, 0, s, 0, NULL }
#define F(n, a, v) { n, a, K_FLOAT, 0, NULL, v, NULL }
#define C(n, a, k) { n, a, k, 0, NULL, 0, NULL }
#define FN(n, a, f) { n, a, K_FN, 0, NULL, 0, f }

static const struct key keys[] = {
	FN("architectures", ALL, k_architectures),
	FN("attention_bias", AQ3 | AQ3MOE | HYBRID, k_bias),
	F("attention_dropout", MODERN, 0.0),
	FN("bos_token_id", MODERN, k_bos),
	FN("decoder_sparse_step", MOE_OLD, k_sparse_step),
	FN("dtype", MODERN, k_dtype),
	FN("eos_token_id", MODERN, k_eos),
	FN("head_dim", MODERN, k_head_dim),
	S("hidden_act", MODERN, "silu"),
	U("hidden_size", ALL, n_embd),
	F("initializer_range", ALL, 0.02),
	FN("intermediate_size", ALL, k_ff),
	FN("layer_types", AQ2 | A(QWEN2MOE) | AQ3 | HYBRID, k_layer_types),
	U("linear_conv_kernel_dim", HYBRID, ssm_d_conv),
	U("linear_key_head_dim", HYBRID, ssm_head_k_dim),
	U("linear_num_key_heads", HYBRID, ssm_n_k_heads),
	U("linear_num_value_heads", HYBRID, ssm_n_v_heads),
	U("linear_value_head_dim", HYBRID, ssm_head_v_dim),
	U("max_position_embeddings", ALL, n_ctx_train),
	FN("max_window_layers", AQ2 | A(QWEN2MOE) | AQ3 | AQ3MOE, k_n_layer),
	FN("mlp_only_layers", MOE_OLD, k_mlp_only),
	FN("model_type", ALL, k_model_type),
	U("moe_intermediate_size", MOE, n_ff_exp),
	FN("mtp_num_hidden_layers", HYBRID, k_mtp),
	C("mtp_use_dedicated_embeddings", HYBRID, K_FALSE),
	B("norm_topk_prob", MOE_OLD, norm_topk_prob),
	U("num_attention_heads", ALL, n_head),
	U("num_experts", A(QWEN2MOE) | A(QWEN3NEXT) | A(QWEN35MOE), n_expert),
	U("num_experts_per_tok", MOE, n_expert_used),
	U("num_hidden_layers", ALL, n_layer),
	U("num_key_value_heads", MODERN, n_head_kv),
	U("num_local_experts", AQ3MOE, n_expert),
	C("output_router_logits", MOE, K_FALSE),
	FN("pad_token_id", MODERN, k_pad),
	FN("qkv_bias", A(QWEN2MOE), k_bias),
	FN("rms_norm_eps", MODERN, k_eps),
	FN("rope_parameters", MODERN, k_rope),
	F("router_aux_loss_coef", MOE, 0.001),
	U("shared_expert_intermediate_size", A(QWEN2MOE) | A(QWEN3NEXT) | A(QWEN35MOE),
	  n_ff_shexp),
	C("sliding_window", AQ2 | AQ3 | AQ3MOE, K_NULL),
	{ "sliding_window", A(QWEN2MOE), K_U32, (size_t)-1, NULL, 0, NULL }, /* 0 */
	FN("tie_word_embeddings", ALL, k_tie),
	S("transformers_version", MODERN, "5.23.0"),
	C("use_cache", ALL, K_TRUE),
	C("use_sliding_window", MODERN & ~Q35, K_FALSE),
	U("vocab_size", ALL, n_vocab),
	/* Qwen1's remote QWenConfig */
	FN("auto_map", A(QWEN), k_auto_map),
	F("attn_dropout_prob", A(QWEN), 0.0),
	C("bf16", A(QWEN), K_FALSE),
	FN("bos_token_id", A(QWEN), k_ids_if_set),
	FN("eos_token_id", A(QWEN), k_ids_if_set),
	FN("pad_token_id", A(QWEN), k_ids_if_set),
	F("emb_dropout_prob", A(QWEN), 0.0),
	C("fp16", A(QWEN), K_FALSE),
	C("fp32", A(QWEN), K_FALSE),
	U("kv_channels", A(QWEN), head_dim),
	FN("layer_norm_epsilon", A(QWEN), k_eps),
	C("no_bias", A(QWEN), K_TRUE),
	C("onnx_safe", A(QWEN), K_NULL),
	FN("rotary_emb_base", A(QWEN), k_theta),
	FN("rotary_pct", A(QWEN), k_rotary_pct),
	C("scale_attn_weights", A(QWEN), K_TRUE),
	U("seq_length", A(QWEN), seq_length),
	C("softmax_in_fp32", A(QWEN), K_FALSE),
	FN("torch_dtype", A(QWEN), k_dtype),
	S("transformers_version", A(QWEN), "4.32.0"),
	C("use_cache_kernel", A(QWEN), K_FALSE),
	C("use_cache_quantization", A(QWEN), K_FALSE),
	B("use_dynamic_ntk", A(QWEN), use_dynamic_ntk),
	S("use_flash_attn", A(QWEN), "auto"),
	B("use_logn_attn", A(QWEN), use_logn_attn),
};

static void add_key(struct cctx *c, cJSON *o, const struct key *k)
{
	uint32_t u = 0;
	bool b;

	switch (k->kind) {
	case K_U32:
		if (k->off != (size_t)-1)
			memcpy(&u, (const char *)c->hp + k->off, sizeof(u));
		put_u(c, o, k->name, u);
		break;
	case K_BOOL:
		memcpy(&b, (const char *)c->hp + k->off, sizeof(b));
		chk(c, cJSON_AddBoolToObject(o, k->name, b));
		break;
	case K_STR: chk(c, cJSON_AddStringToObject(o, k->name, k->str)); break;
	case K_FLOAT: put_f(c, o, k->name, k->num, false); break;
	case K_TRUE: chk(c, cJSON_AddTrueToObject(o, k->name)); break;
	case K_FALSE: chk(c, cJSON_AddFalseToObject(o, k->name)); break;
	case K_NULL: chk(c, cJSON_AddNullToObject(o, k->name)); break;
	default: k->fn(c, o, k->name); break;
	}
}

/* ---- printing as json.dumps(indent=2, sort_keys=True) ---- */

static void indent(struct qk_sb *b, int depth)
{
	for (int i = 0; i < depth; i++)
		qk_sb_puts(b, "  ");
}

/* a JSON string with Python's ensure_ascii escapes */
static void emit_str(struct qk_sb *b, const char *s)
{
	char e[8];

	qk_sb_puts(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			snprintf(e, sizeof(e), "\\%c", *p);
		} else if (*p < 0x20 || *p >= 0x7f) {
			snprintf(e, sizeof(e), "\\u%04x", *p); /* keys and values here are ASCII */
		} else {
			e[0] = (char)*p;
			e[1] = '\0';
		}
		qk_sb_puts(b, e);
	}
	qk_sb_puts(b, "\"");
}

static int by_key(const void *a, const void *b)
{
	return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

static void emit_value(struct qk_sb *b, const cJSON *v, int depth)
{
	char num[32];
	bool obj = cJSON_IsObject(v);
	size_t n = 0, i = 0;
	const cJSON *e;
	const cJSON **kids;

	if (cJSON_IsRaw(v)) {
		qk_sb_puts(b, v->valuestring);
	} else if (cJSON_IsString(v)) {
		emit_str(b, v->valuestring);
	} else if (cJSON_IsBool(v)) {
		qk_sb_puts(b, cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNumber(v)) {
		snprintf(num, sizeof(num), "%d", v->valueint); /* layer indices */
		qk_sb_puts(b, num);
	} else if (!obj && !cJSON_IsArray(v)) {
		qk_sb_puts(b, "null");
	} else {
		cJSON_ArrayForEach(e, v)
			n++;
		if (!n) {
			qk_sb_puts(b, obj ? "{}" : "[]");
			return;
		}
		if (!(kids = malloc(n * sizeof(*kids)))) {
			b->oom = true;
			return;
		}
		cJSON_ArrayForEach(e, v)
			kids[i++] = e;
		if (obj)
			qsort(kids, n, sizeof(*kids), by_key);
		qk_sb_puts(b, obj ? "{\n" : "[\n");
		for (i = 0; i < n; i++) {
			indent(b, depth + 1);
			if (obj) {
				emit_str(b, kids[i]->string);
				qk_sb_puts(b, ": ");
			}
			emit_value(b, kids[i], depth + 1);
			qk_sb_puts(b, i + 1 < n ? ",\n" : "\n");
		}
		indent(b, depth);
		qk_sb_puts(b, obj ? "}" : "]");
		free(kids);
	}
}

/* the vision tower exported with the text model (hx_opts.vision): its
 * vision_config, and Qwen2-VL's own class names where the qwen2vl text
 * tower would otherwise be written as Qwen2.5-VL's */
static void vl_vision(struct cctx *c, cJSON *root, cJSON *text, const struct vs_hparams *vh)
{
	const char *mt = vh->family == VS_FAM_QWEN2VL ? "qwen2_vl" :
			 vh->family == VS_FAM_QWEN25VL ? "qwen2_5_vl" : qk_arch_model_type(c->hp->arch);
	char vt[48];

	if (vh->family == VS_FAM_QWEN2VL) {
		cJSON *a = cJSON_CreateArray();

		chk(c, a);
		if (a)
			chk(c, cJSON_AddItemToArray(a, cJSON_CreateString("Qwen2VLForConditionalGeneration"))
			       ? a : NULL);
		cJSON_ReplaceItemInObjectCaseSensitive(root, "architectures", a);
		cJSON_ReplaceItemInObjectCaseSensitive(root, "model_type", cJSON_CreateString(mt));
		cJSON_ReplaceItemInObjectCaseSensitive(text, "model_type",
						       cJSON_CreateString("qwen2_vl_text"));
	}
	snprintf(vt, sizeof(vt), "%s_vision", mt);
	{
		cJSON *v = hx_vision_config(vh, vt);

		chk(c, v);
		if (v)
			cJSON_AddItemToObject(root, "vision_config", v);
	}
}

/* A Qwen-VL text tower as its multimodal class's config: the text keys
 * (architectures left out) become text_config; the GGUF holds no vision
 * tower, so there is no vision_config (transformers then builds its class
 * default tower, with random weights, beside the exported text model) */
static cJSON *vl_wrap(struct cctx *c, cJSON *text)
{
	cJSON *root = cJSON_CreateObject();

	chk(c, root);
	if (!root) {
		cJSON_Delete(text);
		return NULL;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(text, "architectures");
	k_architectures(c, root, "architectures");
	chk(c, cJSON_AddStringToObject(root, "model_type", qk_arch_model_type(c->hp->arch)));
	k_tie(c, root, "tie_word_embeddings");
	chk(c, cJSON_AddStringToObject(root, "transformers_version", "5.23.0"));
	cJSON_AddItemToObject(root, "text_config", text);
	if (c->p->vision)
		vl_vision(c, root, text, &c->p->vision->vh);
	return root;
}

int hx_config_json(const struct hx_plan *p, char **json, qk_err *err)
{
	struct cctx c = { p, &p->m->hp, p->m->form == QK_FORM_GGUF, false };
	struct qk_sb b = { 0 };
	cJSON *root = cJSON_CreateObject();

	*json = NULL;
	chk(&c, root);
	for (size_t i = 0; root && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].archs & (1u << c.hp->arch))
			add_key(&c, root, &keys[i]);
	if (root && (VL & (1u << c.hp->arch)))
		root = vl_wrap(&c, root);
	if (!c.oom) {
		emit_value(&b, root, 0);
		qk_sb_puts(&b, "\n");
	}
	cJSON_Delete(root);
	if (c.oom || b.oom) {
		qk_sb_free(&b);
		return qk_err_set(err, QK_E_NOMEM, "out of memory writing config.json");
	}
	*json = b.s;
	return QK_OK;
}
