/* test_iquant_golden.c - the i-quant family (quant/iquants.h) against
 * libggml's own output (testdata/quant/<type>.qkg and iq_weights.qkg, made
 * by testdata/gen/quant/gen_iq_golden.py through ggml_quantize_chunk and
 * to_float of llama-cpp-python 0.3.36).
 *
 * Per type, for each variant ggml can make (no weights; the column weights
 * of iq_weights.qkg): our bytes for the 35 stored input rows equal ggml's
 * byte for byte; our dequantization of ggml's bytes hashes (FNV-1a-64 per
 * row) to ggml's; for the synth rows the test rebuilds, our bytes and our
 * dequantized floats hash to ggml's. The type table (qtype.c) reaches the
 * same functions. A mismatch names the type, variant, row and block.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../quant/iquants.h"
#include "../../quant/qtype.h"
#include "fnv.h"
#include "qkg.h"

typedef void (*wquant_fn)(const float *x, void *y, int64_t n, const float *qw);

static struct case_row {
	const char *stem;
	int id;
	wquant_fn quant;     /* weighted entry point */
} cases[] = {
	{ "iq4_nl", QT_IQ4_NL, qi_quantize_iq4_nl_w },
	{ "iq4_xs", QT_IQ4_XS, qi_quantize_iq4_xs_w },
	{ "mxfp4", QT_MXFP4, qi_quantize_mxfp4_w },
	{ "tq1_0", QT_TQ1_0, qi_quantize_tq1_0_w },
	{ "tq2_0", QT_TQ2_0, qi_quantize_tq2_0_w },
	{ "iq2_xxs", QT_IQ2_XXS, qi_quantize_iq2_xxs_w },
	{ "iq2_xs", QT_IQ2_XS, qi_quantize_iq2_xs_w },
	{ "iq3_xxs", QT_IQ3_XXS, qi_quantize_iq3_xxs_w },
	{ "iq3_s", QT_IQ3_S, qi_quantize_iq3_s_w },
	{ "iq2_s", QT_IQ2_S, qi_quantize_iq2_s_w },
	{ "iq1_s", QT_IQ1_S, qi_quantize_iq1_s_w },
	{ "iq1_m", QT_IQ1_M, qi_quantize_iq1_m_w },
};

static struct qkg inputs, wts;
static float *input_rows; /* rows x n_per_row, a copy (the file's data may be unaligned) */

static int setup(void **state)
{
	const struct qkg_section *s;

	(void)state;
	qkg_load(&inputs, "inputs.qkg");
	s = qkg_get(&inputs, "input", "f32", inputs.rows * inputs.n_per_row);
	input_rows = malloc(s->count * sizeof *input_rows);
	if (!input_rows)
		return -1;
	memcpy(input_rows, s->data, s->count * sizeof *input_rows);
	qkg_load(&wts, "iq_weights.qkg");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(input_rows);
	qkg_free(&inputs);
	qkg_free(&wts);
	return 0;
}

static const struct qkg_section *find(const struct qkg *g, const char *name)
{
	for (int i = 0; i < g->n_sec; i++)
		if (strcmp(g->sec[i].name, name) == 0)
			return &g->sec[i];
	return NULL;
}

/* a copy of weights section `name` (n floats); NULL for "" */
static float *load_weights(const char *name, uint64_t n)
{
	const struct qkg_section *s;
	float *w;

	if (!*name)
		return NULL;
	s = qkg_get(&wts, name, "f32", n);
	w = malloc(n * sizeof *w);
	assert_non_null(w);
	memcpy(w, s->data, n * sizeof *w);
	return w;
}

/* rows ggml's quantizer aborts on (GGML_ASSERT on extreme values): the
 * generator lists them as "ggml_aborts_row N LABEL" and stores zeros */
static bool ggml_aborts(const struct qkg *g, uint64_t row)
{
	for (int i = 0; i < g->n_meta; i++)
		if (strncmp(g->meta[i].key, "ggml_aborts_row ", 16) == 0 &&
		    strtoull(g->meta[i].value, NULL, 10) == row)
			return true;
	return false;
}

/* one variant ("" or "_w") of one type on the stored input rows;
 * returns the number of mismatching rows */
static int check_inputs(const struct case_row *c, const struct qkg *g, const char *suf,
			const float *qw)
{
	const struct qt_type *t = qt_type_get(c->id);
	const uint64_t rows = inputs.rows, n = inputs.n_per_row;
	uint64_t row_bytes = 0;
	char name[32];
	const struct qkg_section *q, *h;
	uint8_t *ours;
	float *deq;
	int bad = 0;

	assert_true(qt_row_bytes(t, n, &row_bytes));
	snprintf(name, sizeof name, "quant%s", suf);
	q = qkg_get(g, name, "u8", rows * row_bytes);
	snprintf(name, sizeof name, "dequant%s_hash", suf);
	h = qkg_get(g, name, "u64", rows);
	ours = malloc(row_bytes);
	deq = malloc(n * sizeof *deq);
	assert_true(ours && deq);
	for (uint64_t r = 0; r < rows; r++) {
		const uint8_t *theirs = q->data + r * row_bytes;
		uint64_t want;

		if (ggml_aborts(g, r))
			continue;

		c->quant(input_rows + r * n, ours, (int64_t)n, qw);
		if (memcmp(ours, theirs, row_bytes) != 0) {
			uint64_t i = 0;

			while (ours[i] == theirs[i])
				i++;
			print_error("%s%s: row %llu (%s): byte %llu (block %llu) is 0x%02x, ggml 0x%02x\n",
				    t->name, suf, (unsigned long long)r,
				    inputs.labels[r] ? inputs.labels[r] : "?", (unsigned long long)i,
				    (unsigned long long)(i / t->bytes), ours[i], theirs[i]);
			bad++;
		}
		t->dequantize(theirs, deq, (int64_t)n);
		memcpy(&want, h->data + 8 * r, 8);
		if (fnv1a64(FNV1A64_INIT, deq, n * sizeof *deq) != want) {
			print_error("%s%s: row %llu (%s): dequantized floats differ from ggml's\n",
				    t->name, suf, (unsigned long long)r,
				    inputs.labels[r] ? inputs.labels[r] : "?");
			bad++;
		}
	}
	free(ours);
	free(deq);
	return bad;
}

/* the synth rows: hashes of our bytes and of our dequantization */
static int check_synth(const struct case_row *c, const struct qkg *g, const char *suf,
		       const float *qw)
{
	const struct qt_type *t = qt_type_get(c->id);
	struct qkg s = *g;
	uint64_t nsyn = qkg_meta_num(g, "synth_rows", 10), row_bytes = 0;
	char nq[32], ndq[32];
	const struct qkg_section *hq, *hdq;
	float *x, *deq;
	uint8_t *ours;
	int bad = 0;

	s.n_per_row = qkg_meta_num(g, "synth_n_per_row", 10);
	assert_true(qt_row_bytes(t, s.n_per_row, &row_bytes));
	snprintf(nq, sizeof nq, "synth_q%s", suf);
	snprintf(ndq, sizeof ndq, "synth_dq%s", suf);
	hq = qkg_get(g, nq, "u64", nsyn);
	hdq = qkg_get(g, ndq, "u64", nsyn);
	x = malloc(s.n_per_row * sizeof *x);
	deq = malloc(s.n_per_row * sizeof *deq);
	ours = malloc(row_bytes);
	assert_true(x && deq && ours);
	for (uint64_t r = 0; r < nsyn; r++) {
		uint64_t a, b;

		qkg_synth_row(&s, r, x);
		c->quant(x, ours, (int64_t)s.n_per_row, qw);
		t->dequantize(ours, deq, (int64_t)s.n_per_row);
		memcpy(&a, hq->data + 8 * r, 8);
		memcpy(&b, hdq->data + 8 * r, 8);
		if (fnv1a64(FNV1A64_INIT, ours, row_bytes) != a) {
			if (bad < 5)
				print_error("%s%s: synth row %llu: bytes differ from ggml's\n",
					    t->name, suf, (unsigned long long)r);
			bad++;
		} else if (fnv1a64(FNV1A64_INIT, deq, s.n_per_row * sizeof *deq) != b) {
			print_error("%s%s: synth row %llu: dequantized floats differ\n",
				    t->name, suf, (unsigned long long)r);
			bad++;
		}
	}
	free(x);
	free(deq);
	free(ours);
	return bad;
}

static void test_type(void **state)
{
	const struct case_row *c = *state;
	const struct qt_type *t = qt_type_get(c->id);
	struct qkg g;
	char file[40];
	int bad = 0, variants = 0;

	assert_non_null(t);
	assert_non_null(t->dequantize);
	snprintf(file, sizeof file, "%s.qkg", c->stem);
	qkg_load(&g, file);
	assert_int_equal(g.ggml_id, c->id);
	for (int v = 0; v < 2; v++) {
		const char *suf = v ? "_w" : "";
		char probe[32];
		float *w512, *w4096;

		snprintf(probe, sizeof probe, "quant%s", suf);
		if (!find(&g, probe))
			continue;  /* ggml cannot make this variant (needs weights) */
		variants++;
		w512 = load_weights(v ? "w512" : "", inputs.n_per_row);
		w4096 = load_weights(v ? "w4096" : "", qkg_meta_num(&g, "synth_n_per_row", 10));
		bad += check_inputs(c, &g, suf, w512);
		bad += check_synth(c, &g, suf, w4096);
		free(w512);
		free(w4096);
	}
	/* without weights, the type table's quantizer is the same function */
	if (find(&g, "quant")) {
		uint64_t rb = 0;
		uint8_t *a, *b;

		assert_non_null(t->quantize);
		assert_true(qt_row_bytes(t, inputs.n_per_row, &rb));
		a = malloc(rb);
		b = malloc(rb);
		assert_true(a && b);
		t->quantize(input_rows, a, (int64_t)inputs.n_per_row);
		c->quant(input_rows, b, (int64_t)inputs.n_per_row, NULL);
		assert_memory_equal(a, b, rb);
		free(a);
		free(b);
	}
	qkg_free(&g);
	assert_true(variants > 0);
	if (bad)
		fail_msg("%s: %d mismatches against libggml", t->name, bad);
}

int main(void)
{
	struct CMUnitTest tests[sizeof cases / sizeof cases[0]];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tests[i] = (struct CMUnitTest)cmocka_unit_test_prestate(test_type, &cases[i]);
		tests[i].name = cases[i].stem;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
