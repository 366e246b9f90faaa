/* inspect_stats.c - qwen-inspect --stats: streams each tensor through the
 * dequantizer of its type in fixed chunks (memory does not grow with tensor
 * size) into a ts_stats accumulator. */
#include "inspect_stats.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>

#include "../formats/base/dtype.h"
#include "../formats/container/pq.h"

#define CHUNK_ELEMS 65536 /* fp32 values per chunk (a multiple of every block size) */

/* why a dtype has no statistics, in words that are true for it */
static const struct {
	int dtype;
	const char *why;
} no_stats[] = {
	{ QK_DT_F8_E5M2, "a floating-point format qwenkit does not decode (F8)" },
	{ QK_DT_F8_E4M3, "a floating-point format qwenkit does not decode (F8)" },
	{ QK_DT_F8_E8M0, "a floating-point format qwenkit does not decode (F8)" },
	{ QK_DT_F8_E4M3FNUZ, "a floating-point format qwenkit does not decode (F8)" },
	{ QK_DT_F8_E5M2FNUZ, "a floating-point format qwenkit does not decode (F8)" },
	{ QK_DT_F6_E2M3, "a floating-point format qwenkit does not decode (F6)" },
	{ QK_DT_F6_E3M2, "a floating-point format qwenkit does not decode (F6)" },
	{ QK_DT_F4, "a floating-point format qwenkit does not decode (F4)" },
	{ QK_DT_F64, "a floating-point format qwenkit does not decode (F64)" },
	{ QK_DT_C64, "complex numbers, not weights" },
};

const char *inspect_why_not(int dtype)
{
	for (size_t i = 0; i < sizeof(no_stats) / sizeof(no_stats[0]); i++)
		if (no_stats[i].dtype == dtype)
			return no_stats[i].why;
	return dtype < QK_DT_EXTRA ? "a ggml type with no dequantizer in this build"
				   : "integers or booleans, not weights";
}

/* a matrix stored pre-quantized (pq.h): its dequantized values, row by row */
static bool pq_stats(const struct qk_tensor *t, struct ts_stats *s, const char **why)
{
	const struct pq_store *pq = t->pq;
	float *row = malloc((size_t)pq->cols * sizeof(float)); /* [cols] */
	qk_err err;

	if (!row) {
		*why = "out of memory";
		return false;
	}
	for (uint64_t r = 0; r < pq->rows; r++) {
		if (pq_read_row(pq, r, row, &err)) {
			free(row);
			*why = "unreadable storage";
			return false;
		}
		ts_stats_add(s, row, (size_t)pq->cols);
	}
	free(row);
	return true;
}

bool inspect_tensor_stats(const struct qk_tensor *t, struct ts_stats *s, const char **why)
{
	static float buf[CHUNK_ELEMS];
	const struct qt_type *qt = qt_type_get(t->dtype);
	uint64_t done = 0;

	ts_stats_init(s);
	if (t->pq)
		return pq_stats(t, s, why);
	if (!qt || !qt->dequantize) {
		*why = inspect_why_not(t->dtype);
		return false;
	}
	if (qt->blck > CHUNK_ELEMS || CHUNK_ELEMS % qt->blck) {
		*why = "block size too large";
		return false;
	}
	while (done < t->n_elem) {
		uint64_t n = t->n_elem - done;
		if (n > CHUNK_ELEMS)
			n = CHUNK_ELEMS;
		/* byte offset of element `done`: done is a multiple of the block size */
		qt->dequantize(t->data + done / qt->blck * qt->bytes, buf, (int64_t)n);
		ts_stats_add(s, buf, (size_t)n);
		done += n;
	}
	return true;
}

/* Does catalog tensor i match the --stats pattern? The pattern is matched
 * against the tensor's own name (HF or GGUF, as stored), and for a Qwen model
 * also against its GGUF name and its role ("*norm*", "attn_q",
 * "blk.0.*" and "model.layers.0.*" all work on either kind of input). */
static bool selected(const struct qk_input *in, size_t i, const char *pattern)
{
	const struct qk_tensor *t = &in->cat.tensors[i];
	const struct qk_claim *c;
	const struct qk_binding *b;

	if (!pattern || fnmatch(pattern, t->name, 0) == 0)
		return true;
	if (!in->bound || in->model.claims[i].role < 0)
		return false;
	c = &in->model.claims[i];
	if (fnmatch(pattern, qk_role_name(c->role), 0) == 0)
		return true;
	b = qk_model_get(&in->model, c->role, c->layer);
	return b && b->gguf_name[0] && fnmatch(pattern, b->gguf_name, 0) == 0;
}

int inspect_stats_text(const struct qk_input *in, const char *pattern, qk_err *err)
{
	const struct qk_catalog *cat = &in->cat;
	size_t shown = 0;

	(void)err;
	printf("stats%s%s%s:\n", pattern ? " of '" : "", pattern ? pattern : "", pattern ? "'" : "");
	printf("  %-56s %13s %13s %13s %13s %8s %8s\n", "name", "min", "max", "mean", "std", "nan",
	       "inf");
	for (size_t i = 0; i < cat->n_tensors; i++) {
		const struct qk_tensor *t = &cat->tensors[i];
		struct ts_stats s;
		const char *why;

		if (!selected(in, i, pattern))
			continue;
		shown++;
		if (!inspect_tensor_stats(t, &s, &why)) {
			printf("  %-56s not computed (%s: %s)\n", t->name, qk_dtype_name(t->dtype), why);
			continue;
		}
		if (s.n == 0)
			printf("  %-56s %13s %13s %13s %13s %8" PRIu64 " %8" PRIu64 "\n", t->name, "-", "-",
			       "-", "-", s.n_nan, s.n_inf);
		else
			printf("  %-56s %13.6g %13.6g %13.6g %13.6g %8" PRIu64 " %8" PRIu64 "\n", t->name,
			       s.min, s.max, s.mean, ts_stats_std(&s), s.n_nan, s.n_inf);
	}
	if (!shown)
		printf("  (no tensor matches)\n");
	return QK_OK;
}

int inspect_stats_json(const struct qk_input *in, const char *pattern, cJSON *root,
		       qk_err *err)
{
	const struct qk_catalog *cat = &in->cat;
	cJSON *arr = cJSON_AddArrayToObject(root, "stats");

	if (!arr)
		return qk_err_set(err, QK_E_NOMEM, "out of memory building JSON");
	if (pattern)
		cJSON_AddStringToObject(root, "stats_pattern", pattern);
	for (size_t i = 0; i < cat->n_tensors; i++) {
		const struct qk_tensor *t = &cat->tensors[i];
		struct ts_stats s;
		const char *why;
		cJSON *e;

		if (!selected(in, i, pattern))
			continue;
		e = cJSON_CreateObject();
		if (!e)
			return qk_err_set(err, QK_E_NOMEM, "out of memory building JSON");
		cJSON_AddStringToObject(e, "name", t->name);
		if (!inspect_tensor_stats(t, &s, &why)) {
			cJSON_AddBoolToObject(e, "computed", 0);
			cJSON_AddStringToObject(e, "reason", why);
		} else {
			cJSON_AddBoolToObject(e, "computed", 1);
			cJSON_AddNumberToObject(e, "count", (double)s.n);
			if (s.n) {
				cJSON_AddNumberToObject(e, "min", s.min);
				cJSON_AddNumberToObject(e, "max", s.max);
				cJSON_AddNumberToObject(e, "mean", s.mean);
				cJSON_AddNumberToObject(e, "std", ts_stats_std(&s));
			}
			cJSON_AddNumberToObject(e, "nan", (double)s.n_nan);
			cJSON_AddNumberToObject(e, "inf", (double)s.n_inf);
		}
		cJSON_AddItemToArray(arr, e);
	}
	return QK_OK;
}
