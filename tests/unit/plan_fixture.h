/* plan_fixture.h - what test_plan.c and test_plan_write.c share: opening a
 * golden fixture as a bound model, planning it, looking at key/values,
 * temporary directories and writing a plan to a file (static inline: each
 * test program gets its own copy and may leave some unused). */
#ifndef TEST_PLAN_FIXTURE_H
#define TEST_PLAN_FIXTURE_H

#include "model_fixture.h"

#include <sys/stat.h>
#include <unistd.h>

#include "../../formats/container/catalog.h"
#include "../../formats/container/gguf.h"
#include "../../formats/base/io.h"
#include "../../formats/plan/plan.h"
#include "../../quant/fp16.h"
#include "../../quant/qtype.h"

#define MODELS "testdata/models"

/* ---- helpers ---- */

struct fixture {
	struct qk_catalog cat;
	struct qk_hparams hp;
	struct qk_model m;
	struct wp_plan p;
	struct wp_meta md;
};

static inline void open_fixture(struct fixture *x, const char *name)
{
	char path[256];
	qk_err err;

	memset(x, 0, sizeof(*x));
	snprintf(path, sizeof(path), MODELS "/%s", name);
	if (qk_catalog_open(&x->cat, path, &err) || qk_hparams_load_config(&x->hp, x->cat.dir, &err) ||
	    qk_model_bind(&x->m, &x->cat, &x->hp, &err))
		fail_msg("%s: %s", path, err.msg);
}

static inline void plan_fixture(struct fixture *x, int outtype, bool keep_mtp)
{
	const struct wp_opts o = { outtype, keep_mtp, false };
	const struct wp_meta_opts mo = { NULL, x->cat.dir };
	qk_err err;

	if (wp_build(&x->p, &x->m, &o, &err) || wp_meta_build(&x->md, &x->p, &mo, &err))
		fail_msg("plan: %s", err.msg);
}

static inline void close_fixture(struct fixture *x)
{
	wp_meta_free(&x->md);
	wp_free(&x->p);
	qk_model_free(&x->m);
	qk_catalog_free(&x->cat);
}

/* "name TYPE ne0,ne1,..." as gguf-py lists a tensor */
static inline void describe(const struct wp_tensor *t, char *buf, size_t n)
{
	int k = snprintf(buf, n, "%s %s ", t->name, qt_type_get(t->type)->name);

	for (int d = 0; d < t->n_dims; d++)
		k += snprintf(buf + k, n - (size_t)k, "%s%lld", d ? "," : "", (long long)t->ne[d]);
}

/* the plan's tensors are exactly `want` (in order if `ordered`) */
static inline void expect_tensors(const struct wp_plan *p, const char *const *want, size_t n,
			   bool ordered)
{
	char got[160];

	if (p->n != n)
		fail_msg("%zu tensors planned, llama.cpp writes %zu", p->n, n);
	for (size_t i = 0; i < n; i++) {
		bool found = false;

		describe(&p->t[i], got, sizeof(got));
		for (size_t j = 0; j < n && !found; j++)
			found = (ordered ? j == i : true) && strcmp(got, want[j]) == 0;
		if (!found)
			fail_msg("tensor %zu is '%s'; llama.cpp: '%s'", i, got, want[i]);
	}
}

static inline const struct wp_kv *key(const struct wp_meta *md, const char *k, int kind)
{
	const struct wp_kv *kv = wp_meta_find(md, k);

	if (!kv)
		fail_msg("key '%s' missing", k);
	if (kv->kind != kind)
		fail_msg("key '%s' has kind %d, expected %d", k, kv->kind, kind);
	return kv;
}

static inline void expect_u32(const struct wp_meta *md, const char *k, uint32_t v)
{
	assert_int_equal(key(md, k, WP_KV_U32)->u32, v);
}

static inline void expect_f32(const struct wp_meta *md, const char *k, float v)
{
	assert_true(qt_f32_bits(key(md, k, WP_KV_F32)->f32) == qt_f32_bits(v));
}

static inline void expect_str(const struct wp_meta *md, const char *k, const char *v)
{
	assert_string_equal(key(md, k, WP_KV_STR)->str, v);
}

static char tmpdir[256];

static inline void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_plan_XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
}

static inline void write_text(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static inline void remove_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* write plan p to path with these writer options (and, for readers that
 * need a vocabulary size, n_tokens dummy tokens) */
static inline void write_plan(const struct wp_plan *p, const struct wp_meta *md, const char *path,
		       unsigned threads, size_t chunk, uint32_t n_tokens, struct wp_stats *st)
{
	const struct wp_write_opts wo = { threads, chunk, NULL, NULL, false };
	struct gf_writer *w;
	qk_err err;

	if (gf_writer_open(&w, path, &err) || wp_meta_write(md, w, &err))
		fail_msg("%s", err.msg);
	if (n_tokens) {
		char **tok = calloc(n_tokens, sizeof(*tok));

		for (uint32_t i = 0; i < n_tokens; i++) {
			tok[i] = malloc(16);
			snprintf(tok[i], 16, "t%u", (unsigned)i);
		}
		assert_int_equal(gf_writer_add_arr_str(w, "tokenizer.ggml.tokens",
						       (const char *const *)tok, NULL, n_tokens, &err),
				 QK_OK);
		for (uint32_t i = 0; i < n_tokens; i++)
			free(tok[i]);
		free(tok);
	}
	if (wp_declare_tensors(p, w, &err) || gf_writer_write_header(w, &err) ||
	    wp_write_data(p, w, &wo, st, &err)) {
		gf_writer_abort(w);
		fail_msg("%s", err.msg);
	}
	if (gf_writer_commit(w, &err))
		fail_msg("%s", err.msg);
}

static inline uint8_t *slurp(const char *path, size_t *n)
{
	char *text;
	qk_err err;

	if (qk_read_file(path, 64u << 20, &text, n, &err))
		fail_msg("%s", err.msg);
	return (uint8_t *)text;
}

#endif
