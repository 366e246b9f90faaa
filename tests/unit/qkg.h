/* qkg.h - the .qkg golden files of testdata/quant/ (layout in its README.md:
 * "qkgold 1", "meta KEY VALUE..." lines, "data NAME DTYPE COUNT" lines,
 * "end", then the sections raw and little-endian), and the integer-only
 * input recipe they share with testdata/gen/quant/gen_quant_golden.py.
 * Test helper (tests/unit/qkg.c): a malformed file fails the running test.
 */
#ifndef TEST_QKG_H
#define TEST_QKG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOLDEN_MAX_BYTES ((size_t)1 << 31)
#define MAX_SECTIONS 64
#define MAX_LABELS 4096
#define ANY_COUNT UINT64_MAX
#define QKG_MAX_META 256

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
	/* every "meta KEY VALUE" line, in file order: key points at "KEY VALUE"
	 * (ends at the space), value at "VALUE"; both into buf */
	int n_meta;
	struct { const char *key, *value; } meta[QKG_MAX_META];
	/* synth.qkg only */
	uint64_t seed, input_hash;
	uint32_t scale_bits[16];
	int n_scales;
	struct { char stem[16]; int id; } types[16];
	int n_types;
};

/* testdata/quant, or $QK_QUANT_GOLDEN_DIR */
const char *qkg_dir(void);
/* Load and index qkg_dir()/name; fails the test on any malformation. */
void qkg_load(struct qkg *g, const char *name);
/* Section `name`, which must have this dtype and (unless ANY_COUNT) count. */
const struct qkg_section *qkg_get(const struct qkg *g, const char *name, const char *dtype,
				  uint64_t count);
/* Value of the first "meta KEY" line, or NULL. */
const char *qkg_meta(const struct qkg *g, const char *key);
/* A number of the first "meta KEY" line (base 10 or 16); fails when absent. */
uint64_t qkg_meta_num(const struct qkg *g, const char *key, int base);
void qkg_free(struct qkg *g);

/* splitmix64's output for counter k: mix(seed + (k + 1) * golden gamma) */
uint64_t qkg_splitmix64(uint64_t seed, uint64_t k);
/* Row `row` of the synth recipe (seed, scale_bits, n_per_row of g) into x:
 * Irwin-Hall normals from splitmix64, rare x16 outliers, one scale per row. */
void qkg_synth_row(const struct qkg *g, uint64_t row, float *x);

/* Values first..first+n-1 of the near-tie recipe (gen_quant_golden.py,
 * tie_values): groups of 16 or 32 values exactly on integer grids whose
 * scales stand in half-integer ratios to the super-block's largest. */
void qkg_tie_values(uint64_t seed, uint64_t first, uint64_t n, float *x);

/* Values first..first+n-1 of the edge recipe (quant_large.py, edge_values):
 * zeros, all-equal, outliers, repeats, grids, legacy rounding halves, tiny
 * (1e-15f and its neighbours, subnormals), huge, sign ties, mirrored groups. */
void qkg_edge_values(uint64_t seed, uint64_t first, uint64_t n, float *x);
/* 16-bit patterns first..first+n-1 of the fp16 (bf16 false) or bfloat16
 * recipe (quant_large.py, half_bits): finite, narrow exponent ranges. */
void qkg_half_bits(uint64_t seed, bool bf16, uint64_t first, uint64_t n, uint16_t *h);

#endif
