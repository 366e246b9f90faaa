/* verify_vcompare.c - `qwen-verify compare --vision REF CANDIDATE`: the
 * same pixels through two vision towers (an HF checkpoint's, an mmproj
 * GGUF's, in any dtype or quant type) and, per output (the image embeddings,
 * each deepstack output) and per output row (merged token): max |delta|,
 * NMSE, cosine; thresholds max-embd-diff, max-embd-nmse, min-embd-cos decide
 * the exit status, so CI can gate a quantized projector. See verify.h and
 * man/qwen-verify.1 (COMPARE OF VISION TOWERS). */
#include "verify.h"
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VC_DEFAULT_NMSE 1e-6 /* equivalence, when no threshold is given */
#define VC_ROWS_LISTED 16    /* text output: every row up to this many, else the worst */

/* per row of one output */
struct vc_row {
	double max_abs, nmse, cos;
};

/* one output (embd or deepstack K) */
struct vc_out {
	char name[24];
	size_t n_rows;
	struct vc_row *rows;  /* [n_rows] */
	double max_abs;       /* over every value */
	size_t max_row;
	double nmse;          /* sum d^2 / sum ref^2 over every value */
	double nmse_row_max;  /* the worst row's NMSE */
	double cos_min, cos_mean;
	size_t cos_row;       /* the row of cos_min */
};

static double safe_ratio(double num, double den)
{
	return den > 0.0 ? num / den : num > 0.0 ? INFINITY : 0.0;
}

/* a [n, w] against b [n, w] (a the reference); rows owned by o */
static int measure(const float *a, const float *b, size_t n, size_t w, struct vc_out *o,
		   qk_err *err)
{
	double sd = 0.0, sr = 0.0, cs = 0.0;

	o->n_rows = n;
	if (!(o->rows = calloc(n ? n : 1, sizeof(*o->rows))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	o->cos_min = INFINITY;
	for (size_t r = 0; r < n; r++) {
		const float *x = a + r * w, *y = b + r * w;
		double d2 = 0.0, x2 = 0.0, y2 = 0.0, xy = 0.0, mx = 0.0;
		struct vc_row *q = &o->rows[r];

		for (size_t i = 0; i < w; i++) {
			const double u = x[i], v = y[i], d = fabs(v - u);

			mx = d > mx || isnan(d) ? d : mx;
			d2 += (v - u) * (v - u);
			x2 += u * u;
			y2 += v * v;
			xy += u * v;
		}
		q->max_abs = mx;
		q->nmse = safe_ratio(d2, x2);
		q->cos = d2 == 0.0 ? 1.0 : x2 == 0.0 || y2 == 0.0 ? 0.0
			 : xy / (sqrt(x2) * sqrt(y2));
		if (!(mx <= o->max_abs)) {
			o->max_abs = mx;
			o->max_row = r;
		}
		if (!(q->nmse <= o->nmse_row_max))
			o->nmse_row_max = q->nmse;
		if (!(q->cos >= o->cos_min)) {
			o->cos_min = q->cos;
			o->cos_row = r;
		}
		sd += d2;
		sr += x2;
		cs += q->cos;
	}
	o->nmse = safe_ratio(sd, sr);
	o->cos_mean = n ? cs / (double)n : 1.0;
	return QK_OK;
}

/* Qwen2.5-VL: a tower without a window of its own (an mmproj) takes the
 * other's (config.json's) instead of llama.cpp's 112 pixels */
static void share_window(struct vv_model *a, struct vv_model *b)
{
	struct vv_model *from = a->window_assumed ? b : a, *to = a->window_assumed ? a : b;

	if (a->window_assumed == b->window_assumed || from->vm.hp.kind != RF_VIS_QWEN25VL ||
	    to->vm.hp.kind != RF_VIS_QWEN25VL)
		return;
	to->vm.hp.window = from->vm.hp.window;
	to->window_assumed = false;
	to->window_from_other = true;
}

static int check_pair(const struct vv_model *a, const struct vv_model *b, qk_err *err)
{
	const struct rf_vis_hparams *x = &a->vm.hp, *y = &b->vm.hp;

	if (x->in_ch != y->in_ch || x->tpatch != y->tpatch || x->patch != y->patch ||
	    x->merge != y->merge || x->out_dim != y->out_dim || x->n_deep != y->n_deep)
		return qk_err_set(err, QK_E_UNSUPPORTED, "'%s' takes %u x %u x %u x %u patches, merges "
				  "%u x %u into %u values with %u deepstack outputs, '%s' %u x %u x "
				  "%u x %u, %u x %u, %u, %u: their image embeddings cannot be "
				  "compared", a->path, x->in_ch, x->tpatch, x->patch, x->patch,
				  x->merge, x->merge, x->out_dim, x->n_deep, b->path, y->in_ch,
				  y->tpatch, y->patch, y->patch, y->merge, y->merge, y->out_dim,
				  y->n_deep);
	return QK_OK;
}

/* thresholds: only the vision rows; the defaults when none is given */
static int vc_thresholds(const struct verify_opts *o, struct vt_set *t, qk_err *err)
{
	int rc;

	*t = o->thr;
	if (o->thresholds && (rc = vt_load_yaml(t, o->thresholds, err)))
		return rc;
	for (int i = 0; i < VT_COUNT; i++)
		if (t->set[i] && !vt_rows[i].vision)
			return qk_err_set(err, QK_E_USAGE, "threshold %s bounds text logits; compare of "
					  "vision towers takes max-embd-diff, max-embd-nmse and "
					  "min-embd-cos", vt_rows[i].name);
	if (!t->any) {
		t->set[VT_MAX_EMBD_NMSE] = true;
		t->val[VT_MAX_EMBD_NMSE] = VC_DEFAULT_NMSE;
	}
	return QK_OK;
}

struct vc_report {
	struct vc_out *outs;  /* [n_outs]: embd, then deepstack 0 .. */
	size_t n_outs;
	double vals[VT_COUNT];
	bool fail[VT_COUNT];
	bool pass;
};

static void judge(const struct vt_set *t, struct vc_report *r)
{
	double mx = 0.0, nm = 0.0, cmin = INFINITY;

	for (size_t i = 0; i < r->n_outs; i++) {
		const struct vc_out *o = &r->outs[i];

		mx = !(o->max_abs <= mx) ? o->max_abs : mx;
		nm = !(o->nmse <= nm) ? o->nmse : nm;
		cmin = !(o->cos_min >= cmin) ? o->cos_min : cmin;
	}
	r->vals[VT_MAX_EMBD_DIFF] = mx;
	r->vals[VT_MAX_EMBD_NMSE] = nm;
	r->vals[VT_MIN_EMBD_COS] = cmin;
	r->pass = true;
	for (int i = 0; i < VT_COUNT; i++) {
		if (!t->set[i])
			continue;
		r->fail[i] = vt_rows[i].is_min ? !(r->vals[i] >= t->val[i])
					       : !(r->vals[i] <= t->val[i]);
		r->pass &= !r->fail[i];
	}
}

static void print_rows(const struct vc_out *o)
{
	size_t *idx = malloc(o->n_rows * sizeof(*idx) + 1), n = o->n_rows;

	if (!idx)
		return;
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	if (n > VC_ROWS_LISTED) { /* the lowest cosines first (selection, n is small) */
		for (size_t i = 0; i < VC_ROWS_LISTED; i++)
			for (size_t j = i + 1; j < n; j++)
				if (o->rows[idx[j]].cos < o->rows[idx[i]].cos) {
					const size_t k = idx[i];

					idx[i] = idx[j];
					idx[j] = k;
				}
		printf("the %d rows of %s with the lowest cosine:\n", VC_ROWS_LISTED, o->name);
		n = VC_ROWS_LISTED;
	}
	printf("%-8s %12s %12s %12s\n", "row", "max |Δ|", "NMSE", "cosine");
	for (size_t i = 0; i < n; i++)
		printf("%-8zu %12.4e %12.4e %12.9f\n", idx[i], o->rows[idx[i]].max_abs,
		       o->rows[idx[i]].nmse, o->rows[idx[i]].cos);
	free(idx);
}

static void print_text(const struct vv_model *a, const struct vv_model *b,
		       const struct vv_input *in, const struct vt_set *t, const struct vc_report *r)
{
	char d[256], g[256];

	vv_describe(a, d, sizeof(d));
	printf("reference: %s (%s)\n", a->path, d);
	vv_describe(b, d, sizeof(d));
	printf("candidate: %s (%s)\n", b->path, d);
	vv_grid_str(in, g, sizeof(g));
	printf("pixels:    %s, grid %s: %zu patches -> %zu tokens\n\n", in->source, g, in->n_patch,
	       r->outs[0].n_rows);
	printf("%-12s %12s %6s %12s %12s %12s %6s %12s\n", "output", "max |Δ|", "row", "NMSE",
	       "row NMSE max", "cosine min", "row", "cosine mean");
	for (size_t i = 0; i < r->n_outs; i++) {
		const struct vc_out *o = &r->outs[i];

		printf("%-12s %12.4e %6zu %12.4e %12.4e %12.9f %6zu %12.9f\n", o->name, o->max_abs,
		       o->max_row, o->nmse, o->nmse_row_max, o->cos_min, o->cos_row, o->cos_mean);
	}
	putchar('\n');
	print_rows(&r->outs[0]);
	printf("\n====== Thresholds (%s) ======\n", t->any ? "given" : "defaults: equivalence");
	vt_print(t, r->vals, r->fail);
	printf("compare: %s\n", r->pass ? "pass" : "FAIL");
}

static cJSON *out_json(const struct vc_out *o)
{
	cJSON *e = cJSON_CreateObject(), *rows;

	cJSON_AddStringToObject(e, "name", o->name);
	cJSON_AddNumberToObject(e, "max_abs_embd_diff", o->max_abs);
	cJSON_AddNumberToObject(e, "max_abs_row", (double)o->max_row);
	cJSON_AddNumberToObject(e, "embd_nmse", o->nmse);
	cJSON_AddNumberToObject(e, "embd_nmse_row_max", o->nmse_row_max);
	cJSON_AddNumberToObject(e, "embd_cos_min", o->cos_min);
	cJSON_AddNumberToObject(e, "embd_cos_min_row", (double)o->cos_row);
	cJSON_AddNumberToObject(e, "embd_cos_mean", o->cos_mean);
	rows = cJSON_AddArrayToObject(e, "rows");
	for (size_t i = 0; rows && i < o->n_rows; i++) {
		cJSON *q = cJSON_CreateObject();

		cJSON_AddNumberToObject(q, "max_abs", o->rows[i].max_abs);
		cJSON_AddNumberToObject(q, "nmse", o->rows[i].nmse);
		cJSON_AddNumberToObject(q, "cos", o->rows[i].cos);
		cJSON_AddItemToArray(rows, q);
	}
	return e;
}

static cJSON *to_json(const struct vv_model *a, const struct vv_model *b,
		      const struct vv_input *in, const struct vt_set *t, const struct vc_report *r)
{
	cJSON *root = cJSON_CreateObject(), *arr;

	cJSON_AddStringToObject(root, "reference", a->path);
	cJSON_AddStringToObject(root, "candidate", b->path);
	cJSON_AddStringToObject(root, "pixels", in->source);
	cJSON_AddItemToObject(root, "image_grid_thw", vv_grid_json(in));
	cJSON_AddNumberToObject(root, "n_patch", (double)in->n_patch);
	arr = cJSON_AddArrayToObject(root, "outputs");
	for (size_t i = 0; arr && i < r->n_outs; i++)
		cJSON_AddItemToArray(arr, out_json(&r->outs[i]));
	for (int i = 0; i < VT_COUNT; i++)
		if (vt_rows[i].vision)
			cJSON_AddNumberToObject(root, vt_rows[i].key, r->vals[i]);
	vt_json(root, t, r->vals, r->fail);
	cJSON_AddBoolToObject(root, "default_thresholds", !t->any);
	cJSON_AddBoolToObject(root, "pass", r->pass);
	return root;
}

static int measure_all(const struct rf_vis_out *x, const struct rf_vis_out *y,
		       struct vc_report *r, qk_err *err)
{
	const size_t n = x->n_tok, w = x->out_dim;
	int rc;

	r->n_outs = 1 + (size_t)x->n_deep;
	if (!(r->outs = calloc(r->n_outs, sizeof(*r->outs))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	snprintf(r->outs[0].name, sizeof(r->outs[0].name), "embd");
	if ((rc = measure(x->embd, y->embd, n, w, &r->outs[0], err)))
		return rc;
	for (uint32_t k = 0; k < x->n_deep; k++) {
		snprintf(r->outs[k + 1].name, sizeof(r->outs[k + 1].name), "deepstack %u", k);
		if ((rc = measure(x->deep + k * n * w, y->deep + k * n * w, n, w, &r->outs[k + 1],
				  err)))
			return rc;
	}
	return QK_OK;
}

int verify_vision_compare(const struct verify_opts *o, const char **pos, size_t n_pos,
			  qk_err *err)
{
	struct vv_model a, b;
	struct vv_input in;
	struct rf_vis_out x, y;
	struct vc_report rep;
	struct vt_set t;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&in, 0, sizeof(in));
	memset(&x, 0, sizeof(x));
	memset(&y, 0, sizeof(y));
	memset(&rep, 0, sizeof(rep));
	if (n_pos != 2)
		return qk_err_set(err, QK_E_USAGE, "compare needs REF and CANDIDATE, got %zu "
				  "arguments", n_pos);
	if (o->base || o->tokens || o->tokens_file || verify_is_text(o) || o->ctx_set ||
	    o->save_base)
		return qk_err_set(err, QK_E_USAGE, "compare of vision towers runs pixels (--pixels, "
				  "--grid): no --base, --tokens, --tokens-file, --text, --text-file, "
				  "--chat, --ctx, --chunks or --save-base");
	if ((rc = vc_thresholds(o, &t, err)) || (rc = vv_open(&a, pos[0], o, err)) ||
	    (rc = vv_open(&b, pos[1], o, err)))
		goto out;
	share_window(&a, &b);
	if ((rc = check_pair(&a, &b, err)) ||
	    (rc = vv_input_load(&in, o, &a.vm.hp, err)) ||
	    (rc = vv_run(&a, &in, o, false, &x, err)) || (rc = vv_run(&b, &in, o, false, &y, err)) ||
	    (rc = measure_all(&x, &y, &rep, err)))
		goto out;
	judge(&t, &rep);
	if (o->json)
		rc = cli_emit_json(to_json(&a, &b, &in, &t, &rep), err);
	else
		print_text(&a, &b, &in, &t, &rep);
	fflush(stdout);
	for (int i = 0; !rc && i < VT_COUNT; i++)
		if (rep.fail[i])
			vt_report_failure(&t, i, rep.vals[i]);
	if (!rc && !rep.pass)
		rc = QK_E_THRESHOLD;
out:
	for (size_t i = 0; i < rep.n_outs; i++)
		free(rep.outs[i].rows);
	free(rep.outs);
	rf_vis_out_free(&x);
	rf_vis_out_free(&y);
	vv_input_free(&in);
	vv_close(&b);
	vv_close(&a);
	return rc;
}
