/* test_mix.c - quant/mix.c against llama.cpp's own llama-quantize.
 *
 * testdata/quant/mix_golden.tsv (made by testdata/gen/quant/gen_mix_golden.py,
 * format in testdata/quant/README.md) holds synthetic Qwen models of every
 * architecture (their hyperparameters and tensors) and, for every mix and a
 * few non-default options, the type llama_model_quantize gave each output
 * tensor, in its output order. For each run we replay that: qm_state_init,
 * sort with qm_name_cmp (must give llama.cpp's order), qm_tensor_type per
 * tensor (must give llama.cpp's type). A mismatch names model, mix, options,
 * tensor, ours and theirs. Runs llama.cpp refused ("fail" lines) must make
 * qm_tensor_type return QM_ERR_LAYER for some tensor, or (without an
 * importance matrix) a type qm_requires_imatrix names; runs it made must not.
 * testdata/quant/mix_golden_iq.tsv.gz adds the i-quant mixes with ("imatrix")
 * and without an importance matrix for the same models.
 * Run from the repository root (tests/run.sh does).
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
#include <zlib.h>

#include "../../quant/mix.h"
#include "../../quant/qtype.h"

#define GOLDEN_PATH "testdata/quant/mix_golden.tsv"
/* the i-quant mixes with and without an importance matrix: only "q" and
 * "fail" lines, for the models of GOLDEN_PATH (gen_mix_golden_iq.py) */
#define GOLDEN_IQ_PATH "testdata/quant/mix_golden_iq.tsv.gz"
#define MAX_FIELDS 4096
#define MAX_MODELS 32
#define MAX_MANUAL 4
#define MAX_REPORT 10

struct tensor {
	char *name;
	int src_type;
	int64_t ne[4];
};

struct model {
	char *name;
	struct qm_model_info mi;
	struct tensor *t;    /* input order */
	size_t n_t;
	size_t *order;       /* llama.cpp's output order (indices into t) */
	size_t n_order;
};

struct golden {
	char *text;          /* the file, split in place */
	char *text_iq;       /* GOLDEN_IQ_PATH, split in place */
	struct model m[MAX_MODELS];
	size_t n_m;
	char **runs;         /* the "q" and "fail" lines, not yet split */
	size_t n_runs;
};

static struct golden G;
static size_t n_runs, n_checked, n_fail_runs;

/* ---- reading the table ---- */

static size_t split(char *line, char **f)
{
	size_t n = 0;

	for (char *p = line;; p++) {
		if (n == MAX_FIELDS)
			fail_msg("%s: a line has more than %d fields", GOLDEN_PATH, MAX_FIELDS);
		f[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			return n;
		*p = '\0';
	}
}

static long long num(const char *s, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		fail_msg("%s: %s '%s' is not a number", GOLDEN_PATH, what, s);
	return v;
}

static int type_id(const char *s)
{
	const struct qt_type *t = qt_type_by_name(s);

	if (!t)
		fail_msg("%s: unknown type '%s'", GOLDEN_PATH, s);
	return t->id;
}

static struct model *find_model(const char *name)
{
	for (size_t i = 0; i < G.n_m; i++)
		if (strcmp(G.m[i].name, name) == 0)
			return &G.m[i];
	fail_msg("%s: model '%s' used before its model line", GOLDEN_PATH, name);
	return NULL;
}

static uint32_t kv(char **f, size_t nf, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 2; i < nf; i++)
		if (strncmp(f[i], key, kl) == 0 && f[i][kl] == '=')
			return (uint32_t)num(f[i] + kl + 1, key);
	fail_msg("%s: model '%s' has no %s", GOLDEN_PATH, f[1], key);
	return 0;
}

static const char *kv_str(char **f, size_t nf, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 2; i < nf; i++)
		if (strncmp(f[i], key, kl) == 0 && f[i][kl] == '=')
			return f[i] + kl + 1;
	fail_msg("%s: model '%s' has no %s", GOLDEN_PATH, f[1], key);
	return NULL;
}

static void add_model(char **f, size_t nf)
{
	struct model *m;

	assert_true(G.n_m < MAX_MODELS);
	m = &G.m[G.n_m++];
	m->name = f[1];
	m->mi.arch = kv_str(f, nf, "arch");
	m->mi.n_layer = kv(f, nf, "block_count");
	m->mi.n_layer_nextn = kv(f, nf, "nextn");
	m->mi.n_expert = kv(f, nf, "expert_count");
	m->mi.n_head = kv(f, nf, "head_count");
	m->mi.n_head_kv = kv(f, nf, "head_count_kv");
}

static void add_tensor(char **f, size_t nf)
{
	struct model *m;
	struct tensor *t;

	if (nf != 9)
		fail_msg("%s: t line with %zu fields, expected 9", GOLDEN_PATH, nf);
	m = find_model(f[1]);
	if ((size_t)num(f[2], "tensor index") != m->n_t)
		fail_msg("%s: %s: tensor %s out of order", GOLDEN_PATH, m->name, f[3]);
	t = realloc(m->t, (m->n_t + 1) * sizeof *t);
	assert_non_null(t);
	m->t = t;
	t = &m->t[m->n_t++];
	t->name = f[3];
	t->src_type = type_id(f[4]);
	for (int i = 0; i < 4; i++)
		t->ne[i] = num(f[5 + i], "ne");
}

static void add_order(char **f, size_t nf)
{
	struct model *m = find_model(f[1]);

	if (nf - 2 != m->n_t)
		fail_msg("%s: %s: order lists %zu tensors, the model has %zu", GOLDEN_PATH,
			 m->name, nf - 2, m->n_t);
	m->order = calloc(m->n_t ? m->n_t : 1, sizeof *m->order);
	assert_non_null(m->order);
	for (size_t i = 0; i < m->n_t; i++) {
		long long v = num(f[2 + i], "order index");

		if (v < 0 || (size_t)v >= m->n_t)
			fail_msg("%s: %s: order index %lld out of range", GOLDEN_PATH, m->name, v);
		m->order[i] = (size_t)v;
	}
	m->n_order = m->n_t;
}

/* read one table (plain or gzip: zlib reads both), appending its models
 * and runs to G */
static int load_table(const char *path, char **text, char **f)
{
	gzFile gz = gzopen(path, "rb");
	size_t size = 0, cap = 1 << 20;
	int got;

	if (!gz) {
		fprintf(stderr, "%s: %s (run from the repository root)\n", path, strerror(errno));
		return -1;
	}
	*text = malloc(cap + 1);
	while (*text && (got = gzread(gz, *text + size, (unsigned)(cap - size))) > 0) {
		size += (size_t)got;
		if (size == cap) {
			char *bigger = realloc(*text, 2 * cap + 1);

			if (!bigger)
				free(*text);
			*text = bigger;
			cap *= 2;
		}
	}
	gzclose(gz);
	if (!*text)
		return -1;
	(*text)[size] = '\0';
	for (char *line = *text, *next; *line; line = next) {
		size_t nf;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (strncmp(line, "q\t", 2) == 0 || strncmp(line, "fail\t", 5) == 0) {
			char **r = realloc(G.runs, (G.n_runs + 1) * sizeof *r);

			if (!r)
				return -1;
			G.runs = r;
			G.runs[G.n_runs++] = line;
			continue;
		}
		nf = split(line, f);
		if (strcmp(f[0], "model") == 0)
			add_model(f, nf);
		else if (strcmp(f[0], "t") == 0)
			add_tensor(f, nf);
		else if (strcmp(f[0], "order") == 0)
			add_order(f, nf);
	}
	return 0;
}

static int setup(void **state)
{
	char **f = calloc(MAX_FIELDS, sizeof *f);
	int rc;

	(void)state;
	if (!f)
		return -1;
	rc = load_table(GOLDEN_PATH, &G.text, f);
	if (rc == 0)
		rc = load_table(GOLDEN_IQ_PATH, &G.text_iq, f);
	free(f);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < G.n_m; i++) {
		free(G.m[i].t);
		free(G.m[i].order);
	}
	free(G.runs);
	free(G.text);
	free(G.text_iq);
	return 0;
}

/* ---- replaying runs ---- */

struct manual {
	char pat[128];
	int type;
};

/* std::regex_search with our patterns: literal text where '.' is any char */
static bool pattern_in(const char *pat, const char *name)
{
	size_t pl = strlen(pat), nl = strlen(name);

	for (size_t s = 0; s + pl <= nl; s++) {
		size_t i = 0;

		while (i < pl && (pat[i] == '.' || pat[i] == name[s + i]))
			i++;
		if (i == pl)
			return true;
	}
	return false;
}

/* OPTS: "-" or comma-separated pure, keep_output, output=T, token_embd=T,
 * manual:PATTERN=T (the generator's labels, which are its parameters) */
static size_t parse_opts(const char *opts, struct qm_options *o, struct manual *man)
{
	static const struct qm_options defaults = QM_OPTIONS_DEFAULT;
	char buf[512], *save = NULL;
	size_t n_man = 0;

	*o = defaults;
	if (strcmp(opts, "-") == 0)
		return 0;
	snprintf(buf, sizeof buf, "%s", opts);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (strcmp(tok, "pure") == 0) {
			o->pure = true;
		} else if (strcmp(tok, "keep_output") == 0) {
			o->keep_output = true;
		} else if (strcmp(tok, "imatrix") == 0) {
			o->has_imatrix = true;
		} else if (eq && strncmp(tok, "output=", 7) == 0) {
			o->output_type = type_id(eq + 1);
		} else if (eq && strncmp(tok, "token_embd=", 11) == 0) {
			o->token_embd_type = type_id(eq + 1);
		} else if (eq && strncmp(tok, "manual:", 7) == 0 && n_man < MAX_MANUAL) {
			*eq = '\0';
			snprintf(man[n_man].pat, sizeof man[n_man].pat, "%s", tok + 7);
			man[n_man++].type = type_id(eq + 1);
		} else {
			fail_msg("%s: unknown option '%s'", GOLDEN_PATH, tok);
		}
	}
	return n_man;
}

static const struct model *sorted_model;

static int by_name(const void *a, const void *b)
{
	const struct tensor *t = sorted_model->t;

	return qm_name_cmp(t[*(const size_t *)a].name, t[*(const size_t *)b].name);
}

/* our order for m, in a fresh array */
static size_t *our_order(const struct model *m)
{
	size_t *o = calloc(m->n_t ? m->n_t : 1, sizeof *o);

	assert_non_null(o);
	for (size_t i = 0; i < m->n_t; i++)
		o[i] = i;
	sorted_model = m;
	qsort(o, m->n_t, sizeof *o, by_name);
	return o;
}

/* Replay one run. types: llama.cpp's types in output order, or NULL for a
 * run it refused. Returns the number of mismatches (first few printed). */
static size_t replay(const struct model *m, const char *mixname, const char *opts,
		     char **types, int *err_seen)
{
	const struct qm_mix *mix = qm_mix_by_name(mixname);
	struct manual man[MAX_MANUAL];
	struct qm_options o;
	struct qm_state st;
	const char **names;
	size_t n_man, bad = 0;
	int rc;

	if (!mix)
		fail_msg("%s: mix '%s' unknown to qm_mix_by_name", GOLDEN_PATH, mixname);
	n_man = parse_opts(opts, &o, man);
	names = calloc(m->n_t ? m->n_t : 1, sizeof *names);
	assert_non_null(names);
	for (size_t i = 0; i < m->n_t; i++)
		names[i] = m->t[i].name;
	rc = qm_state_init(&st, &m->mi, mix, &o, names, m->n_t);
	free(names);
	if (rc != QM_OK)
		fail_msg("%s %s %s: qm_state_init returned %d", m->name, mixname, opts, rc);
	*err_seen = 0;
	for (size_t k = 0; k < m->n_order; k++) {
		const struct tensor *t = &m->t[m->order[k]];
		int manual = -1, got, want;

		for (size_t j = 0; j < n_man && manual < 0; j++)
			if (pattern_in(man[j].pat, t->name))
				manual = man[j].type;
		got = qm_tensor_type(&st, t->name, t->ne, t->src_type, manual);
		n_checked++;
		if (!types) {
			/* llama.cpp refuses a bad layer, or a type that needs an
			 * importance matrix when it has none */
			if (got == QM_ERR_LAYER ||
			    (got >= 0 && !o.has_imatrix && qm_is_quantizable(t->name, t->ne, o.keep_output) &&
			     qm_requires_imatrix(&st, t->name, got))) {
				*err_seen = 1;
				break;
			}
			continue;
		}
		want = type_id(types[k]);
		if (got >= 0 && !o.has_imatrix && qm_is_quantizable(t->name, t->ne, o.keep_output) &&
		    qm_requires_imatrix(&st, t->name, got)) {
			print_error("%s %s [%s]: tensor '%s': ours needs an imatrix, llama.cpp "
				    "quantized it without one\n", m->name, mixname, opts, t->name);
			bad++;
		}
		if (got != want) {
			if (bad < MAX_REPORT) {
				const struct qt_type *g = got >= 0 ? qt_type_get(got) : NULL;

				print_error("%s %s [%s]: tensor %zu '%s' ne [%lld %lld %lld %lld]: "
					    "ours %s (%d), llama.cpp %s\n", m->name, mixname, opts,
					    k, t->name, (long long)t->ne[0], (long long)t->ne[1],
					    (long long)t->ne[2], (long long)t->ne[3],
					    g ? g->name : "error", got, types[k]);
			}
			bad++;
		}
	}
	return bad;
}

static void test_golden_runs(void **state)
{
	char **f = calloc(MAX_FIELDS, sizeof *f);
	size_t bad = 0;

	(void)state;
	assert_non_null(f);
	for (size_t r = 0; r < G.n_runs; r++) {
		size_t nf = split(G.runs[r], f);
		int err_seen;

		if (strcmp(f[0], "q") == 0) {
			const struct model *m = find_model(f[1]);
			const struct qm_mix *mix = qm_mix_by_name(f[2]);

			if (nf != 5 + m->n_order)
				fail_msg("%s: %s %s: %zu types for %zu tensors", GOLDEN_PATH,
					 f[1], f[2], nf - 5, m->n_order);
			/* general.file_type llama.cpp wrote = our ftype of the mix */
			if (!mix || mix->ftype != num(f[3], "file_type"))
				fail_msg("%s %s: general.file_type %s, ours %d", f[1], f[2], f[3],
					 mix ? mix->ftype : -1);
			bad += replay(m, f[2], f[4], f + 5, &err_seen);
			n_runs++;
		} else if (strcmp(f[0], "fail") == 0) {
			const struct model *m = find_model(f[1]);

			replay(m, f[2], f[3], NULL, &err_seen);
			if (!err_seen)
				fail_msg("%s %s [%s]: llama.cpp refused the model, qm_tensor_type did "
					 "not return QM_ERR_LAYER nor a type needing an imatrix", f[1],
					 f[2], f[3]);
			n_fail_runs++;
		}
	}
	free(f);
	print_message("mix golden: %zu models, %zu runs + %zu refused, %zu tensor types checked\n",
		      G.n_m, n_runs, n_fail_runs, n_checked);
	if (bad)
		fail_msg("%zu tensor types differ from llama.cpp's", bad);
	assert_true(n_runs >= 200);
	assert_true(n_fail_runs >= 1);
}

/* qm_name_cmp puts every model's tensors in llama.cpp's output order */
static void test_golden_order(void **state)
{
	(void)state;
	assert_true(G.n_m >= 10);
	for (size_t i = 0; i < G.n_m; i++) {
		const struct model *m = &G.m[i];
		size_t *o;

		if (m->n_order == 0)
			continue;  /* a model llama.cpp refused for every run */
		o = our_order(m);
		for (size_t k = 0; k < m->n_t; k++)
			if (o[k] != m->order[k])
				fail_msg("%s: position %zu: ours '%s', llama.cpp '%s'", m->name, k,
					 m->t[o[k]].name, m->t[m->order[k]].name);
		free(o);
	}
}

/* ---- the table and the API edges ---- */

static void test_mix_table(void **state)
{
	/* llama_ftype values (include/llama.h LLAMA_FTYPE_*) */
	static const struct { const char *name; int ftype, type; } want[] = {
		{ "Q4_0", 2, QT_Q4_0 }, { "Q4_1", 3, QT_Q4_1 }, { "Q8_0", 7, QT_Q8_0 },
		{ "Q5_0", 8, QT_Q5_0 }, { "Q5_1", 9, QT_Q5_1 }, { "Q2_K", 10, QT_Q2_K },
		{ "Q3_K_S", 11, QT_Q3_K }, { "Q3_K_M", 12, QT_Q3_K }, { "Q3_K_L", 13, QT_Q3_K },
		{ "Q4_K_S", 14, QT_Q4_K }, { "Q4_K_M", 15, QT_Q4_K }, { "Q5_K_S", 16, QT_Q5_K },
		{ "Q5_K_M", 17, QT_Q5_K }, { "Q6_K", 18, QT_Q6_K },
		{ "F32", 0, QT_F32 }, { "F16", 1, QT_F16 }, { "BF16", 32, QT_BF16 },
		{ "IQ2_XXS", 19, QT_IQ2_XXS }, { "IQ2_XS", 20, QT_IQ2_XS }, { "Q2_K_S", 21, QT_Q2_K },
		{ "IQ3_XS", 22, QT_IQ3_S }, { "IQ3_XXS", 23, QT_IQ3_XXS }, { "IQ1_S", 24, QT_IQ1_S },
		{ "IQ4_NL", 25, QT_IQ4_NL }, { "IQ3_S", 26, QT_IQ3_S }, { "IQ3_M", 27, QT_IQ3_S },
		{ "IQ2_S", 28, QT_IQ2_XS }, { "IQ2_M", 29, QT_IQ2_S }, { "IQ4_XS", 30, QT_IQ4_XS },
		{ "IQ1_M", 31, QT_IQ1_M }, { "TQ1_0", 36, QT_TQ1_0 }, { "TQ2_0", 37, QT_TQ2_0 },
		{ "MXFP4_MOE", 38, QT_MXFP4 },
	};

	(void)state;
	assert_int_equal(qm_mix_count(), sizeof want / sizeof want[0]);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct qm_mix *m = qm_mix_by_name(want[i].name);

		assert_non_null(m);
		assert_string_equal(m->name, want[i].name);
		assert_int_equal(m->ftype, want[i].ftype);
		assert_int_equal(m->default_type, want[i].type);
		assert_ptr_equal(qm_mix_by_ftype(want[i].ftype), m);
	}
	assert_ptr_equal(qm_mix_by_name("q4_k_m"), qm_mix_by_name("Q4_K_M"));
	assert_ptr_equal(qm_mix_by_name("q4_k"), qm_mix_by_name("Q4_K_M"));
	assert_ptr_equal(qm_mix_by_name("Q3_K"), qm_mix_by_name("Q3_K_M"));
	assert_ptr_equal(qm_mix_by_name("Q5_k"), qm_mix_by_name("Q5_K_M"));
	assert_null(qm_mix_by_name("Q6_K_M"));
	assert_null(qm_mix_by_name("MXFP4"));
	assert_null(qm_mix_by_name(""));
	assert_null(qm_mix_by_ftype(4));
	assert_null(qm_mix_at(qm_mix_count()));
}

static void test_errors(void **state)
{
	const char *names[] = { "token_embd.weight", "blk.0.attn_v.weight", "blk.0.ffn_down.weight" };
	struct qm_model_info mi = { "llama", 2, 0, 0, 4, 4 };
	struct qm_options bad_opt = QM_OPTIONS_DEFAULT;
	struct qm_state st;
	const int64_t ne64[4] = { 64, 64, 1, 1 };

	(void)state;
	/* rules of other architectures (Falcon, llama 70B...) are not here */
	assert_int_equal(qm_state_init(&st, &mi, qm_mix_by_name("Q4_K_M"), NULL, names, 3),
			 QM_ERR_ARCH);
	mi.arch = "qwen2";
	bad_opt.output_type = 4;  /* a removed ggml type id */
	assert_int_equal(qm_state_init(&st, &mi, qm_mix_by_name("Q4_K_M"), &bad_opt, names, 3),
			 QM_ERR_TYPE);
	assert_int_equal(qm_state_init(&st, &mi, qm_mix_by_name("Q4_K_M"), NULL, names, 3),
			 QM_OK);
	assert_true(st.tied);
	assert_int_equal(st.n_attention_wv, 1);
	/* a manual type that is not a type */
	assert_int_equal(qm_tensor_type(&st, "blk.0.attn_v.weight", ne64, QT_F16, 99), QM_ERR_TYPE);
	/* a manual 256-block type with no fallback on a 64-wide row
	 * (llama.cpp: "no tensor type fallback is defined for type q8_K") */
	assert_int_equal(qm_tensor_type(&st, "blk.0.ffn_down.weight", ne64, QT_F16, QT_Q8_K),
			 QM_ERR_TYPE);
	/* a manual IQ type falls back to IQ4_NL */
	assert_int_equal(qm_tensor_type(&st, "blk.0.ffn_down.weight", ne64, QT_F16, QT_IQ2_XS),
			 QT_IQ4_NL);
	/* never quantized: the source type comes back */
	assert_int_equal(qm_tensor_type(&st, "blk.0.attn_norm.weight", ne64, QT_F32, -1), QT_F32);
	assert_false(qm_is_quantizable("blk.0.ffn_gate_inp.weight", ne64, false));
	assert_true(qm_is_quantizable("output.weight", ne64, false));
	assert_false(qm_is_quantizable("output.weight", ne64, true));
	assert_true(qm_name_cmp("output.weight", "blk.0.attn_v.weight") < 0);
	assert_true(qm_name_cmp("blk.2.a.weight", "blk.10.a.weight") < 0);
	assert_int_equal(qm_name_cmp("blk.2.a.weight", "blk.2.a.weight"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mix_table),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_golden_order),
		cmocka_unit_test(test_golden_runs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
