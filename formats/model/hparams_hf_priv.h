/* hparams_hf_priv.h - shared by the files of the config.json reader
 * (hparams_hf.c: the whole config; hparams_hf_get.c: lookups, checked
 * conversions and messages; hparams_rope.c: RoPE); not a public API. */
#ifndef QK_HPARAMS_HF_PRIV_H
#define QK_HPARAMS_HF_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "hparams.h"
#include "../base/err.h"

/* A parse in progress. Keys are looked up in text_config first, then at the
 * top level: the same as llama.cpp's merge of text_config into the config. */
struct cfg {
	const cJSON *root;
	const cJSON *text;   /* text_config object or NULL */
	const char *fname;
	qk_err *err;
};

/* One looked-up value: v is NULL when the key is absent or JSON null. */
struct item {
	const cJSON *v;
	char path[128];      /* for messages: "rope_scaling.factor" */
};

/* ---- per-architecture rules ---- */

struct arch_rule {
	const char *eps_key;       /* rms_norm_eps; Qwen1 layer_norm_epsilon */
	uint32_t ctx_def;          /* max_position_embeddings */
	uint32_t ff_def;           /* intermediate_size; 0 = required */
	uint32_t head_dim_def;     /* class default head_dim; 0 = n_embd / n_head */
	const char *bias_key;      /* NULL: q/k/v bias fixed to bias_def */
	bool bias_def;
	bool qk_norm;
	bool next;                 /* zero-centred norms, output gate, linear layers */
	double partial_def;        /* partial_rotary_factor */
	/* MoE (n_expert_def == 0: dense) */
	uint32_t n_expert_def, n_used_def, ff_exp_def;
	uint32_t ff_shexp_def;     /* 0: the class has no shared expert */
	bool norm_topk_def;
	bool ff_none;              /* the class has no intermediate_size (0 if absent) */
	bool q35;                  /* Qwen3.5: split linear projections (value heads
				    * tiled in GGUF form), M-RoPE sections, top-k
				    * always renormalised */
	uint8_t vl;                /* Qwen-VL text tower: QK_VL_CHUNKED (Qwen2-VL,
				    * Qwen2.5-VL) or QK_VL_INTERLEAVED (Qwen3-VL)
				    * M-RoPE; 0 otherwise */
	double eps_def;            /* rms_norm_eps default; 0 = 1e-6 */
};

enum { QK_VL_NONE = 0, QK_VL_CHUNKED, QK_VL_INTERLEAVED };

/* ---- lookups, checked conversions, messages (hparams_hf_get.c) ---- */

/* a JSON value for a message: a number as written, a string quoted and
 * cut, or its kind */
void hf_describe(const cJSON *v, char *buf, size_t n);
/* "<file>: '<path>' is <value>, expected <expect>" (QK_E_INVALID) */
int hf_bad(const struct cfg *c, const struct item *it, const char *expect);
/* "<file>: missing required key '<key>'" */
int hf_missing(const struct cfg *c, const char *key, const char *expect);
/* `key` in `obj` (NULL = nowhere); it->v NULL when absent or null */
int hf_look(const struct cfg *c, const cJSON *obj, const char *prefix, const char *key,
		struct item *it);
/* el->path = "base[idx]" */
void hf_index_path(struct item *el, const char *base, int idx);
/* `key` in text_config, else at the top level */
int hf_find(const struct cfg *c, const char *key, struct item *it);
/* checked conversions of a present value */
int hf_u32_of(const struct cfg *c, const struct item *it, uint32_t lo, uint32_t hi,
		  uint32_t *out);
int hf_num_of(const struct cfg *c, const struct item *it, double lo, double hi,
		  bool lo_open, const char *expect, double *out);
/* required / optional keys with a range and a default */
int hf_req_u32(const struct cfg *c, const char *key, uint32_t lo, uint32_t hi,
		   uint32_t *out);
int hf_opt_u32(const struct cfg *c, const char *key, uint32_t def, uint32_t lo,
		   uint32_t hi, uint32_t *out);
int hf_opt_num(const struct cfg *c, const cJSON *obj, const char *prefix, const char *key,
		   double def, double lo, double hi, bool lo_open, const char *expect,
		   double *out);
int hf_opt_bool(const struct cfg *c, const cJSON *obj, const char *prefix, const char *key,
		    bool def, bool *out);

/* ---- RoPE of every architecture but Qwen1 (hparams_rope.c) ---- */

int hf_parse_rope(const struct cfg *c, const struct arch_rule *r, struct qk_hparams *hp);

/* ---- Qwen-VL text towers (hparams_vl.c) ---- */

/* M-RoPE of a VL arch: the class's interleaving, and its default
 * mrope_section when the config states none (has_rope_sections false) */
void hf_vl_mrope_defaults(const struct arch_rule *r, struct qk_hparams *hp);
/* n_deepstack = len(vision_config.deepstack_visual_indexes), 0 when absent */
int hf_parse_deepstack(const struct cfg *c, struct qk_hparams *hp);

#endif
