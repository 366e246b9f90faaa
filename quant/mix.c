/* mix.c - llama-quantize's per-tensor type rules as tables.
 *
 * Source of the facts: src/llama-quant.cpp of the llama.cpp vendored by
 * llama-cpp-python 0.3.36 (tensor_allows_quantization, tensor_get_category,
 * llama_tensor_get_type(_impl), tensor_type_fallback,
 * init_quantize_state_counters), the weight_name_comparer of
 * llama-model-loader.h, and the per-arch model types in src/models/ (qwen2.cpp etc.).
 * The code here is ours; the oracle test runs that llama.cpp.
 */
#include "mix.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qtype.h"

/* ---- tensor categories (first match wins, as in llama.cpp) ---- */

enum cat {
	CAT_OTHER, CAT_OUTPUT, CAT_TOKEN_EMBD, CAT_ATTN_QKV, CAT_ATTN_KV_B,
	CAT_ATTN_V, CAT_ATTN_K, CAT_ATTN_Q, CAT_ATTN_OUT, CAT_FFN_UP,
	CAT_FFN_GATE, CAT_FFN_DOWN,
};

static const struct {
	const char *s;
	bool exact;  /* whole name, else substring */
	enum cat cat;
} cat_table[] = {
	{ "output.weight", true, CAT_OUTPUT },
	{ "token_embd.weight", true, CAT_TOKEN_EMBD },
	{ "per_layer_token_embd.weight", true, CAT_TOKEN_EMBD },
	{ "attn_qkv.weight", false, CAT_ATTN_QKV },
	{ "attn_kv_b.weight", false, CAT_ATTN_KV_B },
	{ "attn_v.weight", false, CAT_ATTN_V },
	{ "attn_k.weight", false, CAT_ATTN_K },
	{ "attn_q.weight", false, CAT_ATTN_Q },
	{ "attn_output.weight", false, CAT_ATTN_OUT },
	{ "ffn_up", false, CAT_FFN_UP },
	{ "ffn_gate", false, CAT_FFN_GATE },  /* also ffn_gate_exps, _shexp, _inp_shexp */
	{ "ffn_down", false, CAT_FFN_DOWN },  /* also ffn_down_exps, _shexp */
};

static enum cat category(const char *name)
{
	for (size_t i = 0; i < sizeof cat_table / sizeof cat_table[0]; i++) {
		bool hit = cat_table[i].exact ? strcmp(name, cat_table[i].s) == 0
					      : strstr(name, cat_table[i].s) != NULL;
		if (hit)
			return cat_table[i].cat;
	}
	return CAT_OTHER;
}

/* attn_qkv and attn_kv_b go through the attn_v rules and counters (the
 * separate attn_qkv branch after them in llama-quant.cpp is never reached) */
static bool is_attn_v_like(enum cat c)
{
	return c == CAT_ATTN_V || c == CAT_ATTN_QKV || c == CAT_ATTN_KV_B;
}

/* ---- which tensors are never quantized ---- */

/* any of these anywhere in the name: kept as they are */
static const char *const keep_substr[] = {
	"_norm.weight",
	"ffn_gate_inp.weight",        /* MoE router */
	"ffn_gate_tid2eid.weight",
	"altup", "laurel", "per_layer_model_proj",
	"ssm_conv1d", "shortconv.conv.weight",
	"indexer.k_proj.weight", "indexer.q_proj.weight",
	"time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight",
	"time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight",
	"time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight",
	"time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
	"time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
	"time_mix_lerp_fused.weight",
	"attn_rel_b.weight",
	".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos",
	".patch_embd", ".patch_merger",
	"a.rvq.codebook", "mm.a.code_embd",
};

/* these whole names: kept (llama.cpp's POS_EMBD and TOKEN_TYPES names) */
static const char *const keep_exact[] = { "position_embd.weight", "token_types.weight" };

/* dimensions as ggml_n_dims counts them: trailing 1s do not count */
static int n_dims(const int64_t ne[4])
{
	for (int i = 3; i >= 1; i--)
		if (ne[i] > 1)
			return i + 1;
	return 1;
}

/* llama.cpp tests `name.rfind("weight") == name.size() - 6` on size_t: for
 * a 5-character name both sides are SIZE_MAX, so any 5-character name counts
 * as ending in "weight". Reproduced because the result must match. */
static bool ends_in_weight(const char *name)
{
	size_t n = strlen(name);

	if (n == 5)
		return true;
	return n >= 6 && memcmp(name + n - 6, "weight", 6) == 0;
}

bool qm_is_quantizable(const char *name, const int64_t ne[4], bool keep_output)
{
	if (n_dims(ne) < 2 || !ends_in_weight(name))
		return false;
	if (keep_output && strcmp(name, "output.weight") == 0)
		return false;
	for (size_t i = 0; i < sizeof keep_substr / sizeof keep_substr[0]; i++)
		if (strstr(name, keep_substr[i]))
			return false;
	for (size_t i = 0; i < sizeof keep_exact / sizeof keep_exact[0]; i++)
		if (strcmp(name, keep_exact[i]) == 0)
			return false;
	return true;
}

/* ---- layer numbers and the tensor order ---- */

/* sscanf(name, "blk.%d.", &n) == 1: the literal "blk.", then what %d takes
 * (leading white space, a sign, digits), which is strtol's syntax. Numbers
 * past int are undefined behaviour in llama.cpp; here they saturate. */
static bool layer_of(const char *name, int *layer)
{
	char *end;
	long v;

	if (strncmp(name, "blk.", 4) != 0)
		return false;
	v = strtol(name + 4, &end, 10);
	if (end == name + 4)
		return false;
	if (v > INT_MAX)
		v = INT_MAX;
	if (v < INT_MIN)
		v = INT_MIN;
	*layer = (int)v;
	return true;
}

int qm_name_cmp(const char *a, const char *b)
{
	int la = -1, lb = -1;

	(void)layer_of(a, &la);
	(void)layer_of(b, &lb);
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

/* ---- the mixes ---- */

/* A rule for one tensor kind: the first rule of a slot whose condition
 * holds gives the type (KEEP: the type the tensor has so far); when none
 * holds the type is kept. i and n are the tensor's index and the count it
 * is measured against (attn_v: i_attention_wv of n_attention_wv; ffn
 * tensors: the layer of n_layer). A rule may hold only with or only
 * without an importance matrix. */
enum cond {
	NEVER = 0,     /* rule absent */
	ALWAYS,
	GQA_GE_4,      /* n_head / n_head_kv >= 4 */
	GQA4_OR_EXP4,  /* n_gqa >= 4 or expert_count >= 4 */
	EXP8,          /* expert_count == 8 */
	I_LT,          /* i < arg */
	I_LT_N_OVER,   /* i < n / arg */
	MORE_BITS,     /* use_more_bits(i, n) */
	FIRST8_OR_EXP8_MORE, /* i < n/8, or expert_count == 8 and use_more_bits */
	MIDDLE,        /* n/8 <= i < 7n/8 */
};

enum imat { ANY = 0, WITHOUT, WITH };

#define KEEP (-1)

struct rule {
	unsigned char cond, arg, imat;
	signed char type;
};

/* which branch of llama_tensor_get_type_impl a mix takes */
enum family {
	FAM_STD = 0,   /* the k-quant, legacy, IQ3/IQ4 and ternary mixes */
	FAM_LOWBIT,    /* IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ2_M: own attn_v,
	                * attn_k, ffn_down (by counter), attn_output rules; no
	                * 70B or 8-expert attn_v rule, no ffn layer check */
	FAM_MXFP4_MOE, /* expert tensors (ne[2] > 1) MXFP4, all else Q8_0 */
};

#define NR 2 /* rules per slot */

struct mix_row {
	struct qm_mix pub;
	unsigned char family;
	signed char out;   /* output head (and tied token_embd) when its rows fit
	                    * the default type: Q6_K, or Q5_K for the low-bit mixes;
	                    * a Q8_0 default stays Q8_0 */
	signed char embd;  /* an untied token_embd: KEEP or a type */
	struct rule attn_v[NR], attn_k[NR], attn_q[NR], ffn_down[NR], ffn_gate_up[NR],
		attn_out[NR];
};

#define R(c, a, t) { c, a, ANY, QT_##t }
#define RW(c, a, w, t) { c, a, w, QT_##t }
#define RKEEP(c) { c, 0, ANY, KEEP }
#define MIX(nm, ft, def, fam, o, e) \
	.pub = { nm, ft, QT_##def }, .family = fam, .out = QT_##o, .embd = e

/* Per mix: default type, family, output head, token_embd, then the rules
 * by tensor kind (src/llama-quant.cpp, llama_tensor_get_type_impl). The
 * rules common to the standard family (8-expert attn_v/attn_k Q8_0, 70B
 * attn_v bump) are in mix_rules(); the row-length fallback in fallback(). */
static const struct mix_row mixes[] = {
	{ MIX("Q4_0", 2, Q4_0, FAM_STD, Q6_K, KEEP),
	  .ffn_down = { RW(I_LT_N_OVER, 8, WITH, Q4_1) } },
	{ MIX("Q4_1", 3, Q4_1, FAM_STD, Q6_K, KEEP) },
	{ MIX("Q5_0", 8, Q5_0, FAM_STD, Q6_K, KEEP),
	  .ffn_down = { RW(I_LT_N_OVER, 8, WITH, Q5_1) } },
	{ MIX("Q5_1", 9, Q5_1, FAM_STD, Q6_K, KEEP) },
	{ MIX("Q8_0", 7, Q8_0, FAM_STD, Q6_K, KEEP) },
	{ MIX("Q2_K", 10, Q2_K, FAM_STD, Q6_K, KEEP),
	  .attn_v = { R(GQA_GE_4, 0, Q4_K), R(ALWAYS, 0, Q3_K) },
	  .ffn_down = { R(ALWAYS, 0, Q3_K) },
	  .attn_out = { R(EXP8, 0, Q5_K), R(ALWAYS, 0, Q3_K) } },
	{ MIX("Q2_K_S", 21, Q2_K, FAM_STD, Q6_K, KEEP),
	  .attn_v = { R(GQA_GE_4, 0, Q4_K) },
	  .ffn_down = { R(I_LT_N_OVER, 8, Q4_K) } },
	{ MIX("Q3_K_S", 11, Q3_K, FAM_STD, Q6_K, KEEP),
	  .attn_out = { R(EXP8, 0, Q5_K) } },
	{ MIX("Q3_K_M", 12, Q3_K, FAM_STD, Q6_K, KEEP),
	  .attn_v = { R(I_LT, 2, Q5_K), R(ALWAYS, 0, Q4_K) },
	  .ffn_down = { R(I_LT_N_OVER, 16, Q5_K), R(ALWAYS, 0, Q4_K) },
	  .attn_out = { R(EXP8, 0, Q5_K), R(ALWAYS, 0, Q4_K) } },
	{ MIX("Q3_K_L", 13, Q3_K, FAM_STD, Q6_K, KEEP),
	  .attn_v = { R(ALWAYS, 0, Q5_K) },
	  .ffn_down = { R(ALWAYS, 0, Q5_K) },
	  .attn_out = { RKEEP(EXP8), R(ALWAYS, 0, Q5_K) } },
	{ MIX("Q4_K_S", 14, Q4_K, FAM_STD, Q6_K, KEEP),
	  .attn_v = { R(I_LT, 4, Q5_K) },
	  .ffn_down = { R(I_LT_N_OVER, 8, Q5_K) },
	  .attn_out = { R(EXP8, 0, Q5_K) } },
	{ MIX("Q4_K_M", 15, Q4_K, FAM_STD, Q6_K, KEEP),
	  .attn_v = { R(MORE_BITS, 0, Q6_K) },
	  .ffn_down = { R(MORE_BITS, 0, Q6_K) },
	  .attn_out = { R(EXP8, 0, Q5_K) } },
	{ MIX("Q5_K_S", 16, Q5_K, FAM_STD, Q6_K, KEEP) },
	{ MIX("Q5_K_M", 17, Q5_K, FAM_STD, Q6_K, KEEP),
	  .attn_v = { R(MORE_BITS, 0, Q6_K) },
	  .ffn_down = { R(MORE_BITS, 0, Q6_K) } },
	{ MIX("Q6_K", 18, Q6_K, FAM_STD, Q6_K, KEEP) },
	{ MIX("IQ1_S", 24, IQ1_S, FAM_LOWBIT, Q5_K, QT_Q2_K),
	  .attn_v = { R(GQA4_OR_EXP4, 0, Q4_K), R(ALWAYS, 0, Q2_K) },
	  .attn_k = { R(EXP8, 0, Q4_K) },
	  .ffn_down = { R(I_LT_N_OVER, 8, Q2_K) },
	  .attn_out = { R(EXP8, 0, Q5_K), R(ALWAYS, 0, IQ2_XXS) } },
	{ MIX("IQ1_M", 31, IQ1_M, FAM_LOWBIT, Q5_K, QT_Q2_K),
	  .attn_v = { R(GQA4_OR_EXP4, 0, Q4_K), R(ALWAYS, 0, Q2_K) },
	  .attn_k = { R(EXP8, 0, Q4_K) },
	  .ffn_down = { R(I_LT_N_OVER, 8, Q2_K) },
	  .attn_out = { R(EXP8, 0, Q5_K), R(ALWAYS, 0, IQ2_XXS) } },
	{ MIX("IQ2_XXS", 19, IQ2_XXS, FAM_LOWBIT, Q5_K, QT_Q2_K),
	  .attn_v = { R(GQA4_OR_EXP4, 0, Q4_K), R(ALWAYS, 0, Q2_K) },
	  .attn_k = { R(EXP8, 0, Q4_K) },
	  .ffn_down = { R(I_LT_N_OVER, 8, Q2_K) },
	  .attn_out = { R(EXP8, 0, Q5_K) } },
	{ MIX("IQ2_XS", 20, IQ2_XS, FAM_LOWBIT, Q5_K, QT_Q2_K),
	  .attn_v = { R(GQA4_OR_EXP4, 0, Q4_K), R(ALWAYS, 0, Q2_K) },
	  .attn_k = { R(EXP8, 0, Q4_K) },
	  .ffn_down = { R(I_LT_N_OVER, 8, Q2_K) },
	  .attn_out = { R(EXP8, 0, Q5_K) } },
	/* IQ2_S is mostly IQ2_XS (llama_ftype_get_default_type) */
	{ MIX("IQ2_S", 28, IQ2_XS, FAM_LOWBIT, Q5_K, QT_IQ3_S),
	  .attn_v = { R(GQA4_OR_EXP4, 0, Q4_K), R(ALWAYS, 0, IQ3_S) },
	  .attn_k = { R(EXP8, 0, Q4_K) },
	  .ffn_down = { R(I_LT_N_OVER, 8, IQ3_S) },
	  .attn_out = { R(EXP8, 0, Q5_K), R(ALWAYS, 0, IQ3_S) } },
	{ MIX("IQ2_M", 29, IQ2_S, FAM_LOWBIT, Q5_K, QT_IQ3_S),
	  .attn_v = { R(GQA4_OR_EXP4, 0, Q4_K), R(ALWAYS, 0, IQ3_S) },
	  .attn_k = { R(EXP8, 0, Q4_K) },
	  .ffn_down = { R(I_LT_N_OVER, 8, IQ3_S) },
	  .attn_out = { R(EXP8, 0, Q5_K), R(ALWAYS, 0, IQ3_S) } },
	{ MIX("IQ3_XXS", 23, IQ3_XXS, FAM_STD, Q5_K, QT_IQ3_S),
	  .attn_v = { R(GQA_GE_4, 0, Q4_K), RW(ALWAYS, 0, WITHOUT, IQ3_S) },
	  .attn_k = { R(ALWAYS, 0, IQ2_S) },
	  .attn_q = { R(ALWAYS, 0, IQ2_S) },
	  .ffn_down = { RW(I_LT_N_OVER, 8, WITHOUT, Q4_K), RW(ALWAYS, 0, WITHOUT, Q3_K) },
	  .attn_out = { R(EXP8, 0, Q5_K), R(ALWAYS, 0, IQ3_S) } },
	/* IQ3_XS is mostly IQ3_S */
	{ MIX("IQ3_XS", 22, IQ3_S, FAM_STD, Q6_K, KEEP),
	  .attn_v = { R(GQA_GE_4, 0, Q4_K) },
	  .attn_k = { R(ALWAYS, 0, IQ3_XXS) },
	  .attn_q = { R(ALWAYS, 0, IQ3_XXS) },
	  .ffn_gate_up = { R(MIDDLE, 0, IQ3_XXS) },
	  .attn_out = { R(EXP8, 0, Q5_K) } },
	{ MIX("IQ3_S", 26, IQ3_S, FAM_STD, Q6_K, KEEP),
	  .attn_v = { R(GQA_GE_4, 0, Q4_K) },
	  .attn_out = { R(EXP8, 0, Q5_K) } },
	{ MIX("IQ3_M", 27, IQ3_S, FAM_STD, Q6_K, KEEP),
	  .attn_v = { R(ALWAYS, 0, Q4_K) },
	  .ffn_down = { R(FIRST8_OR_EXP8_MORE, 0, Q4_K) },
	  .attn_out = { R(EXP8, 0, Q5_K), R(ALWAYS, 0, Q4_K) } },
	{ MIX("IQ4_NL", 25, IQ4_NL, FAM_STD, Q6_K, KEEP),
	  .attn_v = { R(GQA_GE_4, 0, Q5_K) },
	  .ffn_down = { RW(I_LT_N_OVER, 8, WITHOUT, Q5_K) },
	  .attn_out = { R(EXP8, 0, Q5_K) } },
	{ MIX("IQ4_XS", 30, IQ4_XS, FAM_STD, Q6_K, KEEP),
	  .attn_v = { R(GQA_GE_4, 0, Q5_K) },
	  .ffn_down = { RW(I_LT_N_OVER, 8, WITHOUT, Q5_K) },
	  .attn_out = { R(EXP8, 0, Q5_K) } },
	{ MIX("TQ1_0", 36, TQ1_0, FAM_STD, Q6_K, QT_Q4_K) },
	{ MIX("TQ2_0", 37, TQ2_0, FAM_STD, Q6_K, QT_Q4_K) },
	{ MIX("MXFP4_MOE", 38, MXFP4, FAM_MXFP4_MOE, Q8_0, KEEP) },
	/* not quantized: every quantizable tensor simply gets the type */
	{ MIX("F32", 0, F32, FAM_STD, Q6_K, KEEP) },
	{ MIX("F16", 1, F16, FAM_STD, Q6_K, KEEP) },
	{ MIX("BF16", 32, BF16, FAM_STD, Q6_K, KEEP) },
};

#define N_MIXES (sizeof mixes / sizeof mixes[0])

/* llama-quantize's --type aliases */
static const struct { const char *alias, *mix; } aliases[] = {
	{ "Q3_K", "Q3_K_M" }, { "Q4_K", "Q4_K_M" }, { "Q5_K", "Q5_K_M" },
};

size_t qm_mix_count(void)
{
	return N_MIXES;
}

const struct qm_mix *qm_mix_at(size_t i)
{
	return i < N_MIXES ? &mixes[i].pub : NULL;
}

const struct qm_mix *qm_mix_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcasecmp(name, aliases[i].alias) == 0)
			name = aliases[i].mix;
	for (size_t i = 0; i < N_MIXES; i++)
		if (strcasecmp(name, mixes[i].pub.name) == 0)
			return &mixes[i].pub;
	return NULL;
}

const struct qm_mix *qm_mix_by_ftype(int ftype)
{
	for (size_t i = 0; i < N_MIXES; i++)
		if (mixes[i].pub.ftype == ftype)
			return &mixes[i].pub;
	return NULL;
}

/* ---- architectures ---- */

/* The architectures whose rules are all in the tables above, and the
 * block count at which llama.cpp types the model LLM_TYPE_70B (0: never).
 * Of the Qwen ones only qwen2 does (src/models/qwen2.cpp: 80 layers). */
static const struct { const char *name; uint32_t layers_70b; } archs[] = {
	{ "qwen", 0 }, { "qwen2", 80 }, { "qwen2moe", 0 },
	{ "qwen3", 0 }, { "qwen3moe", 0 }, { "qwen3next", 0 },
	{ "qwen35", 0 }, { "qwen35moe", 0 },
	{ "qwen2vl", 0 }, { "qwen3vl", 0 }, { "qwen3vlmoe", 0 },
	/* an mmproj (vision tower) GGUF: llama.cpp's LLM_ARCH_CLIP, which
	 * llama-quantize quantizes with the same name rules and n_layer 0 */
	{ "clip", 0 },
};

static bool type_ok(int t)
{
	return t == -1 || qt_type_get(t) != NULL;
}

int qm_state_init(struct qm_state *st, const struct qm_model_info *mi,
		  const struct qm_mix *mix, const struct qm_options *opt,
		  const char *const *names, size_t n_names)
{
	static const struct qm_options defaults = QM_OPTIONS_DEFAULT;
	size_t a;

	assert(st && mi && mi->arch && mix && (names || n_names == 0));
	assert(n_names <= INT_MAX);
	memset(st, 0, sizeof *st);
	for (a = 0; a < sizeof archs / sizeof archs[0]; a++)
		if (strcmp(mi->arch, archs[a].name) == 0)
			break;
	if (a == sizeof archs / sizeof archs[0])
		return QM_ERR_ARCH;
	st->opt = opt ? *opt : defaults;
	if (!type_ok(st->opt.output_type) || !type_ok(st->opt.token_embd_type))
		return QM_ERR_TYPE;
	st->mix = mix;
	st->n_layer = mi->n_layer > INT_MAX ? INT_MAX : (int)mi->n_layer;
	st->n_expert = mi->n_expert > INT_MAX ? INT_MAX : (int)mi->n_expert;
	st->n_gqa = mi->n_head_kv ? (int)(mi->n_head / mi->n_head_kv) : 0;
	/* the model type is set from n_layer() = block_count - nextn layers */
	st->is_70b = archs[a].layers_70b != 0 && mi->n_layer >= mi->n_layer_nextn &&
		     mi->n_layer - mi->n_layer_nextn == archs[a].layers_70b;
	st->tied = true;
	for (size_t i = 0; i < n_names; i++) {
		enum cat c = category(names[i]);

		if (is_attn_v_like(c))
			st->n_attention_wv++;
		if (c == CAT_OUTPUT)
			st->tied = false;
	}
	return QM_OK;
}

/* ---- the rules ---- */

static bool use_more_bits(int i, int n)
{
	return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

static bool holds(const struct qm_state *st, const struct rule *r, int i, int n)
{
	if (r->imat == WITH && !st->opt.has_imatrix)
		return false;
	if (r->imat == WITHOUT && st->opt.has_imatrix)
		return false;
	switch (r->cond) {
	case ALWAYS: return true;
	case GQA_GE_4: return st->n_gqa >= 4;
	case GQA4_OR_EXP4: return st->n_gqa >= 4 || st->n_expert >= 4;
	case EXP8: return st->n_expert == 8;
	case I_LT: return i < r->arg;
	case I_LT_N_OVER: return i < n / r->arg;
	case MORE_BITS: return use_more_bits(i, n);
	case FIRST8_OR_EXP8_MORE:
		return i < n / 8 || (st->n_expert == 8 && use_more_bits(i, n));
	case MIDDLE: return i >= n / 8 && i < 7 * n / 8;
	default: return false;
	}
}

/* the type the first holding rule of slot r gives, else type */
static int apply(const struct qm_state *st, const struct rule r[NR], int type, int i, int n)
{
	for (int k = 0; k < NR; k++)
		if (holds(st, &r[k], i, n))
			return r[k].type == KEEP ? type : r[k].type;
	return type;
}

static const struct mix_row *row_of(const struct qm_mix *m)
{
	for (size_t i = 0; i < N_MIXES; i++)
		if (&mixes[i].pub == m)
			return &mixes[i];
	assert(!"qm_mix not from this table");
	return &mixes[0];
}

/* The layer an ffn rule measures: dense models count ffn tensors as they
 * come (the counter, even if that is not the name's block); MoE models read
 * the "blk.N." of the name, which must lie in [0, block_count). */
static int ffn_layer(const struct qm_state *st, const char *name, int counter, int *layer)
{
	if (st->n_expert <= 1) {
		*layer = counter;
		return QM_OK;
	}
	if (!layer_of(name, layer) || *layer < 0 || *layer >= st->n_layer)
		return QM_ERR_LAYER;
	return QM_OK;
}

/* the output head, and the token embedding of a tied model */
static int output_rule(const struct qm_state *st, const struct mix_row *r,
		       const int64_t ne[4], int type)
{
	if (st->opt.output_type >= 0)
		return st->opt.output_type;
	if (r->family == FAM_MXFP4_MOE)
		return r->out;
	if (ne[0] % (int64_t)qt_type_get(type)->blck != 0)
		return QT_Q8_0;
	return type == QT_Q8_0 ? QT_Q8_0 : r->out;
}

/* IQ1/IQ2 mixes: one branch of their own in llama.cpp */
static int lowbit_rules(struct qm_state *st, const struct mix_row *r, enum cat c, int type)
{
	if (is_attn_v_like(c)) {
		type = apply(st, r->attn_v, type, st->i_attention_wv, st->n_attention_wv);
		st->i_attention_wv++;
		return type;
	}
	switch (c) {
	case CAT_ATTN_K:
		return apply(st, r->attn_k, type, 0, 0);
	case CAT_FFN_DOWN:  /* by the counter, for MoE models too */
		type = apply(st, r->ffn_down, type, st->i_ffn_down, st->n_layer);
		st->i_ffn_down++;
		return type;
	case CAT_ATTN_OUT:
		return apply(st, r->attn_out, type, 0, 0);
	default:
		return type;
	}
}

/* llama_tensor_get_type_impl for the mixes of the table; type = the default */
static int mix_rules(struct qm_state *st, const char *name, enum cat c,
		     const int64_t ne[4], int type)
{
	const struct mix_row *r = row_of(st->mix);
	int layer, err;

	if (c == CAT_OUTPUT || (c == CAT_TOKEN_EMBD && st->tied))
		return output_rule(st, r, ne, type);
	if (r->family == FAM_MXFP4_MOE)
		return ne[2] > 1 ? QT_MXFP4 : QT_Q8_0;
	if (c == CAT_TOKEN_EMBD)
		return r->embd == KEEP ? type : r->embd;
	if (r->family == FAM_LOWBIT)
		return lowbit_rules(st, r, c, type);
	if (is_attn_v_like(c)) {
		type = apply(st, r->attn_v, type, st->i_attention_wv, st->n_attention_wv);
		if (st->is_70b && (type == QT_Q3_K || type == QT_Q4_K))
			type = QT_Q5_K;
		if (st->n_expert == 8)
			type = QT_Q8_0;
		st->i_attention_wv++;
		return type;
	}
	switch (c) {
	case CAT_ATTN_K:
		return st->n_expert == 8 ? QT_Q8_0 : apply(st, r->attn_k, type, 0, 0);
	case CAT_ATTN_Q:
		return apply(st, r->attn_q, type, 0, 0);
	case CAT_ATTN_OUT:
		return apply(st, r->attn_out, type, 0, 0);
	case CAT_FFN_DOWN:
		if ((err = ffn_layer(st, name, st->i_ffn_down, &layer)) != QM_OK)
			return err;
		type = apply(st, r->ffn_down, type, layer, st->n_layer);
		st->i_ffn_down++;
		return type;
	case CAT_FFN_GATE:
		if ((err = ffn_layer(st, name, st->i_ffn_gate, &layer)) != QM_OK)
			return err;
		type = apply(st, r->ffn_gate_up, type, layer, st->n_layer);
		st->i_ffn_gate++;
		return type;
	case CAT_FFN_UP:
		if ((err = ffn_layer(st, name, st->i_ffn_up, &layer)) != QM_OK)
			return err;
		type = apply(st, r->ffn_gate_up, type, layer, st->n_layer);
		st->i_ffn_up++;
		return type;
	default:
		return type;
	}
}

/* When the row length is not a multiple of the type's block: a smaller-block
 * type, or F16 when that does not fit either. */
static const struct { int from, to; } fallbacks[] = {
	{ QT_IQ1_S, QT_IQ4_NL }, { QT_IQ1_M, QT_IQ4_NL }, { QT_IQ2_XXS, QT_IQ4_NL },
	{ QT_IQ2_XS, QT_IQ4_NL }, { QT_IQ2_S, QT_IQ4_NL }, { QT_IQ3_XXS, QT_IQ4_NL },
	{ QT_IQ3_S, QT_IQ4_NL }, { QT_IQ4_XS, QT_IQ4_NL },
	{ QT_Q2_0, QT_Q4_0 }, { QT_Q2_K, QT_Q4_0 }, { QT_Q3_K, QT_Q4_0 },
	{ QT_TQ1_0, QT_Q4_0 }, { QT_TQ2_0, QT_Q4_0 },
	{ QT_Q4_K, QT_Q5_0 }, { QT_Q5_K, QT_Q5_1 }, { QT_Q6_K, QT_Q8_0 },
};

static int fallback(struct qm_state *st, int64_t ncols, int type)
{
	const struct qt_type *t = qt_type_get(type);
	int to = -1;

	if (ncols % (int64_t)t->blck == 0)
		return type;
	st->n_fallback++;
	for (size_t i = 0; i < sizeof fallbacks / sizeof fallbacks[0]; i++)
		if (fallbacks[i].from == type)
			to = fallbacks[i].to;
	if (to < 0) {
		if (t->blck > 32)
			return QM_ERR_TYPE;
		to = type;  /* a 32-block type has nothing smaller: F16 below */
	}
	if (ncols % (int64_t)qt_type_get(to)->blck != 0)
		to = QT_F16;
	return to;
}

int qm_tensor_type(struct qm_state *st, const char *name, const int64_t ne[4],
		   int src_type, int manual_type)
{
	enum cat c;
	int type;

	assert(st && st->mix && name && ne);
	if (!qm_is_quantizable(name, ne, st->opt.keep_output))
		return src_type;
	if (!type_ok(manual_type))
		return QM_ERR_TYPE;
	c = category(name);
	/* --token-embedding-type wins, except that a user rule naming
	 * per_layer_token_embd.weight wins over it */
	if (st->opt.token_embd_type >= 0 && c == CAT_TOKEN_EMBD &&
	    !(manual_type >= 0 && strcmp(name, "per_layer_token_embd.weight") == 0))
		return st->opt.token_embd_type;
	if (st->opt.output_type >= 0 && c == CAT_OUTPUT)
		return st->opt.output_type;
	type = st->mix->default_type;
	if (!qt_type_get(type)->is_quant)
		return type;
	if (manual_type >= 0)
		type = manual_type;
	else if (!st->opt.pure)
		type = mix_rules(st, name, c, ne, type);
	if (type < 0)
		return type;
	return fallback(st, ne[0], type);
}

/* the types ggml's quantizers cannot make well without importance weights */
static const int needs_imatrix[] = {
	QT_IQ3_XXS, QT_IQ2_XXS, QT_IQ2_XS, QT_IQ2_S, QT_IQ1_M, QT_IQ1_S,
};

bool qm_requires_imatrix(const struct qm_state *st, const char *name, int type)
{
	assert(st && st->mix && name);
	if (strcmp(name, "token_embd.weight") == 0 || strcmp(name, "output.weight") == 0 ||
	    strcmp(name, "per_layer_token_embd.weight") == 0)
		return false;
	for (size_t i = 0; i < sizeof needs_imatrix / sizeof needs_imatrix[0]; i++)
		if (type == needs_imatrix[i])
			return true;
	return type == QT_Q2_K && st->mix->ftype == 21;  /* Q2_K_S */
}
