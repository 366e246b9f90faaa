/* test_forward.c - the mechanics of the reference forward pass
 * (ref/forward.h) on the golden fixtures: the same bits for 1, 2 and 4
 * threads and with the AVX2 path on or off, the optional residual streams,
 * refusals (token ids, empty input, thread counts, Qwen1 past seq_length,
 * matrix dtypes with no fp32 conversion), dynamic NTK RoPE, and weights read
 * through the Q8_0 dequantizer. Accuracy against transformers is
 * test_forward_golden.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/container/catalog.h"
#include "../../formats/base/dtype.h"
#include "../../formats/model/hparams.h"
#include "../../formats/model/model.h"
#include "../../formats/container/safetensors.h"
#include "../../quant/fp16.h"
#include "../../quant/qtype.h"
#include "../../ref/dot.h"
#include "../../ref/forward.h"
#include "fixture_list.h"

#define MODELS "testdata/models"

/* transformers' logits for the unquantized qwen1 fixture vs ours on its Q8_0
 * copy: the noise of 8-bit weights (1.4e-2 seen), far above fp32 rounding
 * (1e-6) and below a wrong forward pass (order 1). Other fixtures amplify
 * weight noise more (qwen3_moe: 0.13 in transformers itself with only the
 * tied embedding rounded to Q8_0), so they are checked for exact agreement
 * with the dequantized weights instead. */
#define Q8_0_LOGIT_BUDGET 3e-2

static const char *const all_fixtures[] = { QK_FIXTURE_NAMES };
_Static_assert(sizeof(all_fixtures) / sizeof(all_fixtures[0]) == QK_FIXTURE_COUNT, "fixture list");

struct fx {
	struct qk_catalog cat, exp;
	struct qk_hparams hp;
	struct qk_model m;
	int32_t *tokens;  /* tokens.0 */
	size_t T;
};

static void fx_open(struct fx *f, const char *name)
{
	char dir[256], path[300];
	const struct qk_tensor *t;
	qk_err err;

	memset(f, 0, sizeof(*f));
	snprintf(dir, sizeof(dir), "%s/%s", MODELS, name);
	if (qk_catalog_open(&f->cat, dir, &err) || qk_hparams_load_config(&f->hp, dir, &err) ||
	    qk_model_bind(&f->m, &f->cat, &f->hp, &err))
		fail_msg("%s: %s", name, err.msg);
	qk_catalog_init(&f->exp);
	snprintf(path, sizeof(path), "%s/expected.safetensors", dir);
	if (st_open(&f->exp, path, &err))
		fail_msg("%s: %s", name, err.msg);
	t = qk_catalog_find(&f->exp, "tokens.0");
	assert_non_null(t);
	assert_int_equal(t->dtype, QK_DT_I32);
	f->T = (size_t)t->n_elem;
	f->tokens = malloc(f->T * sizeof(int32_t));
	assert_non_null(f->tokens);
	memcpy(f->tokens, t->data, f->T * sizeof(int32_t));
}

static void fx_close(struct fx *f)
{
	free(f->tokens);
	qk_model_free(&f->m);
	qk_catalog_free(&f->exp);
	qk_catalog_free(&f->cat);
}

static void run_ok(const struct qk_model *m, const int32_t *tok, size_t T, unsigned threads,
		   bool simd, bool hidden, struct rf_out *out)
{
	struct rf_opts o;
	qk_err err;

	rf_opts_init(&o);
	o.n_threads = threads;
	o.simd = simd;
	o.keep_hidden = hidden;
	if (rf_run(m, tok, T, &o, out, &err))
		fail_msg("rf_run (%u threads, simd %d): %s", threads, simd, err.msg);
}

/* first differing float of two arrays, or -1 */
static long first_diff(const float *a, const float *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(&a[i], &b[i], sizeof(float)) != 0)
			return (long)i;
	return -1;
}

static void test_same_bits_threads_simd(void **state)
{
	static const struct { unsigned threads; bool simd; } runs[] = {
		{ 1, true }, { 2, false }, { 2, true }, { 4, true }, { 3, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(all_fixtures) / sizeof(all_fixtures[0]); i++) {
		struct fx f;
		struct rf_out base, o;

		fx_open(&f, all_fixtures[i]);
		run_ok(&f.m, f.tokens, f.T, 1, false, true, &base);
		assert_false(base.simd);
		for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
			const size_t nl = f.T * f.hp.n_vocab;
			const size_t nh = (f.hp.n_layer + 1u) * f.T * f.hp.n_embd;
			long d;

			run_ok(&f.m, f.tokens, f.T, runs[r].threads, runs[r].simd, true, &o);
			assert_true(o.simd == (runs[r].simd && rf_cpu_has_avx2()));
			if ((d = first_diff(base.logits, o.logits, nl)) >= 0)
				fail_msg("%s: %u threads, simd %d: logit %ld differs (%a vs %a)",
					 all_fixtures[i], runs[r].threads, runs[r].simd, d,
					 (double)base.logits[d], (double)o.logits[d]);
			if ((d = first_diff(base.hidden, o.hidden, nh)) >= 0)
				fail_msg("%s: %u threads, simd %d: hidden value %ld differs",
					 all_fixtures[i], runs[r].threads, runs[r].simd, d);
			rf_out_free(&o);
		}
		rf_out_free(&base);
		fx_close(&f);
	}
}

static void test_hidden_optional(void **state)
{
	struct fx f;
	struct rf_out a, b;

	(void)state;
	fx_open(&f, "qwen3_next");
	run_ok(&f.m, f.tokens, f.T, 1, true, false, &a);
	run_ok(&f.m, f.tokens, f.T, 1, true, true, &b);
	assert_null(a.hidden);
	assert_non_null(b.hidden);
	assert_int_equal(a.n_tokens, f.T);
	assert_int_equal(a.n_vocab, 512);
	assert_int_equal(a.n_embd, 32);
	assert_int_equal(a.n_layer, 4); /* the MTP layer is not run */
	assert_int_equal(first_diff(a.logits, b.logits, f.T * 512), -1);
	rf_out_free(&a);
	rf_out_free(&b);
	rf_out_free(&b); /* release twice: harmless */
	rf_out_free(NULL);
	fx_close(&f);
}

/* logits_from: the rows from that position are the full run's, bit for bit
 * (tied and untied heads, dense, MoE, hybrid); logits_from >= T is refused */
static void test_logits_from(void **state)
{
	static const char *const fx[] = { "qwen3", "qwen2_moe", "qwen3_next", "qwen1" };

	(void)state;
	for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
		struct fx f;
		struct rf_out full, part;
		struct rf_opts o;
		qk_err err;
		size_t from;

		fx_open(&f, fx[i]);
		from = f.T / 2 + 1;
		run_ok(&f.m, f.tokens, f.T, 2, true, true, &full);
		rf_opts_init(&o);
		o.n_threads = 2;
		o.keep_hidden = true;
		o.logits_from = from;
		if (rf_run(&f.m, f.tokens, f.T, &o, &part, &err))
			fail_msg("%s: %s", fx[i], err.msg);
		assert_int_equal(part.logits_from, from);
		assert_int_equal(first_diff(full.logits + from * f.hp.n_vocab, part.logits,
					    (f.T - from) * f.hp.n_vocab), -1);
		assert_int_equal(first_diff(full.hidden, part.hidden,
					    (f.hp.n_layer + 1u) * f.T * f.hp.n_embd), -1);
		rf_out_free(&part);
		o.logits_from = f.T;
		assert_int_equal(rf_run(&f.m, f.tokens, f.T, &o, &part, &err), QK_E_USAGE);
		assert_non_null(strstr(err.msg, "logits from position"));
		rf_out_free(&full);
		fx_close(&f);
	}
}

/* fails with code and every fragment; out is left empty */
static void run_fails(const struct qk_model *m, const int32_t *tok, size_t T,
		      const struct rf_opts *o, int code, const char *f1, const char *f2)
{
	struct rf_out out;
	qk_err err;
	int rc;

	memset(&out, 0x5a, sizeof(out));
	rc = rf_run(m, tok, T, o, &out, &err);
	if (rc != code || !strstr(err.msg, f1) || (f2 && !strstr(err.msg, f2)))
		fail_msg("code %d '%s', expected %d with '%s' and '%s'", rc, rc ? err.msg : "",
			 code, f1, f2 ? f2 : "");
	assert_null(out.logits);
	assert_null(out.hidden);
}

static void test_refusals(void **state)
{
	struct fx f;
	struct rf_opts o;

	(void)state;
	fx_open(&f, "qwen2");
	f.tokens[5] = 512; /* = n_vocab */
	run_fails(&f.m, f.tokens, f.T, NULL, QK_E_USAGE, "token id 512 at position 5",
		  "n_vocab is 512");
	f.tokens[5] = 0;
	f.tokens[f.T - 1] = -3;
	run_fails(&f.m, f.tokens, f.T, NULL, QK_E_USAGE, "token id -3", "n_vocab is 512");
	run_fails(&f.m, f.tokens, 0, NULL, QK_E_USAGE, "no tokens", NULL);
	rf_opts_init(&o);
	o.n_threads = 257;
	run_fails(&f.m, f.tokens, 3, &o, QK_E_USAGE, "thread count 257", "1..256");
	fx_close(&f);
}

/* Qwen1 with use_dynamic_ntk / use_logn_attn: exact up to seq_length (128
 * in the fixture), refused past it; with both off there is no limit */
static void test_qwen1_seq_length(void **state)
{
	struct fx f;
	struct rf_out out;
	int32_t tok[129];

	(void)state;
	fx_open(&f, "qwen1");
	assert_int_equal(f.m.hp.seq_length, 128);
	assert_true(f.m.hp.use_dynamic_ntk && f.m.hp.use_logn_attn);
	for (size_t i = 0; i < 129; i++)
		tok[i] = f.tokens[i % f.T];
	run_ok(&f.m, tok, 128, 1, true, false, &out);
	rf_out_free(&out);
	run_fails(&f.m, tok, 129, NULL, QK_E_UNSUPPORTED, "129 tokens exceed seq_length 128",
		  "use_dynamic_ntk true, use_logn_attn true");
	f.m.hp.use_dynamic_ntk = false;
	run_fails(&f.m, tok, 129, NULL, QK_E_UNSUPPORTED, "use_logn_attn true", NULL);
	f.m.hp.use_logn_attn = false;
	run_ok(&f.m, tok, 129, 1, true, false, &out);
	rf_out_free(&out);
	fx_close(&f);
}

static double max_rel_diff(const float *a, const float *b, size_t T, size_t V)
{
	double worst = 0.0;

	for (size_t t = 0; t < T; t++) {
		double d = 0.0, r = 0.0;

		for (size_t i = 0; i < V; i++) {
			d = fmax(d, fabs((double)a[t * V + i] - b[t * V + i]));
			r = fmax(r, fabs((double)b[t * V + i]));
		}
		worst = fmax(worst, d / r);
	}
	return worst;
}

/* dynamic NTK (transformers' dynamic_rope_update at prefill): the identity
 * while T <= max_position_embeddings; past it, the default RoPE with base
 * theta * ((factor * T / max_pos) - (factor - 1))^(dim / (dim - 2)) */
static void test_dynamic_ntk(void **state)
{
	struct fx f;
	struct rf_out def, dyn;
	const double factor = 2.0;
	double theta, dim;

	(void)state;
	fx_open(&f, "qwen1_5");
	theta = f.m.hp.rope_theta;
	dim = f.m.hp.n_rot;
	assert_int_equal(f.m.hp.rope.type, QK_ROPE_DEFAULT);
	run_ok(&f.m, f.tokens, f.T, 1, true, false, &def);

	f.m.hp.rope.type = QK_ROPE_DYNAMIC;
	f.m.hp.rope.factor = factor;
	f.m.hp.n_ctx_train = (uint32_t)f.T; /* not past it: no change */
	run_ok(&f.m, f.tokens, f.T, 1, true, false, &dyn);
	assert_int_equal(first_diff(def.logits, dyn.logits, f.T * f.hp.n_vocab), -1);
	rf_out_free(&dyn);

	f.m.hp.n_ctx_train = 8; /* T = 24 > 8 */
	run_ok(&f.m, f.tokens, f.T, 1, true, false, &dyn);
	assert_true(max_rel_diff(dyn.logits, def.logits, f.T, f.hp.n_vocab) > 1e-3);
	rf_out_free(&def);

	f.m.hp.rope.type = QK_ROPE_DEFAULT;
	f.m.hp.rope_theta = theta * pow(factor * (double)f.T / 8.0 - (factor - 1.0),
					dim / (dim - 2.0));
	run_ok(&f.m, f.tokens, f.T, 1, true, false, &def);
	if (max_rel_diff(dyn.logits, def.logits, f.T, f.hp.n_vocab) > 1e-5)
		fail_msg("dynamic NTK differs from the default RoPE at base %g by %g", f.m.hp.rope_theta,
			 max_rel_diff(dyn.logits, def.logits, f.T, f.hp.n_vocab));
	rf_out_free(&def);
	rf_out_free(&dyn);
	fx_close(&f);
}

/* ---- a copy of a fixture with its matrices in another dtype ---- */

struct requant {
	struct qk_catalog cat;
	struct qk_hparams hp;
	struct qk_model m;
	uint8_t **bufs;
	size_t n_bufs;
};

static void widen_all(const struct qk_tensor *t, float *out)
{
	const uint8_t *p = t->data;

	for (uint64_t i = 0; i < t->n_elem; i++) {
		uint32_t u32;
		uint16_t u16;

		switch (t->dtype) {
		case QK_DT_F32:
			memcpy(&u32, p + 4 * i, 4);
			out[i] = qt_f32_from_bits(u32);
			break;
		case QK_DT_F16:
			memcpy(&u16, p + 2 * i, 2);
			out[i] = qt_fp16_to_fp32(u16);
			break;
		case QK_DT_BF16:
			memcpy(&u16, p + 2 * i, 2);
			out[i] = qt_bf16_to_fp32(u16);
			break;
		default:
			fail_msg("tensor '%s': unexpected dtype", t->name);
		}
	}
}

enum requant_mode {
	RQ_Q8_0,      /* Q8_0 blocks from the reference quantizer */
	RQ_Q8_0_F32,  /* F32 holding those blocks dequantized */
	RQ_F64,       /* F64 holding the weights widened */
};

/* the new bytes of one matrix */
static uint8_t *requant_data(const struct qk_tensor *s, uint64_t cols, int mode, int *dt,
			     uint64_t *nbytes)
{
	const struct qt_type *q = qt_type_get(QT_Q8_0);
	const uint64_t rows = s->n_elem / cols, qrow = cols / q->blck * q->bytes;
	float *x = malloc(s->n_elem * sizeof(float));
	uint8_t *out, *blk = malloc(rows * qrow);

	assert_true(x && blk);
	widen_all(s, x);
	*dt = mode == RQ_Q8_0 ? QT_Q8_0 : mode == RQ_F64 ? QK_DT_F64 : QK_DT_F32;
	assert_true(qk_dtype_nbytes(*dt, s->n_elem, nbytes));
	out = malloc(*nbytes);
	assert_non_null(out);
	for (uint64_t r = 0; r < rows && mode != RQ_F64; r++) {
		q->quantize(x + r * cols, blk + r * qrow, (int64_t)cols);
		q->dequantize(blk + r * qrow, x + r * cols, (int64_t)cols);
	}
	if (mode == RQ_Q8_0)
		memcpy(out, blk, *nbytes);
	for (uint64_t k = 0; mode == RQ_Q8_0_F32 && k < s->n_elem; k++)
		memcpy(out + 4 * k, &x[k], 4);
	for (uint64_t k = 0; mode == RQ_F64 && k < s->n_elem; k++) {
		const double v = x[k];

		memcpy(out + 8 * k, &v, 8);
	}
	free(x);
	free(blk);
	return out;
}

/* every matrix whose rows are whole Q8_0 blocks is rewritten as `mode` says;
 * other tensors are shared with the fixture */
static void requant_open(struct requant *r, const struct fx *f, int mode)
{
	qk_err err;

	memset(r, 0, sizeof(*r));
	qk_catalog_init(&r->cat);
	r->cat.format = f->cat.format;
	r->bufs = calloc(f->cat.n_tensors, sizeof(*r->bufs));
	assert_non_null(r->bufs);
	for (size_t i = 0; i < f->cat.n_tensors; i++) {
		const struct qk_tensor *s = &f->cat.tensors[i];
		const uint64_t cols = s->n_dims ? s->shape[s->n_dims - 1] : 1;
		struct qk_tensor *t;
		uint64_t nbytes;
		int dt;

		if (qk_catalog_add(&r->cat, s->name, strlen(s->name), &t, &err))
			fail_msg("%s", err.msg);
		*t = (struct qk_tensor){ .name = t->name, .dtype = s->dtype, .n_dims = s->n_dims,
					 .n_elem = s->n_elem, .nbytes = s->nbytes,
					 .data = s->data, .file = -1 };
		memcpy(t->shape, s->shape, sizeof(s->shape));
		if (f->m.claims[i].role < 0 || qk_role_kind(f->m.claims[i].role) != QK_KIND_MATRIX ||
		    cols % qt_type_get(QT_Q8_0)->blck)
			continue;
		r->bufs[r->n_bufs] = requant_data(s, cols, mode, &dt, &nbytes);
		t->dtype = dt;
		t->nbytes = nbytes;
		t->data = r->bufs[r->n_bufs++];
	}
	r->hp = f->hp;
	if (qk_model_bind(&r->m, &r->cat, &r->hp, &err))
		fail_msg("bind: %s", err.msg);
}

static void requant_close(struct requant *r)
{
	qk_model_free(&r->m);
	qk_catalog_free(&r->cat);
	for (size_t i = 0; i < r->n_bufs; i++)
		free(r->bufs[i]);
	free(r->bufs);
}

/* Q8_0 matrices read row by row through the dequantizer give exactly the
 * bits of F32 matrices holding the dequantized blocks, with any thread count
 * and either dot path; and for qwen1 the result stays near transformers'
 * logits of the unquantized weights */
static void test_q8_0_weights(void **state)
{
	static const char *const names[] = { "qwen1", "qwen3_moe", "qwen3_next" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const size_t nv = 512;
		struct requant q8, f32;
		struct rf_out a, b, c;
		struct fx f;
		size_t n_q8 = 0;

		fx_open(&f, names[i]);
		assert_int_equal(f.hp.n_vocab, nv);
		requant_open(&q8, &f, RQ_Q8_0);
		requant_open(&f32, &f, RQ_Q8_0_F32);
		for (size_t k = 0; k < q8.cat.n_tensors; k++)
			n_q8 += q8.cat.tensors[k].dtype == QT_Q8_0;
		assert_true(n_q8 >= 5);
		run_ok(&q8.m, f.tokens, f.T, 1, true, false, &a);
		run_ok(&q8.m, f.tokens, f.T, 2, false, false, &b);
		run_ok(&f32.m, f.tokens, f.T, 1, true, false, &c);
		assert_int_equal(first_diff(a.logits, b.logits, f.T * nv), -1);
		assert_int_equal(first_diff(a.logits, c.logits, f.T * nv), -1);
		if (i == 0) {
			const struct qk_tensor *lg = qk_catalog_find(&f.exp, "logits.0");
			float *ref = malloc(f.T * nv * sizeof(float));
			double worst;

			assert_true(lg && ref && lg->nbytes == f.T * nv * sizeof(float));
			memcpy(ref, lg->data, lg->nbytes); /* the mapping need not be aligned */
			worst = max_rel_diff(a.logits, ref, f.T, nv);
			free(ref);
			print_message("%s with %zu Q8_0 matrices: worst logit error %.3g of max "
				      "|logit|\n", names[i], n_q8, worst);
			if (worst > Q8_0_LOGIT_BUDGET || worst < 1e-5)
				fail_msg("%s: Q8_0 logit error %.3g, expected 1e-5 .. %g", names[i],
					 worst, Q8_0_LOGIT_BUDGET);
		}
		rf_out_free(&a);
		rf_out_free(&b);
		rf_out_free(&c);
		requant_close(&q8);
		requant_close(&f32);
		fx_close(&f);
	}
}

/* a matrix dtype with no conversion to fp32 is refused before any work,
 * naming the tensor */
static void test_unconvertible_dtype(void **state)
{
	struct requant r;
	struct fx f;

	(void)state;
	fx_open(&f, "qwen1_5");
	requant_open(&r, &f, RQ_F64);
	run_fails(&r.m, f.tokens, f.T, NULL, QK_E_UNSUPPORTED, "tensor '", "F64");
	requant_close(&r);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_bits_threads_simd),
		cmocka_unit_test(test_hidden_optional),
		cmocka_unit_test(test_logits_from),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_qwen1_seq_length),
		cmocka_unit_test(test_dynamic_ntk),
		cmocka_unit_test(test_q8_0_weights),
		cmocka_unit_test(test_unconvertible_dtype),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
