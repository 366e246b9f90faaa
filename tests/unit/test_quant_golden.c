/* test_quant_golden.c - our quantizers and dequantizers against llama.cpp's
 * own output (testdata/quant/, made by testdata/gen/quant/gen_quant_golden.py
 * from libggml's ggml_quantize_chunk and type-traits to_float).
 *
 * For every type: quantize the stored f32 rows and compare every byte with
 * ggml's; dequantize ggml's bytes and compare every float bit for bit with
 * ggml's. A mismatch names the type, row (and its label), block and byte.
 * Run from the repo root (tests/run.sh does); QK_QUANT_GOLDEN_DIR points it
 * at another directory of .qkg files (e.g. a --bulk set).
 *
 * .qkg layout (README.md there): text lines "qkgold 1", "meta KEY VALUE...",
 * "data NAME u8|u16|u32|f32 COUNT", "end", then the data sections raw and
 * little-endian, back to back in header order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../../formats/base/io.h"
#include "../../quant/qtype.h"
#include "../../quant/quants.h"
#include "fnv.h"
#include "qkg.h"

/* the stored inputs: rows x n_per_row floats */
static struct qkg inputs;
static float *input_rows;

static int setup_inputs(void **state)
{
	const struct qkg_section *s;

	(void)state;
	qkg_load(&inputs, "inputs.qkg");
	if (inputs.rows == 0 || inputs.n_per_row == 0 || inputs.n_per_row % QT_QK_K != 0)
		fail_msg("%s: rows %llu, n_per_row %llu: expected a multiple of 256",
			 inputs.path, (unsigned long long)inputs.rows,
			 (unsigned long long)inputs.n_per_row);
	s = qkg_get(&inputs, "input", "f32", inputs.rows * inputs.n_per_row);
	input_rows = malloc(s->count * sizeof(float));
	assert_non_null(input_rows);
	memcpy(input_rows, s->data, s->count * sizeof(float));
	return 0;
}

static int teardown_inputs(void **state)
{
	(void)state;
	free(input_rows);
	qkg_free(&inputs);
	return 0;
}

static const char *row_label(uint64_t row)
{
	return row < MAX_LABELS && inputs.labels[row] ? inputs.labels[row] : "?";
}

/* Compare float arrays bit for bit; report the first difference. */
static uint64_t compare_floats(const char *what, const float *ours, const uint8_t *theirs,
			       uint64_t n, uint64_t n_per_row)
{
	uint64_t bad = 0, first = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint32_t a, b;

		memcpy(&a, &ours[i], 4);
		b = qk_ld32(theirs + 4 * i);
		if (a != b && bad++ == 0)
			first = i;
	}
	if (bad) {
		uint32_t b = qk_ld32(theirs + 4 * first);
		float fb;

		memcpy(&fb, &b, 4);
		print_error("%s: %llu of %llu floats differ; first at row %llu (%s) element %llu: "
			    "ours %.9g, llama.cpp %.9g\n", what, (unsigned long long)bad,
			    (unsigned long long)n, (unsigned long long)(first / n_per_row),
			    row_label(first / n_per_row), (unsigned long long)(first % n_per_row),
			    (double)ours[first], (double)fb);
	}
	return bad;
}

/* One block-quantized type: bytes of our quantizer vs ggml's, floats of our
 * dequantizer vs ggml's on ggml's bytes. */
static void check_type(const char *file, qt_quantize_fn quantize)
{
	struct qkg g;
	const struct qt_type *t;
	const uint64_t rows = inputs.rows, n = inputs.n_per_row;
	uint64_t row_bytes, nblk, bad_blocks = 0, bad_floats;
	uint8_t *ours;
	float *deq;

	qkg_load(&g, file);
	t = qt_type_get(g.ggml_id);
	if (!t || !t->dequantize)
		fail_msg("%s: ggml_id %d is not a type with a dequantizer here", g.path, g.ggml_id);
	if (!quantize)
		quantize = t->quantize;
	assert_true(qt_row_bytes(t, n, &row_bytes));
	const struct qkg_section *q = qkg_get(&g, "quant", "u8", rows * row_bytes);
	const struct qkg_section *dq = qkg_get(&g, "dequant", "f32", rows * n);

	ours = calloc(rows, row_bytes);
	deq = malloc(rows * n * sizeof(float));
	assert_non_null(ours);
	assert_non_null(deq);
	nblk = n / t->blck;
	for (uint64_t r = 0; r < rows; r++)
		quantize(input_rows + r * n, ours + r * row_bytes, (int64_t)n);
	for (uint64_t r = 0; r < rows; r++) {
		for (uint64_t b = 0; b < nblk; b++) {
			const uint8_t *a = ours + r * row_bytes + b * t->bytes;
			const uint8_t *e = q->data + r * row_bytes + b * t->bytes;

			if (memcmp(a, e, t->bytes) == 0)
				continue;
			if (bad_blocks++ == 0) {
				uint32_t k = 0;

				while (a[k] == e[k])
					k++;
				print_error("%s: first differing block: row %llu (%s) block %llu "
					    "byte %u: ours 0x%02x, llama.cpp 0x%02x\n", t->name,
					    (unsigned long long)r, row_label(r),
					    (unsigned long long)b, k, a[k], e[k]);
			}
		}
	}
	/* dequantize llama.cpp's bytes, row by row */
	for (uint64_t r = 0; r < rows; r++)
		t->dequantize(q->data + r * row_bytes, deq + r * n, (int64_t)n);
	{
		char what[64];

		snprintf(what, sizeof(what), "%s dequantize", t->name);
		bad_floats = compare_floats(what, deq, dq->data, rows * n, n);
	}
	print_message("  %-5s %llu of %llu blocks identical, %llu floats dequantized identically\n",
		      t->name, (unsigned long long)(rows * nblk - bad_blocks),
		      (unsigned long long)(rows * nblk),
		      (unsigned long long)(rows * n - bad_floats));
	free(ours);
	free(deq);
	qkg_free(&g);
	assert_int_equal(bad_blocks, 0);
	assert_int_equal(bad_floats, 0);
}

static void test_q4_0(void **s) { (void)s; check_type("q4_0.qkg", NULL); }
static void test_q4_1(void **s) { (void)s; check_type("q4_1.qkg", NULL); }
static void test_q5_0(void **s) { (void)s; check_type("q5_0.qkg", NULL); }
static void test_q5_1(void **s) { (void)s; check_type("q5_1.qkg", NULL); }
static void test_q8_0(void **s) { (void)s; check_type("q8_0.qkg", NULL); }
static void test_q2_K(void **s) { (void)s; check_type("q2_k.qkg", NULL); }
static void test_q3_K(void **s) { (void)s; check_type("q3_k.qkg", NULL); }
static void test_q4_K(void **s) { (void)s; check_type("q4_k.qkg", NULL); }
static void test_q5_K(void **s) { (void)s; check_type("q5_k.qkg", NULL); }
static void test_q6_K(void **s) { (void)s; check_type("q6_k.qkg", NULL); }
/* Q8_K has no quantizer in the table (not a file type); ggml's reference
 * was called on a zeroed buffer, so its unwritten bsums of all-zero blocks
 * are 0, as ours are */
static void test_q8_K(void **s) { (void)s; check_type("q8_k.qkg", qt_quantize_q8_K); }

/* F16 / BF16: the rows, 16384 fp32 bit patterns, and the widening of every
 * widen_stride-th 16-bit pattern */
static void check_half(const char *file, int id)
{
	struct qkg g;
	const struct qt_type *t = qt_type_get(id);
	const uint64_t total = inputs.rows * inputs.n_per_row;
	uint64_t bad = 0;

	qkg_load(&g, file);
	assert_int_equal(g.ggml_id, id);
	const struct qkg_section *q = qkg_get(&g, "quant", "u16", total);
	const struct qkg_section *bin = qkg_get(&g, "bits_in", "u32", ANY_COUNT);
	const struct qkg_section *bout = qkg_get(&g, "bits_out", "u16", bin->count);
	const struct qkg_section *wide = qkg_get(&g, "widen", "f32", ANY_COUNT);
	uint16_t *h = malloc((total > bin->count ? total : bin->count) * 2);
	float *f = malloc(65536 * sizeof(float));
	uint16_t pats[65536];

	assert_non_null(h);
	assert_non_null(f);
	if (g.widen_stride == 0 || (wide->count - 1) * g.widen_stride > 0xffff ||
	    wide->count * g.widen_stride < 65536)
		fail_msg("%s: widen has %llu values at stride %llu, expected to cover 0..65535",
			 g.path, (unsigned long long)wide->count,
			 (unsigned long long)g.widen_stride);
	t->quantize(input_rows, h, (int64_t)total);
	for (uint64_t i = 0; i < total; i++) {
		if (h[i] != qk_ld16(q->data + 2 * i) && bad++ == 0)
			print_error("%s: row %llu (%s) element %llu: ours 0x%04x, llama.cpp 0x%04x\n",
				    t->name, (unsigned long long)(i / inputs.n_per_row),
				    row_label(i / inputs.n_per_row),
				    (unsigned long long)(i % inputs.n_per_row), h[i],
				    qk_ld16(q->data + 2 * i));
	}
	for (uint64_t i = 0; i < bin->count; i++) {
		const uint32_t u = qk_ld32(bin->data + 4 * i);
		float x;

		memcpy(&x, &u, 4);
		t->quantize(&x, &h[i], 1);
		if (h[i] != qk_ld16(bout->data + 2 * i) && bad++ < 5)
			print_error("%s: fp32 0x%08x: ours 0x%04x, llama.cpp 0x%04x\n", t->name,
				    u, h[i], qk_ld16(bout->data + 2 * i));
	}
	for (uint64_t i = 0; i < wide->count; i++)
		pats[i] = (uint16_t)(i * g.widen_stride);
	t->dequantize(pats, f, (int64_t)wide->count);
	bad += compare_floats(t->name, f, wide->data, wide->count, wide->count);
	print_message("  %-5s %llu rows' values, %llu bit patterns, %llu widenings: %llu differ\n",
		      t->name, (unsigned long long)total, (unsigned long long)bin->count,
		      (unsigned long long)wide->count, (unsigned long long)bad);
	free(h);
	free(f);
	qkg_free(&g);
	assert_int_equal(bad, 0);
}

static void test_f16(void **s) { (void)s; check_half("f16.qkg", QT_F16); }
static void test_bf16(void **s) { (void)s; check_half("bf16.qkg", QT_BF16); }

/* ---- the synthetic set: 512 rows of 4096 rebuilt here, hashes stored ----
 * The recipe (gen_quant_golden.py, synth_rows) uses integers and exact
 * float operations only, so both sides build the same bits. */

static void test_synth(void **state)
{
	struct qkg g;
	float *x, *y;
	uint8_t *q;
	uint64_t in_hash = FNV1A64_INIT, total_blocks = 0;
	int failed = 0;

	(void)state;
	qkg_load(&g, "synth.qkg");
	if (g.rows == 0 || g.n_per_row % QT_QK_K != 0 || g.n_scales == 0 || g.n_types == 0)
		fail_msg("%s: incomplete header", g.path);
	x = malloc(g.rows * g.n_per_row * sizeof(float));
	y = malloc(g.n_per_row * sizeof(float));
	q = malloc(g.n_per_row * 4);
	assert_true(x && y && q);
	for (uint64_t r = 0; r < g.rows; r++)
		qkg_synth_row(&g, r, x + r * g.n_per_row);
	in_hash = fnv1a64(in_hash, x, g.rows * g.n_per_row * sizeof(float));
	if (in_hash != g.input_hash)
		fail_msg("%s: regenerated inputs hash to %016llx, generator had %016llx",
			 g.path, (unsigned long long)in_hash, (unsigned long long)g.input_hash);
	for (int k = 0; k < g.n_types; k++) {
		const struct qt_type *t = qt_type_get(g.types[k].id);
		qt_quantize_fn quantize = t && t->id == QT_Q8_K ? qt_quantize_q8_K : t ? t->quantize : NULL;
		char qname[40], dname[40];
		uint64_t rb, bad_q = 0, bad_dq = 0;

		if (!quantize || !t->dequantize)
			fail_msg("%s: type %d has no kernels here", g.path, g.types[k].id);
		snprintf(qname, sizeof(qname), "%s_q", g.types[k].stem);
		snprintf(dname, sizeof(dname), "%s_dq", g.types[k].stem);
		const struct qkg_section *hq = qkg_get(&g, qname, "u64", g.rows);
		const struct qkg_section *hd = qkg_get(&g, dname, "u64", g.rows);

		assert_true(qt_row_bytes(t, g.n_per_row, &rb));
		for (uint64_t r = 0; r < g.rows; r++) {
			memset(q, 0, rb);
			quantize(x + r * g.n_per_row, q, (int64_t)g.n_per_row);
			t->dequantize(q, y, (int64_t)g.n_per_row);
			if (fnv1a64(FNV1A64_INIT, q, rb) != qk_ld64(hq->data + 8 * r) && bad_q++ == 0)
				print_error("%s: synth row %llu (scale 0x%08x): bytes differ from "
					    "llama.cpp's (gen_quant_golden.py --bulk shows bytes)\n",
					    t->name, (unsigned long long)r,
					    g.scale_bits[r % (uint64_t)g.n_scales]);
			if (fnv1a64(FNV1A64_INIT, y, g.n_per_row * 4) != qk_ld64(hd->data + 8 * r))
				bad_dq++;
		}
		total_blocks += g.rows * (g.n_per_row / t->blck);
		print_message("  %-5s %llu rows x %llu blocks: %llu rows differ in bytes, "
			      "%llu in dequantized floats\n", t->name, (unsigned long long)g.rows,
			      (unsigned long long)(g.n_per_row / t->blck), (unsigned long long)bad_q,
			      (unsigned long long)bad_dq);
		failed += bad_q != 0 || bad_dq != 0;
	}
	free(x);
	free(y);
	free(q);
	qkg_free(&g);
	assert_int_equal(failed, 0);
	assert_true(total_blocks > 0);
}

/* Our type table against libggml's ggml_type_name/blck_size/type_size. */
static void test_type_table(void **state)
{
	char path[600], line[256];
	FILE *fp;
	int seen[QT_COUNT] = { 0 }, n = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/ggml_types.txt", qkg_dir());
	fp = fopen(path, "r");
	if (!fp) {
		if (getenv("QK_QUANT_GOLDEN_DIR"))
			skip(); /* a bulk set has no type list */
		fail_msg("%s: cannot open", path);
	}
	while (fgets(line, sizeof(line), fp)) {
		char name[64];
		int id;
		unsigned long blck, size;
		const struct qt_type *t;

		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%d %63s %lu %lu", &id, name, &blck, &size), 4);
		t = qt_type_get(id);
		if (!t)
			fail_msg("ggml type %d (%s) is missing from qtype.c", id, name);
		if (strcasecmp(t->name, name) != 0 || t->blck != blck || t->bytes != size)
			fail_msg("type %d: ours %s %u/%u, ggml %s %lu/%lu", id, t->name, t->blck,
				 t->bytes, name, blck, size);
		assert_ptr_equal(qt_type_by_name(name), t);
		if (id >= 0 && id < QT_COUNT)
			seen[id] = 1;
		n++;
	}
	fclose(fp);
	/* and no id of ours that ggml does not have */
	for (int id = 0; id < QT_COUNT; id++)
		if (!seen[id] && qt_type_get(id))
			fail_msg("qtype.c has type %d (%s), ggml does not", id, qt_type_get(id)->name);
	assert_true(n >= 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_q8_0),
		cmocka_unit_test(test_q4_0),
		cmocka_unit_test(test_q4_1),
		cmocka_unit_test(test_q5_0),
		cmocka_unit_test(test_q5_1),
		cmocka_unit_test(test_q2_K),
		cmocka_unit_test(test_q3_K),
		cmocka_unit_test(test_q4_K),
		cmocka_unit_test(test_q5_K),
		cmocka_unit_test(test_q6_K),
		cmocka_unit_test(test_q8_K),
		cmocka_unit_test(test_f16),
		cmocka_unit_test(test_bf16),
		cmocka_unit_test(test_synth),
		cmocka_unit_test(test_type_table),
	};

	return cmocka_run_group_tests(tests, setup_inputs, teardown_inputs);
}
