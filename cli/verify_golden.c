/* verify_golden.c - `qwen-verify golden MODEL EXPECTED.safetensors`: the
 * model's outputs against stored expected outputs (the golden-fixture
 * layout of testdata/models/README.md: tokens.S I32 [T], logits.S F32
 * [T, n_vocab], optional hidden.S F32 [n_layer + 1, T, n_embd], for
 * S = 0, 1, ...). Budgets (ref/README.md, "Agreement with transformers"):
 * at every position
 * max |logit - expected| <= logit_rtol x max |expected logit| and the same
 * argmax; every residual stream within its hidden budget, relative RMS
 * (sqrt(sum d^2 / sum expected^2) over the sequence). See verify.h.
 *
 * The budgets: --logit-rtol / --hidden-rtol when given; else the expected
 * file's own (its __metadata__ keys tolerance_logit_rtol, a number, and
 * tolerance_hidden_rtol, n_layer + 1 comma-separated numbers, one per
 * stream: the golden fixtures carry 3x the error measured when they were
 * made, testdata/gen/tolerances.py); else 1e-4 for each. */
#include "verify.h"
#include "common.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/dtype.h"
#include "../formats/container/safetensors.h"

#define GOLDEN_DEFAULT_RTOL 1e-4
#define GOLDEN_META_LOGIT "tolerance_logit_rtol"
#define GOLDEN_META_HIDDEN "tolerance_hidden_rtol"

/* the budgets in force and where they came from */
struct budgets {
	double logit;          /* fraction of max |expected logit| */
	double *hidden;        /* [n_layer + 1] relative RMS per stream */
	size_t n_hidden;
	const char *source;    /* "options", "metadata" or "default" */
};

struct worst {
	double logit_rel;      /* largest max|d| / max|ref| over positions */
	size_t logit_seq, logit_pos;
	double hidden_rel;     /* largest relative RMS over streams */
	size_t hidden_seq, hidden_stream;
	bool hidden_over;      /* a stream over its budget: the first of them */
	double over_rel, over_budget;
	size_t over_seq, over_stream;
	size_t n_argmax;       /* positions with another argmax */
	size_t am_seq, am_pos; /* the first of them */
	uint32_t am_got, am_exp;
	bool any_hidden;
};

/* A tensor's fp32 values: in place when aligned, else a copy in *own. */
static const float *f32_of(const struct qk_tensor *t, float **own)
{
	*own = NULL;
	if (((uintptr_t)t->data & (sizeof(float) - 1)) == 0)
		return (const float *)(const void *)t->data;
	*own = malloc(t->nbytes ? t->nbytes : 1);
	if (*own)
		memcpy(*own, t->data, t->nbytes);
	return *own;
}

/* The tensor `name` with this dtype and shape, or an error naming both. */
static int need(const struct qk_catalog *cat, const char *file, const char *name, int dtype,
		int n_dims, const uint64_t *shape, const struct qk_tensor **out, qk_err *err)
{
	const struct qk_tensor *t = qk_catalog_find(cat, name);
	char got[96], want[96];
	bool ok;

	if (!t)
		return qk_err_set(err, QK_E_INVALID, "%s: no tensor '%s'", file, name);
	ok = t->dtype == dtype && t->n_dims == n_dims;
	for (int d = 0; ok && d < n_dims; d++)
		ok = t->shape[d] == shape[d];
	if (!ok) {
		qk_shape_str(t->shape, t->n_dims, got, sizeof(got));
		qk_shape_str(shape, n_dims, want, sizeof(want));
		return qk_err_set(err, QK_E_INVALID, "%s: tensor '%s' is %s %s, expected %s %s", file,
				  name, qk_dtype_name(t->dtype), got, qk_dtype_name(dtype), want);
	}
	*out = t;
	return QK_OK;
}

struct gseq {
	const struct qk_tensor *tok, *logits, *hidden; /* hidden may be NULL */
	int32_t *ids;
	size_t T;
};

static int load_seq(const struct qk_catalog *cat, const char *file, const struct qk_hparams *hp,
		    size_t s, struct gseq *g, qk_err *err)
{
	char name[64];
	uint64_t shape[3];
	int rc;

	memset(g, 0, sizeof(*g));
	snprintf(name, sizeof(name), "tokens.%zu", s);
	g->tok = qk_catalog_find(cat, name);
	if (!g->tok || g->tok->n_dims != 1 || g->tok->dtype != QK_DT_I32 || g->tok->n_elem == 0 ||
	    g->tok->n_elem > VERIFY_MAX_TOKENS) {
		if (!g->tok)
			return qk_err_set(err, QK_E_INVALID, "%s: no tensor '%s'", file, name);
		return qk_err_set(err, QK_E_INVALID, "%s: tensor '%s' is %s with %d dimensions and "
				  "%llu values, expected I32 [T], 1 <= T <= %u", file, name,
				  qk_dtype_name(g->tok->dtype), g->tok->n_dims,
				  (unsigned long long)g->tok->n_elem, VERIFY_MAX_TOKENS);
	}
	g->T = (size_t)g->tok->n_elem;
	shape[0] = g->T;
	shape[1] = hp->n_vocab;
	snprintf(name, sizeof(name), "logits.%zu", s);
	if ((rc = need(cat, file, name, QK_DT_F32, 2, shape, &g->logits, err)))
		return rc;
	snprintf(name, sizeof(name), "hidden.%zu", s);
	if (qk_catalog_find(cat, name)) {
		shape[0] = hp->n_layer + (uint64_t)1;
		shape[1] = g->T;
		shape[2] = hp->n_embd;
		if ((rc = need(cat, file, name, QK_DT_F32, 3, shape, &g->hidden, err)))
			return rc;
	}
	g->ids = malloc(g->T * sizeof(*g->ids));
	if (!g->ids)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu tokens", g->T);
	memcpy(g->ids, g->tok->data, g->T * sizeof(*g->ids));
	for (size_t t = 0; t < g->T; t++)
		if (g->ids[t] < 0 || (uint32_t)g->ids[t] >= hp->n_vocab)
			return qk_err_set(err, QK_E_INVALID,
					  "%s: tokens.%zu[%zu] = %ld is out of range: n_vocab is %u",
					  file, s, t, (long)g->ids[t], (unsigned)hp->n_vocab);
	return QK_OK;
}

/* Compare one sequence; print its table (text) or add it to arr (JSON). */
static int check_seq(size_t s, const struct gseq *g, const struct rf_out *r,
		     const struct budgets *b, struct worst *w, cJSON *arr, qk_err *err)
{
	const size_t V = r->n_vocab, n = g->T * (size_t)r->n_embd;
	float *own_l = NULL, *own_h = NULL;
	const float *exp_l = f32_of(g->logits, &own_l);
	const float *exp_h = g->hidden ? f32_of(g->hidden, &own_h) : NULL;
	cJSON *js = NULL, *jp = NULL, *jl = NULL;
	char nm[32];

	if (!exp_l || (g->hidden && !exp_h)) {
		free(own_l);
		free(own_h);
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	}
	if (arr) {
		js = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, js);
		cJSON_AddNumberToObject(js, "sequence", (double)s);
		cJSON_AddNumberToObject(js, "n_tokens", (double)g->T);
		jp = cJSON_AddArrayToObject(js, "positions");
		jl = g->hidden ? cJSON_AddArrayToObject(js, "streams") : NULL;
	} else {
		printf("sequence %zu: %zu tokens\n  %5s %8s %10s %8s %8s\n", s, g->T, "pos",
		       "token", "rel_err", "argmax", "expected");
	}
	for (size_t t = 0; t < g->T; t++) {
		struct rm_row row;
		double rel;

		rm_row_compare(exp_l + t * V, r->logits + t * V, V, &row);
		rel = row.max_abs_ref > 0 ? row.max_abs_diff / row.max_abs_ref
					  : (row.max_abs_diff > 0 ? INFINITY : 0);
		if (!row.finite)
			rel = NAN;
		if (!(rel <= w->logit_rel)) {
			w->logit_rel = rel;
			w->logit_seq = s;
			w->logit_pos = t;
		}
		if (row.top_ref != row.top_cand && w->n_argmax++ == 0) {
			w->am_seq = s;
			w->am_pos = t;
			w->am_got = row.top_cand;
			w->am_exp = row.top_ref;
		}
		if (jp) {
			cJSON *e = cJSON_CreateObject();

			cJSON_AddItemToArray(jp, e);
			cJSON_AddNumberToObject(e, "pos", (double)t);
			cJSON_AddNumberToObject(e, "token", g->ids[t]);
			cJSON_AddNumberToObject(e, "rel_err", rel);
			cJSON_AddNumberToObject(e, "argmax", row.top_cand);
			cJSON_AddNumberToObject(e, "argmax_expected", row.top_ref);
		} else if (!arr) {
			printf("  %5zu %8ld %10.3e %8u %8u%s\n", t, (long)g->ids[t], rel,
			       (unsigned)row.top_cand, (unsigned)row.top_ref,
			       row.top_ref != row.top_cand ? "  argmax differs" : "");
		}
	}
	if (exp_h) {
		if (!arr)
			printf("  %-12s %10s %10s\n", "stream", "rel_rms", "budget");
		w->any_hidden = true;
		for (size_t l = 0; l <= r->n_layer; l++) {
			struct ts_diff d;
			double rel;

			ts_diff_init(&d);
			ts_diff_add(&d, exp_h + l * n, r->hidden + l * n, n);
			rel = d.n_nonfinite ? NAN : sqrt(ts_diff_nmse(&d));
			if (!(rel <= w->hidden_rel)) {
				w->hidden_rel = rel;
				w->hidden_seq = s;
				w->hidden_stream = l;
			}
			if (!(rel <= b->hidden[l]) && !w->hidden_over) {
				w->hidden_over = true;
				w->over_rel = rel;
				w->over_budget = b->hidden[l];
				w->over_seq = s;
				w->over_stream = l;
			}
			verify_stream_name(l, nm, sizeof(nm));
			if (jl) {
				cJSON *e = cJSON_CreateObject();

				cJSON_AddItemToArray(jl, e);
				cJSON_AddStringToObject(e, "stream", nm);
				cJSON_AddNumberToObject(e, "rel_rms", rel);
				cJSON_AddNumberToObject(e, "budget", b->hidden[l]);
			} else if (!arr) {
				printf("  %-12s %10.3e %10.3e%s\n", nm, rel, b->hidden[l],
				       rel <= b->hidden[l] ? "" : "  over budget");
			}
		}
	}
	free(own_l);
	free(own_h);
	return QK_OK;
}

/* Print the verdict; QK_E_THRESHOLD when a budget is broken. */
static int verdict(const struct budgets *b, const struct worst *w, size_t n_seq,
		   cJSON *root)
{
	const bool ok_l = w->logit_rel <= b->logit, ok_a = w->n_argmax == 0;
	const bool ok_h = !w->any_hidden || !w->hidden_over;
	char nm[32];

	verify_stream_name(w->hidden_stream, nm, sizeof(nm));
	if (root) {
		cJSON *p = cJSON_AddObjectToObject(root, "worst_position");

		cJSON_AddNumberToObject(p, "sequence", (double)w->logit_seq);
		cJSON_AddNumberToObject(p, "pos", (double)w->logit_pos);
		cJSON_AddNumberToObject(p, "rel_err", w->logit_rel);
		if (w->any_hidden) {
			p = cJSON_AddObjectToObject(root, "worst_stream");
			cJSON_AddNumberToObject(p, "sequence", (double)w->hidden_seq);
			cJSON_AddStringToObject(p, "stream", nm);
			cJSON_AddNumberToObject(p, "rel_rms", w->hidden_rel);
		}
		cJSON_AddNumberToObject(root, "argmax_mismatches", (double)w->n_argmax);
		cJSON_AddBoolToObject(root, "pass", ok_l && ok_a && ok_h);
	} else {
		printf("worst position: sequence %zu position %zu, max |delta logit| %.3e of "
		       "max |logit|\n", w->logit_seq, w->logit_pos, w->logit_rel);
		if (w->any_hidden)
			printf("worst stream:   sequence %zu %s, relative RMS %.3e\n", w->hidden_seq, nm,
			       w->hidden_rel);
		else
			printf("no hidden states in the expected file: residual streams not checked\n");
		printf("golden: %s (%zu sequences)\n", ok_l && ok_a && ok_h ? "pass" : "FAIL", n_seq);
	}
	if (!ok_l)
		fprintf(stderr, "%s: golden: sequence %zu position %zu: max |delta logit| is %.3e "
			"of max |logit|, over the budget %g\n", cli_prog, w->logit_seq, w->logit_pos,
			w->logit_rel, b->logit);
	if (!ok_a)
		fprintf(stderr, "%s: golden: sequence %zu position %zu: argmax %u, expected %u "
			"(%zu positions differ)\n", cli_prog, w->am_seq, w->am_pos,
			(unsigned)w->am_got, (unsigned)w->am_exp, w->n_argmax);
	if (!ok_h)
		fprintf(stderr, "%s: golden: sequence %zu %s: residual relative RMS %.3e, over the "
			"budget %g\n", cli_prog, w->over_seq,
			verify_stream_name(w->over_stream, nm, sizeof(nm)), w->over_rel, w->over_budget);
	return ok_l && ok_a && ok_h ? QK_OK : QK_E_THRESHOLD;
}

/* One budget from text: a finite number >= 0 spanning [s, end). */
static bool budget_num(const char *s, const char *end, double *out)
{
	char buf[64], *e;
	size_t n = (size_t)(end - s);

	while (n && (*s == ' ')) {
		s++;
		n--;
	}
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	*out = strtod(buf, &e);
	return !errno && e != buf && *e == '\0' && isfinite(*out) && *out >= 0;
}

/* The budgets: options, else the expected file's metadata, else 1e-4. A
 * metadata value that is not what it should be is invalid input (exit 3). */
static int budgets_load(struct budgets *b, const struct verify_opts *o,
			const struct qk_catalog *exp, const char *file, size_t n_stream,
			qk_err *err)
{
	const char *ml = qk_catalog_meta(exp, -1, GOLDEN_META_LOGIT);
	const char *mh = qk_catalog_meta(exp, -1, GOLDEN_META_HIDDEN);
	const bool opt_l = !isnan(o->logit_rtol), opt_h = !isnan(o->hidden_rtol);

	b->n_hidden = n_stream;
	b->hidden = malloc(n_stream * sizeof(*b->hidden));
	if (!b->hidden)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	b->logit = opt_l ? o->logit_rtol : GOLDEN_DEFAULT_RTOL;
	for (size_t l = 0; l < n_stream; l++)
		b->hidden[l] = opt_h ? o->hidden_rtol : GOLDEN_DEFAULT_RTOL;
	b->source = opt_l && opt_h ? "options" : "default";
	if (!opt_l && ml) {
		if (!budget_num(ml, ml + strlen(ml), &b->logit))
			return qk_err_set(err, QK_E_INVALID, "%s: metadata '%s' is '%s', expected a "
					  "finite number >= 0", file, GOLDEN_META_LOGIT, ml);
		b->source = "metadata";
	}
	if (!opt_h && mh) {
		const char *p = mh;
		size_t l = 0;

		for (;; l++) {
			const char *c = strchr(p, ',');
			const char *end = c ? c : p + strlen(p);

			if (l >= n_stream || !budget_num(p, end, &b->hidden[l]))
				return qk_err_set(err, QK_E_INVALID, "%s: metadata '%s' is '%s', expected "
						  "%zu comma-separated finite numbers >= 0 (one per "
						  "residual stream)", file, GOLDEN_META_HIDDEN, mh,
						  n_stream);
			if (!c)
				break;
			p = c + 1;
		}
		if (l + 1 != n_stream)
			return qk_err_set(err, QK_E_INVALID, "%s: metadata '%s' has %zu values, "
					  "expected %zu (one per residual stream)", file,
					  GOLDEN_META_HIDDEN, l + 1, n_stream);
		b->source = "metadata";
	}
	return QK_OK;
}

/* Does path start with a zip local-file header ("PK\3\4", an .npz)? */
static bool is_zip(const char *path)
{
	unsigned char b[4] = { 0 };
	FILE *f = fopen(path, "rb");
	bool zip;

	if (!f)
		return false;
	zip = fread(b, 1, 4, f) == 4 && memcmp(b, "PK\3\4", 4) == 0;
	fclose(f);
	return zip;
}

int verify_cmd_golden(const struct verify_opts *o, const char **pos, size_t n_pos,
		      qk_err *err)
{
	struct budgets b = { 0 };
	struct verify_model m;
	struct qk_catalog exp;
	struct worst w;
	cJSON *root = NULL, *arr = NULL;
	size_t s = 0, n_seq = 0;
	char name[32];
	int rc;

	if (n_pos != 2)
		return qk_err_set(err, QK_E_USAGE, "golden needs MODEL and EXPECTED.safetensors, "
				  "got %zu arguments", n_pos);
	memset(&w, 0, sizeof(w));
	if (vv_is_expected(pos[1]))
		return verify_vision_golden(o, pos, err);
	if (!isnan(o->embd_rtol) || o->window_px)
		return qk_err_set(err, QK_E_USAGE, "--%s applies to expected vision outputs "
				  "(vision.embd); '%s' holds none", o->window_px ? "window-size"
				  : "embd-rtol", pos[1]);
	if ((rc = verify_open(&m, pos[0], o, err)))
		return rc;
	qk_catalog_init(&exp);
	if (is_zip(pos[1])) {
		rc = qk_err_set(err, QK_E_INVALID, "%s: a NumPy .npz archive (what run --dump "
				"writes); golden reads expected outputs in safetensors: write them "
				"with qwen-verify run MODEL --save-expected FILE.safetensors", pos[1]);
		goto out;
	}
	if ((rc = st_open(&exp, pos[1], err)))
		goto out;
	for (;; n_seq++) {
		snprintf(name, sizeof(name), "tokens.%zu", n_seq);
		if (!qk_catalog_find(&exp, name))
			break;
	}
	if (n_seq == 0) {
		rc = qk_err_set(err, QK_E_INVALID, "%s: no tensor 'tokens.0': not an expected-outputs "
				"file (tokens.S, logits.S, hidden.S)", pos[1]);
		goto out;
	}
	if ((rc = budgets_load(&b, o, &exp, pos[1], m.in.hp.n_layer + (size_t)1, err)))
		goto out;
	if (o->json) {
		cJSON *jh;

		root = cJSON_CreateObject();
		cJSON_AddItemToObject(root, "model", verify_model_json(&m));
		cJSON_AddStringToObject(root, "expected", pos[1]);
		cJSON_AddNumberToObject(root, "logit_rtol", b.logit);
		jh = cJSON_AddArrayToObject(root, "hidden_rtol");
		for (size_t l = 0; jh && l < b.n_hidden; l++)
			cJSON_AddItemToArray(jh, cJSON_CreateNumber(b.hidden[l]));
		cJSON_AddStringToObject(root, "budgets", b.source);
		arr = cJSON_AddArrayToObject(root, "sequences");
		if (!root || !jh || !arr) {
			rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
			goto out;
		}
	} else {
		char d[256];

		verify_describe(&m, d, sizeof(d));
		printf("model:    %s (%s)\nexpected: %s\nbudgets:  max |delta logit| <= %g x max "
		       "|logit| and the same argmax at every position; residual relative RMS per "
		       "stream as listed (from the %s)\n", m.path, d, pos[1], b.logit,
		       strcmp(b.source, "metadata") == 0 ? "expected file's metadata"
		       : strcmp(b.source, "options") == 0 ? "options" : "defaults");
	}
	for (s = 0; !rc && s < n_seq; s++) {
		struct gseq g;
		struct rf_out r;
		struct verify_seq q;

		if ((rc = load_seq(&exp, pos[1], &m.in.hp, s, &g, err))) {
			free(g.ids);
			break;
		}
		q.ids = g.ids;
		q.T = g.T;
		q.from = 0;
		rc = verify_forward(&m, o, g.hidden != NULL, "golden", s, n_seq, &q, &r, NULL, err);
		verify_progress_end();
		if (!rc)
			rc = check_seq(s, &g, &r, &b, &w, arr, err);
		rf_out_free(&r);
		free(g.ids);
	}
	if (!rc) {
		rc = verdict(&b, &w, n_seq, root);
		if (root) {
			int jrc = cli_emit_json(root, err);

			root = NULL;
			if (jrc)
				rc = jrc;
		}
	}
out:
	free(b.hidden);
	cJSON_Delete(root);
	qk_catalog_free(&exp);
	verify_close(&m);
	return rc;
}
