/* test_gguf_split.c - split GGUF sets read as one catalog (gguf_split.h).
 *
 * Oracles: llama.cpp's own functions and writers, not our code.
 *  - names: the strings llama.cpp's llama_split_path / llama_split_prefix
 *    return (testdata/gen/split_oracle.py names, through llama-cpp-python
 *    0.3.36), written here as literals;
 *  - sets: testdata/gguf/split/{tiny,meta}-0000K-of-00003.gguf were written
 *    by gguf-py's GGUFWriter (split_max_tensors, small_first_shard) and
 *    loaded by llama.cpp's model loader (split_oracle.py write). The model
 *    they hold (TENSORS, value()) mirrors split_oracle.py;
 *  - the sets our own writer builds here put the split keys where both
 *    llama.cpp's gguf-split and gguf-py put them (every file; model
 *    key/values in the first only), so the error cases differ from a good
 *    set in one field each.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testdir.h"
#include "../../formats/container/catalog.h"
#include "../../formats/container/gguf.h"
#include "../../formats/container/gguf_split.h"
#include "../../formats/model/hparams.h"
#include "../../formats/base/io.h"
#include "../../formats/model/model.h"
#include "../../testdata/corrupt/corrupt.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	return td_make(dir, sizeof(dir), "gs");
}

static int teardown(void **state)
{
	(void)state;
	return td_remove(dir);
}

/* ---- the model of split_oracle.py: qwen3, 1 layer, n_embd 8, n_head 2,
 * n_head_kv 1, head_dim 4, n_ff 16, vocab 16, all F32 ---- */

static const struct {
	const char *name;
	int n_dims;
	uint64_t shape[2]; /* row-major, as numpy wrote it */
} TENSORS[] = {
	{ "token_embd.weight", 2, { 16, 8 } },
	{ "output_norm.weight", 1, { 8 } },
	{ "blk.0.attn_norm.weight", 1, { 8 } },
	{ "blk.0.attn_q.weight", 2, { 8, 8 } },
	{ "blk.0.attn_k.weight", 2, { 4, 8 } },
	{ "blk.0.attn_v.weight", 2, { 4, 8 } },
	{ "blk.0.attn_output.weight", 2, { 8, 8 } },
	{ "blk.0.attn_q_norm.weight", 1, { 4 } },
	{ "blk.0.attn_k_norm.weight", 1, { 4 } },
	{ "blk.0.ffn_norm.weight", 1, { 8 } },
	{ "blk.0.ffn_gate.weight", 2, { 16, 8 } },
	{ "blk.0.ffn_up.weight", 2, { 16, 8 } },
	{ "blk.0.ffn_down.weight", 2, { 8, 16 } },
};
#define N_T (sizeof(TENSORS) / sizeof(TENSORS[0]))

static uint64_t n_elem(size_t k)
{
	return TENSORS[k].n_dims == 1 ? TENSORS[k].shape[0]
				      : TENSORS[k].shape[0] * TENSORS[k].shape[1];
}

/* element j of tensor k: ((7j + 13k) % 101 - 50) / 64, exact in f32 */
static float value(size_t k, uint64_t j)
{
	return (float)((int)((7 * j + 13 * k) % 101) - 50) / 64.0f;
}

/* Every tensor in order, with its shape, data and file; file_of[k] is the
 * catalog file index tensor k must come from. Then the hyperparameters from
 * the first file and a model bind over the whole set. */
static void check_model(const struct qk_catalog *cat, size_t n_files, const int *file_of)
{
	struct qk_hparams hp;
	struct qk_model m;
	qk_err err;

	assert_int_equal(cat->format, QK_FMT_GGUF);
	assert_int_equal(cat->n_files, n_files);
	assert_int_equal(cat->n_tensors, N_T);
	for (size_t k = 0; k < N_T; k++) {
		const struct qk_tensor *t = &cat->tensors[k];

		assert_string_equal(t->name, TENSORS[k].name);
		assert_int_equal(t->dtype, 0);
		assert_int_equal(t->n_dims, TENSORS[k].n_dims);
		for (int d = 0; d < t->n_dims; d++)
			assert_int_equal(t->shape[d], TENSORS[k].shape[d]);
		assert_int_equal(t->nbytes, 4 * n_elem(k));
		assert_int_equal(t->file, file_of[k]);
		/* the data lies in that file's mapping */
		assert_true(t->data >= cat->files[t->file].data &&
			    t->data + t->nbytes <= cat->files[t->file].data + cat->files[t->file].size);
		for (uint64_t j = 0; j < n_elem(k); j++) {
			float v;
			uint32_t u = qk_ld32(t->data + 4 * j);
			memcpy(&v, &u, 4);
			if (v != value(k, j))
				fail_msg("%s[%llu] = %g, expected %g", t->name, (unsigned long long)j,
					 (double)v, (double)value(k, j));
		}
		assert_ptr_equal(qk_catalog_find(cat, TENSORS[k].name), t);
	}
	if (n_files > 1)
		assert_non_null(strstr(gf_name(cat->gguf[0]), "-00001-of-"));
	if (qk_hparams_from_gguf(&hp, cat->gguf[0], &err))
		fail_msg("hparams: %s", err.msg);
	assert_int_equal(hp.arch, QK_ARCH_QWEN3);
	assert_int_equal(hp.n_layer, 1);
	assert_int_equal(hp.n_embd, 8);
	assert_int_equal(hp.n_head, 2);
	assert_int_equal(hp.n_head_kv, 1);
	assert_int_equal(hp.head_dim, 4);
	assert_int_equal(hp.n_ff, 16);
	assert_int_equal(hp.n_vocab, 16);
	if (qk_model_bind(&m, cat, &hp, &err))
		fail_msg("bind: %s", err.msg);
	qk_model_free(&m);
}

static void open_ok(struct qk_catalog *cat, const char *path)
{
	qk_err err;

	if (qk_catalog_open(cat, path, &err))
		fail_msg("%s: %s", path, err.msg);
}

/* ---- names: llama.cpp's llama_split_path / llama_split_prefix ---- */

static void test_names(void **state)
{
	static const struct {
		const char *prefix;
		unsigned no, count;
		const char *path;   /* llama_split_path(prefix, no - 1, count) */
	} cases[] = {
		{ "/m/ggml-model-q4_0", 2, 4, "/m/ggml-model-q4_0-00002-of-00004.gguf" },
		{ "x", 1, 1, "x-00001-of-00001.gguf" },
		{ "a/b.c", 3, 12, "a/b.c-00003-of-00012.gguf" },
		{ "p", 65535, 65535, "p-65535-of-65535.gguf" },
	};
	static const char *const not_split[] = {
		"model.gguf",
		"-00001-of-00002.gguf",          /* empty prefix (llama.cpp: too short) */
		"m-0001-of-00002.gguf",          /* four digits */
		"m-000001-of-00002.gguf",        /* six */
		"m-00001-of-00002.GGUF",
		"m-00001-of-00002.gguf.part",
		"m-00003-of-00002.gguf",         /* number past the count */
		"m-00000-of-00002.gguf",         /* numbers start at 1 */
		"m-00001-of-00000.gguf",
		"m-00001-of-70000.gguf",         /* split.count is a u16 */
		"m-0000a-of-00002.gguf",
		"m_00001-of-00002.gguf",
		"m-00001_of-00002.gguf",
	};
	char buf[64], prefix[64];
	unsigned no, count;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(gs_split_path(buf, sizeof(buf), cases[i].prefix, cases[i].no,
					       cases[i].count), QK_OK);
		assert_string_equal(buf, cases[i].path);
		/* llama_split_prefix(path, no - 1, count) gives the prefix back */
		assert_int_equal(gs_parse_name(cases[i].path, prefix, sizeof(prefix), &no, &count), 1);
		assert_string_equal(prefix, cases[i].prefix);
		assert_int_equal(no, cases[i].no);
		assert_int_equal(count, cases[i].count);
	}
	for (size_t i = 0; i < sizeof(not_split) / sizeof(not_split[0]); i++) {
		no = count = 7;
		if (gs_parse_name(not_split[i], prefix, sizeof(prefix), &no, &count) != 0)
			fail_msg("'%s' taken for a split name", not_split[i]);
		assert_int_equal(no, 7);
	}
	/* only recognise */
	assert_int_equal(gs_parse_name("d/m-00002-of-00003.gguf", NULL, 0, NULL, NULL), 1);
	/* prefix buffer too small: "abcd" needs 5 bytes */
	assert_int_equal(gs_parse_name("abcd-00001-of-00002.gguf", prefix, 4, &no, &count), -1);
	assert_int_equal(gs_parse_name("abcd-00001-of-00002.gguf", prefix, 5, &no, &count), 1);
	assert_string_equal(prefix, "abcd");
	/* writer misuse */
	assert_int_equal(gs_split_path(buf, sizeof(buf), "m", 0, 3), QK_E_USAGE);
	assert_int_equal(gs_split_path(buf, sizeof(buf), "m", 4, 3), QK_E_USAGE);
	assert_int_equal(gs_split_path(buf, sizeof(buf), "m", 1, 65536), QK_E_USAGE);
	assert_string_equal(buf, "");
	/* "m-00001-of-00003.gguf" is 21 bytes: needs 22 */
	assert_int_equal(gs_split_path(buf, 21, "m", 1, 3), QK_E_USAGE);
	assert_string_equal(buf, "");
	assert_int_equal(gs_split_path(buf, 22, "m", 1, 3), QK_OK);
	assert_string_equal(buf, "m-00001-of-00003.gguf");
}

/* ---- sets written by gguf-py and loaded by llama.cpp ---- */

static void test_oracle_sets(void **state)
{
	/* split_max_tensors=5: 5 + 5 + 3 tensors */
	static const int tiny[N_T] = { 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2 };
	/* small_first_shard: key/values only, then 7 + 6 */
	static const int meta[N_T] = { 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2 };
	char p[128];

	(void)state;
	for (unsigned no = 1; no <= 3; no++) {
		struct qk_catalog a, b;

		/* any member opens the whole set, from its first file */
		snprintf(p, sizeof(p), "testdata/gguf/split/tiny-%05u-of-00003.gguf", no);
		open_ok(&a, p);
		check_model(&a, 3, tiny);
		assert_string_equal(a.path, p);
		assert_int_equal(gf_n_tensors(a.gguf[0]), 5);
		qk_catalog_free(&a);
		snprintf(p, sizeof(p), "testdata/gguf/split/meta-%05u-of-00003.gguf", no);
		open_ok(&b, p);
		check_model(&b, 3, meta);
		assert_int_equal(gf_n_tensors(b.gguf[0]), 0);
		qk_catalog_free(&b);
	}
}

/* a directory holding exactly one set opens it */
static void test_oracle_dir(void **state)
{
	static const int tiny[N_T] = { 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2 };
	char d[128], link_to[512], p[160], cwd[256], *found;
	struct qk_catalog cat;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(d, sizeof(d), "%s/oracle", dir);
	assert_int_equal(mkdir(d, 0755), 0);
	for (unsigned no = 1; no <= 3; no++) {
		snprintf(link_to, sizeof(link_to), "%s/testdata/gguf/split/tiny-%05u-of-00003.gguf",
			 cwd, no);
		snprintf(p, sizeof(p), "%s/tiny-%05u-of-00003.gguf", d, no);
		assert_int_equal(symlink(link_to, p), 0);
	}
	found = gs_find_in_dir(d);
	snprintf(p, sizeof(p), "%s/tiny-00001-of-00003.gguf", d);
	assert_non_null(found);
	assert_string_equal(found, p);
	free(found);
	open_ok(&cat, d);
	check_model(&cat, 3, tiny);
	qk_catalog_free(&cat);
	/* the bundled directory holds two sets: not one model */
	assert_null(gs_find_in_dir("testdata/gguf/split"));
}

/* qwen-inspect through the real binary ($BINDIR, default bin) */
static void test_inspect_cli(void **state)
{
	const char *bindir = getenv("BINDIR");
	char cmd[512], out[8192];
	size_t n;
	FILE *p;

	(void)state;
	snprintf(cmd, sizeof(cmd), "%s/qwen-inspect testdata/gguf/split/meta-00003-of-00003.gguf",
		 bindir ? bindir : "bin");
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	if (!strstr(out, "gguf v3 (3 files)") || !strstr(out, "tensors:       13"))
		fail_msg("qwen-inspect output:\n%s", out);
}

/* ---- sets our writer builds ---- */

/* one file's split keys; a field < 0 leaves the key out */
struct keys {
	int no, count, tensors;
	int count_u32;        /* write split.count as u32 */
	const char *extra;    /* one more tensor (a copy of TENSORS[0]'s data) */
};

static void add_model_kvs(struct gf_writer *w)
{
	static const char *const tok[16] = { "a", "b", "c", "d", "e", "f", "g", "h",
					     "i", "j", "k", "l", "m", "n", "o", "p" };
	qk_err e;

	assert_int_equal(gf_writer_add_str(w, "general.architecture", "qwen3", &e), QK_OK);
	assert_int_equal(gf_writer_add_u32(w, "qwen3.block_count", 1, &e), QK_OK);
	assert_int_equal(gf_writer_add_u32(w, "qwen3.context_length", 64, &e), QK_OK);
	assert_int_equal(gf_writer_add_u32(w, "qwen3.embedding_length", 8, &e), QK_OK);
	assert_int_equal(gf_writer_add_u32(w, "qwen3.feed_forward_length", 16, &e), QK_OK);
	assert_int_equal(gf_writer_add_u32(w, "qwen3.attention.head_count", 2, &e), QK_OK);
	assert_int_equal(gf_writer_add_u32(w, "qwen3.attention.head_count_kv", 1, &e), QK_OK);
	assert_int_equal(gf_writer_add_u32(w, "qwen3.attention.key_length", 4, &e), QK_OK);
	assert_int_equal(gf_writer_add_u32(w, "qwen3.attention.value_length", 4, &e), QK_OK);
	assert_int_equal(gf_writer_add_f32(w, "qwen3.rope.freq_base", 1e6f, &e), QK_OK);
	assert_int_equal(gf_writer_add_f32(w, "qwen3.attention.layer_norm_rms_epsilon", 1e-6f, &e),
			 QK_OK);
	assert_int_equal(gf_writer_add_arr_str(w, "tokenizer.ggml.tokens", tok, NULL, 16, &e), QK_OK);
}

static void add_tensor(struct gf_writer *w, const char *name, size_t k)
{
	int64_t ne[2];
	qk_err e;

	/* ggml order: fastest first */
	ne[0] = (int64_t)TENSORS[k].shape[TENSORS[k].n_dims - 1];
	ne[1] = (int64_t)TENSORS[k].shape[0];
	assert_int_equal(gf_writer_add_tensor(w, name, 0, TENSORS[k].n_dims, ne, &e), QK_OK);
}

static void write_data(struct gf_writer *w, size_t k)
{
	uint8_t buf[4 * 128];
	qk_err e;

	for (uint64_t j = 0; j < n_elem(k); j++) {
		float v = value(k, j);
		uint32_t u;
		memcpy(&u, &v, 4);
		qk_st32(buf + 4 * j, u);
	}
	assert_int_equal(gf_writer_write(w, buf, 4 * n_elem(k), &e), QK_OK);
}

/* file `path`: model key/values if `first`, split keys, tensors [lo, hi) */
static void write_file(const char *path, int first, const struct keys *kv, size_t lo, size_t hi)
{
	struct gf_writer *w;
	qk_err e;

	if (gf_writer_open(&w, path, &e))
		fail_msg("%s", e.msg);
	if (first)
		add_model_kvs(w);
	/* after the model's keys, as gguf-py and gguf-split add them */
	if (kv->no >= 0)
		assert_int_equal(gf_writer_add_u16(w, GS_KEY_NO, (uint16_t)kv->no, &e), QK_OK);
	if (kv->count >= 0)
		assert_int_equal(kv->count_u32
				 ? gf_writer_add_u32(w, GS_KEY_COUNT, (uint32_t)kv->count, &e)
				 : gf_writer_add_u16(w, GS_KEY_COUNT, (uint16_t)kv->count, &e),
				 QK_OK);
	if (kv->tensors >= 0)
		assert_int_equal(gf_writer_add_i32(w, GS_KEY_TENSORS, kv->tensors, &e), QK_OK);
	for (size_t k = lo; k < hi; k++)
		add_tensor(w, TENSORS[k].name, k);
	if (kv->extra)
		add_tensor(w, kv->extra, 0);
	for (size_t k = lo; k < hi; k++)
		write_data(w, k);
	if (kv->extra)
		write_data(w, 0);
	if (gf_writer_commit(w, &e))
		fail_msg("%s", e.msg);
}

/* set "<dir>/<name>-0000K-of-0000<n>.gguf": file k holds tensors
 * [cut[k], cut[k+1]); keys[k] NULL = the right keys for file k */
static void write_set(const char *name, unsigned n, const size_t *cut,
		      const struct keys *const *keys)
{
	char p[256];

	for (unsigned k = 0; k < n; k++) {
		struct keys good = { (int)k, (int)n, (int)N_T, 0, NULL };
		const struct keys *kv = keys && keys[k] ? keys[k] : &good;

		snprintf(p, sizeof(p), "%s/%s-%05u-of-%05u.gguf", dir, name, k + 1, n);
		write_file(p, k == 0, kv, cut[k], cut[k + 1]);
	}
}

static void set_path(char *p, size_t size, const char *name, unsigned no, unsigned n)
{
	snprintf(p, size, "%s/%s-%05u-of-%05u.gguf", dir, name, no, n);
}

static const size_t CUT3[] = { 0, 4, 9, N_T };
static const int FILE3[N_T] = { 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2 };

static void test_own_sets(void **state)
{
	static const size_t cut2[] = { 0, 1, N_T };
	static const int file2[N_T] = { 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	struct qk_catalog cat;
	char p[256];

	(void)state;
	write_set("own3", 3, CUT3, NULL);
	for (unsigned no = 1; no <= 3; no++) {
		set_path(p, sizeof(p), "own3", no, 3);
		open_ok(&cat, p);
		check_model(&cat, 3, FILE3);
		qk_catalog_free(&cat);
	}
	write_set("own2", 2, cut2, NULL);
	set_path(p, sizeof(p), "own2", 2, 2);
	open_ok(&cat, p);
	check_model(&cat, 2, file2);
	qk_catalog_free(&cat);
}

/* A plain file is one file: no split keys, split.count 1, or split.count 0
 * (what gguf-split --merge writes), whatever its name. */
static void test_plain_files(void **state)
{
	static const int one[N_T] = { 0 };
	static const struct {
		const char *name;
		struct keys kv;
	} cases[] = {
		{ "plain.gguf", { -1, -1, -1, 0, NULL } },
		{ "single.gguf", { 0, 1, (int)N_T, 0, NULL } },
		{ "merged.gguf", { 0, 0, (int)N_T, 0, NULL } },
		{ "named-00001-of-00002.gguf", { -1, -1, -1, 0, NULL } },
	};
	char p[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct qk_catalog cat;

		snprintf(p, sizeof(p), "%s/%s", dir, cases[i].name);
		write_file(p, 1, &cases[i].kv, 0, N_T);
		open_ok(&cat, p);
		check_model(&cat, 1, one);
		qk_catalog_free(&cat);
	}
}

/* gs_to_catalog must fail with `code` and `frag`, leaving `cat` as it was
 * (it already holds pre.gguf: one tensor "pre.weight"), and qk_catalog_open
 * agrees */
static void expect_fail(const char *path, int code, const char *frag)
{
	struct qk_catalog cat;
	char plain[256];
	qk_err err;
	int rc;

	snprintf(plain, sizeof(plain), "%s/pre.gguf", dir);
	qk_catalog_init(&cat);
	assert_int_equal(gf_to_catalog(&cat, plain, &err), QK_OK);
	rc = gs_to_catalog(&cat, path, &err);
	if (rc != code || !strstr(err.msg, frag))
		fail_msg("%s: rc %d '%s', expected %d with '%s'", path, rc, err.msg, code, frag);
	assert_int_equal(cat.n_files, 1);
	assert_int_equal(cat.n_tensors, 1);
	assert_non_null(qk_catalog_find(&cat, "pre.weight"));
	assert_null(qk_catalog_find(&cat, TENSORS[0].name));
	qk_catalog_free(&cat);
	assert_int_equal(qk_catalog_open(&cat, path, &err), code);
	assert_non_null(strstr(err.msg, frag));
	assert_int_equal(cat.n_files, 0);
}

static void write_pre(void)
{
	static const struct keys pre = { -1, -1, -1, 0, "pre.weight" };
	char p[256];

	snprintf(p, sizeof(p), "%s/pre.gguf", dir);
	write_file(p, 0, &pre, 0, 0);
}

static void test_errors(void **state)
{
	static const struct keys no_wrong = { 2, 3, (int)N_T, 0, NULL };
	static const struct keys first_no = { 1, 3, (int)N_T, 0, NULL };
	static const struct keys count4 = { 2, 4, (int)N_T, 0, NULL };
	static const struct keys count_u32 = { 1, 3, (int)N_T, 1, NULL };
	static const struct keys dup = { 2, 3, (int)N_T, 0, "blk.0.attn_q.weight" };
	static const struct keys total14[3] = { { 0, 3, 14, 0, NULL }, { 1, 3, 14, 0, NULL },
						{ 2, 3, 14, 0, NULL } };
	static const struct keys later12 = { 1, 3, 12, 0, NULL };
	static const struct keys no_no = { -1, 3, (int)N_T, 0, NULL };
	static const struct keys no_count = { 1, -1, (int)N_T, 0, NULL };
	static const struct keys no_total = { 0, 3, -1, 0, NULL };
	static const struct keys plain = { -1, -1, -1, 0, NULL };
	static const struct keys count2 = { 0, 2, (int)N_T, 0, NULL };
	static const struct {
		const char *name;
		const struct keys *keys[3];
		int drop;              /* file number left out, 0 = none */
		unsigned open;         /* file number opened */
		const char *frag;
	} cases[] = {
		{ "e_missing", { NULL }, 2, 1, "e_missing-00002-of-00003.gguf: split 2 of 3 is missing" },
		{ "e_last_missing", { NULL }, 3, 2, "e_last_missing-00003-of-00003.gguf: split 3 of 3 is missing" },
		{ "e_first_missing", { NULL }, 1, 3, "e_first_missing-00001-of-00003.gguf: split 1 of 3 is missing" },
		{ "e_no", { NULL, &no_wrong, NULL }, 0, 1,
		  "e_no-00002-of-00003.gguf: split.no is 2, expected 1" },
		{ "e_first_no", { &first_no, NULL, NULL }, 0, 1,
		  "e_first_no-00001-of-00003.gguf: split.no is 1, expected 0" },
		{ "e_count", { NULL, NULL, &count4 }, 0, 2,
		  "e_count-00003-of-00003.gguf: split.count is 4, expected 3 as in the first split" },
		{ "e_count_type", { NULL, &count_u32, NULL }, 0, 1,
		  "e_count_type-00002-of-00003.gguf: key 'split.count' has type u32, expected u16" },
		{ "e_dup", { NULL, NULL, &dup }, 0, 1,
		  "e_dup-00003-of-00003.gguf: duplicate tensor name 'blk.0.attn_q.weight'" },
		{ "e_total", { &total14[0], &total14[1], &total14[2] }, 0, 1,
		  "e_total-00001-of-00003.gguf: split.tensors.count is 14, but the 3 splits hold 13 tensors" },
		{ "e_later_total", { NULL, &later12, NULL }, 0, 3,
		  "e_later_total-00002-of-00003.gguf: split.tensors.count is 12, expected 13 as in the first split" },
		{ "e_no_no", { NULL, &no_no, NULL }, 0, 1,
		  "e_no_no-00002-of-00003.gguf: key 'split.no' is missing" },
		{ "e_no_count", { NULL, &no_count, NULL }, 0, 1,
		  "e_no_count-00002-of-00003.gguf: key 'split.count' is missing" },
		{ "e_no_total", { &no_total, NULL, NULL }, 0, 1,
		  "e_no_total-00001-of-00003.gguf: key 'split.tensors.count' is missing" },
		/* a member names a first file that is no split */
		{ "e_first_plain", { &plain, NULL, NULL }, 0, 2,
		  "e_first_plain-00001-of-00003.gguf: key 'split.count' is missing" },
		/* ... or one of a set of another size */
		{ "e_first_count", { &count2, NULL, NULL }, 0, 3,
		  "e_first_count-00001-of-00003.gguf: split.count is 2, expected 3 from the name of" },
	};
	char p[256];

	(void)state;
	write_pre();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_set(cases[i].name, 3, CUT3, cases[i].keys);
		if (cases[i].drop) {
			set_path(p, sizeof(p), cases[i].name, (unsigned)cases[i].drop, 3);
			assert_int_equal(unlink(p), 0);
		}
		set_path(p, sizeof(p), cases[i].name, cases[i].open, 3);
		expect_fail(p, QK_E_INVALID, cases[i].frag);
	}
}

/* the first file of a set, renamed: its split keys say 3 files that cannot
 * be found from its name */
static void test_renamed_first(void **state)
{
	char from[256], to[256];

	(void)state;
	write_pre();
	write_set("ren", 3, CUT3, NULL);
	set_path(from, sizeof(from), "ren", 1, 3);
	snprintf(to, sizeof(to), "%s/ren.gguf", dir);
	assert_int_equal(rename(from, to), 0);
	expect_fail(to, QK_E_INVALID,
		    "ren.gguf: split.count is 3 but the file name does not end in -00001-of-00003.gguf");
	/* the same file under the name of another set size */
	snprintf(from, sizeof(from), "%s/ren-00001-of-00004.gguf", dir);
	assert_int_equal(rename(to, from), 0);
	expect_fail(from, QK_E_INVALID, "does not end in -00001-of-00003.gguf");
}

static void test_find_in_dir(void **state)
{
	char d[128], p[256], *found;

	(void)state;
	snprintf(d, sizeof(d), "%s/fd", dir);
	assert_int_equal(mkdir(d, 0755), 0);
	/* files 2..9 of a set, written in descending order: the lowest present */
	for (unsigned no = 9; no >= 2; no--) {
		snprintf(p, sizeof(p), "%s/s-%05u-of-00009.gguf", d, no);
		assert_int_equal(cc_write(p, "x", 1), 0);
	}
	snprintf(p, sizeof(p), "%s/config.json", d);       /* not .gguf: ignored */
	assert_int_equal(cc_write(p, "{}", 2), 0);
	found = gs_find_in_dir(d);
	snprintf(p, sizeof(p), "%s/s-00002-of-00009.gguf", d);
	assert_non_null(found);
	assert_string_equal(found, p);
	free(found);
	/* a member of a set of another size: two sets */
	snprintf(p, sizeof(p), "%s/s-00001-of-00004.gguf", d);
	assert_int_equal(cc_write(p, "x", 1), 0);
	assert_null(gs_find_in_dir(d));
	assert_int_equal(unlink(p), 0);
	/* a stray .gguf */
	snprintf(p, sizeof(p), "%s/other.gguf", d);
	assert_int_equal(cc_write(p, "x", 1), 0);
	assert_null(gs_find_in_dir(d));
	assert_int_equal(unlink(p), 0);
	assert_non_null(found = gs_find_in_dir(d));
	free(found);
	assert_null(gs_find_in_dir("/nonexistent/dir"));
}

/* ---- the corrupt corpus through qk_catalog_open ----
 * split_cases.c is compiled in here (its writers from cc_util.c)
 * (tests/cli/corrupt.sh runs the same cases through qwen-inspect). */
#include "../../testdata/corrupt/split_cases.c"

static void test_corrupt_cases(void **state)
{
	size_t bad = 0;

	(void)state;
	assert_true(cc_split_cases.n >= 5);
	for (size_t i = 0; i < cc_split_cases.n; i++) {
		const struct cc_case *c = &cc_split_cases.cases[i];
		struct qk_catalog cat;
		char path[256];
		qk_err err;
		int rc;

		snprintf(path, sizeof(path), "%s/cc_%s%s", dir, c->name, c->ext);
		assert_int_equal(c->make(path), 0);
		qk_err_clear(&err);
		rc = qk_catalog_open(&cat, path, &err);
		if (rc != QK_E_INVALID || c->exit_code != 3 || !strstr(err.msg, c->fragment)) {
			print_error("case %s: rc %d, message '%s', expected '%s'\n", c->name, rc,
				    err.msg, c->fragment);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_oracle_sets),
		cmocka_unit_test(test_oracle_dir),
		cmocka_unit_test(test_inspect_cli),
		cmocka_unit_test(test_own_sets),
		cmocka_unit_test(test_plain_files),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_renamed_first),
		cmocka_unit_test(test_find_in_dir),
		cmocka_unit_test(test_corrupt_cases),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
