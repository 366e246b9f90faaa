/* verify_thresh.c - the compare thresholds: their table, option values and
 * the YAML file (libyaml's event parser). See verify.h. */
#include "verify.h"
#include "common.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "../formats/base/io.h"

#define THRESH_FILE_MAX (1u << 20) /* bytes of a thresholds file */

/* Defaults (used only when no threshold is given at all) ask for two
 * equivalent models: what the fp32 reference gives for the same weights in
 * another container or an exact dtype (bf16 -> f32, bf16 safetensors ->
 * bf16 GGUF) is bit-identical, so these leave room only for rounding. */
const struct vt_row vt_rows[VT_COUNT] = {
	[VT_MAX_KLD] = { "max-kld", "kld_mean", false, INFINITY, 1e-6,
			 "fail when the mean KLD exceeds X" },
	[VT_MAX_KLD_P99] = { "max-kld-p99", "kld_p99", false, INFINITY, NAN,
			     "fail when the 99th percentile of KLD exceeds X" },
	[VT_MAX_KLD_MAX] = { "max-kld-max", "kld_max", false, INFINITY, NAN,
			     "fail when the largest KLD exceeds X" },
	[VT_MIN_TOP1] = { "min-top1", "top1_agreement", true, 100, 100,
			  "fail when same-top-1 is below PCT percent" },
	[VT_MAX_RMS_DP] = { "max-rms-dp", "rms_dp", false, 100, NAN,
			    "fail when RMS delta-p exceeds PCT percent" },
	[VT_MAX_PPL_RATIO] = { "max-ppl-ratio", "ppl_ratio", false, INFINITY, NAN,
			       "fail when PPL(candidate)/PPL(reference) exceeds X" },
	[VT_MAX_LOGIT_DIFF] = { "max-logit-diff", "max_abs_logit_diff", false, INFINITY, NAN,
				"fail when max |delta logit| exceeds X" },
	[VT_MAX_LAYER_NMSE] = { "max-layer-nmse", "max_layer_nmse", false, INFINITY, 1e-6,
				"fail when a residual stream's NMSE exceeds X" },
	[VT_MAX_EMBD_DIFF] = { "max-embd-diff", "max_abs_embd_diff", false, INFINITY, NAN,
			       "vision: fail when max |delta| of an image embedding exceeds X",
			       true },
	[VT_MAX_EMBD_NMSE] = { "max-embd-nmse", "embd_nmse", false, INFINITY, NAN,
			       "vision: fail when the NMSE of the embeddings exceeds X", true },
	[VT_MIN_EMBD_COS] = { "min-embd-cos", "embd_cos_min", true, 1, NAN,
			      "vision: fail when an embedding row's cosine is below X", true },
};

int vt_parse(int id, const char *s, const char *where, double *out, qk_err *err)
{
	const struct vt_row *r = &vt_rows[id];
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (r->hi == 100 && end != s && strcmp(end, "%") == 0) /* a percent row: "90%" */
		end++;
	if (!*s || end == s || *end || errno == ERANGE || !isfinite(v))
		return qk_err_set(err, QK_E_USAGE, "%s: '%s' is not a finite number", where, s);
	if (v < 0 || v > r->hi)
		return qk_err_set(err, QK_E_USAGE, "%s: %s is outside [0, %g]", where, s, r->hi);
	/* a same-top-1 floor of at most 1 % passes every model: a fraction
	 * (0.9 for 90 %) is the likely intent, so say so instead of guessing */
	if (id == VT_MIN_TOP1 && v > 0 && v <= 1)
		return qk_err_set(err, QK_E_USAGE, "%s: %s looks like a fraction, but min-top1 is a "
				  "percentage: write %g for %g %%", where, s, v * 100, v * 100);
	*out = v;
	return QK_OK;
}

void vt_apply_defaults(struct vt_set *t)
{
	if (t->any)
		return;
	for (int i = 0; i < VT_COUNT; i++)
		if (!isnan(vt_rows[i].dflt)) {
			t->set[i] = true;
			t->val[i] = vt_rows[i].dflt;
		}
}

static int find_row(const char *name)
{
	for (int i = 0; i < VT_COUNT; i++)
		if (strcmp(vt_rows[i].name, name) == 0)
			return i;
	return -1;
}

static const char *event_name(yaml_event_type_t t)
{
	static const char *const names[] = {
		[YAML_NO_EVENT] = "nothing", [YAML_STREAM_START_EVENT] = "stream start",
		[YAML_STREAM_END_EVENT] = "end of file", [YAML_DOCUMENT_START_EVENT] = "a document",
		[YAML_DOCUMENT_END_EVENT] = "end of document", [YAML_ALIAS_EVENT] = "an alias",
		[YAML_SCALAR_EVENT] = "a scalar", [YAML_SEQUENCE_START_EVENT] = "a sequence",
		[YAML_SEQUENCE_END_EVENT] = "end of sequence",
		[YAML_MAPPING_START_EVENT] = "a mapping", [YAML_MAPPING_END_EVENT] = "end of mapping",
	};
	return (size_t)t < sizeof(names) / sizeof(names[0]) && names[t] ? names[t] : "?";
}

/* The expected shape: stream start, document start, mapping start,
 * (scalar key, scalar value)*, mapping end, document end, stream end. */
enum { S_STREAM, S_DOC, S_MAP, S_KEY, S_VALUE, S_DOC_END, S_END, S_DONE };

struct yctx {
	struct vt_set *t;
	const char *path;
	bool seen[VT_COUNT];
	int key;                /* row of the pending key, or -1 */
};

static int on_scalar(struct yctx *c, int *state, const yaml_event_t *ev, qk_err *err)
{
	const char *v = (const char *)ev->data.scalar.value;
	const size_t line = ev->start_mark.line + 1;
	char where[512];
	double x;
	int rc;

	snprintf(where, sizeof(where), "%s:%zu", c->path, line);
	if (*state == S_VALUE)
		snprintf(where, sizeof(where), "%s:%zu: %s", c->path, line, vt_rows[c->key].name);
	if (*state == S_KEY) {
		c->key = find_row(v);
		if (c->key < 0) {
			char known[256];
			size_t n = 0;

			known[0] = '\0';
			for (int i = 0; i < VT_COUNT && n < sizeof(known); i++)
				n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s",
						      i ? ", " : "", vt_rows[i].name);
			return qk_err_set(err, QK_E_USAGE, "%s: unknown threshold '%.60s' (known: %s)",
					  where, v, known);
		}
		if (c->seen[c->key])
			return qk_err_set(err, QK_E_USAGE, "%s: threshold '%s' given twice", where, v);
		c->seen[c->key] = true;
		*state = S_VALUE;
		return QK_OK;
	}
	if ((rc = vt_parse(c->key, v, where, &x, err)))
		return rc;
	if (!c->t->set[c->key]) {
		c->t->set[c->key] = true;
		c->t->val[c->key] = x;
	}
	c->t->any = true;
	*state = S_KEY;
	return QK_OK;
}

static int step(struct yctx *c, int *state, const yaml_event_t *ev, qk_err *err)
{
	static const yaml_event_type_t want[] = {
		[S_STREAM] = YAML_STREAM_START_EVENT, [S_DOC] = YAML_DOCUMENT_START_EVENT,
		[S_MAP] = YAML_MAPPING_START_EVENT, [S_DOC_END] = YAML_DOCUMENT_END_EVENT,
		[S_END] = YAML_STREAM_END_EVENT,
	};
	const size_t line = ev->start_mark.line + 1;

	if (*state == S_KEY && ev->type == YAML_MAPPING_END_EVENT) {
		*state = S_DOC_END;
		return QK_OK;
	}
	if (*state == S_KEY || *state == S_VALUE) {
		if (ev->type == YAML_SCALAR_EVENT)
			return on_scalar(c, state, ev, err);
		return qk_err_set(err, QK_E_USAGE, "%s:%zu: expected a threshold %s, found %s",
				  c->path, line, *state == S_KEY ? "name" : "value (a number)",
				  event_name(ev->type));
	}
	if (ev->type != want[*state]) {
		if (*state == S_DOC && ev->type == YAML_STREAM_END_EVENT)
			return qk_err_set(err, QK_E_USAGE,
					  "%s: empty, expected a mapping of threshold names to numbers",
					  c->path);
		if (*state == S_END)
			return qk_err_set(err, QK_E_USAGE, "%s:%zu: more than one YAML document",
					  c->path, line);
		return qk_err_set(err, QK_E_USAGE,
				  "%s:%zu: expected a mapping of threshold names to numbers, found %s",
				  c->path, line, event_name(ev->type));
	}
	*state = *state == S_MAP ? S_KEY : *state + 1;
	return QK_OK;
}

int vt_load_yaml(struct vt_set *t, const char *path, qk_err *err)
{
	struct yctx c = { .t = t, .path = path, .key = -1 };
	yaml_parser_t p;
	char *txt = NULL;
	size_t len;
	int state = S_STREAM, rc;

	if ((rc = qk_read_file(path, THRESH_FILE_MAX, &txt, &len, err)))
		return rc;
	if (!yaml_parser_initialize(&p)) {
		free(txt);
		return qk_err_set(err, QK_E_NOMEM, "out of memory for a YAML parser");
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)txt, len);
	while (!rc && state != S_DONE) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&p, &ev)) {
			rc = qk_err_set(err, QK_E_USAGE, "%s:%zu: not valid YAML: %s", path,
					(size_t)p.problem_mark.line + 1,
					p.problem ? p.problem : "parse error");
			break;
		}
		if (state == S_END && ev.type == YAML_STREAM_END_EVENT)
			state = S_DONE;
		else
			rc = step(&c, &state, &ev, err);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	free(txt);
	if (!rc)
		t->any = true; /* a file takes over from the defaults, even an empty mapping */
	return rc;
}

void vt_print(const struct vt_set *t, const double *vals, const bool *fail)
{
	for (int i = 0; i < VT_COUNT; i++)
		if (t->set[i])
			printf("%-15s %-3s %-10g %-19s %-12.6g %s\n", vt_rows[i].name,
			       vt_rows[i].is_min ? ">=" : "<=", t->val[i], vt_rows[i].key, vals[i],
			       fail[i] ? "FAIL" : "ok");
}

void vt_json(cJSON *o, const struct vt_set *t, const double *vals, const bool *fail)
{
	cJSON *th = cJSON_AddArrayToObject(o, "thresholds");
	cJSON *failed = cJSON_AddArrayToObject(o, "failed");

	for (int i = 0; th && failed && i < VT_COUNT; i++) {
		cJSON *e;

		if (!t->set[i])
			continue;
		e = cJSON_CreateObject();
		cJSON_AddItemToArray(th, e);
		cJSON_AddStringToObject(e, "name", vt_rows[i].name);
		cJSON_AddStringToObject(e, "value_key", vt_rows[i].key);
		cJSON_AddNumberToObject(e, "limit", t->val[i]);
		cJSON_AddNumberToObject(e, "value", vals[i]);
		cJSON_AddBoolToObject(e, "pass", !fail[i]);
		if (fail[i])
			cJSON_AddItemToArray(failed, cJSON_CreateString(vt_rows[i].name));
	}
}

void vt_report_failure(const struct vt_set *t, int i, double v)
{
	fprintf(stderr, "%s: compare: %s %.6g %s: %s is %.6g\n", cli_prog, vt_rows[i].name,
		t->val[i], vt_rows[i].is_min ? "not reached" : "exceeded", vt_rows[i].key, v);
}
