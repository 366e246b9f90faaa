/* inspect_diff.c - qwen-inspect diff A B: tensors paired by (role, layer), so a
 * safetensors model and its GGUF pair up whatever their names and forms.
 * The result is "same" only when every tensor is paired, every pair compared
 * and every difference is 0 (the tool exits 0 then, 1 otherwise, as cmp
 * does); a pair that cannot be compared (shapes, a type without dequantizer)
 * is counted on the summary line, never taken as equal.
 * Matrices are compared row by row through their views (two row buffers:
 * memory does not grow with the model), small tensors on their canonical
 * fp32 arrays. */
#include "inspect.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../ref/tstats.h"

struct pair_result {
	const struct qk_binding *a, *b;
	struct ts_diff d;
	const char *skip; /* why not compared, or NULL */
};

static const char *bind_name(const struct qk_binding *b)
{
	return b->gguf_name[0] ? b->gguf_name : (b->src ? b->src->name : "?");
}

static int compare_pair(struct pair_result *r, qk_err *err)
{
	const struct qk_binding *a = r->a, *b = r->b;
	float *ra = NULL, *rb = NULL;
	int rc = QK_OK;

	ts_diff_init(&r->d);
	if (a->f32 || b->f32) {
		if (!a->f32 || !b->f32) {
			r->skip = "stored as a matrix on one side only";
			return QK_OK;
		}
		if (a->n_f32 != b->n_f32) {
			r->skip = "different element counts";
			return QK_OK;
		}
		ts_diff_add(&r->d, a->f32, b->f32, (size_t)a->n_f32);
		return QK_OK;
	}
	if (a->view.rows != b->view.rows || a->view.cols != b->view.cols) {
		r->skip = "different shapes";
		return QK_OK;
	}
	ra = malloc(sizeof(float) * (size_t)a->view.cols);
	rb = malloc(sizeof(float) * (size_t)a->view.cols);
	if (!ra || !rb) {
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
		goto out;
	}
	for (uint64_t row = 0; row < a->view.rows; row++) {
		rc = qk_view_read_row(&a->view, row, ra, err);
		if (rc == QK_E_UNSUPPORTED) {
			r->skip = "no dequantizer for its type in this build";
			rc = QK_OK;
			goto out;
		}
		if (rc)
			goto out;
		rc = qk_view_read_row(&b->view, row, rb, err);
		if (rc == QK_E_UNSUPPORTED) {
			r->skip = "no dequantizer for its type in this build";
			rc = QK_OK;
			goto out;
		}
		if (rc)
			goto out;
		ts_diff_add(&r->d, ra, rb, (size_t)a->view.cols);
	}
out:
	free(ra);
	free(rb);
	return rc;
}

/* Is x (of one model) to be paired with the other model? Derived views
 * (Qwen1 q/k/v of the fused c_attn) repeat their source's numbers; MTP
 * tensors count only when the other model has MTP layers too (a GGUF made
 * without --keep-mtp drops them, which is not a difference) */
static bool comparable(const struct qk_binding *x, const struct qk_model *other)
{
	return !x->derived && (!x->mtp || other->n_mtp > 0);
}

/* Same: every tensor paired, every pair compared, every difference 0. */
static bool all_same(const struct pair_result *res, size_t n_res, size_t n_only)
{
	if (n_only)
		return false;
	for (size_t i = 0; i < n_res; i++)
		if (res[i].skip || res[i].d.max_abs != 0 || res[i].d.n_nonfinite)
			return false;
	return true;
}

int inspect_diff(const struct qk_input *a, const struct qk_input *b,
		 const struct inspect_opts *o, bool *same, qk_err *err)
{
	const struct qk_model *ma = &a->model, *mb = &b->model;
	struct pair_result *res;
	size_t n_res = 0, n_only_a = 0, n_only_b = 0, n_skip = 0;
	cJSON *root = NULL, *pairs = NULL, *only_a = NULL, *only_b = NULL;
	int rc = QK_OK;

	if (ma->hp.arch != mb->hp.arch)
		return qk_err_set(err, QK_E_INVALID, "cannot pair tensors of a %s model with a %s model",
				  qk_arch_gguf_name(ma->hp.arch), qk_arch_gguf_name(mb->hp.arch));
	res = calloc(ma->n_bind ? ma->n_bind : 1, sizeof(*res));
	if (!res)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	if (o->json) {
		root = cJSON_CreateObject();
		pairs = cJSON_AddArrayToObject(root, "pairs");
		only_a = cJSON_AddArrayToObject(root, "only_in_a");
		only_b = cJSON_AddArrayToObject(root, "only_in_b");
		cJSON_AddStringToObject(root, "a", a->cat.path);
		cJSON_AddStringToObject(root, "b", b->cat.path);
		cJSON_AddStringToObject(root, "architecture", qk_arch_gguf_name(ma->hp.arch));
	} else {
		printf("a: %s\nb: %s\n", a->cat.path, b->cat.path);
		printf("  %-34s %-22s %-5s %12s %12s %12s %10s\n", "tensor", "role", "layer", "max|d|",
		       "rmse", "nmse", "cosine");
	}
	for (size_t i = 0; i < ma->n_bind; i++) {
		const struct qk_binding *x = &ma->bind[i], *y;
		struct pair_result *r;

		if (!comparable(x, mb))
			continue;
		y = qk_model_get(mb, x->role, x->layer);
		if (!y || !comparable(y, ma)) {
			n_only_a++;
			if (only_a)
				cJSON_AddItemToArray(only_a, cJSON_CreateString(bind_name(x)));
			else
				printf("  %-34s only in a\n", bind_name(x));
			continue;
		}
		r = &res[n_res++];
		r->a = x;
		r->b = y;
		rc = compare_pair(r, err);
		if (rc)
			goto out;
		if (o->json) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "tensor", bind_name(x));
			cJSON_AddStringToObject(e, "b_tensor", bind_name(y));
			cJSON_AddStringToObject(e, "role", qk_role_name(x->role));
			if (x->layer >= 0)
				cJSON_AddNumberToObject(e, "layer", x->layer);
			else
				cJSON_AddNullToObject(e, "layer");
			if (r->skip) {
				cJSON_AddStringToObject(e, "skipped", r->skip);
			} else {
				cJSON_AddNumberToObject(e, "max_abs_diff", r->d.max_abs);
				cJSON_AddNumberToObject(e, "rmse", ts_diff_rmse(&r->d));
				if (isfinite(ts_diff_nmse(&r->d)))
					cJSON_AddNumberToObject(e, "nmse", ts_diff_nmse(&r->d));
				else
					cJSON_AddNullToObject(e, "nmse");
				cJSON_AddNumberToObject(e, "cosine", ts_diff_cosine(&r->d));
				cJSON_AddNumberToObject(e, "n_nonfinite", (double)r->d.n_nonfinite);
			}
			cJSON_AddItemToArray(pairs, e);
		} else if (r->skip) {
			printf("  %-34s %-22s %-5d not compared: %s\n", bind_name(x), qk_role_name(x->role),
			       x->layer, r->skip);
		} else {
			char layer[16];
			snprintf(layer, sizeof(layer), x->layer < 0 ? "-" : "%d", x->layer);
			printf("  %-34s %-22s %-5s %12.4g %12.4g %12.4g %10.6f\n", bind_name(x),
			       qk_role_name(x->role), layer, r->d.max_abs, ts_diff_rmse(&r->d),
			       ts_diff_nmse(&r->d), ts_diff_cosine(&r->d));
		}
	}
	for (size_t i = 0; i < mb->n_bind; i++) {
		const struct qk_binding *y = &mb->bind[i], *x;
		if (!comparable(y, ma))
			continue;
		x = qk_model_get(ma, y->role, y->layer);
		if (x && comparable(x, mb))
			continue;
		n_only_b++;
		if (only_b)
			cJSON_AddItemToArray(only_b, cJSON_CreateString(bind_name(y)));
		else
			printf("  %-34s only in b\n", bind_name(y));
	}
	for (size_t i = 0; i < n_res; i++)
		n_skip += res[i].skip != NULL;
	*same = all_same(res, n_res, n_only_a + n_only_b);
	if (root) {
		cJSON_AddNumberToObject(root, "n_pairs", (double)n_res);
		cJSON_AddNumberToObject(root, "n_not_compared", (double)n_skip);
		cJSON_AddBoolToObject(root, "same", *same);
		rc = cli_emit_json(root, err);
		root = NULL;
	} else {
		double worst = 0;
		char skipped[48] = "";
		for (size_t i = 0; i < n_res; i++)
			if (!res[i].skip && res[i].d.max_abs > worst)
				worst = res[i].d.max_abs;
		if (n_skip)
			snprintf(skipped, sizeof(skipped), " (%zu not compared)", n_skip);
		printf("%zu pairs%s, %zu only in a, %zu only in b, largest max|d| %.6g\n", n_res,
		       skipped, n_only_a, n_only_b, worst);
	}
out:
	cJSON_Delete(root);
	free(res);
	return rc;
}
