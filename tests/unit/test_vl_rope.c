/* test_vl_rope.c - M-RoPE of the Qwen-VL text towers in the reference pass.
 *
 * 1. Text positions (t = h = w = position) give plain RoPE: for each VL
 *    fixture the pass with M-RoPE sections, the same pass with the three
 *    streams given explicitly, and the pass with the sections removed
 *    (plain NeoX RoPE) give the same bits.
 * 2. Image positions: expected.safetensors holds mrope.positions, the
 *    [3, T] streams transformers 5.23's get_rope_index computed for the
 *    first text with tokens 4..11 taken as an image grid, and mrope.logits,
 *    the logits transformers computed with them (testdata/gen/vl_fx.py). Ours
 *    with the same streams agree within MROPE_LOGIT_BUDGET of max |logit|,
 *    and differ from transformers by far more than that with text positions
 *    (so the streams matter at all).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/io.h"
#include "../../formats/container/safetensors.h"
#include "../../formats/model/open.h"
#include "../../ref/forward.h"

#define MODELS "testdata/models"

/* fp32 rounding in a different order than torch's (the text outputs of
 * these fixtures agree to 5.4e-7, tolerances.py) */
#define MROPE_LOGIT_BUDGET 2e-6
/* text positions instead of the image streams move the logits by at least
 * this much of max |logit| (seen: 0.1 and more) */
#define MROPE_MIN_EFFECT 1e-2

struct case_data {
	struct qk_input in;
	struct qk_catalog exp;
	int32_t *tokens;  /* [T] */
	int32_t *pos;     /* [3, T] */
	const float *want; /* [T, n_vocab] in exp */
	size_t T;
};

static void open_case(const char *fx, struct case_data *d)
{
	char path[256];
	const struct qk_tensor *t, *p, *l;
	qk_err e;

	snprintf(path, sizeof(path), "%s/%s", MODELS, fx);
	if (qk_input_open(&d->in, path, &e))
		fail_msg("%s: %s", fx, e.msg);
	qk_catalog_init(&d->exp);
	snprintf(path, sizeof(path), "%s/%s/expected.safetensors", MODELS, fx);
	assert_int_equal(st_open(&d->exp, path, &e), QK_OK);
	t = qk_catalog_find(&d->exp, "mrope.tokens");
	p = qk_catalog_find(&d->exp, "mrope.positions");
	l = qk_catalog_find(&d->exp, "mrope.logits");
	assert_true(t && p && l);
	d->T = t->shape[0];
	assert_int_equal(p->shape[0], 3);
	assert_int_equal(p->shape[1], d->T);
	assert_int_equal(l->shape[0], d->T);
	assert_int_equal(l->shape[1], d->in.hp.n_vocab);
	d->tokens = malloc(d->T * sizeof(int32_t));
	d->pos = malloc(3 * d->T * sizeof(int32_t));
	assert_true(d->tokens && d->pos);
	memcpy(d->tokens, t->data, d->T * sizeof(int32_t));
	memcpy(d->pos, p->data, 3 * d->T * sizeof(int32_t));
	d->want = (const float *)(const void *)l->data;
}

static void close_case(struct case_data *d)
{
	free(d->tokens);
	free(d->pos);
	qk_catalog_free(&d->exp);
	qk_input_close(&d->in);
}

static void run(const struct qk_model *m, const struct case_data *d, const int32_t *pos,
		struct rf_out *out)
{
	struct rf_opts o;
	qk_err e;

	rf_opts_init(&o);
	o.n_threads = 2;
	o.positions = pos;
	if (rf_run(m, d->tokens, d->T, &o, out, &e))
		fail_msg("rf_run: %s", e.msg);
}

/* max over positions of max_v |a - b| / max_v |b| */
static double rel_err(const float *a, const float *b, size_t T, size_t V)
{
	double worst = 0;

	for (size_t t = 0; t < T; t++) {
		double d = 0, s = 0;

		for (size_t v = 0; v < V; v++) {
			d = fmax(d, fabs((double)a[t * V + v] - b[t * V + v]));
			s = fmax(s, fabs((double)b[t * V + v]));
		}
		worst = fmax(worst, d / s);
	}
	return worst;
}

static void text_positions_are_plain_rope(const char *fx)
{
	struct case_data d;
	struct rf_out a, b, c;
	struct qk_model plain;
	int32_t *text;
	size_t bytes;

	open_case(fx, &d);
	bytes = d.T * d.in.hp.n_vocab * sizeof(float);
	text = malloc(3 * d.T * sizeof(int32_t));
	assert_non_null(text);
	for (size_t s = 0; s < 3; s++)
		for (size_t t = 0; t < d.T; t++)
			text[s * d.T + t] = (int32_t)t;
	run(&d.in.model, &d, NULL, &a);
	run(&d.in.model, &d, text, &b);
	/* the same bindings with the sections gone: plain NeoX RoPE */
	plain = d.in.model;
	memset(plain.hp.rope_sections, 0, sizeof(plain.hp.rope_sections));
	plain.hp.has_rope_sections = false;
	run(&plain, &d, NULL, &c);
	assert_memory_equal(a.logits, b.logits, bytes);
	assert_memory_equal(a.logits, c.logits, bytes);
	rf_out_free(&a);
	rf_out_free(&b);
	rf_out_free(&c);
	free(text);
	close_case(&d);
}

static void image_positions(const char *fx)
{
	struct case_data d;
	struct rf_out got, text;
	double err, effect;

	open_case(fx, &d);
	run(&d.in.model, &d, d.pos, &got);
	run(&d.in.model, &d, NULL, &text);
	err = rel_err(got.logits, d.want, d.T, d.in.hp.n_vocab);
	effect = rel_err(text.logits, d.want, d.T, d.in.hp.n_vocab);
	print_message("%s: image positions: max |d logit| / max |logit| %.3g (budget %g); "
		      "text positions instead: %.3g\n", fx, err, MROPE_LOGIT_BUDGET, effect);
	if (err > MROPE_LOGIT_BUDGET)
		fail_msg("%s: logits with get_rope_index positions off by %.3g", fx, err);
	if (effect < MROPE_MIN_EFFECT)
		fail_msg("%s: the image positions change the logits by only %.3g", fx, effect);
	rf_out_free(&got);
	rf_out_free(&text);
	close_case(&d);
}

static void test_plain_qwen2_5_vl(void **s) { (void)s; text_positions_are_plain_rope("qwen2_5_vl"); }
static void test_plain_qwen3_vl(void **s) { (void)s; text_positions_are_plain_rope("qwen3_vl"); }
static void test_plain_qwen3_vl_moe(void **s)
{
	(void)s;
	text_positions_are_plain_rope("qwen3_vl_moe");
}
static void test_image_qwen2_5_vl(void **s) { (void)s; image_positions("qwen2_5_vl"); }
static void test_image_qwen3_vl(void **s) { (void)s; image_positions("qwen3_vl"); }
static void test_image_qwen3_vl_moe(void **s) { (void)s; image_positions("qwen3_vl_moe"); }

/* positions on a model without sections, or out of range: usage errors */
static void test_position_errors(void **state)
{
	struct case_data d;
	struct qk_input q3;
	struct rf_opts o;
	struct rf_out out;
	qk_err e;

	(void)state;
	open_case("qwen3_vl", &d);
	rf_opts_init(&o);
	o.positions = d.pos;
	if (qk_input_open(&q3, MODELS "/qwen3", &e))
		fail_msg("qwen3: %s", e.msg);
	assert_int_equal(rf_run(&q3.model, d.tokens, d.T, &o, &out, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "has no M-RoPE sections"));
	d.pos[d.T + 3] = -1;
	assert_int_equal(rf_run(&d.in.model, d.tokens, d.T, &o, &out, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "position stream 1 at token 3 is -1"));
	qk_input_close(&q3);
	close_case(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_qwen2_5_vl),
		cmocka_unit_test(test_plain_qwen3_vl),
		cmocka_unit_test(test_plain_qwen3_vl_moe),
		cmocka_unit_test(test_image_qwen2_5_vl),
		cmocka_unit_test(test_image_qwen3_vl),
		cmocka_unit_test(test_image_qwen3_vl_moe),
		cmocka_unit_test(test_position_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
