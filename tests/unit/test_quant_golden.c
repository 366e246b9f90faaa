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

#define GOLDEN_MAX_BYTES ((size_t)1 << 31)
#define MAX_SECTIONS 32
#define MAX_LABELS 4096
#define ANY_COUNT UINT64_MAX

struct qkg_section {
	char name[32];
	char dtype[8];
	uint64_t count;
	const uint8_t *data;
};

struct qkg {
	char *buf;        /* whole file */
	size_t len;
	char path[512];
	int n_sec;
	struct qkg_section sec[MAX_SECTIONS];
	uint64_t rows, n_per_row;
	uint64_t widen_stride; /* f16/bf16: widen[i] is pattern i * stride */
	int ggml_id;
	char *labels[MAX_LABELS];
	/* synth.qkg only */
	uint64_t seed, input_hash;
	uint32_t scale_bits[16];
	int n_scales;
	struct { char stem[16]; int id; } types[16];
	int n_types;
};

static const char *golden_dir(void)
{
	const char *d = getenv("QK_QUANT_GOLDEN_DIR");

	return d && *d ? d : "testdata/quant";
}

static unsigned dtype_size(const char *dt)
{
	if (strcmp(dt, "u8") == 0)
		return 1;
	if (strcmp(dt, "u16") == 0)
		return 2;
	if (strcmp(dt, "u32") == 0 || strcmp(dt, "f32") == 0)
		return 4;
	if (strcmp(dt, "u64") == 0)
		return 8;
	return 0;
}

static uint64_t parse_num(const char *s, int base, const char *what, const char *path,
			  char **endp)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || end == s || (*end && *end != ' ' && *end != '\n'))
		fail_msg("%s: bad number '%s' for %s", path, s, what);
	if (endp)
		*endp = end;
	return v;
}

static uint64_t parse_u64(const char *s, const char *what, const char *path)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || (*end && *end != ' ' && *end != '\n'))
		fail_msg("%s: bad number '%s' for %s", path, s, what);
	return v;
}

/* Load and index a .qkg file; fails the test on any malformation. */
static void qkg_load(struct qkg *g, const char *name)
{
	qk_err err;
	char *line, *next;
	uint64_t off = 0;

	memset(g, 0, sizeof(*g));
	g->ggml_id = -1;
	snprintf(g->path, sizeof(g->path), "%s/%s", golden_dir(), name);
	if (getenv("QK_QUANT_GOLDEN_DIR") && access(g->path, F_OK) != 0)
		skip(); /* an override set (e.g. --bulk) need not have every file */
	if (qk_read_file(g->path, GOLDEN_MAX_BYTES, &g->buf, &g->len, &err) != QK_OK)
		fail_msg("%s (run from the repo root)", err.msg);
	if (strncmp(g->buf, "qkgold 1\n", 9) != 0)
		fail_msg("%s: not a qkgold 1 file", g->path);
	for (line = g->buf; ; line = next) {
		char *nl = memchr(line, '\n', g->len - (size_t)(line - g->buf));

		if (!nl)
			fail_msg("%s: header has no 'end' line", g->path);
		*nl = '\0';
		next = nl + 1;
		if (strcmp(line, "end") == 0)
			break;
		if (strncmp(line, "data ", 5) == 0) {
			struct qkg_section *s = &g->sec[g->n_sec];
			char cnt[32];

			if (g->n_sec == MAX_SECTIONS ||
			    sscanf(line + 5, "%31s %7s %31s", s->name, s->dtype, cnt) != 3 ||
			    dtype_size(s->dtype) == 0)
				fail_msg("%s: bad data line '%s'", g->path, line);
			s->count = parse_u64(cnt, s->name, g->path);
			g->n_sec++;
		} else if (strncmp(line, "meta rows ", 10) == 0) {
			g->rows = parse_u64(line + 10, "rows", g->path);
		} else if (strncmp(line, "meta n_per_row ", 15) == 0) {
			g->n_per_row = parse_u64(line + 15, "n_per_row", g->path);
		} else if (strncmp(line, "meta widen_stride ", 18) == 0) {
			g->widen_stride = parse_u64(line + 18, "widen_stride", g->path);
		} else if (strncmp(line, "meta ggml_id ", 13) == 0) {
			g->ggml_id = (int)parse_u64(line + 13, "ggml_id", g->path);
		} else if (strncmp(line, "meta seed ", 10) == 0) {
			g->seed = parse_num(line + 10, 16, "seed", g->path, NULL);
		} else if (strncmp(line, "meta input_hash ", 16) == 0) {
			g->input_hash = parse_num(line + 16, 16, "input_hash", g->path, NULL);
		} else if (strncmp(line, "meta scale_bits ", 16) == 0) {
			char *p = line + 16;

			while (*p && g->n_scales < 16)
				g->scale_bits[g->n_scales++] =
					(uint32_t)parse_num(p, 16, "scale_bits", g->path, &p);
		} else if (strncmp(line, "meta synth_type ", 16) == 0 && g->n_types < 16) {
			char *st = line + 16, *sp = strchr(st, ' ');

			if (!sp || sp - st >= 16)
				fail_msg("%s: bad line '%s'", g->path, line);
			memcpy(g->types[g->n_types].stem, st, (size_t)(sp - st));
			g->types[g->n_types].stem[sp - st] = '\0';
			g->types[g->n_types].id = (int)parse_u64(sp + 1, "type id", g->path);
			g->n_types++;
		} else if (strncmp(line, "meta row_label ", 15) == 0) {
			char *sp = strchr(line + 15, ' ');
			uint64_t i = parse_u64(line + 15, "row_label", g->path);

			if (sp && i < MAX_LABELS)
				g->labels[i] = sp + 1;
		}
	}
	off = (uint64_t)(next - g->buf);
	for (int i = 0; i < g->n_sec; i++) {
		uint64_t bytes;

		g->sec[i].data = (const uint8_t *)g->buf + off;
		if (!qk_mul_u64(g->sec[i].count, dtype_size(g->sec[i].dtype), &bytes) ||
		    !qk_add_u64(off, bytes, &off) || off > g->len)
			fail_msg("%s: section '%s' runs past the end of the file", g->path,
				 g->sec[i].name);
	}
	if (off != g->len)
		fail_msg("%s: %zu trailing bytes after the sections", g->path,
			 g->len - (size_t)off);
}

static const struct qkg_section *qkg_get(const struct qkg *g, const char *name,
					 const char *dtype, uint64_t count)
{
	for (int i = 0; i < g->n_sec; i++) {
		const struct qkg_section *s = &g->sec[i];

		if (strcmp(s->name, name) != 0)
			continue;
		if (strcmp(s->dtype, dtype) != 0 || (count != ANY_COUNT && s->count != count))
			fail_msg("%s: section '%s' is %s[%llu], expected %s[%llu]", g->path, name,
				 s->dtype, (unsigned long long)s->count, dtype,
				 (unsigned long long)count);
		return s;
	}
	fail_msg("%s: no section '%s'", g->path, name);
	return NULL;
}

static void qkg_free(struct qkg *g)
{
	free(g->buf);
	g->buf = NULL;
}

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

static uint64_t splitmix64(uint64_t seed, uint64_t k)
{
	uint64_t z = seed + (k + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t fnv1a64(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

static void synth_row(const struct qkg *g, uint64_t row, float *x)
{
	float scale;

	memcpy(&scale, &g->scale_bits[row % (uint64_t)g->n_scales], 4);
	for (uint64_t j = 0; j < g->n_per_row; j++) {
		const uint64_t i = row * g->n_per_row + j;
		const uint64_t z0 = splitmix64(g->seed, 2 * i), z1 = splitmix64(g->seed, 2 * i + 1);
		const int64_t s = (int64_t)((z0 & 0xffffffffu) + (z0 >> 32) + (z1 & 0xffffffffu) +
					    (z1 >> 32)) - 2 * (int64_t)0xffffffff;
		float v = (float)s * 0x1p-31f;

		if (((z1 >> 40) & 0x3ff) == 0)
			v *= 16.0f;
		x[j] = v * scale;
	}
}

static void test_synth(void **state)
{
	struct qkg g;
	float *x, *y;
	uint8_t *q;
	uint64_t in_hash = FNV_INIT, total_blocks = 0;
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
		synth_row(&g, r, x + r * g.n_per_row);
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
			if (fnv1a64(FNV_INIT, q, rb) != qk_ld64(hq->data + 8 * r) && bad_q++ == 0)
				print_error("%s: synth row %llu (scale 0x%08x): bytes differ from "
					    "llama.cpp's (gen_quant_golden.py --bulk shows bytes)\n",
					    t->name, (unsigned long long)r,
					    g.scale_bits[r % (uint64_t)g.n_scales]);
			if (fnv1a64(FNV_INIT, y, g.n_per_row * 4) != qk_ld64(hd->data + 8 * r))
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
	snprintf(path, sizeof(path), "%s/ggml_types.txt", golden_dir());
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
