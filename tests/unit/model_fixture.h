/* model_fixture.h - in-memory catalogs and Qwen model builders shared by
 * test_model.c and test_model_fail.c (static inline: each test program gets
 * its own copy and may leave some unused).
 *
 * Builders list tensors by the names and shapes of
 * the transformers modeling files of each generation (Qwen1: the remote
 * modeling_qwen.py), written out here rather than taken from the arch tables. F32 data
 * is a pattern that encodes each element's row, so a view row can be traced
 * back to the source row it came from.
 */
#ifndef TEST_MODEL_FIXTURE_H
#define TEST_MODEL_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/dtype.h"
#include "../../formats/model/model.h"

/* ---- fixture: catalogs over a static arena ---- */

static uint8_t arena[1 << 21];
static size_t arena_used;
static const char *skip_name; /* builders leave this tensor out */

struct fx {
	struct qk_catalog cat;
	struct qk_hparams hp;
	struct qk_model m;
	qk_err err;
	int tag;
};

/* F32 element (r, c) of tensor number `tag` (a 1-D tensor is one row) */
static inline float pattern(int tag, uint64_t r, uint64_t c)
{
	return (float)((tag % 256) * 65536 + (int)r * 64 + (int)c);
}

/* source row an F32 value came from */
static inline int row_of(float v) { return ((int)v % 65536) / 64; }

static inline struct qk_tensor *add_dt(struct fx *f, const char *name, int dt,
				       const uint64_t *shape, int nd)
{
	static struct qk_tensor dummy;
	struct qk_tensor *t;
	uint64_t cols;
	qk_err e;

	if (skip_name && strcmp(name, skip_name) == 0)
		return &dummy;
	if (qk_catalog_add(&f->cat, name, strlen(name), &t, &e))
		fail_msg("add %s: %s", name, e.msg);
	t->dtype = dt;
	t->n_dims = nd;
	t->n_elem = 1;
	for (int i = 0; i < nd; i++) {
		t->shape[i] = shape[i];
		t->n_elem *= shape[i];
	}
	assert_true(qk_dtype_nbytes(dt, t->n_elem, &t->nbytes));
	arena_used = (arena_used + 7) & ~(size_t)7;
	assert_true(arena_used + t->nbytes <= sizeof(arena));
	t->data = arena + arena_used;
	memset(arena + arena_used, 0, t->nbytes);
	cols = nd > 1 ? shape[nd - 1] : t->n_elem;
	if (dt == QK_DT_F32) {
		for (uint64_t i = 0; i < t->n_elem; i++) {
			float v = pattern(f->tag, i / cols, i % cols);
			memcpy(arena + arena_used + 4 * i, &v, 4);
		}
	}
	arena_used += t->nbytes;
	f->tag++;
	return t;
}

#define SHAPE(...) (const uint64_t[]){ __VA_ARGS__ }, \
	(int)(sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t))
#define ADD(f, name, ...) add_dt(f, name, QK_DT_F32, SHAPE(__VA_ARGS__))

/* name built printf-style */
static inline struct qk_tensor *addf(struct fx *f, const uint64_t *shape, int nd,
				     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static inline struct qk_tensor *addf(struct fx *f, const uint64_t *shape, int nd,
				     const char *fmt, ...)
{
	char name[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	return add_dt(f, name, QK_DT_F32, shape, nd);
}

static inline void fx_init(struct fx *f, int arch, int format)
{
	memset(f, 0, sizeof(*f));
	arena_used = 0;
	qk_catalog_init(&f->cat);
	f->cat.format = format;
	f->hp.arch = arch;
	f->hp.n_vocab = 16;
	f->hp.n_embd = 8;
	f->hp.n_layer = 2;
	f->hp.n_head = 2;
	f->hp.n_head_kv = 1;
	f->hp.head_dim = 4;
	f->hp.n_ff = 12;
	f->hp.n_ff_config = 12;
}

static inline int fx_bind(struct fx *f)
{
	qk_err_clear(&f->err);
	return qk_model_bind(&f->m, &f->cat, &f->hp, &f->err);
}

static inline void fx_ok(struct fx *f)
{
	if (fx_bind(f))
		fail_msg("bind failed: %s", f->err.msg);
}

/* binding fails with `code` and a message holding every fragment */
static inline void fx_fails(struct fx *f, int code, const char *frag1, const char *frag2)
{
	int rc = fx_bind(f);

	if (rc == QK_OK)
		fail_msg("bind succeeded, expected '%s'", frag1);
	if (rc != code || !strstr(f->err.msg, frag1) || (frag2 && !strstr(f->err.msg, frag2)))
		fail_msg("code %d message '%s', expected %d with '%s' and '%s'", rc, f->err.msg,
			 code, frag1, frag2 ? frag2 : "");
	/* a failed bind leaves nothing behind */
	assert_null(f->m.bind);
	assert_int_equal(f->m.n_bind, 0);
}

static inline void fx_free(struct fx *f)
{
	qk_model_free(&f->m);
	qk_catalog_free(&f->cat);
	skip_name = NULL;
}

static inline uint64_t cat_elems(const struct qk_catalog *cat)
{
	uint64_t n = 0;

	for (size_t i = 0; i < cat->n_tensors; i++)
		n += cat->tensors[i].n_elem;
	return n;
}

/* ---- HF model builders (names and shapes from the reference docs) ---- */

/* Qwen2-style attention of layer l: q [nH*D, H], k/v [nKV*D, H], o [H, nH*D] */
static inline void attn_hf(struct fx *f, int l, uint64_t q_rows, bool bias, bool qk_norm)
{
	const uint64_t H = f->hp.n_embd, D = f->hp.head_dim, KV = f->hp.n_head_kv * D;
	const uint64_t Q = f->hp.n_head * D;

	addf(f, SHAPE(H), "model.layers.%d.input_layernorm.weight", l);
	addf(f, SHAPE(q_rows, H), "model.layers.%d.self_attn.q_proj.weight", l);
	addf(f, SHAPE(KV, H), "model.layers.%d.self_attn.k_proj.weight", l);
	addf(f, SHAPE(KV, H), "model.layers.%d.self_attn.v_proj.weight", l);
	addf(f, SHAPE(H, Q), "model.layers.%d.self_attn.o_proj.weight", l);
	if (bias) {
		addf(f, SHAPE(q_rows), "model.layers.%d.self_attn.q_proj.bias", l);
		addf(f, SHAPE(KV), "model.layers.%d.self_attn.k_proj.bias", l);
		addf(f, SHAPE(KV), "model.layers.%d.self_attn.v_proj.bias", l);
	}
	if (qk_norm) {
		addf(f, SHAPE(D), "model.layers.%d.self_attn.q_norm.weight", l);
		addf(f, SHAPE(D), "model.layers.%d.self_attn.k_norm.weight", l);
	}
}

static inline void dense_hf(struct fx *f, int l)
{
	const uint64_t H = f->hp.n_embd, I = f->hp.n_ff;

	addf(f, SHAPE(H), "model.layers.%d.post_attention_layernorm.weight", l);
	addf(f, SHAPE(I, H), "model.layers.%d.mlp.gate_proj.weight", l);
	addf(f, SHAPE(I, H), "model.layers.%d.mlp.up_proj.weight", l);
	addf(f, SHAPE(H, I), "model.layers.%d.mlp.down_proj.weight", l);
}

static inline void globals_hf(struct fx *f, bool lm_head)
{
	ADD(f, "model.embed_tokens.weight", 16, 8);
	ADD(f, "model.norm.weight", 8);
	if (lm_head)
		ADD(f, "lm_head.weight", 16, 8);
}

/* routed experts of a block ("model.layers.1"), per-expert or fused (5.x) */
static inline void experts_hf(struct fx *f, const char *blk, bool fused, const char *suffix)
{
	const uint64_t H = f->hp.n_embd, E = f->hp.n_expert, Im = f->hp.n_ff_exp;

	addf(f, SHAPE(E, H), "%s.mlp.gate.weight", blk);
	if (fused) {
		addf(f, SHAPE(E, 2 * Im, H), "%s.mlp.experts.gate_up_proj%s", blk, suffix);
		addf(f, SHAPE(E, H, Im), "%s.mlp.experts.down_proj%s", blk, suffix);
		return;
	}
	for (uint64_t e = 0; e < E; e++) {
		addf(f, SHAPE(Im, H), "%s.mlp.experts.%d.gate_proj.weight", blk, (int)e);
		addf(f, SHAPE(Im, H), "%s.mlp.experts.%d.up_proj.weight", blk, (int)e);
		addf(f, SHAPE(H, Im), "%s.mlp.experts.%d.down_proj.weight", blk, (int)e);
	}
}

static inline void shared_hf(struct fx *f, const char *blk)
{
	const uint64_t H = f->hp.n_embd, Is = f->hp.n_ff_shexp;

	addf(f, SHAPE(Is, H), "%s.mlp.shared_expert.gate_proj.weight", blk);
	addf(f, SHAPE(Is, H), "%s.mlp.shared_expert.up_proj.weight", blk);
	addf(f, SHAPE(H, Is), "%s.mlp.shared_expert.down_proj.weight", blk);
	addf(f, SHAPE(1, H), "%s.mlp.shared_expert_gate.weight", blk);
}

static inline void qwen2_model(struct fx *f, bool lm_head)
{
	fx_init(f, QK_ARCH_QWEN2, QK_FMT_SAFETENSORS);
	f->hp.attn_bias = true;
	f->hp.tie_word_embeddings = !lm_head;
	globals_hf(f, lm_head);
	for (int l = 0; l < 2; l++) {
		attn_hf(f, l, 8, true, false);
		dense_hf(f, l);
	}
}

static inline void moe_hparams(struct fx *f)
{
	f->hp.n_expert = 4;
	f->hp.n_expert_used = 2;
	f->hp.n_ff_exp = 3;
	f->hp.n_ff_shexp = 5;
	for (uint32_t l = 0; l < f->hp.n_layer; l++)
		f->hp.layer_flags[l] |= QK_LAYER_MOE;
}

static inline void qwen2moe_model(struct fx *f)
{
	char blk[32];

	fx_init(f, QK_ARCH_QWEN2MOE, QK_FMT_SAFETENSORS);
	f->hp.attn_bias = true;
	moe_hparams(f);
	globals_hf(f, true);
	for (int l = 0; l < 2; l++) {
		snprintf(blk, sizeof(blk), "model.layers.%d", l);
		attn_hf(f, l, 8, true, false);
		addf(f, SHAPE(8), "%s.post_attention_layernorm.weight", blk);
		experts_hf(f, blk, false, "");
		shared_hf(f, blk);
	}
}

static inline void qwen3moe_model(struct fx *f, bool fused, const char *suffix)
{
	char blk[32];

	fx_init(f, QK_ARCH_QWEN3MOE, QK_FMT_SAFETENSORS);
	f->hp.head_dim = 6; /* explicit head_dim != hidden / heads */
	moe_hparams(f);
	f->hp.n_ff_shexp = 0;
	globals_hf(f, true);
	for (int l = 0; l < 2; l++) {
		snprintf(blk, sizeof(blk), "model.layers.%d", l);
		attn_hf(f, l, 12, false, true);
		addf(f, SHAPE(8), "%s.post_attention_layernorm.weight", blk);
		experts_hf(f, blk, fused, suffix);
	}
}

/* Qwen3-Next: layers 0-2 linear attention, 3 full (interval 4); nk 2, dk 4,
 * nv 4, dv 2 (r = 2), K 3; MoE everywhere; one MTP layer */
static inline void next_hparams(struct fx *f)
{
	f->hp.n_layer = 4;
	f->hp.qk_norm = true;
	f->hp.zero_centred_norm = true;
	f->hp.attn_output_gate = true;
	moe_hparams(f);
	for (uint32_t l = 0; l < 3; l++)
		f->hp.layer_flags[l] |= QK_LAYER_LINEAR;
	f->hp.full_attention_interval = 4;
	f->hp.ssm_n_k_heads = 2;
	f->hp.ssm_head_k_dim = 4;
	f->hp.ssm_n_v_heads = 4;
	f->hp.ssm_head_v_dim = 2;
	f->hp.ssm_d_conv = 3;
	f->hp.n_mtp_layers = 1;
}

static inline void next_full_layer(struct fx *f, const char *blk)
{
	/* q_proj [2*nH*hd, H], o_proj [H, nH*hd]; q_norm/k_norm [hd] (§5.2) */
	addf(f, SHAPE(8), "%s.input_layernorm.weight", blk);
	addf(f, SHAPE(16, 8), "%s.self_attn.q_proj.weight", blk);
	addf(f, SHAPE(4, 8), "%s.self_attn.k_proj.weight", blk);
	addf(f, SHAPE(4, 8), "%s.self_attn.v_proj.weight", blk);
	addf(f, SHAPE(8, 8), "%s.self_attn.o_proj.weight", blk);
	addf(f, SHAPE(4), "%s.self_attn.q_norm.weight", blk);
	addf(f, SHAPE(4), "%s.self_attn.k_norm.weight", blk);
	addf(f, SHAPE(8), "%s.post_attention_layernorm.weight", blk);
	experts_hf(f, blk, false, "");
	shared_hf(f, blk);
}

static inline void next_model(struct fx *f, bool mtp)
{
	char blk[32];

	fx_init(f, QK_ARCH_QWEN3NEXT, QK_FMT_SAFETENSORS);
	next_hparams(f);
	globals_hf(f, true);
	for (int l = 0; l < 3; l++) {
		/* §6.1: key_dim 8, value_dim 8, conv_dim 24, qkvz rows 2*8 + 2*8 = 32 */
		snprintf(blk, sizeof(blk), "model.layers.%d", l);
		addf(f, SHAPE(8), "%s.input_layernorm.weight", blk);
		addf(f, SHAPE(32, 8), "%s.linear_attn.in_proj_qkvz.weight", blk);
		addf(f, SHAPE(8, 8), "%s.linear_attn.in_proj_ba.weight", blk);
		addf(f, SHAPE(24, 1, 3), "%s.linear_attn.conv1d.weight", blk);
		addf(f, SHAPE(4), "%s.linear_attn.dt_bias", blk);
		addf(f, SHAPE(4), "%s.linear_attn.A_log", blk);
		addf(f, SHAPE(2), "%s.linear_attn.norm.weight", blk);
		addf(f, SHAPE(8, 8), "%s.linear_attn.out_proj.weight", blk);
		addf(f, SHAPE(8), "%s.post_attention_layernorm.weight", blk);
		experts_hf(f, blk, false, "");
		shared_hf(f, blk);
	}
	next_full_layer(f, "model.layers.3");
	if (mtp) {
		ADD(f, "mtp.fc.weight", 8, 16);
		ADD(f, "mtp.pre_fc_norm_embedding.weight", 8);
		ADD(f, "mtp.pre_fc_norm_hidden.weight", 8);
		ADD(f, "mtp.norm.weight", 8);
		next_full_layer(f, "mtp.layers.0");
	}
}

static inline struct qk_tensor *find(struct fx *f, const char *name)
{
	long i = qk_catalog_index(&f->cat, name);

	if (i < 0)
		fail_msg("no tensor %s", name);
	return &f->cat.tensors[i];
}

static inline void set_f32(struct qk_tensor *t, const float *v, size_t n)
{
	assert_int_equal(t->n_elem, n);
	memcpy((void *)(uintptr_t)t->data, v, 4 * n);
}

/* source rows behind each row of a view */
static inline void view_rows(const struct qk_binding *b, int *rows, size_t n)
{
	float buf[64];
	qk_err e;

	assert_int_equal(b->view.rows, n);
	assert_true(b->view.cols <= 64);
	for (size_t i = 0; i < n; i++) {
		if (qk_view_read_row(&b->view, i, buf, &e))
			fail_msg("read row %zu: %s", i, e.msg);
		rows[i] = row_of(buf[0]);
		/* the whole row comes from one source row, columns in order */
		for (uint64_t c = 1; c < b->view.cols; c++)
			assert_true(buf[c] == buf[0] + (float)c);
	}
}

#endif
