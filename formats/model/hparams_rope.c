/* hparams_rope.c - RoPE from config.json (every architecture but Qwen1,
 * whose rotary settings are in hparams_hf.c): rope_theta, the rope_scaling
 * (4.x) or rope_parameters (5.x) dict with its type (default, linear,
 * dynamic, yarn) and factors, partial_rotary_factor, and Qwen3.5's M-RoPE
 * sections. Semantics are transformers 5.x's (modeling_rope_utils.py): an
 * explicit YaRN factor wins (after transformers PR #40320). */
#include "hparams_hf_priv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- RoPE (all but Qwen1) ---- */

/* A number in (lo, hi] from the rope dict, else from the top level. */
static int rope_num(const struct cfg *c, const cJSON *d, const char *pre, const char *key,
		    double def, double lo, double hi, const char *expect, double *out)
{
	struct item it;
	int rc = hf_look(c, d, pre, key, &it);

	if (rc)
		return rc;
	if (it.v)
		return hf_num_of(c, &it, lo, hi, true, expect, out);
	return hf_opt_num(c, NULL, "", key, def, lo, hi, true, expect, out);
}

/* Qwen3.5's mrope_section (at most 4 pair counts, the rotary pairs given
 * to the t, h, w position streams) and mrope_interleaved. Text positions
 * make every stream equal, so they only matter for the GGUF key
 * rope.dimension_sections and for image/video positions. */
static int parse_mrope(const struct cfg *c, const cJSON *d, const char *pre,
		       struct qk_hparams *hp)
{
	struct item it;
	const cJSON *e;
	int rc, idx = 0;

	if ((rc = hf_opt_bool(c, d, pre, "mrope_interleaved", false, &hp->mrope_interleaved)) ||
	    (rc = hf_look(c, d, pre, "mrope_section", &it)))
		return rc;
	if (!it.v)
		return QK_OK;
	hp->has_rope_sections = true;
	if (!cJSON_IsArray(it.v) || cJSON_GetArraySize(it.v) > 4)
		return hf_bad(c, &it, "a list of at most 4 integers");
	cJSON_ArrayForEach(e, it.v) {
		struct item el = { .v = e };

		hf_index_path(&el, it.path, idx);
		if ((rc = hf_u32_of(c, &el, 0, 1u << 20, &hp->rope_sections[idx])))
			return rc;
		idx++;
	}
	return QK_OK;
}

int hf_parse_rope(const struct cfg *c, const struct arch_rule *r, struct qk_hparams *hp)
{
	static const char *const expect_type = "default, linear, dynamic or yarn";
	struct item rp, it;
	const cJSON *d, *e;
	char pre[140];
	bool have_factor, have_orig;
	int rc;

	/* 5.x rope_parameters, else 4.x rope_scaling; either may hold rope_theta
	 * and partial_rotary_factor, which otherwise sit at the top level */
	if ((rc = hf_find(c, "rope_parameters", &rp)))
		return rc;
	if (!rp.v && (rc = hf_find(c, "rope_scaling", &rp)))
		return rc;
	if (rp.v && !cJSON_IsObject(rp.v))
		return hf_bad(c, &rp, "an object or null");
	d = rp.v;
	snprintf(pre, sizeof(pre), "%s.", rp.path);
	cJSON_ArrayForEach(e, d) {
		if (cJSON_IsObject(e))
			return qk_err_set(c->err, QK_E_UNSUPPORTED,
					  "%s: '%s%s' is an object: rope parameters per layer type "
					  "are not supported", c->fname, pre, e->string);
	}

	if ((rc = rope_num(c, d, pre, "rope_theta", 10000.0, 0, HUGE_VAL, "a number > 0",
			   &hp->rope_theta)) ||
	    (rc = rope_num(c, d, pre, "partial_rotary_factor", r->partial_def, 0, 1,
			   "a number in (0, 1]", &hp->partial_rotary_factor)))
		return rc;

	if (r->vl)
		hf_vl_mrope_defaults(r, hp);
	if (!d)
		return QK_OK;
	if ((r->q35 || r->vl) && (rc = parse_mrope(c, d, pre, hp)))
		return rc;
	if (r->vl)
		hf_vl_mrope_defaults(r, hp); /* the interleaving is the class's */
	/* rope_type wins over its older alias type */
	if ((rc = hf_look(c, d, pre, "rope_type", &it)))
		return rc;
	if (!it.v && (rc = hf_look(c, d, pre, "type", &it)))
		return rc;
	if (it.v) {
		char val[80];
		int t = -1;

		if (!cJSON_IsString(it.v))
			return hf_bad(c, &it, expect_type);
		for (int k = QK_ROPE_DEFAULT; k <= QK_ROPE_YARN; k++)
			if (strcmp(it.v->valuestring, qk_rope_type_name(k)) == 0)
				t = k;
		/* released Qwen2-VL configs say "mrope": the default rope over
		 * three position streams (the config classes rename it) */
		if (r->vl && strcmp(it.v->valuestring, "mrope") == 0)
			t = QK_ROPE_DEFAULT;
		if (t < 0) {
			hf_describe(it.v, val, sizeof(val));
			return qk_err_set(c->err, QK_E_UNSUPPORTED,
					  "%s: '%s' %s is not supported, expected %s", c->fname,
					  it.path, val, expect_type);
		}
		hp->rope.type = t;
	}
	if (hp->rope.type == QK_ROPE_DEFAULT)
		return QK_OK;

	if ((rc = hf_look(c, d, pre, "factor", &it)))
		return rc;
	have_factor = it.v != NULL;
	if (have_factor &&
	    (rc = hf_num_of(c, &it, 1, HUGE_VAL, false, "a number >= 1", &hp->rope.factor)))
		return rc;
	if (!have_factor && hp->rope.type != QK_ROPE_YARN)
		return hf_missing(c, it.path, "a number >= 1");
	if (hp->rope.type != QK_ROPE_YARN)
		return QK_OK;

	/* yarn: a missing original length is max_position_embeddings; a missing
	 * factor is max_position_embeddings / original (current transformers:
	 * an explicit factor always wins) */
	if ((rc = hf_look(c, d, pre, "original_max_position_embeddings", &it)))
		return rc;
	have_orig = it.v != NULL;
	hp->rope.original_ctx = hp->n_ctx_train;
	if (have_orig && (rc = hf_u32_of(c, &it, 1, UINT32_MAX, &hp->rope.original_ctx)))
		return rc;
	if (!have_factor) {
		if (!have_orig)
			return qk_err_set(c->err, QK_E_INVALID,
					  "%s: missing required key '%sfactor' (a number >= 1, or "
					  "original_max_position_embeddings to derive it)", c->fname, pre);
		hp->rope.factor = (double)hp->n_ctx_train / hp->rope.original_ctx;
		if (hp->rope.factor < 1)
			return qk_err_set(c->err, QK_E_INVALID,
					  "%s: yarn factor derived from max_position_embeddings %u / "
					  "'%soriginal_max_position_embeddings' %u is %g, expected >= 1",
					  c->fname, (unsigned)hp->n_ctx_train, pre,
					  (unsigned)hp->rope.original_ctx, hp->rope.factor);
	}
	if ((rc = hf_opt_num(c, d, pre, "beta_fast", 32, 0, HUGE_VAL, true, "a number > 0",
			  &hp->rope.beta_fast)) ||
	    (rc = hf_opt_num(c, d, pre, "beta_slow", 1, 0, HUGE_VAL, true, "a number > 0",
			  &hp->rope.beta_slow)) ||
	    (rc = hf_opt_num(c, d, pre, "attention_factor", 0, 0, HUGE_VAL, true, "a number > 0",
			  &hp->rope.attention_factor)) ||
	    (rc = hf_opt_num(c, d, pre, "mscale", 0, 0, HUGE_VAL, false, "a number >= 0",
			  &hp->rope.mscale)) ||
	    (rc = hf_opt_num(c, d, pre, "mscale_all_dim", 0, 0, HUGE_VAL, false, "a number >= 0",
			  &hp->rope.mscale_all_dim)))
		return rc;
	return hf_opt_bool(c, d, pre, "truncate", true, &hp->rope.truncate);
}
