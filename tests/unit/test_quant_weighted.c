/* test_quant_weighted.c - the weighted quantizers (quant/q_weighted.c)
 * against libggml's quantize_<t> with quant_weights: per-row FNV-1a-64
 * hashes in testdata/quant/weighted.qkg (gen_quant_weighted.py).
 *
 * - the 35 labelled rows of inputs.qkg with four weight vectors (lognormal,
 *   with zeros, ones, a 16-decade range);
 * - 256 synth rows of 4096 (rebuilt from the recipe of synth.qkg) with
 *   lognormal weights;
 * - qw == NULL gives the unweighted bytes; qt_quantize_row dispatches.
 * Both SIMD paths (qsimd.h) must give libggml's bytes: the inputs and synth
 * rows run once on the scalar path and once on AVX2 where the CPU has it
 * (the AVX2 runs are SKIPPED, and said so, without it).
 * A mismatch names the type, weight vector, row and its label.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/io.h"
#include "../../quant/qsimd.h"
#include "../../quant/qtype.h"
#include "../../quant/quants.h"
#include "fnv.h"
#include "qkg.h"

static struct qkg inputs, wq;

static int setup(void **state)
{
	(void)state;
	qkg_load(&inputs, "inputs.qkg");
	qkg_load(&wq, "weighted.qkg");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	qkg_free(&inputs);
	qkg_free(&wq);
	return 0;
}

/* hash of one row quantized by t with weights qw */
static uint64_t row_hash(const struct qt_type *t, const float *x, uint64_t n, const float *qw,
			 uint8_t *buf)
{
	uint64_t rb;

	assert_true(qt_row_bytes(t, n, &rb));
	memset(buf, 0xa5, rb);
	qt_quantize_row(t, x, buf, (int64_t)n, qw);
	return fnv1a64(FNV1A64_INIT, buf, rb);
}

static void test_inputs(void **state)
{
	const uint64_t rows = qkg_meta_num(&wq, "in_rows", 10);
	const uint64_t n = qkg_meta_num(&wq, "in_n_per_row", 10);
	const uint64_t nw = qkg_meta_num(&wq, "in_weights", 10);
	const struct qkg_section *x = qkg_get(&inputs, "input", "f32", rows * n);
	const struct qkg_section *qws = qkg_get(&wq, "in_qw", "f32", nw * n);
	float *xr = malloc(n * sizeof(float)), *qw = malloc(nw * n * sizeof(float));
	uint8_t *buf = malloc(n * 4);
	int failed = 0;

	(void)state;
	assert_true(xr && qw && buf && rows == inputs.rows && n == inputs.n_per_row);
	memcpy(qw, qws->data, nw * n * sizeof(float));
	for (int k = 0; k < wq.n_types; k++) {
		const struct qt_type *t = qt_type_get(wq.types[k].id);
		char name[40];
		uint64_t bad = 0;

		assert_non_null(t);
		assert_non_null(t->quantize_w);
		snprintf(name, sizeof(name), "%s_in", wq.types[k].stem);
		const struct qkg_section *h = qkg_get(&wq, name, "u64", nw * rows);

		for (uint64_t w = 0; w < nw; w++) {
			for (uint64_t r = 0; r < rows; r++) {
				memcpy(xr, x->data + 4 * r * n, n * sizeof(float));
				if (row_hash(t, xr, n, qw + w * n, buf) == qk_ld64(h->data + 8 * (w * rows + r)))
					continue;
				if (bad++ < 4)
					print_error("%s: weights %llu, row %llu (%s): bytes differ from "
						    "libggml's\n", t->name, (unsigned long long)w,
						    (unsigned long long)r,
						    inputs.labels[r] ? inputs.labels[r] : "?");
			}
		}
		print_message("  %-5s %llu rows x %llu weight vectors: %llu differ\n", t->name,
			      (unsigned long long)rows, (unsigned long long)nw,
			      (unsigned long long)bad);
		failed += bad != 0;
	}
	free(xr);
	free(qw);
	free(buf);
	assert_int_equal(failed, 0);
}

static void test_synth(void **state)
{
	const struct qkg_section *qws = qkg_get(&wq, "synth_qw", "f32", wq.n_per_row);
	float *x = malloc(wq.n_per_row * sizeof(float)), *qw = malloc(wq.n_per_row * sizeof(float));
	uint8_t *buf = malloc(wq.n_per_row * 4);
	int failed = 0;

	(void)state;
	assert_true(x && qw && buf && wq.rows > 0 && wq.n_scales > 0);
	memcpy(qw, qws->data, wq.n_per_row * sizeof(float));
	for (int k = 0; k < wq.n_types; k++) {
		const struct qt_type *t = qt_type_get(wq.types[k].id);
		char name[40];
		uint64_t bad = 0;

		assert_non_null(t);
		snprintf(name, sizeof(name), "%s_synth", wq.types[k].stem);
		const struct qkg_section *h = qkg_get(&wq, name, "u64", wq.rows);

		for (uint64_t r = 0; r < wq.rows; r++) {
			qkg_synth_row(&wq, r, x);
			if (row_hash(t, x, wq.n_per_row, qw, buf) != qk_ld64(h->data + 8 * r) &&
			    bad++ < 4)
				print_error("%s: synth row %llu: bytes differ from libggml's\n", t->name,
					    (unsigned long long)r);
		}
		print_message("  %-5s %llu synth rows: %llu differ\n", t->name,
			      (unsigned long long)wq.rows, (unsigned long long)bad);
		failed += bad != 0;
	}
	free(x);
	free(qw);
	free(buf);
	assert_int_equal(failed, 0);
}

/* NULL weights: the unweighted bytes, through the function and the dispatcher;
 * types without weights ignore them */
static void test_null_weights(void **state)
{
	const uint64_t n = inputs.n_per_row;
	const struct qkg_section *x = qkg_get(&inputs, "input", "f32", inputs.rows * n);
	float *xr = malloc(n * sizeof(float)), *qw = malloc(n * sizeof(float));
	uint8_t *a = malloc(n * 4), *b = malloc(n * 4);

	(void)state;
	assert_true(xr && qw && a && b);
	for (uint64_t c = 0; c < n; c++)
		qw[c] = 1.0f + (float)(c % 7);
	for (int id = 0; id < QT_COUNT; id++) {
		const struct qt_type *t = qt_type_get(id);
		uint64_t rb;

		if (!t || !t->quantize || id == QT_Q8_K || !qt_row_bytes(t, n, &rb))
			continue;
		for (uint64_t r = 0; r < inputs.rows; r++) {
			memcpy(xr, x->data + 4 * r * n, n * sizeof(float));
			t->quantize(xr, a, (int64_t)n);
			qt_quantize_row(t, xr, b, (int64_t)n, NULL);
			assert_memory_equal(a, b, rb);
			if (t->quantize_w) {
				t->quantize_w(xr, b, (int64_t)n, NULL);
				assert_memory_equal(a, b, rb);
			} else {
				qt_quantize_row(t, xr, b, (int64_t)n, qw);
				assert_memory_equal(a, b, rb);
			}
		}
	}
	/* the nine types llama.cpp weighs, and no other */
	const int weighted[] = { QT_Q4_0, QT_Q4_1, QT_Q5_0, QT_Q5_1, QT_Q2_K,
				 QT_Q3_K, QT_Q4_K, QT_Q5_K, QT_Q6_K };
	for (size_t i = 0; i < sizeof(weighted) / sizeof(weighted[0]); i++)
		assert_non_null(qt_type_get(weighted[i])->quantize_w);
	assert_null(qt_type_get(QT_Q8_0)->quantize_w);
	assert_null(qt_type_get(QT_F16)->quantize_w);
	free(xr);
	free(qw);
	free(a);
	free(b);
}

/* the same rows on each SIMD level */
static int on_scalar(void **state)
{
	(void)state;
	assert_int_equal(qt_simd_select(QT_SIMD_SCALAR), QT_SIMD_SCALAR);
	return 0;
}

static int on_avx2(void **state)
{
	(void)state;
	if (qt_simd_select(QT_SIMD_AVX2) != QT_SIMD_AVX2)
		skip(); /* reported as SKIPPED by cmocka */
	return 0;
}

static int back_to_best(void **state)
{
	(void)state;
	qt_simd_select(qt_simd_best());
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		{ "test_inputs_scalar", test_inputs, on_scalar, back_to_best, NULL },
		{ "test_synth_scalar", test_synth, on_scalar, back_to_best, NULL },
		{ "test_inputs_avx2", test_inputs, on_avx2, back_to_best, NULL },
		{ "test_synth_avx2", test_synth, on_avx2, back_to_best, NULL },
		cmocka_unit_test(test_null_weights),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
