/* im_cases.c - broken importance matrices, one per rule of
 * formats/imatrix/imatrix.h and of qwen-quant --imatrix (cli/quant_imatrix.c),
 * run as `qwen-quant --imatrix FILE testdata/models/qwen3_256 --type Q4_K_M
 * -o OUT.gguf` (tests/cli/corrupt.sh, tool "qwen-quant-imatrix").
 *
 * GGUF cases are built from the layout llama-imatrix writes: version 3,
 * keys general.type, imatrix.datasets, imatrix.chunk_count,
 * imatrix.chunk_size, then per entry "<name>.in_sum2" F32 {n} and
 * "<name>.counts" F32 {1}, data aligned to 32. Legacy cases from the .dat
 * layout: i32 n_entries, per entry i32 len, name, i32 ncall, i32 nval, nval
 * f32, then i32 chunk count, i32 dataset length, dataset. The good entry is
 * blk.0.attn_q.weight with 256 columns (qwen3_256's hidden size). */
#include "corrupt.h"

#include <math.h>
#include <string.h>

enum { T_U32 = 4, T_I32 = 5, T_STR = 8, T_ARR = 9 };
enum { G_F32 = 0, G_F16 = 1 };

#define Q "blk.0.attn_q.weight"

struct g_spec {
	int n_keys;              /* 4, or 3 to drop imatrix.chunk_size */
	uint32_t chunk_count_type;
	int n_tensors;           /* 2, 1 (sums only) or 0 */
	uint32_t sums_type;
	uint64_t n_sums, n_counts;
	float count, sum5;       /* counts[0]; sums[5] */
};

static const struct g_spec g_good = { 4, T_U32, 2, G_F32, 256, 1, 64.0f, 2.0f };

static void gkey(struct cc_buf *b, const char *k, uint32_t type)
{
	cc_str(b, k);
	cc_u32(b, type);
}

static void ginfo(struct cc_buf *b, const char *name, uint64_t ne, uint32_t type, uint64_t off)
{
	cc_str(b, name);
	cc_u32(b, 1);
	cc_u64(b, ne);
	cc_u32(b, type);
	cc_u64(b, off);
}

static void pad32(struct cc_buf *b)
{
	cc_zeros(b, (32 - b->n % 32) % 32);
}

static int g_make(const char *path, const struct g_spec *s)
{
	struct cc_buf b = { 0 };
	const uint64_t sum_bytes = s->n_sums * (s->sums_type == G_F16 ? 2 : 4);
	int rc;

	cc_put(&b, "GGUF", 4);
	cc_u32(&b, 3);
	cc_u64(&b, (uint64_t)s->n_tensors);
	cc_u64(&b, (uint64_t)s->n_keys);
	gkey(&b, "general.type", T_STR);
	cc_str(&b, "imatrix");
	gkey(&b, "imatrix.datasets", T_ARR);
	cc_u32(&b, T_STR);
	cc_u64(&b, 1);
	cc_str(&b, "text.txt");
	gkey(&b, "imatrix.chunk_count", s->chunk_count_type);
	cc_u32(&b, 1);
	if (s->n_keys == 4) {
		gkey(&b, "imatrix.chunk_size", T_U32);
		cc_u32(&b, 64);
	}
	if (s->n_tensors >= 1)
		ginfo(&b, Q ".in_sum2", s->n_sums, s->sums_type, 0);
	if (s->n_tensors >= 2)
		ginfo(&b, Q ".counts", s->n_counts, G_F32, (sum_bytes + 31) / 32 * 32);
	pad32(&b);
	if (s->n_tensors >= 1) {
		for (uint64_t i = 0; i < s->n_sums; i++) {
			if (s->sums_type == G_F16)
				cc_put(&b, "\x00\x3c", 2);
			else
				cc_f32(&b, i == 5 ? s->sum5 : 1.0f + (float)(i % 7));
		}
		pad32(&b);
	}
	if (s->n_tensors >= 2) {
		for (uint64_t i = 0; i < s->n_counts; i++)
			cc_f32(&b, s->count);
		pad32(&b);
	}
	rc = cc_write(path, b.p, b.n);
	cc_free(&b);
	return rc;
}

struct d_spec {
	int32_t n_entries;       /* entries declared */
	int32_t name_len;        /* 0: the real length */
	int32_t nval;            /* declared */
	int32_t nval_written;    /* values present */
	int dup;                 /* write the entry twice */
	int trailer;             /* 0 none, 1 full, 2 two bytes only */
};

static const struct d_spec d_good = { 1, 0, 256, 256, 0, 1 };

static int d_make(const char *path, const struct d_spec *s)
{
	struct cc_buf b = { 0 };
	int rc;

	cc_u32(&b, (uint32_t)s->n_entries);
	for (int k = 0; k < (s->dup ? 2 : 1) && s->n_entries > 0; k++) {
		cc_u32(&b, (uint32_t)(s->name_len ? s->name_len : (int32_t)strlen(Q)));
		cc_put(&b, Q, strlen(Q));
		cc_u32(&b, 8);
		cc_u32(&b, (uint32_t)s->nval);
		for (int32_t i = 0; i < s->nval_written; i++)
			cc_f32(&b, 0.5f + (float)(i % 5));
	}
	if (s->trailer == 1) {
		cc_u32(&b, 8);
		cc_u32(&b, 8);
		cc_put(&b, "text.txt", 8);
	} else if (s->trailer == 2) {
		cc_zeros(&b, 2);
	}
	rc = cc_write(path, b.p, b.n);
	cc_free(&b);
	return rc;
}

#define G(fn, ...) \
	static int fn(const char *path) \
	{ \
		struct g_spec s = g_good; \
		__VA_ARGS__; \
		return g_make(path, &s); \
	}
#define D(fn, ...) \
	static int fn(const char *path) \
	{ \
		struct d_spec s = d_good; \
		__VA_ARGS__; \
		return d_make(path, &s); \
	}

G(g_no_tensors, s.n_tensors = 0)
G(g_unpaired, s.n_tensors = 1)
G(g_f16_sums, s.sums_type = G_F16)
G(g_counts_mismatch, s.n_counts = 3)
G(g_negative_count, s.count = -1.0f)
G(g_no_metadata, s.n_keys = 3)
G(g_chunk_count_i32, s.chunk_count_type = T_I32)
G(g_nan, s.sum5 = NAN)
G(g_wrong_size, s.n_sums = 128)
D(d_zero_entries, s.n_entries = 0)
D(d_name_len, s.name_len = 100000)
D(d_truncated, s.nval_written = 100; s.trailer = 0)
D(d_nval_zero, s.nval = 0; s.nval_written = 0)
D(d_duplicate, s.n_entries = 2; s.dup = 1)
D(d_trailer_cut, s.trailer = 2)

static int empty_file(const char *path)
{
	return cc_write(path, "", 0);
}

static const struct cc_case cases[] = {
	{ "im_gguf_no_tensors", ".gguf", 3, "no tensors; an imatrix GGUF holds", g_no_tensors,
	  "a GGUF with keys only has nothing to weigh (llama.cpp: no data in file)" },
	{ "im_gguf_unpaired", ".gguf", 3, "has no '" Q ".counts'", g_unpaired,
	  "sums without counts cannot be normalized (llama.cpp: mismatched sums and counts)" },
	{ "im_gguf_f16_sums", ".gguf", 3, "has type F16; imatrix sums and counts must be F32",
	  g_f16_sums, "llama.cpp reads the data as float without converting" },
	{ "im_gguf_counts_mismatch", ".gguf", 3, "256 sums for 3 counts", g_counts_mismatch,
	  "one row of sums per matrix: a remainder would be read past its row" },
	{ "im_gguf_negative_count", ".gguf", 3, "count 0 is -1", g_negative_count,
	  "a count is a number of tokens; a negative one would flip the weights' sign" },
	{ "im_gguf_no_metadata", ".gguf", 3, "without imatrix.datasets, imatrix.chunk_count",
	  g_no_metadata, "llama-quantize refuses a GGUF imatrix without its metadata" },
	{ "im_gguf_chunk_count_i32", ".gguf", 3, "imatrix.chunk_count", g_chunk_count_i32,
	  "llama.cpp asserts u32 (an abort); we name the key and its type" },
	{ "im_gguf_nan", ".gguf", 3, "weight 5 of matrix 0 is nan", g_nan,
	  "llama-quantize refuses non-finite importance (it would poison every scale search)" },
	{ "im_gguf_wrong_size", ".gguf", 3, "entry '" Q "' has 128 values; the tensor needs 256",
	  g_wrong_size, "an imatrix of another model: llama-quantize stops rather than quantize "
	  "silently without it" },
	{ "im_dat_zero_entries", ".dat", 3, "legacy .dat imatrix with 0 entries", d_zero_entries,
	  "llama.cpp: no data in file" },
	{ "im_dat_name_len", ".dat", 3, "name length 100000", d_name_len,
	  "a length read from the file sizes an allocation: bounded before use" },
	{ "im_dat_truncated", ".dat", 3, "256 values need 1024 bytes", d_truncated,
	  "values are read only when all of them are present" },
	{ "im_dat_nval_zero", ".dat", 3, "0 values; expected at least 1", d_nval_zero,
	  "llama.cpp: failed reading number of values" },
	{ "im_dat_duplicate", ".dat", 3, "entry '" Q "' appears twice", d_duplicate,
	  "two entries for one tensor: which one llama.cpp keeps depends on its map" },
	{ "im_dat_trailer_cut", ".dat", 3, "reading chunk count", d_trailer_cut,
	  "a trailer cut inside its chunk count" },
	{ "im_empty", ".dat", 3, "0 bytes: neither a GGUF file", empty_file,
	  "an empty file is neither format" },
};

const struct cc_table cc_im_cases = { cases, sizeof(cases) / sizeof(cases[0]) };
