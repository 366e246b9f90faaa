/* test_llamacpp_truths.c - bin/qwen-convert and bin/qwen-quant against what
 * llama.cpp decides for every fixture, recorded in testdata/llamacpp/ by
 * testdata/gen/llamacpp_truths.py (llama-cpp-python 0.3.36: its vendored
 * convert_hf_to_gguf.py and llama_model_quantize; format and provenance in
 * testdata/llamacpp/README.md). make check has no llama.cpp; these files are
 * its stand-in, so whole-file identity with llama.cpp is no longer proven only
 * by make crosscheck.
 *
 *  - convert.tsv: for every fixture (and "FIXTURE+mtp" where the checkpoint
 *    has mtp.*: llama.cpp's nextn layout, our --keep-mtp) and --outtype auto,
 *    f32, f16, bf16, q8_0, the GGUF qwen-convert writes must hold llama.cpp's
 *    key/values (names, GGUF types, values, order), its tensors (names, ne,
 *    order) and its per-tensor types.
 *  - quant.tsv: for every fixture and every mix qwen-quant has,
 *    `qwen-quant plan` must list llama-quantize's tensors in its order with
 *    its types and general.file_type; the mixes alternate between the
 *    safetensors input and the GGUF qwen-convert writes, so both input paths
 *    are held to llama-quantize.
 *
 * Seen failing: with cli/quant_plan.c's model_info() not reading
 * head_count/head_count_kv (the mutant "qwen-quant ignores head counts read
 * from the model"), test_quant_truths fails: "qwen2 Q2_K:
 * blk.0.attn_v.weight is Q3_K, llama-quantize Q4_K", the same for blk.1 and
 * for qwen3_moe (n_gqa 4 decides Q2_K's attn_v).
 *
 * Time: about 4 s of CPU (about 300 runs of the tools; qwen3_realvocab's
 * tokenizer.json, read by 14 of them, is most of it).
 *
 * Documented differences (man/qwen-convert.1), the only ones allowed:
 *  - qwen1: llama.cpp's converter cannot read the remote-code tokenizer
 *    without running it (the generator disables its vocabulary), so our
 *    tokenizer.* keys have no counterpart; Qwen1's RMS epsilon is written as
 *    qwen.attention.layer_norm_rms_epsilon (the key the runtime reads) where
 *    llama.cpp's converter writes qwen.attention.layer_norm_epsilon;
 *  - the value of qwen3next.full_attention_interval (value_may_differ).
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
#include <sys/stat.h>
#include <unistd.h>

#include "../../formats/base/dtype.h"
#include "../../formats/base/io.h"
#include "../../formats/container/catalog.h"
#include "../../formats/container/gguf.h"
#include "../../formats/container/safetensors.h"
#include "../../quant/qtype.h"
#include "fixture_list.h"
#include "fnv.h"
#include "sha256.h"
#include "testdir.h"

#define TRUTHS "testdata/llamacpp"
#define MODELS "testdata/models"
#define MAX_REPORT 12 /* mismatches printed before the count */

/* one line of a .tsv split at tabs (fields point into the line) */
#define MAX_FIELDS 8
struct line {
	int n;
	char *f[MAX_FIELDS];
};

/* Split the file text into lines in place; *n gets the count. */
static char **split_lines(char *text, size_t *n)
{
	size_t cap = 1024, k = 0;
	char **v = malloc(cap * sizeof(*v));
	char *p = text;

	assert_non_null(v);
	while (*p) {
		char *e = strchr(p, '\n');

		if (k == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(*v));
			assert_non_null(v);
		}
		if (e)
			*e = '\0';
		if (*p && *p != '#')
			v[k++] = p;
		if (!e)
			break;
		p = e + 1;
	}
	*n = k;
	return v;
}

static struct line fields(char *s)
{
	struct line l = { 0, { NULL } };

	while (l.n < MAX_FIELDS) {
		char *t = strchr(s, '\t');

		l.f[l.n++] = s;
		if (!t)
			break;
		*t = '\0';
		s = t + 1;
	}
	return l;
}

static char *read_truths(const char *name, char ***lines, size_t *n)
{
	char path[128], *buf = NULL;
	size_t len = 0;
	qk_err e;

	snprintf(path, sizeof(path), TRUTHS "/%s", name);
	if (qk_read_file(path, 8u << 20, &buf, &len, &e) != QK_OK)
		fail_msg("%s: %s", path, e.msg);
	*lines = split_lines(buf, n);
	return buf;
}

/* every fixture has a "model" line in the file: a new fixture needs its truths */
static void every_fixture_recorded(char **lines, size_t n, const char *file)
{
	static const char *const fx[] = { QK_FIXTURE_NAMES };

	for (size_t i = 0; i < QK_FIXTURE_COUNT; i++) {
		bool found = false;

		for (size_t k = 0; k < n && !found; k++) {
			size_t m = strlen(fx[i]);

			found = strncmp(lines[k], "model\t", 6) == 0 &&
				strncmp(lines[k] + 6, fx[i], m) == 0 && lines[k][6 + m] == '\t';
		}
		if (!found)
			fail_msg("%s/%s has no model '%s': run testdata/gen/llamacpp_truths.py %s "
				 "(testdata/llamacpp/README.md)", TRUTHS, file, fx[i], fx[i]);
	}
}

/* $BINDIR/<tool> <args> >out 2>err; the tool must exist (make check builds
 * it); on failure its messages are shown */
static void run_tool(const char *tool, const char *args, const char *out, const char *err)
{
	const char *bindir = getenv("BINDIR");
	char exe[256], cmd[1536], *msg = NULL;
	size_t len = 0;
	qk_err e;
	int rc;

	snprintf(exe, sizeof(exe), "%s/%s", bindir ? bindir : "bin", tool);
	if (access(exe, X_OK) != 0)
		fail_msg("%s is not built", exe);
	snprintf(cmd, sizeof(cmd), "%s %s >%s 2>%s", exe, args, out, err);
	if ((rc = system(cmd)) != 0) {
		(void)qk_read_file(err, 1 << 16, &msg, &len, &e);
		fail_msg("'%s' failed (status %d): %s", cmd, rc, msg ? msg : "");
	}
}

/* one truth file being checked: its lines and a scratch directory for the
 * tools' output (out) and messages (err) */
struct session {
	char *text, **lines;
	size_t n;
	char dir[64], out[128], err[128];
};

static void session_open(struct session *s, const char *file, const char *out_name)
{
	s->text = read_truths(file, &s->lines, &s->n);
	every_fixture_recorded(s->lines, s->n, file);
	assert_int_equal(td_make(s->dir, sizeof(s->dir), "truths"), 0);
	snprintf(s->out, sizeof(s->out), "%s/%s", s->dir, out_name);
	snprintf(s->err, sizeof(s->err), "%s/err.txt", s->dir);
}

/* close the session; fail when any run differed */
static void session_close(struct session *s, const char *what, size_t checked, size_t bad,
			  size_t min_checked)
{
	td_remove(s->dir);
	free(s->lines);
	free(s->text);
	print_message("%s: %zu compared, %zu differ\n", what, checked, bad);
	assert_true(checked >= min_checked);
	if (bad)
		fail_msg("%s: %zu differ from llama.cpp (rows above)", what, bad);
}

/* ------------------------------------------------------------ convert -- */

static const char *const gguf_type_names[GF_TYPE_COUNT] = {
	"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
	"bool", "string", "array", "uint64", "int64", "float64",
};

/* the generator's encoding of a string value: literal "..." when short and
 * plain ASCII without backslash, else #LEN:FNV1A64 */
static void enc_string(const char *s, size_t len, char *out, size_t cap)
{
	bool plain = len <= 160;

	for (size_t i = 0; i < len && plain; i++)
		plain = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f && s[i] != '\\';
	if (plain)
		snprintf(out, cap, "\"%.*s\"", (int)len, s);
	else
		snprintf(out, cap, "#%zu:%016llx", len,
			 (unsigned long long)fnv1a64(FNV1A64_INIT, s, len));
}

/* [elemtype;count;FNV-1a-64 of the elements as stored: numbers little-endian,
 * strings as u64 length + bytes] */
static void enc_array(const struct gf_file *g, int64_t i, char *out, size_t cap)
{
	const enum gf_type et = gf_arr_type(g, i);
	const uint64_t n = gf_arr_n(g, i);
	uint64_t h = FNV1A64_INIT;

	if (et == GF_STRING) {
		for (uint64_t j = 0; j < n; j++) {
			size_t len;
			const char *s = gf_arr_str(g, i, j, &len);
			uint8_t le[8];

			for (int b = 0; b < 8; b++)
				le[b] = (uint8_t)((uint64_t)len >> (8 * b));
			h = fnv1a64(h, le, 8);
			h = fnv1a64(h, s, len);
		}
	} else if (n) {
		h = fnv1a64(h, gf_arr_data(g, i), (size_t)n * gf_type_size(et));
	}
	snprintf(out, cap, "[%s;%llu;%016llx]", et < GF_TYPE_COUNT ? gguf_type_names[et] : "?",
		 (unsigned long long)n, (unsigned long long)h);
}

/* does our value i equal the recorded encoding `want` (of the same type)? */
static bool same_value(const struct gf_file *g, int64_t i, const char *want, char *got,
		       size_t cap)
{
	const enum gf_type t = gf_kv_type(g, i);
	size_t len;
	const char *s;

	switch (t) {
	case GF_STRING:
		s = gf_kv_str(g, i, &len);
		enc_string(s, len, got, cap);
		return strcmp(got, want) == 0;
	case GF_ARRAY:
		enc_array(g, i, got, cap);
		return strcmp(got, want) == 0;
	case GF_BOOL:
		snprintf(got, cap, "%s", gf_kv_bool(g, i) ? "true" : "false");
		return strcmp(got, want) == 0;
	case GF_F32: {
		const float v = gf_kv_f32(g, i), w = (float)strtod(want, NULL);

		snprintf(got, cap, "%.9g", (double)v);
		return memcmp(&v, &w, sizeof(v)) == 0;
	}
	case GF_F64: {
		const double v = gf_kv_f64(g, i), w = strtod(want, NULL);

		snprintf(got, cap, "%.17g", v);
		return memcmp(&v, &w, sizeof(v)) == 0;
	}
	case GF_U64:
		snprintf(got, cap, "%llu", (unsigned long long)gf_kv_u64(g, i));
		return strcmp(got, want) == 0;
	default: {
		int64_t v = 0;

		(void)gf_kv_int(g, i, INT64_MIN, INT64_MAX, &v);
		snprintf(got, cap, "%lld", (long long)v);
		return strcmp(got, want) == 0;
	}
	}
}

/* a key whose value may differ: llama.cpp's converter reads config.json
 * through transformers, whose 5.x Qwen3NextConfig drops full_attention_interval
 * after building layer_types, so it writes its default 4 whatever the
 * checkpoint says (qwen3_next_256 has 2); we write config.json's value. Both
 * write {arch}.attention.recurrent_layers from layer_types, compared as usual. */
static bool value_may_differ(const char *key)
{
	return strcmp(key, "qwen3next.full_attention_interval") == 0;
}

/* keys of ours that llama.cpp's (vocabulary-less) Qwen1 conversion lacks */
static bool skipped_key(const char *fixture, const char *key)
{
	return strcmp(fixture, "qwen1") == 0 && strncmp(key, "tokenizer.", 10) == 0;
}

/* a fixture whose file differs from llama.cpp's by a documented difference
 * (the keys above), so that only its keys, tensors and types are compared */
static bool documented_difference(const char *fixture)
{
	return strcmp(fixture, "qwen1") == 0;
}

/* the name we write for a key llama.cpp's converter writes */
static const char *our_key(const char *fixture, const char *key)
{
	if (strcmp(fixture, "qwen1") == 0 && strcmp(key, "qwen.attention.layer_norm_epsilon") == 0)
		return "qwen.attention.layer_norm_rms_epsilon";
	return key;
}

struct report {
	int bad;
	bool documented;      /* a documented difference (value_may_differ) differed */
	char what[96];        /* model and outtype/mix, for messages */
};

static void mismatch(struct report *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->bad++ < MAX_REPORT)
		print_message("%s: %s\n", r->what, msg);
}

/* one converted file against a model's kv and tensor lines and one
 * "convert" row (outtype, file_type, types) */
static void check_converted(struct report *r, const char *fixture, const char *path,
			    char **kv, size_t n_kv, char **tensor, size_t n_tensor,
			    const struct line *row)
{
	struct gf_file *g = NULL;
	int64_t k = 0, nk;
	char got[160], types[8192];
	const char *tp;
	qk_err e;

	if (gf_open(&g, path, &e) != QK_OK)
		fail_msg("%s: %s", r->what, e.msg);
	nk = gf_n_kv(g);
	for (size_t i = 0; i < n_kv; i++) {
		char buf[1024];
		struct line l;
		const char *want_key, *want_val;

		snprintf(buf, sizeof(buf), "%s", kv[i]);
		l = fields(buf);          /* kv MODEL KEY TYPE VALUE */
		want_key = our_key(fixture, l.f[2]);
		want_val = strcmp(l.f[2], "general.file_type") == 0 ? row->f[3] : l.f[4];
		while (k < nk && skipped_key(fixture, gf_key(g, k)))
			k++;
		if (k >= nk) {
			mismatch(r, "key %s missing (ours ends after %lld keys)", want_key,
				 (long long)nk);
			continue;
		}
		if (strcmp(gf_key(g, k), want_key) != 0) {
			mismatch(r, "key %lld is %s, llama.cpp has %s", (long long)k, gf_key(g, k),
				 want_key);
		} else if (strcmp(gguf_type_names[gf_kv_type(g, k)], l.f[3]) != 0) {
			mismatch(r, "key %s has type %s, llama.cpp %s", want_key,
				 gguf_type_names[gf_kv_type(g, k)], l.f[3]);
		} else if (!same_value(g, k, want_val, got, sizeof(got))) {
			if (!value_may_differ(want_key))
				mismatch(r, "key %s is %s, llama.cpp %s", want_key, got, want_val);
			r->documented = true;
		}
		k++;
	}
	while (k < nk && skipped_key(fixture, gf_key(g, k)))
		k++;
	if (k < nk)
		mismatch(r, "extra key %s (llama.cpp has %zu)", gf_key(g, k), n_kv);
	if ((size_t)gf_n_tensors(g) != n_tensor)
		mismatch(r, "%lld tensors, llama.cpp %zu", (long long)gf_n_tensors(g), n_tensor);
	snprintf(types, sizeof(types), "%s", row->f[4]);
	tp = strtok(types, " ");
	for (size_t i = 0; i < n_tensor && (int64_t)i < gf_n_tensors(g); i++, tp = strtok(NULL, " ")) {
		char buf[256], ne[96] = "";
		struct line l;
		int64_t d[GF_MAX_DIMS];
		const struct qt_type *qt = qt_type_get(gf_tensor_type(g, (int64_t)i));

		snprintf(buf, sizeof(buf), "%s", tensor[i]);
		l = fields(buf);          /* tensor MODEL NAME NE... */
		gf_tensor_ne(g, (int64_t)i, d);
		for (int j = 0; j < gf_tensor_n_dims(g, (int64_t)i); j++)
			snprintf(ne + strlen(ne), sizeof(ne) - strlen(ne), "%s%lld", j ? " " : "",
				 (long long)d[j]);
		if (strcmp(gf_tensor_name(g, (int64_t)i), l.f[2]) != 0)
			mismatch(r, "tensor %zu is %s, llama.cpp has %s", i,
				 gf_tensor_name(g, (int64_t)i), l.f[2]);
		else if (strcmp(ne, l.f[3]) != 0)
			mismatch(r, "tensor %s has ne {%s}, llama.cpp {%s}", l.f[2], ne, l.f[3]);
		else if (!tp || !qt || strcmp(qt->name, tp) != 0)
			mismatch(r, "tensor %s is %s, llama.cpp %s", l.f[2], qt ? qt->name : "?",
				 tp ? tp : "(none)");
	}
	gf_close(g);
}

/* ---------------------------------------------------- layout variants -- */

static int cmp_name(const void *x, const void *y)
{
	const struct qk_tensor *const *a = x, *const *b = y;

	return strcmp((*a)->name, (*b)->name);
}

/* "FIXTURE~shards" (testdata/gen/llamacpp_truths.py make_shards): the
 * fixture's tensors as two shards with an index, the tensor of rank k in
 * name order in shard k mod 2, each shard's header and data in reverse name
 * order; the other files copied. Written into dst (an empty directory). */
static void make_shards(const char *fixture, const char *dst)
{
	static const char *const shard[2] = { "model-00001-of-00002.safetensors",
					      "model-00002-of-00002.safetensors" };
	struct qk_catalog cat;
	const struct qk_tensor **by_name;
	char path[512], cmd[1024], *index;
	size_t cap = 1 << 20, len, total = 0;
	qk_err e;

	snprintf(path, sizeof(path), MODELS "/%s", fixture);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && for f in *; do case $f in *.safetensors|*.index.json) ;; "
		 "*) [ -f \"$f\" ] && cp \"$f\" %s/ ;; esac; done", path, dst);
	assert_int_equal(system(cmd), 0);
	qk_catalog_init(&cat);
	if (qk_catalog_open(&cat, path, &e) != QK_OK)
		fail_msg("%s: %s", path, e.msg);
	by_name = malloc(cat.n_tensors * sizeof(*by_name));
	index = malloc(cap);
	assert_non_null(by_name);
	assert_non_null(index);
	for (size_t i = 0; i < cat.n_tensors; i++)
		by_name[i] = &cat.tensors[i];
	qsort(by_name, cat.n_tensors, sizeof(*by_name), cmp_name);
	len = (size_t)snprintf(index, cap, "{\"weight_map\": {");
	for (int s = 0; s < 2; s++) {
		struct st_writer *w;

		snprintf(path, sizeof(path), "%s/%s", dst, shard[s]);
		if (st_writer_open(&w, path, &e) != QK_OK)
			fail_msg("%s: %s", path, e.msg);
		for (size_t r = cat.n_tensors; r-- > 0;) {
			const struct qk_tensor *t = by_name[r];

			if (r % 2 != (size_t)s)
				continue;
			if (st_writer_add(w, t->name, t->dtype, t->n_dims, t->shape, &e) != QK_OK)
				fail_msg("%s: %s", t->name, e.msg);
			len += (size_t)snprintf(index + len, cap - len, "%s\"%s\": \"%s\"",
						total++ ? ", " : "", t->name, shard[s]);
			assert_true(len < cap);
		}
		for (size_t r = cat.n_tensors; r-- > 0;)
			if (r % 2 == (size_t)s && by_name[r]->nbytes &&
			    st_writer_write(w, by_name[r]->data, by_name[r]->nbytes, &e) != QK_OK)
				fail_msg("%s: %s", by_name[r]->name, e.msg);
		if (st_writer_commit(w, &e) != QK_OK)
			fail_msg("%s: %s", path, e.msg);
	}
	snprintf(index + len, cap - len, "}}\n");
	snprintf(path, sizeof(path), "%s/model.safetensors.index.json", dst);
	assert_int_equal(td_put(path, index), 0);
	free(index);
	free(by_name);
	qk_catalog_free(&cat);
}

/* the input directory of a model's fixture: testdata/models/FIXTURE, or its
 * layout variant made under dir (once) */
static void fixture_dir(const char *fixture, const char *dir, char *out, size_t cap)
{
	const char *tilde = strchr(fixture, '~');
	char base[64];

	if (!tilde) {
		snprintf(out, cap, MODELS "/%s", fixture);
		return;
	}
	assert_string_equal(tilde, "~shards");
	snprintf(base, sizeof(base), "%.*s", (int)(tilde - fixture), fixture);
	snprintf(out, cap, "%s/%s", dir, fixture);
	if (access(out, F_OK) != 0) {
		assert_int_equal(mkdir(out, 0700), 0);
		make_shards(base, out);
	}
}

/* the whole file against the size and SHA-256 of llama.cpp's (a "file" line) */
static void check_whole(struct report *r, const char *path, const struct line *f)
{
	char hex[65];
	size_t size;

	assert_int_equal(sha256_file(path, hex, &size), 0);
	if (strtoull(f->f[3], NULL, 10) != size || strcmp(hex, f->f[4]) != 0)
		mismatch(r, "the file (%zu bytes, sha256 %.16s...) is not llama.cpp's (%s bytes, "
			 "sha256 %.16s...)", size, hex, f->f[3], f->f[4]);
}

static void test_convert_truths(void **state)
{
	struct session S;
	size_t i = 0, checked = 0, bad = 0, wholes = 0, documented = 0;

	(void)state;
	session_open(&S, "convert.tsv", "out.gguf");
	while (i < S.n) {
		/* model MODEL FIXTURE keep_mtp|- llama.cpp|refused: WHY */
		struct line m = fields(S.lines[i++]);
		size_t kv0 = i, n_kv, t0, n_t, r0;

		assert_string_equal(m.f[0], "model");
		assert_int_equal(m.n, 5);
		if (strncmp(m.f[4], "refused", 7) == 0) {
			/* llama.cpp's converter cannot write it (qwen3_moe's dense
			 * layer): nothing to compare; quant.tsv still holds
			 * llama-quantize's types for it */
			print_message("%s: llama.cpp's converter %s\n", m.f[1], m.f[4]);
			continue;
		}
		while (i < S.n && strncmp(S.lines[i], "kv\t", 3) == 0)
			i++;
		n_kv = i - kv0;
		t0 = i;
		while (i < S.n && strncmp(S.lines[i], "tensor\t", 7) == 0)
			i++;
		n_t = i - t0;
		r0 = i;
		while (i < S.n && strncmp(S.lines[i], "convert\t", 8) == 0)
			i++;
		for (size_t c = r0; c < i; c++) {
			char buf[512], in[256];
			struct line row = fields(S.lines[c]);  /* convert MODEL OUTTYPE FT TYPES */
			struct line file;  /* file MODEL OUTTYPE SIZE SHA */
			struct report r = { 0, false, "" };

			assert_true(i + c - r0 < S.n);
			file = fields(S.lines[i + c - r0]);
			assert_string_equal(file.f[0], "file");
			assert_string_equal(file.f[2], row.f[2]);
			snprintf(r.what, sizeof(r.what), "%s --outtype %s", m.f[1], row.f[2]);
			fixture_dir(m.f[2], S.dir, in, sizeof(in));
			snprintf(buf, sizeof(buf), "-q %s--outtype %s %s -o %s",
				 strcmp(m.f[3], "keep_mtp") == 0 ? "--keep-mtp " : "", row.f[2], in,
				 S.out);
			run_tool("qwen-convert", buf, "/dev/null", S.err);
			check_converted(&r, m.f[2], S.out, S.lines + kv0, n_kv, S.lines + t0, n_t, &row);
			/* whole files: all but the documented differences (Qwen1's
			 * keys, a differing full_attention_interval) */
			r.documented |= documented_difference(m.f[2]);
			if (!r.bad && !r.documented)
				check_whole(&r, S.out, &file);
			wholes += !r.bad && !r.documented;
			documented += r.documented;
			unlink(S.out);
			bad += r.bad != 0;
			checked++;
		}
		i += i - r0;  /* the "file" rows, one per "convert" row (checked above) */
	}
	/* five outtypes per fixture, but for the one llama.cpp refuses */
	print_message("qwen-convert files: %zu identical to llama.cpp's as whole files (sha256), "
		      "%zu with a documented difference\n", wholes, documented);
	session_close(&S, "qwen-convert files", checked, bad, 5 * (QK_FIXTURE_COUNT - 1));
}

/* -------------------------------------------------------------- quant -- */

/* `qwen-quant plan` output: "plan for M: MIX (general.file_type N)", a header
 * line, then "  NAME TYPE ..." per tensor, then a blank line */
static void check_plan(struct report *r, const char *path, const char *order, const char *ft,
		       const char *types)
{
	FILE *f = fopen(path, "r");
	char line[512], want_ft[64], *o = strdup(order), *t = strdup(types), *so, *st;
	const char *name, *type;
	int k = 0;

	assert_non_null(f);
	assert_non_null(o);
	assert_non_null(t);
	snprintf(want_ft, sizeof(want_ft), "(general.file_type %s)", ft);
	if (!fgets(line, sizeof(line), f) || !strstr(line, want_ft))
		mismatch(r, "plan header '%.80s' lacks %s", line, want_ft);
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	name = strtok_r(o, " ", &so);
	type = strtok_r(t, " ", &st);
	while (fgets(line, sizeof(line), f) && line[0] == ' ' && line[1] == ' ') {
		char gn[128], gt[32];

		if (sscanf(line, "%127s %31s", gn, gt) != 2)
			break;
		if (!name)
			mismatch(r, "extra tensor %s", gn);
		else if (strcmp(gn, name) != 0)
			mismatch(r, "tensor %d is %s, llama-quantize has %s", k, gn, name);
		else if (!type || strcmp(gt, type) != 0)
			mismatch(r, "%s is %s, llama-quantize %s", gn, gt, type ? type : "?");
		name = name ? strtok_r(NULL, " ", &so) : NULL;
		type = type ? strtok_r(NULL, " ", &st) : NULL;
		k++;
	}
	if (name)
		mismatch(r, "tensor %s missing (plan lists %d)", name, k);
	fclose(f);
	free(o);
	free(t);
}

static void test_quant_truths(void **state)
{
	struct session S;
	size_t i = 0, checked = 0, bad = 0;

	(void)state;
	session_open(&S, "quant.tsv", "plan.txt");
	while (i < S.n) {
		/* model MODEL FIXTURE keep_mtp|- INPUT (whose GGUF llama-quantize read) */
		struct line m = fields(S.lines[i++]);
		const bool mtp = strcmp(m.f[3], "keep_mtp") == 0;
		const char *order = NULL;
		char gguf[160] = "";
		int mix = 0;

		assert_string_equal(m.f[0], "model");
		assert_int_equal(m.n, 5);
		while (i < S.n && strncmp(S.lines[i], "model\t", 6) != 0) {
			struct line l = fields(S.lines[i++]);
			struct report r = { 0, false, "" };
			char buf[512];

			if (strcmp(l.f[0], "order") == 0) {
				order = l.f[2];
				continue;
			}
			/* the mixes alternate between both inputs qwen-quant reads: the
			 * safetensors checkpoint and the GGUF qwen-convert writes of it
			 * (made once per model; it carries the nextn block itself) */
			if (mix % 2 && !gguf[0]) {
				snprintf(gguf, sizeof(gguf), "%s/in.gguf", S.dir);
				snprintf(buf, sizeof(buf), "-q %s" MODELS "/%s -o %s",
					 mtp ? "--keep-mtp " : "", m.f[2], gguf);
				run_tool("qwen-convert", buf, "/dev/null", S.err);
			}
			snprintf(r.what, sizeof(r.what), "%s %s (from %s)", m.f[1], l.f[2],
				 mix % 2 ? "qwen-convert's GGUF" : "safetensors");
			if (mix++ % 2)
				snprintf(buf, sizeof(buf), "plan %s --type %s", gguf, l.f[2]);
			else
				snprintf(buf, sizeof(buf), "plan %s" MODELS "/%s --type %s",
					 mtp ? "--keep-mtp " : "", m.f[2], l.f[2]);
			if (strcmp(l.f[0], "fail") == 0)
				fail_msg("%s: llama-quantize refused it; no such case is expected",
					 r.what);
			assert_string_equal(l.f[0], "q");  /* q MODEL MIX FT TYPES */
			assert_non_null(order);
			run_tool("qwen-quant", buf, S.out, S.err);
			check_plan(&r, S.out, order, l.f[3], l.f[4]);
			bad += r.bad != 0;
			checked++;
		}
		if (gguf[0])
			unlink(gguf);
	}
	session_close(&S, "qwen-quant plans", checked, bad, 17 * QK_FIXTURE_COUNT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_convert_truths),
		cmocka_unit_test(test_quant_truths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
