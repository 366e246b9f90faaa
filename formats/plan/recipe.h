/* recipe.h - qwen-quant recipes: per-tensor type overrides from a YAML file.
 *
 * A recipe is one YAML document, a mapping:
 *
 *   description: Q8_0 at the edges      # optional, any string
 *   rules:                              # required, a non-empty sequence
 *     - role: ffn_down                  # conditions (at least one) ...
 *       layers: [0..1, -2..-1]
 *       type: Q8_0                      # ... and the type they give
 *     - layer_kind: linear
 *       type: Q6_K
 *     - name: "blk.*.attn_v.weight"
 *       type: Q8_0
 *
 * Rule keys (each condition takes one value or a sequence of values, any of
 * which may match; a rule matches when every condition it has matches):
 *   name        glob over the GGUF tensor name (fnmatch(3) without flags:
 *               '*' also crosses '.', '?', [...])
 *   role        the role as llama.cpp spells the tensor's base name
 *               (arch.h qk_role_name: token_embd, output, attn_q, attn_v,
 *               attn_qkv, ffn_down, ffn_down_exps, ssm_out, attn_q.bias, ...)
 *   layers      a block number N, or a range "A..B" (inclusive); negative
 *               numbers count from the end (-1 is the last layer of the
 *               model, MTP layers excluded). A tensor outside any block
 *               (token_embd, output, output_norm) never matches.
 *   layer_kind  linear (Gated DeltaNet) | full (full attention) | moe | dense
 *   type        a ggml type qwen-quant writes: Q4_0 Q4_1 Q5_0 Q5_1 Q8_0
 *               Q2_K Q3_K Q4_K Q5_K Q6_K F16 BF16 F32 (case-insensitive)
 * The first rule that matches a tensor decides; later rules are not
 * consulted. What a rule's type means (qwen-quant): the tensor takes it
 * instead of the mix's rules, exactly as a llama-quantize --tensor-type
 * override (a tensor llama-quantize never quantizes - norms, biases, routers
 * - keeps its type; a row length the type's blocks do not fit falls back).
 *
 * Errors: QK_E_USAGE (the recipe is the user's command, not the model) with
 * "<file>:<line>: <what>" for every mistake: not YAML (libyaml's own mark),
 * not one mapping, unknown or repeated keys, a missing or empty rules list,
 * a rule without type or without any condition, an unknown type (a mix
 * name such as Q4_K_M is named as one), role or layer kind, a layer that is
 * not an integer in (-QK_MAX_LAYERS, QK_MAX_LAYERS) or a range whose ends
 * are both non-negative (or both negative) and reversed, an empty glob. A
 * file over RC_MAX_BYTES or unreadable: QK_E_USAGE / QK_E_IO.
 *
 * Ownership: an rc_recipe owns everything in it; rc_free releases it.
 */
#ifndef QK_RECIPE_H
#define QK_RECIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

#define RC_MAX_BYTES (1u << 20)   /* bytes in a recipe file */

/* layer_kind values (a bit set: any of them) */
enum rc_kind {
	RC_KIND_LINEAR = 1u << 0,  /* QK_LAYER_LINEAR set */
	RC_KIND_FULL = 1u << 1,    /* QK_LAYER_LINEAR clear */
	RC_KIND_MOE = 1u << 2,     /* QK_LAYER_MOE set */
	RC_KIND_DENSE = 1u << 3,   /* QK_LAYER_MOE clear */
};

/* inclusive block range; a negative end counts from the end (-1 = last) */
struct rc_range {
	long lo, hi;
};

struct rc_rule {
	unsigned line;             /* 1-based line of the rule in the file */
	char **names;              /* [n_names] globs, owned */
	size_t n_names;
	char **roles;              /* [n_roles] role names, owned */
	size_t n_roles;
	struct rc_range *layers;   /* [n_layers], owned */
	size_t n_layers;
	unsigned kinds;            /* enum rc_kind bits; 0 = no condition */
	int type;                  /* ggml type id (quant/qtype.h) */
};

struct rc_recipe {
	char *path;                /* the name used in messages, owned */
	size_t n;
	struct rc_rule *rules;     /* [n] in file order */
};

/* What a rule is matched against: one output tensor. */
struct rc_subject {
	const char *name;          /* GGUF tensor name */
	const char *role;          /* qk_role_name of its role; NULL: none */
	long layer;                /* block number; -1 outside any block */
	unsigned layer_flags;      /* QK_LAYER_* of that block (hparams.h) */
};

/* Read and parse the recipe at `path`. On failure *r is empty. */
int rc_load(struct rc_recipe *r, const char *path, qk_err *err);
/* Parse `len` bytes of YAML (need not be NUL-terminated); `name` is used in
 * messages. On failure *r is empty. */
int rc_parse(struct rc_recipe *r, const char *text, size_t len, const char *name,
	     qk_err *err);
/* Release; accepts NULL and an empty recipe. */
void rc_free(struct rc_recipe *r);

/* Index of the first rule matching s, -1 if none. n_layer: the model's
 * block count without MTP layers (what negative layers count from). */
long rc_match(const struct rc_recipe *r, const struct rc_subject *s, uint32_t n_layer);

/* May a rule name this ggml type? */
bool rc_type_ok(int type);

#endif
