/* inspect_summary.c - the summary form of qwen-inspect, with --tensors and
 * --stats. */
#include "inspect.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/dtype.h"
#include "../formats/container/gguf.h"
#include "../ref/tstats.h"
#include "inspect_stats.h"

#define N_DT_SLOTS 128 /* dtype ids are < QK_DT_END (< 128) */

struct dt_total {
	uint64_t n_tensors, bytes, elems;
};

static void format_desc(const struct qk_catalog *cat, char *buf, size_t size)
{
	if (cat->format == QK_FMT_GGUF)
		snprintf(buf, size, "gguf v%u (%zu file%s)", gf_version(cat->gguf[0]), cat->n_files,
			 cat->n_files == 1 ? "" : "s");
	else
		snprintf(buf, size, "safetensors (%zu file%s)", cat->n_files,
			 cat->n_files == 1 ? "" : "s");
}

/* "494.03 M" */
static void human_count(uint64_t n, char *buf, size_t size)
{
	static const char *const units[] = { "", " K", " M", " B", " T" };
	double v = (double)n;
	int u = 0;

	while (v >= 1000.0 && u < 4) {
		v /= 1000.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64, n);
	else
		snprintf(buf, size, "%.2f%s", v, units[u]);
}

static void human_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024.0 && u < 4) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, size, u ? "%.2f %s" : "%.0f %s", v, units[u]);
}

static void dtype_totals(const struct qk_catalog *cat, struct dt_total *tot)
{
	memset(tot, 0, sizeof(*tot) * N_DT_SLOTS);
	for (size_t i = 0; i < cat->n_tensors; i++) {
		const struct qk_tensor *t = &cat->tensors[i];
		if (t->dtype < 0 || t->dtype >= N_DT_SLOTS)
			continue;
		tot[t->dtype].n_tensors++;
		tot[t->dtype].bytes += t->nbytes;
		tot[t->dtype].elems += t->n_elem;
	}
}

/* role name and layer text of catalog tensor i */
static void tensor_role(const struct qk_model *m, size_t i, const char **role, char *layer,
			size_t size)
{
	const struct qk_claim *c = &m->claims[i];

	*role = c->role < 0 ? "(ignored)" : qk_role_name(c->role);
	if (c->layer < 0)
		snprintf(layer, size, "-");
	else if (c->mtp)
		snprintf(layer, size, "mtp.%d", c->layer - (int)m->hp.n_layer);
	else
		snprintf(layer, size, "%d", c->layer);
}

static void print_text(const struct qk_input *in, const struct inspect_opts *o)
{
	const struct qk_catalog *cat = &in->cat;
	const struct qk_hparams *hp = &in->hp;
	struct dt_total tot[N_DT_SLOTS];
	uint64_t total, active, bytes = 0;
	char buf[128], buf2[64];

	qk_model_n_params(&in->model, &total, &active);
	format_desc(cat, buf, sizeof(buf));
	printf("path:          %s\n", cat->path);
	printf("format:        %s\n", buf);
	printf("generation:    %s\n", qk_arch_generation(hp->arch));
	printf("architecture:  %s (%s)\n", qk_arch_gguf_name(hp->arch), qk_arch_hf_name(hp->arch));
	human_count(total, buf2, sizeof(buf2));
	printf("parameters:    %s (%" PRIu64 ")\n", buf2, total);
	if (hp->n_expert > 0) {
		human_count(active, buf2, sizeof(buf2));
		printf("active/token:  %s (%" PRIu64 "; %u of %u experts)\n", buf2, active,
		       hp->n_expert_used, hp->n_expert);
	}
	printf("tensors:       %zu%s\n", cat->n_tensors,
	       in->model.n_mtp ? " (MTP layers included)" : "");
	printf("output:        %s\n", in->model.tied ? "tied to token_embd" : "separate output matrix");
	dtype_totals(cat, tot);
	printf("bytes by dtype:\n");
	for (int d = 0; d < N_DT_SLOTS; d++) {
		if (!tot[d].n_tensors)
			continue;
		human_bytes(tot[d].bytes, buf2, sizeof(buf2));
		printf("  %-8s %6" PRIu64 " tensors %14" PRIu64 " bytes (%s)\n", qk_dtype_name(d),
		       tot[d].n_tensors, tot[d].bytes, buf2);
		bytes += tot[d].bytes;
	}
	human_bytes(bytes, buf2, sizeof(buf2));
	printf("  %-8s %6zu tensors %14" PRIu64 " bytes (%s)\n", "total", cat->n_tensors, bytes, buf2);
	inspect_hparams_text(stdout, hp);
	inspect_layers_text(stdout, hp);
	if (o->tensors) {
		printf("tensors:\n");
		printf("  %-56s %-22s %-6s %-8s %-22s %s\n", "name", "role", "layer", "dtype", "shape",
		       "bytes");
		for (size_t i = 0; i < cat->n_tensors; i++) {
			const struct qk_tensor *t = &cat->tensors[i];
			const char *role;
			char layer[32], shape[128];

			tensor_role(&in->model, i, &role, layer, sizeof(layer));
			qk_shape_str(t->shape, t->n_dims, shape, sizeof(shape));
			printf("  %-56s %-22s %-6s %-8s %-22s %" PRIu64 "\n", t->name, role, layer,
			       qk_dtype_name(t->dtype), shape, t->nbytes);
		}
	}
}

static cJSON *shape_json(const struct qk_tensor *t)
{
	cJSON *a = cJSON_CreateArray();

	for (int d = 0; a && d < t->n_dims; d++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)t->shape[d]));
	return a;
}

static cJSON *build_json(const struct qk_input *in, const struct inspect_opts *o)
{
	const struct qk_catalog *cat = &in->cat;
	const struct qk_hparams *hp = &in->hp;
	struct dt_total tot[N_DT_SLOTS];
	uint64_t total, active;
	cJSON *root = cJSON_CreateObject(), *dts;

	if (!root)
		return NULL;
	qk_model_n_params(&in->model, &total, &active);
	cJSON_AddStringToObject(root, "path", cat->path);
	cJSON_AddStringToObject(root, "format", cat->format == QK_FMT_GGUF ? "gguf" : "safetensors");
	cJSON_AddNumberToObject(root, "n_files", (double)cat->n_files);
	cJSON_AddStringToObject(root, "architecture", qk_arch_gguf_name(hp->arch));
	cJSON_AddStringToObject(root, "hf_architecture", qk_arch_hf_name(hp->arch));
	cJSON_AddStringToObject(root, "generation", qk_arch_generation(hp->arch));
	cJSON_AddNumberToObject(root, "n_params", (double)total);
	cJSON_AddNumberToObject(root, "n_params_active", (double)active);
	cJSON_AddNumberToObject(root, "n_tensors", (double)cat->n_tensors);
	cJSON_AddBoolToObject(root, "tied_output", in->model.tied);
	cJSON_AddNumberToObject(root, "n_mtp_layers", in->model.n_mtp);
	dtype_totals(cat, tot);
	dts = cJSON_AddObjectToObject(root, "bytes_by_dtype");
	for (int d = 0; dts && d < N_DT_SLOTS; d++)
		if (tot[d].n_tensors)
			cJSON_AddNumberToObject(dts, qk_dtype_name(d), (double)tot[d].bytes);
	cJSON_AddItemToObject(root, "hparams", inspect_hparams_json(hp));
	cJSON_AddItemToObject(root, "layers", inspect_layers_json(hp));
	if (o->tensors) {
		cJSON *arr = cJSON_AddArrayToObject(root, "tensors");
		for (size_t i = 0; arr && i < cat->n_tensors; i++) {
			const struct qk_tensor *t = &cat->tensors[i];
			const struct qk_claim *c = &in->model.claims[i];
			cJSON *e = cJSON_CreateObject();
			if (!e)
				break;
			cJSON_AddStringToObject(e, "name", t->name);
			if (c->role < 0)
				cJSON_AddNullToObject(e, "role");
			else
				cJSON_AddStringToObject(e, "role", qk_role_name(c->role));
			if (c->layer < 0)
				cJSON_AddNullToObject(e, "layer");
			else
				cJSON_AddNumberToObject(e, "layer", c->layer);
			if (c->expert >= 0)
				cJSON_AddNumberToObject(e, "expert", c->expert);
			cJSON_AddBoolToObject(e, "mtp", c->mtp);
			cJSON_AddStringToObject(e, "dtype", qk_dtype_name(t->dtype));
			cJSON_AddItemToObject(e, "shape", shape_json(t));
			cJSON_AddNumberToObject(e, "bytes", (double)t->nbytes);
			cJSON_AddItemToArray(arr, e);
		}
	}
	return root;
}

int inspect_summary(const struct qk_input *in, const struct inspect_opts *o, qk_err *err)
{
	cJSON *root = NULL;
	int rc;

	if (o->json) {
		root = build_json(in, o);
		if (!root)
			return qk_err_set(err, QK_E_NOMEM, "out of memory building JSON");
		if (o->stats) {
			rc = inspect_stats_json(in, o->pattern, root, err);
			if (rc) {
				cJSON_Delete(root);
				return rc;
			}
		}
		return cli_emit_json(root, err);
	}
	print_text(in, o);
	if (o->stats)
		return inspect_stats_text(in, o->pattern, err);
	return QK_OK;
}
