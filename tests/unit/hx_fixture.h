/* hx_fixture.h - what test_hf_export.c and test_hf_roundtrip.c share:
 * opening fixtures, comparing an exported checkpoint with the original, and
 * GGUF files built from a fixture's bound HF model (static inline: each test
 * program gets its own copy and may leave some unused).
 *
 * Oracles, none of them our export's own output:
 *  - the golden fixtures' original tensors (byte for byte), config values
 *    (parsed back with qk_hparams_from_config, field by field) and
 *    transformers' parameter count (expected.safetensors n_params);
 *  - Q8_0 blocks dequantized by hand (fp16 scale x int8), rounded to bf16.
 * GGUF inputs built here come from a fixture's bound HF model: each
 * binding's logical (GGUF-form) view and canonical array, written with
 * gguf.h's writer under its GGUF name, plus the hyperparameter keys.
 */
#ifndef TEST_HX_FIXTURE_H
#define TEST_HX_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../formats/container/catalog.h"
#include "../../formats/base/dtype.h"
#include "../../formats/container/gguf.h"
#include "../../formats/hf_out/hf_export.h"
#include "../../formats/model/hparams.h"
#include "../../formats/base/io.h"
#include "../../formats/model/model.h"
#include "../../formats/tokenizer/tokenizer.h"
#include "../../quant/fp16.h"
#include "../../quant/qtype.h"

#define MODELS "testdata/models"

/* ---- helpers ---- */

struct in {
	struct qk_catalog cat;
	struct qk_hparams hp;
	struct qk_model m;
};

static inline void open_hf(struct in *x, const char *fixture)
{
	char dir[256];
	qk_err e;

	snprintf(dir, sizeof(dir), MODELS "/%s", fixture);
	qk_catalog_init(&x->cat);
	if (qk_catalog_open(&x->cat, dir, &e) || qk_hparams_load_config(&x->hp, dir, &e) ||
	    qk_model_bind(&x->m, &x->cat, &x->hp, &e))
		fail_msg("%s: %s", fixture, e.msg);
}

static inline void open_gguf(struct in *x, const char *path)
{
	qk_err e;

	qk_catalog_init(&x->cat);
	if (gf_to_catalog(&x->cat, path, &e) ||
	    qk_hparams_from_gguf(&x->hp, x->cat.gguf[0], &e) ||
	    qk_model_bind(&x->m, &x->cat, &x->hp, &e))
		fail_msg("%s: %s", path, e.msg);
}

static inline void close_in(struct in *x)
{
	qk_model_free(&x->m);
	qk_catalog_free(&x->cat);
}

static inline char *tmpdir(void)
{
	char *d = strdup("/tmp/qk-hx-XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static inline void rmtree(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[1024];

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

static inline float widen(int dt, const uint8_t *p)
{
	switch (dt) {
	case QK_DT_F32: return qt_f32_from_bits(qk_ld32(p));
	case QK_DT_F16: return qt_fp16_to_fp32(qk_ld16(p));
	default: return qt_bf16_to_fp32(qk_ld16(p));
	}
}

/* round to nearest even to bf16 (finite inputs) */
static inline uint16_t rne_bf16(float f)
{
	uint32_t u = qt_f32_bits(f);

	return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static inline bool ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);

	return n >= k && strcmp(s + n - k, suf) == 0;
}

/* ---- comparing a checkpoint with the original fixture ---- */

static inline void same_bytes(const struct qk_tensor *u, int dt, const uint64_t *shape, int nd,
		       const uint8_t *data, uint64_t nbytes, const char *what)
{
	assert_non_null(u);
	if (u->dtype != dt || u->n_dims != nd || u->nbytes != nbytes)
		fail_msg("%s: %s %d dims %llu bytes, expected %s %d dims %llu bytes", what,
			 qk_dtype_name(u->dtype), u->n_dims, (unsigned long long)u->nbytes,
			 qk_dtype_name(dt), nd, (unsigned long long)nbytes);
	for (int i = 0; i < nd; i++)
		assert_int_equal(u->shape[i], shape[i]);
	for (uint64_t i = 0; i < nbytes; i++)
		if (u->data[i] != data[i])
			fail_msg("%s: byte %llu is %02x, expected %02x", what, (unsigned long long)i,
				 u->data[i], data[i]);
}

/* the Qwen-VL fixtures (exported in the model.language_model.* layout) */
static inline bool vl_fixture(const char *fixture)
{
	return strstr(fixture, "_vl") != NULL;
}

/* fixtures whose fused experts are stored transposed (released Qwen3-VL-MoE) */
static inline bool transposed_experts(const char *fixture)
{
	return strcmp(fixture, "qwen3_vl_moe") == 0;
}

/* a transposed fused tensor t ([E, H, 2I] gate_up or [E, I, H] down)
 * against the per-expert tensors of `out`, element by element; returns
 * how many tensors it compared */
static inline size_t compare_transposed(const struct qk_catalog *out, const struct qk_tensor *t,
					const char *flat, bool gate_up)
{
	const uint64_t E = t->shape[0], A = t->shape[1], B = t->shape[2];
	const uint64_t esz = t->nbytes / (E * A * B), rows = gate_up ? B / 2 : B;
	const char *parts[2] = { gate_up ? "gate_proj" : "down_proj", "up_proj" };
	char base[512], name[600];
	size_t n = 0;

	snprintf(base, sizeof(base), "%.*s", (int)(strrchr(flat, '.') - flat), flat);
	for (uint64_t e = 0; e < E; e++)
		for (int k = 0; k < (gate_up ? 2 : 1); k++) {
			const struct qk_tensor *u;

			snprintf(name, sizeof(name), "%s.%llu.%s.weight", base, (unsigned long long)e,
				 parts[k]);
			u = qk_catalog_find(out, name);
			assert_non_null(u);
			assert_int_equal(u->n_dims, 2);
			assert_int_equal(u->shape[0], rows);
			assert_int_equal(u->shape[1], A);
			for (uint64_t r = 0; r < rows; r++)
				for (uint64_t c = 0; c < A; c++)
					if (memcmp(u->data + (r * A + c) * esz,
						   t->data + ((e * A + c) * B + k * rows + r) * esz, esz))
						fail_msg("%s: element (%llu, %llu) differs", name,
							 (unsigned long long)r, (unsigned long long)c);
			n++;
		}
	return n;
}

/* every original tensor (the fused expert layout per expert) is in `out`
 * with the same dtype, shape and bytes, and nothing else is */
static inline void compare_tensors(const char *fixture, const struct qk_catalog *out, bool with_mtp)
{
	struct in o;
	size_t want = 0;

	open_hf(&o, fixture);
	for (size_t i = 0; i < o.cat.n_tensors; i++) {
		const struct qk_tensor *t = &o.cat.tensors[i];
		bool gate_up = ends_with(t->name, ".mlp.experts.gate_up_proj");
		bool down = ends_with(t->name, ".mlp.experts.down_proj");
		char base[512], name[600];

		const char *lm = "model.language_model.";
		char flat[512];

		if (qk_name_ignored(t->name) || (!with_mtp && strncmp(t->name, "mtp.", 4) == 0) ||
		    strncmp(t->name, "model.visual.", 13) == 0 || strncmp(t->name, "visual.", 7) == 0)
			continue; /* a vision tower is not exported (no GGUF holds it) */
		/* Qwen3.5 comes back as its text model: model.language_model.X is
		 * model.X; a Qwen-VL text tower in the 5.x layout: model.X is
		 * model.language_model.X */
		snprintf(flat, sizeof(flat), "%s%s",
			 strncmp(t->name, lm, strlen(lm)) == 0 ? "model." : "",
			 t->name + (strncmp(t->name, lm, strlen(lm)) == 0 ? strlen(lm) : 0));
		if (vl_fixture(fixture) && strncmp(flat, "model.", 6) == 0)
			snprintf(flat, sizeof(flat), "%s%s", lm,
				 t->name + (strncmp(t->name, lm, strlen(lm)) == 0 ? strlen(lm) : 6));
		if ((gate_up || down) && transposed_experts(fixture)) {
			want += compare_transposed(out, t, flat, gate_up);
			continue;
		}
		if (!gate_up && !down) {
			same_bytes(qk_catalog_find(out, flat), t->dtype, t->shape, t->n_dims,
				   t->data, t->nbytes, t->name);
			want++;
			continue;
		}
		/* fused [E, 2I, H] (gate rows first) or [E, H, I] */
		snprintf(base, sizeof(base), "%.*s", (int)(strrchr(flat, '.') - flat), flat);
		for (uint64_t e = 0; e < t->shape[0]; e++) {
			uint64_t per = t->nbytes / t->shape[0], rows = t->shape[1] / (gate_up ? 2 : 1);
			uint64_t shape[2] = { rows, t->shape[2] };
			const char *parts[2] = { gate_up ? "gate_proj" : "down_proj", "up_proj" };

			for (int k = 0; k < (gate_up ? 2 : 1); k++) {
				snprintf(name, sizeof(name), "%s.%llu.%s.weight", base,
					 (unsigned long long)e, parts[k]);
				same_bytes(qk_catalog_find(out, name), t->dtype, shape, 2,
					   t->data + e * per + (uint64_t)k * per / 2,
					   gate_up ? per / 2 : per, name);
				want++;
			}
		}
	}
	assert_int_equal(out->n_tensors, want);
	close_in(&o);
}

/* hyperparameters field by field; from a GGUF (g: its hparams) what it
 * cannot carry is skipped (Qwen1's dynamic NTK / logn / seq_length, MTP
 * layers) and the special ids must be the GGUF's (its tokenizer's) */
static inline void compare_hparams(const struct qk_hparams *a, const struct qk_hparams *b,
			    const struct qk_hparams *g)
{
	const bool loose = g != NULL;

#define EQ(f) if (a->f != b->f) fail_msg("hparams field " #f " differs: %g vs %g", \
					 (double)a->f, (double)b->f)
	EQ(arch); EQ(n_vocab); EQ(n_embd); EQ(n_layer); EQ(n_head); EQ(n_head_kv);
	EQ(head_dim); EQ(n_ff); EQ(n_ff_config); EQ(n_ctx_train); EQ(norm_eps);
	EQ(rope_theta); EQ(partial_rotary_factor); EQ(n_rot); EQ(rope.type); EQ(rope.factor);
	EQ(rope.original_ctx); EQ(rope.beta_fast); EQ(rope.beta_slow);
	EQ(rope.attention_factor); EQ(rope.mscale); EQ(rope.mscale_all_dim); EQ(rope.truncate);
	EQ(tie_word_embeddings); EQ(attn_bias); EQ(qk_norm); EQ(zero_centred_norm);
	EQ(attn_output_gate); EQ(n_expert); EQ(n_expert_used); EQ(n_ff_exp); EQ(n_ff_shexp);
	EQ(norm_topk_prob); EQ(decoder_sparse_step); EQ(full_attention_interval);
	EQ(ssm_d_conv); EQ(ssm_n_k_heads); EQ(ssm_n_v_heads); EQ(ssm_head_k_dim);
	EQ(ssm_head_v_dim);
	if (!loose) {
		EQ(n_mtp_layers); EQ(seq_length); EQ(use_dynamic_ntk); EQ(use_logn_attn);
		EQ(pad_token_id); EQ(bos_token_id); EQ(eos_token_id);
	}
#undef EQ
	/* special ids: a GGUF holds the tokenizer's, which config.json takes */
	if (loose && (g->bos_token_id != b->bos_token_id || g->eos_token_id != b->eos_token_id ||
		      g->pad_token_id != b->pad_token_id))
		fail_msg("special ids %lld/%lld/%lld, the GGUF says %lld/%lld/%lld",
			 (long long)b->bos_token_id, (long long)b->eos_token_id,
			 (long long)b->pad_token_id, (long long)g->bos_token_id,
			 (long long)g->eos_token_id, (long long)g->pad_token_id);
	for (uint32_t i = 0; i < a->n_layer; i++)
		if (a->layer_flags[i] != b->layer_flags[i])
			fail_msg("layer %u flags %u vs %u", i, a->layer_flags[i], b->layer_flags[i]);
}

static inline void compare_vocab(const struct tk_vocab *a, const struct tk_vocab *b)
{
	assert_int_equal(a->n_tokens, b->n_tokens);
	for (uint32_t i = 0; i < a->n_tokens; i++) {
		if (strcmp(a->tokens[i], b->tokens[i]) || a->types[i] != b->types[i])
			fail_msg("token %u: '%s' type %d vs '%s' type %d", i, a->tokens[i],
				 a->types[i], b->tokens[i], b->types[i]);
	}
	assert_int_equal(a->n_merges, b->n_merges);
	for (uint32_t i = 0; i < a->n_merges; i++)
		assert_string_equal(a->merges[i], b->merges[i]);
	assert_int_equal(a->eos, b->eos);
	assert_true((!a->chat_template && !b->chat_template) ||
		    (a->chat_template && b->chat_template &&
		     strcmp(a->chat_template, b->chat_template) == 0));
}

/* the exported directory against the fixture: tensors, config, tokenizer,
 * and total_parameters against transformers' count */
static inline void check_export(const char *fixture, const char *dir, const struct hx_report *r,
			 const struct qk_hparams *g)
{
	const bool from_gguf = g != NULL;
	struct qk_catalog out, ex;
	struct qk_hparams a, b;
	struct tk_vocab va, vb;
	char path[512];
	const char *np;
	qk_err e;

	qk_catalog_init(&out);
	if (qk_catalog_open(&out, dir, &e))
		fail_msg("%s: %s", fixture, e.msg);
	compare_tensors(fixture, &out, !from_gguf);
	qk_catalog_free(&out);

	snprintf(path, sizeof(path), MODELS "/%s", fixture);
	if (qk_hparams_load_config(&a, path, &e) || qk_hparams_load_config(&b, dir, &e))
		fail_msg("%s: %s", fixture, e.msg);
	compare_hparams(&a, &b, g);

	snprintf(path, sizeof(path), MODELS "/%s/expected.safetensors", fixture);
	qk_catalog_init(&ex);
	if (qk_catalog_open(&ex, path, &e))
		fail_msg("%s", e.msg);
	np = qk_catalog_meta(&ex, -1, "n_params");
	assert_non_null(np);
	assert_int_equal(r->n_params, strtoull(np, NULL, 10));
	qk_catalog_free(&ex);

	assert_true(r->tokenizer);
	snprintf(path, sizeof(path), MODELS "/%s", fixture);
	if (tk_load_hf(&va, path, a.arch, a.n_vocab, &a, &e) ||
	    tk_load_hf(&vb, dir, b.arch, b.n_vocab, &b, &e))
		fail_msg("%s: tokenizer: %s", fixture, e.msg);
	compare_vocab(&va, &vb);
	tk_free(&va);
	tk_free(&vb);
	assert_int_equal(r->n_inexact, 0);
}

/* ---- GGUF inputs built from a bound HF model ---- */

static inline void kv_u32(struct gf_writer *w, const char *arch, const char *k, uint32_t v)
{
	char key[128];
	qk_err e;

	snprintf(key, sizeof(key), "%s.%s", arch, k);
	if (gf_writer_add_u32(w, key, v, &e))
		fail_msg("%s", e.msg);
}

static inline void kv_f32(struct gf_writer *w, const char *arch, const char *k, double v)
{
	char key[128];
	qk_err e;

	snprintf(key, sizeof(key), "%s.%s", arch, k);
	if (gf_writer_add_f32(w, key, (float)v, &e))
		fail_msg("%s", e.msg);
}

static inline void gguf_keys(struct gf_writer *w, const struct qk_hparams *hp)
{
	const char *a = qk_arch_gguf_name(hp->arch);
	uint32_t dense = 0;
	qk_err e;

	assert_int_equal(gf_writer_add_str(w, "general.architecture", a, &e), 0);
	kv_u32(w, a, "vocab_size", hp->n_vocab);
	kv_u32(w, a, "block_count", hp->n_layer);
	kv_u32(w, a, "context_length", hp->n_ctx_train);
	kv_u32(w, a, "embedding_length", hp->n_embd);
	if (hp->n_ff_config) /* Qwen3.5-MoE configs have no intermediate_size */
		kv_u32(w, a, "feed_forward_length", hp->n_ff_config);
	kv_u32(w, a, "attention.head_count", hp->n_head);
	kv_u32(w, a, "attention.head_count_kv", hp->n_head_kv);
	kv_u32(w, a, "attention.key_length", hp->head_dim);
	kv_u32(w, a, "attention.value_length", hp->head_dim);
	kv_f32(w, a, "attention.layer_norm_rms_epsilon", hp->norm_eps);
	kv_f32(w, a, "rope.freq_base", hp->rope_theta);
	kv_u32(w, a, "rope.dimension_count", hp->n_rot);
	if (hp->rope.type == QK_ROPE_YARN) {
		char key[128];

		snprintf(key, sizeof(key), "%s.rope.scaling.type", a);
		assert_int_equal(gf_writer_add_str(w, key, "yarn", &e), 0);
		kv_f32(w, a, "rope.scaling.factor", hp->rope.factor);
		kv_u32(w, a, "rope.scaling.original_context_length", hp->rope.original_ctx);
	}
	if (hp->n_expert) {
		kv_u32(w, a, "expert_count", hp->n_expert);
		kv_u32(w, a, "expert_used_count", hp->n_expert_used);
		kv_u32(w, a, "expert_feed_forward_length", hp->n_ff_exp);
		if (hp->n_ff_shexp)
			kv_u32(w, a, "expert_shared_feed_forward_length", hp->n_ff_shexp);
		while (dense < hp->n_layer && !(hp->layer_flags[dense] & QK_LAYER_MOE))
			dense++;
		if (dense)
			kv_u32(w, a, "leading_dense_block_count", dense);
	}
	if (hp->ssm_n_v_heads) { /* Gated DeltaNet hybrids */
		kv_u32(w, a, "ssm.conv_kernel", hp->ssm_d_conv);
		kv_u32(w, a, "ssm.state_size", hp->ssm_head_k_dim);
		kv_u32(w, a, "ssm.group_count", hp->ssm_n_k_heads);
		kv_u32(w, a, "ssm.time_step_rank", hp->ssm_n_v_heads);
		kv_u32(w, a, "ssm.inner_size", hp->ssm_head_v_dim * hp->ssm_n_v_heads);
		kv_u32(w, a, "full_attention_interval", hp->full_attention_interval);
	}
}

/* write x's model as a GGUF file; mtype >= 0: matrices whose rows are
 * whole blocks of that ggml type in it (quant/'s quantizer); tensors whose
 * name holds `skip` are left out */
static inline void write_gguf(const struct in *x, const char *fixture, const char *path, int mtype,
		       const char *skip)
{
	struct gf_writer *w;
	struct tk_vocab v;
	char dir[256];
	float *row = malloc(1 << 20);
	uint8_t *buf = malloc(1 << 20);
	qk_err e;

	assert_non_null(row);
	assert_non_null(buf);
	snprintf(dir, sizeof(dir), MODELS "/%s", fixture);
	if (gf_writer_open(&w, path, &e))
		fail_msg("%s", e.msg);
	gguf_keys(w, &x->hp);
	if (tk_load_hf(&v, dir, x->hp.arch, x->hp.n_vocab, &x->hp, &e) ||
	    tk_add_to_gguf(&v, w, &e))
		fail_msg("%s: %s", fixture, e.msg);
	tk_free(&v);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < x->m.n_bind; i++) {
			const struct qk_binding *b = &x->m.bind[i];
			const struct qk_view *vw = &b->view;
			bool small = b->f32 != NULL;
			int type = small ? QT_F32 : vw->pieces[0].dtype;
			int64_t ne[GF_MAX_DIMS];

			if (!b->gguf_name[0] || (skip && strstr(b->gguf_name, skip)))
				continue;
			if (!small && mtype >= 0 && vw->cols % qt_type_get(mtype)->blck == 0)
				type = mtype;
			if (pass == 0) {
				for (int d = 0; d < b->n_dims; d++)
					ne[d] = (int64_t)b->shape[b->n_dims - 1 - d];
				if (gf_writer_add_tensor(w, b->gguf_name, type, b->n_dims, ne, &e))
					fail_msg("%s", e.msg);
				continue;
			}
			if (small) {
				for (uint64_t k = 0; k < b->n_f32; k++)
					qk_st32(buf + 4 * k, qt_f32_bits(b->f32[k]));
				assert_int_equal(gf_writer_write(w, buf, b->n_f32 * 4, &e), 0);
				continue;
			}
			for (uint64_t r = 0; r < vw->rows; r++) {
				int dt = vw->pieces[0].dtype;
				const uint8_t *raw = qk_view_row_data(vw, r, &dt);
				uint64_t nb;

				assert_int_equal(dt, vw->pieces[0].dtype);
				if (type != dt || !raw) { /* !raw: columns reordered (Qwen3.5) */
					assert_int_equal(qk_view_read_row(vw, r, row, &e), 0);
					qt_type_get(type)->quantize(row, buf, (int64_t)vw->cols);
					raw = buf;
				}
				assert_true(qk_dtype_nbytes(type, vw->cols, &nb));
				if (gf_writer_write(w, raw, nb, &e))
					fail_msg("%s", e.msg);
			}
		}
	}
	if (gf_writer_commit(w, &e))
		fail_msg("%s", e.msg);
	free(row);
	free(buf);
}


/* Every element of the Q8_0 matrices of a qwen2-layout GGUF (g) came out
 * of the export (out) as fp16(d) * q rounded to bf16; returns how many
 * tensors were checked. */
static inline int check_q8_as_bf16(const struct qk_catalog *out, const struct qk_catalog *g)
{
	static const char *const names[][2] = {
		{ "model.embed_tokens.weight", "token_embd.weight" },
		{ "model.layers.1.self_attn.q_proj.weight", "blk.1.attn_q.weight" },
		{ "model.layers.0.self_attn.k_proj.weight", "blk.0.attn_k.weight" },
		{ "model.layers.0.self_attn.v_proj.weight", "blk.0.attn_v.weight" },
		{ "model.layers.1.self_attn.o_proj.weight", "blk.1.attn_output.weight" },
		{ "model.layers.0.mlp.down_proj.weight", "blk.0.ffn_down.weight" },
		{ "model.layers.1.mlp.up_proj.weight", "blk.1.ffn_up.weight" },
		{ "model.layers.1.mlp.gate_proj.weight", "blk.1.ffn_gate.weight" },
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct qk_tensor *u = qk_catalog_find(out, names[i][0]);
		const struct qk_tensor *q = qk_catalog_find(g, names[i][1]);

		assert_non_null(u);
		assert_non_null(q);
		assert_int_equal(q->dtype, QT_Q8_0);
		assert_int_equal(u->dtype, QK_DT_BF16);
		assert_int_equal(u->n_elem, q->n_elem);
		for (uint64_t k = 0; k < u->n_elem; k++) {
			const uint8_t *blk = q->data + (k / 32) * 34;
			float v = qt_fp16_to_fp32(qk_ld16(blk)) * (float)(int8_t)blk[2 + k % 32];

			if (qk_ld16(u->data + 2 * k) != rne_bf16(v))
				fail_msg("%s[%llu]: 0x%04x, expected 0x%04x", names[i][0],
					 (unsigned long long)k, qk_ld16(u->data + 2 * k), rne_bf16(v));
		}
		n++;
	}
	return n;
}

#endif
