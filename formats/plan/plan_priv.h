/* plan_priv.h - what plan_kv.c (key/value list, arch keys) and
 * plan_names.c (authorship: model card, name heuristics) share. Not part of
 * the plan.h contract. */
#ifndef QK_PLAN_PRIV_H
#define QK_PLAN_PRIV_H

#include "plan.h"

/* Append to a KV list (gguf-py skips empty strings and empty arrays, and so
 * do these: they return QK_OK without adding). Values are copied. */
int wp_kv_u32(struct wp_meta *md, const char *key, uint32_t v, qk_err *err);
int wp_kv_i32(struct wp_meta *md, const char *key, int32_t v, qk_err *err);
int wp_kv_f32(struct wp_meta *md, const char *key, float v, qk_err *err);
int wp_kv_str(struct wp_meta *md, const char *key, const char *v, qk_err *err);
int wp_kv_arr_str(struct wp_meta *md, const char *key, char *const *v, size_t n, qk_err *err);
int wp_kv_arr_bool(struct wp_meta *md, const char *key, const bool *v, size_t n, qk_err *err);
int wp_kv_arr_i32(struct wp_meta *md, const char *key, const int32_t *v, size_t n, qk_err *err);
int wp_kv_bool(struct wp_meta *md, const char *key, bool v, qk_err *err);
int wp_kv_arr_f32(struct wp_meta *md, const char *key, const float *v, size_t n, qk_err *err);

#define WP_QUANT_VERSION 2u /* general.quantization_version: GGML_QUANT_VERSION */

/* general.architecture (arch), general.type (type), the sampling keys of
 * generation_config.json and the authorship keys, as llama.cpp writes them
 * before the architecture's own keys. */
int wp_add_general(struct wp_meta *md, const struct wp_plan *p, const struct wp_meta_opts *o,
		   const char *arch, const char *type, qk_err *err);

/* Authorship fields, in the order llama.cpp writes them after general.name
 * (general.author ... general.source.repo_url). */
enum wp_auth_field {
	WP_A_NAME = 0, WP_A_AUTHOR, WP_A_VERSION, WP_A_ORGANIZATION, WP_A_FINETUNE,
	WP_A_BASENAME, WP_A_DESCRIPTION, WP_A_QUANTIZED_BY, WP_A_SIZE_LABEL, WP_A_LICENSE,
	WP_A_LICENSE_NAME, WP_A_LICENSE_LINK, WP_A_URL, WP_A_DOI, WP_A_UUID, WP_A_REPO_URL,
	WP_A_SOURCE_URL, WP_A_SOURCE_DOI, WP_A_SOURCE_UUID, WP_A_SOURCE_REPO_URL,
	WP_A_COUNT
};

/* a base model or dataset entry */
enum wp_src_field {
	WP_S_NAME = 0, WP_S_AUTHOR, WP_S_VERSION, WP_S_ORGANIZATION, WP_S_DESCRIPTION,
	WP_S_URL, WP_S_DOI, WP_S_UUID, WP_S_REPO_URL, WP_S_COUNT
};

struct wp_source {
	char *f[WP_S_COUNT];          /* owned or NULL */
};

struct wp_auth {
	char *f[WP_A_COUNT];          /* owned or NULL */
	struct wp_source *base;       /* [n_base] */
	size_t n_base;
	bool has_base;                /* the card names base models (count may be 0) */
	struct wp_source *data;       /* [n_data] datasets */
	size_t n_data;
	bool has_data;
	char **tags, **langs;         /* [n_tags], [n_langs] */
	size_t n_tags, n_langs;
	char note[256];               /* why the model card was ignored, or "" */
};

/* Authorship of the model in o->dir as llama.cpp's Metadata.load and
 * prepare_metadata derive it (model card, config.json _name_or_path,
 * directory name, o->name, computed size label). */
int wp_auth_load(struct wp_auth *a, const struct wp_plan *p, const struct wp_meta_opts *o,
		 qk_err *err);
void wp_auth_free(struct wp_auth *a);

#endif
