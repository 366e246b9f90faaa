/* inspect_hparams.c - hyperparameters as text and JSON, from one field table. */
#include "inspect.h"

#include <stddef.h>
#include <string.h>

enum field_kind { F_U32, F_F64, F_BOOL, F_I64 };

/* Which fields each kind of model shows; `when` filters rows. */
enum { W_ALL, W_MOE, W_NEXT, W_MROPE, W_QWEN1, W_YARN, W_SCALED };

static const struct field {
	const char *name;  /* JSON key and text label */
	size_t off;
	int kind;
	int when;
} fields[] = {
	{ "n_vocab", offsetof(struct qk_hparams, n_vocab), F_U32, W_ALL },
	{ "n_embd", offsetof(struct qk_hparams, n_embd), F_U32, W_ALL },
	{ "n_layer", offsetof(struct qk_hparams, n_layer), F_U32, W_ALL },
	{ "n_head", offsetof(struct qk_hparams, n_head), F_U32, W_ALL },
	{ "n_head_kv", offsetof(struct qk_hparams, n_head_kv), F_U32, W_ALL },
	{ "head_dim", offsetof(struct qk_hparams, head_dim), F_U32, W_ALL },
	{ "n_ff", offsetof(struct qk_hparams, n_ff), F_U32, W_ALL },
	{ "n_ctx_train", offsetof(struct qk_hparams, n_ctx_train), F_U32, W_ALL },
	{ "norm_eps", offsetof(struct qk_hparams, norm_eps), F_F64, W_ALL },
	{ "rope_theta", offsetof(struct qk_hparams, rope_theta), F_F64, W_ALL },
	{ "n_rot", offsetof(struct qk_hparams, n_rot), F_U32, W_ALL },
	{ "rope_scaling_factor", offsetof(struct qk_hparams, rope.factor), F_F64, W_SCALED },
	{ "rope_original_ctx", offsetof(struct qk_hparams, rope.original_ctx), F_U32, W_YARN },
	{ "tie_word_embeddings", offsetof(struct qk_hparams, tie_word_embeddings), F_BOOL, W_ALL },
	{ "attn_bias", offsetof(struct qk_hparams, attn_bias), F_BOOL, W_ALL },
	{ "qk_norm", offsetof(struct qk_hparams, qk_norm), F_BOOL, W_ALL },
	{ "n_expert", offsetof(struct qk_hparams, n_expert), F_U32, W_MOE },
	{ "n_expert_used", offsetof(struct qk_hparams, n_expert_used), F_U32, W_MOE },
	{ "n_ff_exp", offsetof(struct qk_hparams, n_ff_exp), F_U32, W_MOE },
	{ "n_ff_shexp", offsetof(struct qk_hparams, n_ff_shexp), F_U32, W_MOE },
	{ "norm_topk_prob", offsetof(struct qk_hparams, norm_topk_prob), F_BOOL, W_MOE },
	{ "decoder_sparse_step", offsetof(struct qk_hparams, decoder_sparse_step), F_U32, W_MOE },
	{ "full_attention_interval", offsetof(struct qk_hparams, full_attention_interval), F_U32, W_NEXT },
	{ "ssm_d_conv", offsetof(struct qk_hparams, ssm_d_conv), F_U32, W_NEXT },
	{ "ssm_n_k_heads", offsetof(struct qk_hparams, ssm_n_k_heads), F_U32, W_NEXT },
	{ "ssm_n_v_heads", offsetof(struct qk_hparams, ssm_n_v_heads), F_U32, W_NEXT },
	{ "ssm_head_k_dim", offsetof(struct qk_hparams, ssm_head_k_dim), F_U32, W_NEXT },
	{ "ssm_head_v_dim", offsetof(struct qk_hparams, ssm_head_v_dim), F_U32, W_NEXT },
	{ "n_mtp_layers", offsetof(struct qk_hparams, n_mtp_layers), F_U32, W_NEXT },
	{ "rope_sections_t", offsetof(struct qk_hparams, rope_sections[0]), F_U32, W_MROPE },
	{ "rope_sections_h", offsetof(struct qk_hparams, rope_sections[1]), F_U32, W_MROPE },
	{ "rope_sections_w", offsetof(struct qk_hparams, rope_sections[2]), F_U32, W_MROPE },
	{ "mrope_interleaved", offsetof(struct qk_hparams, mrope_interleaved), F_BOOL, W_MROPE },
	{ "seq_length", offsetof(struct qk_hparams, seq_length), F_U32, W_QWEN1 },
	{ "use_dynamic_ntk", offsetof(struct qk_hparams, use_dynamic_ntk), F_BOOL, W_QWEN1 },
	{ "use_logn_attn", offsetof(struct qk_hparams, use_logn_attn), F_BOOL, W_QWEN1 },
	{ "bos_token_id", offsetof(struct qk_hparams, bos_token_id), F_I64, W_ALL },
	{ "eos_token_id", offsetof(struct qk_hparams, eos_token_id), F_I64, W_ALL },
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static bool shown(const struct field *fd, const struct qk_hparams *hp)
{
	switch (fd->when) {
	case W_MOE: return hp->n_expert > 0;
	case W_NEXT: return hp->ssm_n_v_heads != 0;
	case W_MROPE: return hp->has_rope_sections;
	case W_QWEN1: return hp->arch == QK_ARCH_QWEN;
	case W_YARN: return hp->rope.type == QK_ROPE_YARN;
	case W_SCALED: return hp->rope.type != QK_ROPE_DEFAULT;
	default: return true;
	}
}

void inspect_hparams_text(FILE *f, const struct qk_hparams *hp)
{
	const char *base = (const char *)hp;

	fprintf(f, "hyperparameters:\n");
	if (hp->rope.type != QK_ROPE_DEFAULT)
		fprintf(f, "  %-24s %s\n", "rope_scaling", qk_rope_type_name(hp->rope.type));
	for (size_t i = 0; i < N_FIELDS; i++) {
		const struct field *fd = &fields[i];
		uint32_t u;
		double d;
		bool b;
		int64_t l;

		if (!shown(fd, hp))
			continue;
		switch (fd->kind) {
		case F_U32:
			memcpy(&u, base + fd->off, sizeof(u));
			fprintf(f, "  %-24s %u\n", fd->name, u);
			break;
		case F_F64:
			memcpy(&d, base + fd->off, sizeof(d));
			fprintf(f, "  %-24s %g\n", fd->name, d);
			break;
		case F_BOOL:
			memcpy(&b, base + fd->off, sizeof(b));
			fprintf(f, "  %-24s %s\n", fd->name, b ? "true" : "false");
			break;
		case F_I64:
			memcpy(&l, base + fd->off, sizeof(l));
			if (l >= 0)
				fprintf(f, "  %-24s %lld\n", fd->name, (long long)l);
			break;
		}
	}
}

cJSON *inspect_hparams_json(const struct qk_hparams *hp)
{
	const char *base = (const char *)hp;
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "rope_scaling", qk_rope_type_name(hp->rope.type));
	for (size_t i = 0; i < N_FIELDS; i++) {
		const struct field *fd = &fields[i];
		uint32_t u;
		double d;
		bool b;
		int64_t l;

		if (!shown(fd, hp))
			continue;
		switch (fd->kind) {
		case F_U32:
			memcpy(&u, base + fd->off, sizeof(u));
			cJSON_AddNumberToObject(o, fd->name, u);
			break;
		case F_F64:
			memcpy(&d, base + fd->off, sizeof(d));
			cJSON_AddNumberToObject(o, fd->name, d);
			break;
		case F_BOOL:
			memcpy(&b, base + fd->off, sizeof(b));
			cJSON_AddBoolToObject(o, fd->name, b);
			break;
		case F_I64:
			memcpy(&l, base + fd->off, sizeof(l));
			if (l >= 0)
				cJSON_AddNumberToObject(o, fd->name, (double)l);
			else
				cJSON_AddNullToObject(o, fd->name);
			break;
		}
	}
	return o;
}

/* Runs of equal kind: "0-2 linear attention + MoE". */
static const char *layer_kind(uint8_t flags)
{
	static const char *const names[4] = {
		"attention + dense FFN", "attention + MoE",
		"linear attention + dense FFN", "linear attention + MoE",
	};
	return names[flags & 3];
}

void inspect_layers_text(FILE *f, const struct qk_hparams *hp)
{
	uint32_t i = 0;

	fprintf(f, "layers:\n");
	while (i < hp->n_layer) {
		uint32_t j = i;
		while (j + 1 < hp->n_layer && hp->layer_flags[j + 1] == hp->layer_flags[i])
			j++;
		if (j == i)
			fprintf(f, "  %-24u %s\n", i, layer_kind(hp->layer_flags[i]));
		else {
			char r[32];
			snprintf(r, sizeof(r), "%u-%u", i, j);
			fprintf(f, "  %-24s %s\n", r, layer_kind(hp->layer_flags[i]));
		}
		i = j + 1;
	}
}

cJSON *inspect_layers_json(const struct qk_hparams *hp)
{
	cJSON *a = cJSON_CreateArray();

	if (!a)
		return NULL;
	for (uint32_t i = 0; i < hp->n_layer; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o)
			break;
		cJSON_AddNumberToObject(o, "layer", i);
		cJSON_AddStringToObject(o, "attention",
					(hp->layer_flags[i] & QK_LAYER_LINEAR) ? "linear" : "full");
		cJSON_AddStringToObject(o, "ffn", (hp->layer_flags[i] & QK_LAYER_MOE) ? "moe" : "dense");
		cJSON_AddItemToArray(a, o);
	}
	return a;
}
