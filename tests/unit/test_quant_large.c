/* test_quant_large.c - quant/ against llama.cpp's quantizers at scale:
 * testdata/quant/large.qkg (testdata/gen/quant/quant_large.py, libggml of
 * llama-cpp-python 0.3.36 through ggml_quantize_chunk) holds per-row
 * FNV-1a-64 hashes of ggml's bytes; every input is rebuilt here from
 * integer-only recipes (qkg.c, qkg_recipes.c), so only hashes are committed.
 * Rows of 65536 values (256 super-blocks, 2048 32-blocks), five sets:
 *
 *  rand  4096 rows of the synth recipe: 1,048,576 super-blocks per k-quant
 *        (Q2_K..Q6_K), 1,048,576 blocks per legacy type (first 512 rows);
 *  tie   64 rows (16,384 super-blocks) on integer grids whose scales stand
 *        in half-integer ratios to the super-block's largest: the scale
 *        roundings and the searches' error comparisons meet exact ties;
 *  edge  64 rows: zeros, all-equal groups and super-blocks, single outliers,
 *        repeats, exact halves at each legacy rounding boundary, 1e-15f (the
 *        "all zero" threshold) and its neighbours, subnormals, huge values,
 *        +c/-c ties, groups that are the exact negation of their neighbour;
 *  f16, bf16  32 rows each of 16-bit patterns widened by quant/fp16.h (what
 *        qwen-quant does with an F16/BF16 model) against ggml's widening.
 *
 * Seen failing (each a mutant in tests/mutants/): Q4_K's inverse scale one
 * ulp up (q4k-iscale-ulp) changes rows of Q4_K and Q5_K in rand and tie;
 * `>=` for `>` in Q3_K's choice of the largest sub-block scale
 * (q3k-scale-sign-tie) only in edge (mirrored groups); `<=` for `<` at the
 * 1e-15 threshold of the group searches (group-eps-boundary) only in edge.
 *
 * Every quantize entry point goes through check_entry(); `entries` names the
 * ones checked (today the dispatched qt_type.quantize; a scalar/SIMD switch
 * adds a line there).
 *
 * Subsets (printed, never silent): QK_QUANT_LARGE_STRIDE=N checks every Nth
 * rand row (tests/mutants/run.sh uses 8); sanitizer builds default to every
 * 16th rand row and every 4th row of the other sets. make check runs it all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/io.h"
#include "../../quant/fp16.h"
#include "../../quant/qtype.h"
#include "fnv.h"
#include "qkg.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifdef SANITIZED
#define RAND_STRIDE 16
#define SET_STRIDE 4
#else
#define RAND_STRIDE 1
#define SET_STRIDE 1
#endif

#define N_THREADS 2
#define MAX_TYPES 16
#define N_SETS 5
#define MILLION_BLOCKS 1048576

enum recipe { R_RAND, R_TIE, R_EDGE, R_F16, R_BF16 };

static const struct {
	const char *name, *seed_key;
	enum recipe recipe;
} set_def[N_SETS] = {
	{ "rand", "seed", R_RAND }, { "tie", "tie_seed", R_TIE }, { "edge", "edge_seed", R_EDGE },
	{ "f16", "half_seed", R_F16 }, { "bf16", "half_seed", R_BF16 },
};

struct set {
	uint64_t rows, rows_legacy, stride, seed, row0_hash;
	const uint8_t *hash[MAX_TYPES]; /* u64 per row */
};

struct large {
	struct qkg g;
	uint64_t n;
	int n_types;
	const struct qt_type *type[MAX_TYPES];
	struct set set[N_SETS];
};

struct tally {
	uint64_t rows, bad, first_bad;   /* first_bad valid when bad > 0 */
};

typedef qt_quantize_fn (*entry_fn)(const struct qt_type *t);

struct worker {
	const struct large *L;
	entry_fn entry;
	int part;
	struct tally t[N_SETS][MAX_TYPES];
};

static bool legacy(const struct qt_type *t)
{
	return t->blck == 32;
}

/* row r of set s into x [L->n]; h [L->n] is scratch for the 16-bit sets */
static void make_row(const struct large *L, int s, uint64_t r, float *x, uint16_t *h)
{
	const struct set *S = &L->set[s];

	switch (set_def[s].recipe) {
	case R_RAND:
		qkg_synth_row(&L->g, r, x);
		break;
	case R_TIE:
		qkg_tie_values(S->seed, r * L->n, L->n, x);
		break;
	case R_EDGE:
		qkg_edge_values(S->seed, r * L->n, L->n, x);
		break;
	case R_F16:
	case R_BF16:
		qkg_half_bits(S->seed, set_def[s].recipe == R_BF16, r * L->n, L->n, h);
		for (uint64_t j = 0; j < L->n; j++)
			x[j] = set_def[s].recipe == R_BF16 ? qt_bf16_to_fp32(h[j]) : qt_fp16_to_fp32(h[j]);
		break;
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	const struct large *L = w->L;
	float *x = malloc(L->n * sizeof(float));       /* [n] one input row */
	uint16_t *h = malloc(L->n * sizeof(uint16_t)); /* [n] its 16-bit source */
	uint8_t *q = malloc(L->n * sizeof(float));     /* >= any type's row bytes */

	if (!x || !h || !q)
		abort();
	for (int s = 0; s < N_SETS; s++) {
		const struct set *S = &L->set[s];

		/* rows part * stride, (part + N_THREADS) * stride, ... */
		for (uint64_t r = (uint64_t)w->part * S->stride; r < S->rows;
		     r += N_THREADS * S->stride) {
			make_row(L, s, r, x, h);
			for (int k = 0; k < L->n_types; k++) {
				const struct qt_type *t = L->type[k];
				struct tally *ty = &w->t[s][k];
				uint64_t rb;

				if (legacy(t) && r >= S->rows_legacy)
					continue;
				if (!qt_row_bytes(t, L->n, &rb))
					abort();
				memset(q, 0, rb);
				w->entry(t)(x, q, (int64_t)L->n);
				ty->rows++;
				if (fnv1a64(FNV1A64_INIT, q, rb) != qk_ld64(S->hash[k] + 8 * r) &&
				    ty->bad++ == 0)
					ty->first_bad = r;
			}
		}
	}
	free(x);
	free(h);
	free(q);
	return NULL;
}

static uint64_t env_stride(void)
{
	const char *v = getenv("QK_QUANT_LARGE_STRIDE");
	char *end;
	unsigned long long s;

	if (!v || !*v)
		return RAND_STRIDE;
	s = strtoull(v, &end, 10);
	if (*end || s == 0 || s > 4096)
		fail_msg("QK_QUANT_LARGE_STRIDE='%s': expected 1..4096", v);
	return s;
}

static void load(struct large *L)
{
	memset(L, 0, sizeof(*L));
	qkg_load(&L->g, "large.qkg");
	L->n = L->g.n_per_row;
	if (L->n == 0 || L->n % QT_QK_K || L->g.n_scales == 0)
		fail_msg("%s: incomplete header", L->g.path);
	for (int i = 0; i < L->g.n_meta; i++) {
		char stem[16], name[16];
		unsigned long long a, b;
		int id = -1;
		const struct qt_type *t;

		if (strncmp(L->g.meta[i].key, "large_type ", 11) == 0) {
			if (L->n_types == MAX_TYPES || sscanf(L->g.meta[i].value, "%15s %d", stem, &id) != 2)
				id = -1;
			t = qt_type_get(id);
			if (!t || !t->quantize)
				fail_msg("%s: bad large_type '%s'", L->g.path, L->g.meta[i].value);
			L->type[L->n_types++] = t;
		}
		for (int s = 0; s < N_SETS; s++) {
			if (strncmp(L->g.meta[i].key, "large_set ", 10) == 0 &&
			    sscanf(L->g.meta[i].value, "%15s %llu %llu", name, &a, &b) == 3 &&
			    strcmp(name, set_def[s].name) == 0) {
				L->set[s].rows = a;
				L->set[s].rows_legacy = b;
			}
			if (strncmp(L->g.meta[i].key, "row0_hash ", 10) == 0 &&
			    sscanf(L->g.meta[i].value, "%15s %llx", name, &a) == 2 &&
			    strcmp(name, set_def[s].name) == 0)
				L->set[s].row0_hash = a;
		}
	}
	assert_int_equal(L->n_types, 10); /* Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K..Q6_K */
	for (int s = 0; s < N_SETS; s++) {
		struct set *S = &L->set[s];

		if (S->rows == 0 || S->rows_legacy > S->rows)
			fail_msg("%s: no usable 'large_set %s' line", L->g.path, set_def[s].name);
		S->seed = qkg_meta_num(&L->g, set_def[s].seed_key, 16);
		S->stride = s == 0 ? env_stride() : SET_STRIDE;
		for (int k = 0; k < L->n_types; k++) {
			char sec[32];

			snprintf(sec, sizeof(sec), "%.15s_%s", L->type[k]->name, set_def[s].name);
			for (char *c = sec; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			S->hash[k] = qkg_get(&L->g, sec, "u64",
					     legacy(L->type[k]) ? S->rows_legacy : S->rows)->data;
		}
	}
	/* the promise: >= 1M blocks (legacy) or super-blocks (k-quants) */
	for (int k = 0; k < L->n_types; k++)
		assert_true((legacy(L->type[k]) ? L->set[0].rows_legacy : L->set[0].rows) *
			    (L->n / L->type[k]->blck) >= MILLION_BLOCKS);
}

/* the recipes rebuild the generator's inputs bit for bit (row 0 of each set) */
static void check_recipes(const struct large *L)
{
	float *x = malloc(L->n * sizeof(float));
	uint16_t *h = malloc(L->n * sizeof(uint16_t));

	assert_true(x && h);
	for (int s = 0; s < N_SETS; s++) {
		uint64_t got;

		make_row(L, s, 0, x, h);
		got = fnv1a64(FNV1A64_INIT, x, L->n * sizeof(float));
		if (got != L->set[s].row0_hash)
			fail_msg("%s: row 0 of set %s hashes to %016llx, the generator's to %016llx",
				 L->g.path, set_def[s].name, (unsigned long long)got,
				 (unsigned long long)L->set[s].row0_hash);
	}
	free(x);
	free(h);
}

static void merge(struct tally *to, const struct tally *from)
{
	if (from->bad && (!to->bad || from->first_bad < to->first_bad))
		to->first_bad = from->first_bad;
	to->rows += from->rows;
	to->bad += from->bad;
}

/* every set through entry(t) for every type; returns the failing types */
static int check_entry(const struct large *L, const char *label, entry_fn entry)
{
	static struct worker w[N_THREADS];
	pthread_t th[N_THREADS];
	int failed = 0;

	memset(w, 0, sizeof(w));
	for (int p = 0; p < N_THREADS; p++) {
		w[p].L = L;
		w[p].entry = entry;
		w[p].part = p;
		assert_int_equal(pthread_create(&th[p], NULL, work, &w[p]), 0);
	}
	for (int p = 0; p < N_THREADS; p++)
		assert_int_equal(pthread_join(th[p], NULL), 0);
	print_message("  entry %s, rows of %llu\n", label, (unsigned long long)L->n);
	for (int k = 0; k < L->n_types; k++) {
		const uint64_t per_row = L->n / L->type[k]->blck;
		bool bad = false;

		for (int s = 0; s < N_SETS; s++) {
			struct tally t = { 0, 0, 0 };
			const struct set *S = &L->set[s];
			const uint64_t have = legacy(L->type[k]) ? S->rows_legacy : S->rows;

			for (int p = 0; p < N_THREADS; p++)
				merge(&t, &w[p].t[s][k]);
			print_message("  %-5s %-5s %5llu of %5llu rows, %8llu blocks: %llu rows differ",
				      L->type[k]->name, set_def[s].name, (unsigned long long)t.rows,
				      (unsigned long long)have, (unsigned long long)(t.rows * per_row),
				      (unsigned long long)t.bad);
			if (t.bad)
				print_message(" (first: row %llu)", (unsigned long long)t.first_bad);
			print_message("%s\n", t.rows < have ? " (subset)" : "");
			/* every row the stride selects was checked */
			assert_int_equal(t.rows, (have + S->stride - 1) / S->stride);
			bad |= t.bad != 0;
		}
		failed += bad;
	}
	return failed;
}

static qt_quantize_fn entry_dispatch(const struct qt_type *t)
{
	return t->quantize;
}

static const struct {
	const char *label;
	entry_fn entry;
} entries[] = {
	{ "qt_type.quantize", entry_dispatch },
};

static void test_large(void **state)
{
	struct large L;
	int failed = 0;

	(void)state;
	load(&L);
	check_recipes(&L);
	if (L.set[0].stride > 1)
		print_message("  SUBSET: every %llu-th rand row (%s)\n",
			      (unsigned long long)L.set[0].stride,
			      getenv("QK_QUANT_LARGE_STRIDE") ? "QK_QUANT_LARGE_STRIDE" : "sanitizer build");
	for (size_t e = 0; e < sizeof(entries) / sizeof(entries[0]); e++)
		failed += check_entry(&L, entries[e].label, entries[e].entry);
	qkg_free(&L.g);
	if (failed)
		fail_msg("%d type/entry pairs differ from llama.cpp's bytes (rows above)", failed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
