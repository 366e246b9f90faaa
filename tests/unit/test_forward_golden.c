/* test_forward_golden.c - the reference forward pass (ref/forward.h) against
 * the outputs Hugging Face transformers computed for every golden fixture
 * (testdata/models/<name>/expected.safetensors: tokens.s [T] I32,
 * logits.s [T, vocab] F32, hidden.s [n_layer + 1, T, hidden] F32; see
 * testdata/models/README.md). transformers is the independent oracle: fp32,
 * eager attention, eager experts.
 *
 * Budgets, per fixture, from the expected file's __metadata__ (written by
 * testdata/gen/tolerances.py: 3x the error this forward pass measured when
 * the fixture was made, rounded up; the measured values sit beside them):
 * at every position of every sequence
 *   max |logit - expected| <= tolerance_logit_rtol * max |expected logit|
 * and the same argmax; for every residual stream l (the embedding output,
 * then after each layer), sqrt(sum (h - expected)^2 / sum expected^2) over
 * the sequence <= tolerance_hidden_rtol[l]. A budget above MAX_BUDGET is
 * refused (so a regenerated file cannot quietly loosen the test). A failure
 * names the worst position or the stream. Each test prints its worst
 * values, whether it passes or not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/container/catalog.h"
#include "../../formats/base/dtype.h"
#include "../../formats/model/hparams.h"
#include "../../formats/model/model.h"
#include "../../formats/container/safetensors.h"
#include "../../ref/forward.h"
#include "fixture_list.h"

#define MODELS "testdata/models"
#define MAX_BUDGET 1e-4      /* no fixture's budget may exceed this */
#define MAX_STREAMS 64

struct worst {
	double logit_rel;     /* max over positions of max|d| / max|ref| */
	int logit_seq;
	size_t logit_pos;
	double hidden_rms;    /* max over layers of the relative RMS */
	int hidden_seq, hidden_layer;
	double over;          /* first stream over its budget: its relative RMS */
	int over_seq, over_layer; /* -1: none */
};

/* the fixture's budgets, from expected.safetensors' __metadata__ */
struct budget {
	double logit;
	double hidden[MAX_STREAMS]; /* [n_layer + 1] */
};

static double meta_num(const char *fx, const char *key, const char *s, char **end)
{
	double v;

	errno = 0;
	v = strtod(s, end);
	if (errno || *end == s || !isfinite(v) || v < 0 || v > MAX_BUDGET)
		fail_msg("%s: metadata '%s' = '%s': expected numbers in [0, %g]", fx, key, s,
			 MAX_BUDGET);
	return v;
}

static void load_budget(const char *fx, const struct qk_catalog *exp, size_t n_stream,
			struct budget *b)
{
	const char *l = qk_catalog_meta(exp, -1, "tolerance_logit_rtol");
	const char *h = qk_catalog_meta(exp, -1, "tolerance_hidden_rtol");
	const char *p;
	char *end;
	size_t i;

	if (!l || !h)
		fail_msg("%s: expected.safetensors has no tolerance_logit_rtol / "
			 "tolerance_hidden_rtol metadata: run testdata/gen/tolerances.py", fx);
	if (n_stream > MAX_STREAMS)
		fail_msg("%s: %zu streams, at most %d", fx, n_stream, MAX_STREAMS);
	b->logit = meta_num(fx, "tolerance_logit_rtol", l, &end);
	if (*end)
		fail_msg("%s: tolerance_logit_rtol '%s' is not one number", fx, l);
	for (i = 0, p = h;; i++, p = end + 1) {
		if (i == n_stream)
			fail_msg("%s: tolerance_hidden_rtol '%s' has more than %zu values", fx, h,
				 n_stream);
		b->hidden[i] = meta_num(fx, "tolerance_hidden_rtol", p, &end);
		if (*end != ',')
			break;
	}
	if (*end || i + 1 != n_stream)
		fail_msg("%s: tolerance_hidden_rtol '%s': expected %zu numbers", fx, h, n_stream);
}

static const struct qk_tensor *need(const struct qk_catalog *cat, const char *fx,
				    const char *name, int dtype, uint64_t n_elem)
{
	const struct qk_tensor *t = qk_catalog_find(cat, name);

	if (!t)
		fail_msg("%s: expected.safetensors lacks '%s'", fx, name);
	if (t->dtype != dtype || t->n_elem != n_elem)
		fail_msg("%s: '%s' is %s with %llu values, expected %s with %llu", fx, name,
			 qk_dtype_name(t->dtype), (unsigned long long)t->n_elem,
			 qk_dtype_name(dtype), (unsigned long long)n_elem);
	return t;
}

static float f32_at(const struct qk_tensor *t, size_t i)
{
	float v;

	memcpy(&v, t->data + 4 * i, 4);
	return v;
}

/* one position's logits against the oracle's */
static void cmp_logits(const char *fx, int s, size_t pos, const float *got,
		       const struct qk_tensor *exp, size_t V, struct worst *w)
{
	double dmax = 0.0, rmax = 0.0;
	size_t am_got = 0, am_exp = 0;

	for (size_t i = 0; i < V; i++) {
		const double e = f32_at(exp, pos * V + i), g = got[i];

		if (!isfinite(g))
			fail_msg("%s: sequence %d position %zu: logit %zu is %g", fx, s, pos, i, g);
		dmax = fabs(g - e) > dmax ? fabs(g - e) : dmax;
		rmax = fabs(e) > rmax ? fabs(e) : rmax;
		if (got[i] > got[am_got])
			am_got = i;
		if (e > f32_at(exp, pos * V + am_exp))
			am_exp = i;
	}
	if (dmax / rmax > w->logit_rel) {
		w->logit_rel = dmax / rmax;
		w->logit_seq = s;
		w->logit_pos = pos;
	}
	if (am_got != am_exp)
		fail_msg("%s: sequence %d position %zu: argmax %zu, transformers %zu", fx, s, pos,
			 am_got, am_exp);
}

static void cmp_hidden(int s, const float *got, const struct qk_tensor *exp, size_t n_layer,
		       size_t n, const struct budget *b, struct worst *w)
{
	for (size_t l = 0; l <= n_layer; l++) {
		double sse = 0.0, ref = 0.0, rel;

		for (size_t i = 0; i < n; i++) {
			const double e = f32_at(exp, l * n + i), d = got[l * n + i] - e;

			sse += d * d;
			ref += e * e;
		}
		rel = sqrt(sse / ref);
		if (!(rel <= b->hidden[l]) && w->over_seq < 0) {
			w->over = rel;
			w->over_seq = s;
			w->over_layer = (int)l;
		}
		if (!(rel <= w->hidden_rms)) {
			w->hidden_rms = rel;
			w->hidden_seq = s;
			w->hidden_layer = (int)l;
		}
	}
}

struct fixture {
	const char *name;
};

static const char *const names[] = { QK_FIXTURE_NAMES };
static struct fixture fixtures[QK_FIXTURE_COUNT];

/* "the embedding output" or "the residual stream after layer 3" */
static const char *stream_name(int index, char *buf, size_t n)
{
	if (index == 0)
		snprintf(buf, n, "the embedding output");
	else
		snprintf(buf, n, "the residual stream after layer %d", index - 1);
	return buf;
}

static void check_fixture(void **state)
{
	const char *fx = ((const struct fixture *)*state)->name;
	char dir[512], path[600], name[64], where[64];
	struct qk_catalog cat, exp;
	struct qk_hparams hp;
	struct qk_model m;
	struct rf_opts o;
	struct worst w;
	struct budget b;
	qk_err err;
	int n_seq = 0;

	memset(&w, 0, sizeof(w));
	w.over_seq = -1;
	snprintf(dir, sizeof(dir), "%s/%s", MODELS, fx);
	if (qk_catalog_open(&cat, dir, &err) || qk_hparams_load_config(&hp, dir, &err) ||
	    qk_model_bind(&m, &cat, &hp, &err))
		fail_msg("%s: %s", fx, err.msg);
	qk_catalog_init(&exp);
	snprintf(path, sizeof(path), "%s/expected.safetensors", dir);
	if (st_open(&exp, path, &err))
		fail_msg("%s: %s", fx, err.msg);
	load_budget(fx, &exp, hp.n_layer + (size_t)1, &b);
	rf_opts_init(&o);
	o.keep_hidden = true;
	for (int s = 0;; s++, n_seq++) {
		const struct qk_tensor *tok, *lg, *hid;
		struct rf_out out;
		int32_t *ids;
		size_t T;

		snprintf(name, sizeof(name), "tokens.%d", s);
		if (!(tok = qk_catalog_find(&exp, name)))
			break;
		T = (size_t)tok->n_elem;
		tok = need(&exp, fx, name, QK_DT_I32, T);
		ids = malloc(T * sizeof(*ids));
		assert_non_null(ids);
		memcpy(ids, tok->data, T * sizeof(*ids));
		snprintf(name, sizeof(name), "logits.%d", s);
		lg = need(&exp, fx, name, QK_DT_F32, (uint64_t)T * hp.n_vocab);
		snprintf(name, sizeof(name), "hidden.%d", s);
		hid = need(&exp, fx, name, QK_DT_F32, (uint64_t)(hp.n_layer + 1) * T * hp.n_embd);
		if (rf_run(&m, ids, T, &o, &out, &err))
			fail_msg("%s: sequence %d: %s", fx, s, err.msg);
		for (size_t p = 0; p < T; p++)
			cmp_logits(fx, s, p, out.logits + p * hp.n_vocab, lg, hp.n_vocab, &w);
		cmp_hidden(s, out.hidden, hid, hp.n_layer, T * hp.n_embd, &b, &w);
		rf_out_free(&out);
		free(ids);
	}
	stream_name(w.hidden_layer, where, sizeof(where));
	print_message("%s: %d sequences; worst logit error %.3g of max |logit| (sequence %d "
		      "position %zu); worst relative RMS %.3g (sequence %d, %s)\n", fx, n_seq,
		      w.logit_rel, w.logit_seq, w.logit_pos, w.hidden_rms, w.hidden_seq, where);
	if (n_seq == 0)
		fail_msg("%s: no tokens.0 in expected.safetensors", fx);
	if (!(w.logit_rel <= b.logit))
		fail_msg("%s: sequence %d position %zu: max |logit difference| is %.3g of the "
			 "largest |logit|, budget %g", fx, w.logit_seq, w.logit_pos, w.logit_rel,
			 b.logit);
	if (w.over_seq >= 0)
		fail_msg("%s: sequence %d: %s is off by relative RMS %.3g, budget %g", fx,
			 w.over_seq, stream_name(w.over_layer, where, sizeof(where)), w.over,
			 b.hidden[w.over_layer]);
	qk_catalog_free(&exp);
	qk_model_free(&m);
	qk_catalog_free(&cat);
}

#define FX(i) cmocka_unit_test_prestate(check_fixture, &fixtures[i])

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX(0), FX(1), FX(2), FX(3), FX(4), FX(5), FX(6), FX(7), FX(8), FX(9),
		FX(10), FX(11), FX(12), FX(13), FX(14), FX(15), FX(16), FX(17), FX(18), FX(19), FX(20),
	};

	_Static_assert(sizeof(names) / sizeof(names[0]) == QK_FIXTURE_COUNT, "fixture list");
	_Static_assert(sizeof(tests) / sizeof(tests[0]) == QK_FIXTURE_COUNT, "one test per fixture");
	for (size_t i = 0; i < QK_FIXTURE_COUNT; i++)
		fixtures[i].name = names[i];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
