/* quant_print.c - what `qwen-quant plan` prints; see quant.h. */
#include "quant.h"

#include <inttypes.h>
#include <string.h>

#include <cJSON.h>

#include "common.h"
#include "gguf_set.h"
#include "../quant/qtype.h"

static const char *const why_names[] = {
	[QW_KEPT] = "kept (never quantized)", [QW_DEFAULT] = "mix default",
	[QW_MIX] = "mix rule", [QW_RECIPE] = "recipe", [QW_OPTION] = "option",
	[QW_FALLBACK] = "fallback (row length)", [QW_COPY] = "copied (COPY)",
};

static double bpw(uint64_t bytes, uint64_t elems)
{
	return elems ? (double)bytes * 8.0 / (double)elems : 0.0;
}

static const char *type_name(int type)
{
	const struct qt_type *q = qt_type_get(type);

	return q ? q->name : "?";
}

static void print_tensor(FILE *f, const struct quant_job *j, size_t i)
{
	const struct wp_tensor *t = &j->plan.t[i];
	const struct quant_info *in = &j->info[i];
	char ne[96], why[80];

	cli_ne_str(t->ne, t->n_dims, ne, sizeof(ne));
	if (in->rule >= 0)
		snprintf(why, sizeof(why), "%s, recipe line %u", why_names[in->why],
			 j->recipe.rules[in->rule].line);
	else
		snprintf(why, sizeof(why), "%s", why_names[in->why]);
	if (t->qw) /* --imatrix: this tensor is quantized with weights */
		snprintf(why + strlen(why), sizeof(why) - strlen(why), ", imatrix");
	fprintf(f, "  %-40s %-5s %-22s %12" PRIu64 " %6.2f  %-5s %s\n", t->name, type_name(t->type),
		ne, t->nbytes, bpw(t->nbytes, t->n_elem), type_name(in->src_type), why);
}

void quant_print_plan(FILE *f, const struct quant_job *j, const struct quant_opts *o,
		      const struct gguf_set *set)
{
	uint64_t elems = 0, bytes = 0;

	fprintf(f, "plan for %s: %s (general.file_type %" PRIu32 ")%s%s%s\n", j->in.cat.path,
		quant_type_label(j, o), j->ftype, o->recipe ? ", recipe " : "", o->recipe ? o->recipe : "",
		o->qopt.pure ? ", pure" : "");
	if (j->imat_path)
		fprintf(f, "imatrix %s: %zu entries; %zu quantized tensors with weights, %zu without\n",
			j->imat_path, j->imat.n, j->imat_used, j->imat_missing);
	fprintf(f, "  %-40s %-5s %-22s %12s %6s  %-5s %s\n", "tensor", "type", "ne", "bytes", "bpw",
		"from", "why");
	for (size_t i = 0; i < j->plan.n; i++) {
		print_tensor(f, j, i);
		elems += j->plan.t[i].n_elem;
		bytes += j->plan.t[i].nbytes;
	}
	fprintf(f, "by type:\n");
	for (int ty = 0; ty < QT_COUNT; ty++) {
		uint64_t n = 0, e = 0, b = 0;

		for (size_t i = 0; i < j->plan.n; i++)
			if (j->plan.t[i].type == ty) {
				n++;
				e += j->plan.t[i].n_elem;
				b += j->plan.t[i].nbytes;
			}
		if (n)
			fprintf(f, "  %-5s %6" PRIu64 " tensors %14" PRIu64 " weights %14" PRIu64
				   " bytes %6.2f bpw\n", type_name(ty), n, e, b, bpw(b, e));
	}
	fprintf(f, "total: %zu tensors, %" PRIu64 " weights, %" PRIu64 " bytes (%.2f MiB), %.2f "
		   "bpw; input %" PRIu64 " bytes (%.2f MiB), %.2f bpw\n", j->plan.n, elems, bytes,
		(double)bytes / (1024.0 * 1024.0), bpw(bytes, elems), j->src_bytes,
		(double)j->src_bytes / (1024.0 * 1024.0), bpw(j->src_bytes, elems));
	if (j->n_fallback)
		fprintf(f, "%d of %zu tensors required fallback quantization\n", j->n_fallback,
			j->plan.n);
	gguf_set_print(f, set);
}

/* ---- JSON ---- */

static const char *const why_keys[] = {
	[QW_KEPT] = "kept", [QW_DEFAULT] = "default", [QW_MIX] = "mix", [QW_RECIPE] = "recipe",
	[QW_OPTION] = "option", [QW_FALLBACK] = "fallback", [QW_COPY] = "copy",
};

static cJSON *tensor_json(const struct quant_job *j, size_t i)
{
	const struct wp_tensor *t = &j->plan.t[i];
	const struct quant_info *in = &j->info[i];
	cJSON *e = cJSON_CreateObject();

	if (!e)
		return NULL;
	cJSON_AddStringToObject(e, "name", t->name);
	cJSON_AddStringToObject(e, "type", type_name(t->type));
	cJSON_AddItemToObject(e, "ne", cli_ne_json(t->ne, t->n_dims));
	cJSON_AddNumberToObject(e, "bytes", (double)t->nbytes);
	cJSON_AddNumberToObject(e, "bpw", bpw(t->nbytes, t->n_elem));
	cJSON_AddStringToObject(e, "from", type_name(in->src_type));
	cJSON_AddStringToObject(e, "why", why_keys[in->why]);
	if (in->rule >= 0)
		cJSON_AddNumberToObject(e, "recipe_line", j->recipe.rules[in->rule].line);
	if (j->imat_path)
		cJSON_AddBoolToObject(e, "imatrix", t->qw != NULL);
	return e;
}

int quant_plan_json(const struct quant_job *j, const struct quant_opts *o,
		    const struct gguf_set *set, qk_err *err)
{
	cJSON *root = cJSON_CreateObject(), *arr, *by;
	uint64_t elems = 0, bytes = 0;

	if (!root)
		return qk_err_set(err, QK_E_NOMEM, "out of memory building JSON");
	cJSON_AddStringToObject(root, "path", j->in.cat.path);
	cJSON_AddStringToObject(root, "file_type", quant_type_label(j, o));
	cJSON_AddNumberToObject(root, "file_type_id", j->ftype);
	if (o->recipe)
		cJSON_AddStringToObject(root, "recipe", o->recipe);
	cJSON_AddBoolToObject(root, "pure", o->qopt.pure);
	if (j->imat_path) {
		cJSON_AddStringToObject(root, "imatrix", j->imat_path);
		cJSON_AddNumberToObject(root, "imatrix_entries", (double)j->imat.n);
	}
	arr = cJSON_AddArrayToObject(root, "tensors");
	for (size_t i = 0; arr && i < j->plan.n; i++) {
		cJSON_AddItemToArray(arr, tensor_json(j, i));
		elems += j->plan.t[i].n_elem;
		bytes += j->plan.t[i].nbytes;
	}
	by = cJSON_AddObjectToObject(root, "by_type");
	for (int ty = 0; by && ty < QT_COUNT; ty++) {
		uint64_t n = 0, e = 0, b = 0;
		cJSON *x;

		for (size_t i = 0; i < j->plan.n; i++)
			if (j->plan.t[i].type == ty) {
				n++;
				e += j->plan.t[i].n_elem;
				b += j->plan.t[i].nbytes;
			}
		if (!n || !(x = cJSON_AddObjectToObject(by, type_name(ty))))
			continue;
		cJSON_AddNumberToObject(x, "n_tensors", (double)n);
		cJSON_AddNumberToObject(x, "n_weights", (double)e);
		cJSON_AddNumberToObject(x, "bytes", (double)b);
		cJSON_AddNumberToObject(x, "bpw", bpw(b, e));
	}
	cJSON_AddNumberToObject(root, "n_tensors", (double)j->plan.n);
	cJSON_AddNumberToObject(root, "n_weights", (double)elems);
	cJSON_AddNumberToObject(root, "bytes", (double)bytes);
	cJSON_AddNumberToObject(root, "bpw", bpw(bytes, elems));
	cJSON_AddNumberToObject(root, "input_bytes", (double)j->src_bytes);
	cJSON_AddNumberToObject(root, "n_fallback", j->n_fallback);
	gguf_set_json(root, set);
	return cli_emit_json(root, err);
}
