/* inspect_summary.c - the summary form of qwen-inspect, with --tensors and
 * --stats. */
#include "inspect.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/dtype.h"
#include "../formats/container/gguf.h"
#include "../formats/model/vision.h"
#include "../quant/mix.h"
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
		snprintf(buf, size, "%s (%zu file%s)", qk_catalog_container(cat), cat->n_files,
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
	const struct qk_claim *c;

	if (!m->claims) { /* not a Qwen model: no roles */
		*role = "-";
		snprintf(layer, size, "-");
		return;
	}
	c = &m->claims[i];
	*role = c->role < 0 ? "(ignored)" : qk_role_name(c->role);
	if (c->layer < 0)
		snprintf(layer, size, "-");
	else if (c->mtp)
		snprintf(layer, size, "mtp.%d", c->layer - (int)m->hp.n_layer);
	else
		snprintf(layer, size, "%d", c->layer);
}

/* the model lines of the summary: what the Qwen view says */
static void print_model(const struct qk_input *in)
{
	const struct qk_hparams *hp = &in->hp;
	uint64_t total, active;
	struct qk_param_counts pc;
	char buf[64];

	qk_model_n_params(&in->model, &total, &active);
	qk_model_param_counts(&in->model, &pc);
	printf("generation:    %s\n", qk_arch_generation(hp->arch));
	printf("architecture:  %s (%s)\n", qk_arch_gguf_name(hp->arch), qk_arch_hf_name(hp->arch));
	human_count(total, buf, sizeof(buf));
	printf("parameters:    %s (%" PRIu64 ")%s\n", buf, total,
	       pc.vision || pc.mtp ? " text model" : "");
	if (hp->n_expert > 0) {
		human_count(active, buf, sizeof(buf));
		printf("active/token:  %s (%" PRIu64 "; %u of %u experts)\n", buf, active,
		       hp->n_expert_used, hp->n_expert);
	}
	if (pc.mtp) {
		human_count(pc.mtp, buf, sizeof(buf));
		printf("mtp:           %s (%" PRIu64 "; %u layer(s), active/token %" PRIu64 ")\n",
		       buf, pc.mtp, (unsigned)in->model.n_mtp, pc.active_mtp);
	}
	if (pc.vision) {
		human_count(pc.vision, buf, sizeof(buf));
		printf("vision:        %s (%" PRIu64 "; %zu tensors, not part of a GGUF "
		       "conversion)\n", buf, pc.vision, in->model.n_vision);
		human_count(pc.vision - pc.projector, buf, sizeof(buf));
		printf("  encoder:     %s (%" PRIu64 ")\n", buf, pc.vision - pc.projector);
		human_count(pc.projector, buf, sizeof(buf));
		printf("  projector:   %s (%" PRIu64 ")\n", buf, pc.projector);
	}
	if (pc.vision || pc.mtp) {
		human_count(total + pc.vision + pc.mtp, buf, sizeof(buf));
		printf("all parts:     %s (%" PRIu64 ")\n", buf, total + pc.vision + pc.mtp);
	}
	printf("tensors:       %zu%s\n", in->cat.n_tensors,
	       in->model.n_mtp ? " (MTP layers included)" : "");
	printf("output:        %s\n", in->model.tied ? "tied to token_embd" : "separate output matrix");
}

/* a valid container that is not a Qwen model: what it holds, and why */
static void print_container(const struct qk_input *in, const char *why)
{
	uint64_t bytes, n;
	char buf[64];

	cli_catalog_size(&in->cat, &bytes, &n);
	human_count(n, buf, sizeof(buf));
	printf("qwen model:    no: %s\n", why);
	printf("elements:      %s (%" PRIu64 ", every tensor)\n", buf, n);
	printf("tensors:       %zu\n", in->cat.n_tensors);
}

/* a GGUF tensor's ggml ne: its row-major shape reversed */
static void tensor_ne(const struct qk_tensor *t, int64_t *ne)
{
	for (int d = 0; d < t->n_dims; d++)
		ne[d] = (int64_t)t->shape[t->n_dims - 1 - d];
}

static void print_text(const struct qk_input *in, const struct inspect_opts *o, const char *why)
{
	const struct qk_catalog *cat = &in->cat;
	const struct qk_hparams *hp = &in->hp;
	struct dt_total tot[N_DT_SLOTS];
	uint64_t bytes = 0;
	int64_t ft = cli_file_type(cat);
	char buf[128], buf2[64];

	format_desc(cat, buf, sizeof(buf));
	printf("path:          %s\n", cat->path);
	printf("format:        %s\n", buf);
	if (ft >= 0)
		printf("file type:     %s (general.file_type %" PRId64 ")\n",
		       cli_file_type_name(ft) ? cli_file_type_name(ft) : "unknown to this build", ft);
	if (in->bound) {
		print_model(in);
	} else {
		struct vs_model vm;
		qk_err vwhy;
		int vrc = inspect_mmproj_open(&vm, cat, &vwhy);

		if (vrc == QK_OK)
			inspect_mmproj_text(stdout, &vm);
		else
			print_container(in, vrc > 0 ? vwhy.msg : why);
		vs_free(&vm);
	}
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
	inspect_pq_text(stdout, cat);
	if (in->bound) {
		inspect_hparams_text(stdout, hp);
		inspect_layers_text(stdout, hp);
	}
	if (o->tensors) {
		const bool gguf = cat->format == QK_FMT_GGUF;

		/* one notation in every tool (common.h): a GGUF's ggml ne {..}, a
		 * safetensors shape [..] */
		printf("tensors:\n");
		printf("  %-56s %-22s %-6s %-8s %-22s %s\n", "name", "role", "layer", "dtype",
		       gguf ? "ne" : "shape", "bytes");
		for (size_t i = 0; i < cat->n_tensors; i++) {
			const struct qk_tensor *t = &cat->tensors[i];
			const char *role;
			char layer[32], shape[128];

			tensor_role(&in->model, i, &role, layer, sizeof(layer));
			if (gguf) {
				int64_t ne[QK_MAX_DIMS];

				tensor_ne(t, ne);
				cli_ne_str(ne, t->n_dims, shape, sizeof(shape));
			} else {
				qk_shape_str(t->shape, t->n_dims, shape, sizeof(shape));
			}
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

/* the model members of the JSON summary */
static void model_json(cJSON *root, const struct qk_input *in)
{
	const struct qk_hparams *hp = &in->hp;
	uint64_t total, active;
	struct qk_param_counts pc;

	qk_model_n_params(&in->model, &total, &active);
	cJSON_AddStringToObject(root, "architecture", qk_arch_gguf_name(hp->arch));
	cJSON_AddStringToObject(root, "hf_architecture", qk_arch_hf_name(hp->arch));
	cJSON_AddStringToObject(root, "generation", qk_arch_generation(hp->arch));
	cJSON_AddNumberToObject(root, "n_params", (double)total);
	cJSON_AddNumberToObject(root, "n_params_active", (double)active);
	qk_model_param_counts(&in->model, &pc);
	cJSON_AddNumberToObject(root, "n_params_vision", (double)pc.vision);
	cJSON_AddNumberToObject(root, "n_params_projector", (double)pc.projector);
	cJSON_AddNumberToObject(root, "n_params_mtp", (double)pc.mtp);
	cJSON_AddNumberToObject(root, "n_params_mtp_active", (double)pc.active_mtp);
	cJSON_AddNumberToObject(root, "n_vision_tensors", (double)in->model.n_vision);
	cJSON_AddBoolToObject(root, "tied_output", in->model.tied);
	cJSON_AddNumberToObject(root, "n_mtp_layers", in->model.n_mtp);
	cJSON_AddItemToObject(root, "hparams", inspect_hparams_json(hp));
	cJSON_AddItemToObject(root, "layers", inspect_layers_json(hp));
}

static cJSON *build_json(const struct qk_input *in, const struct inspect_opts *o,
			 const char *why)
{
	const struct qk_catalog *cat = &in->cat;
	struct dt_total tot[N_DT_SLOTS];
	int64_t ft = cli_file_type(cat);
	cJSON *root = cJSON_CreateObject(), *dts;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "path", cat->path);
	cJSON_AddStringToObject(root, "format", qk_catalog_container(cat));
	cJSON_AddNumberToObject(root, "n_files", (double)cat->n_files);
	if (ft >= 0) {
		cJSON_AddNumberToObject(root, "file_type_id", (double)ft);
		if (cli_file_type_name(ft))
			cJSON_AddStringToObject(root, "file_type", cli_file_type_name(ft));
		else
			cJSON_AddNullToObject(root, "file_type");
	}
	cJSON_AddBoolToObject(root, "qwen_model", in->bound);
	if (in->bound) {
		model_json(root, in);
	} else {
		struct vs_model vm;
		qk_err vwhy;
		int vrc = inspect_mmproj_open(&vm, cat, &vwhy);
		uint64_t bytes, n;

		if (vrc == QK_OK)
			inspect_mmproj_json(root, &vm);
		else
			cJSON_AddStringToObject(root, "qwen_model_error", vrc > 0 ? vwhy.msg : why);
		vs_free(&vm);

		cli_catalog_size(cat, &bytes, &n);
		cJSON_AddNumberToObject(root, "n_elements", (double)n);
	}
	cJSON_AddNumberToObject(root, "n_tensors", (double)cat->n_tensors);
	dtype_totals(cat, tot);
	dts = cJSON_AddObjectToObject(root, "bytes_by_dtype");
	inspect_pq_json(root, cat);
	for (int d = 0; dts && d < N_DT_SLOTS; d++)
		if (tot[d].n_tensors)
			cJSON_AddNumberToObject(dts, qk_dtype_name(d), (double)tot[d].bytes);
	if (o->tensors) {
		cJSON *arr = cJSON_AddArrayToObject(root, "tensors");
		for (size_t i = 0; arr && i < cat->n_tensors; i++) {
			const struct qk_tensor *t = &cat->tensors[i];
			static const struct qk_claim none = { -1, -1, -1, false };
			const struct qk_claim *c = in->bound ? &in->model.claims[i] : &none;
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
			if (cat->format == QK_FMT_GGUF) {
				int64_t ne[QK_MAX_DIMS];

				tensor_ne(t, ne);
				cJSON_AddItemToObject(e, "ne", cli_ne_json(ne, t->n_dims));
			}
			cJSON_AddNumberToObject(e, "bytes", (double)t->nbytes);
			if (t->pq)
				cJSON_AddItemToObject(e, "quantized", inspect_pq_store_json(t->pq));
			cJSON_AddItemToArray(arr, e);
		}
	}
	return root;
}

int inspect_summary(const struct qk_input *in, const struct inspect_opts *o, const char *why,
		    qk_err *err)
{
	cJSON *root = NULL;
	int rc;

	if (o->json) {
		root = build_json(in, o, why);
		if (!root)
			return qk_err_set(err, QK_E_NOMEM, "out of memory building JSON");
		rc = o->stats ? inspect_stats_json(in, o->pattern, root, err) : QK_OK;
		if (rc == QK_OK && o->kv)
			rc = inspect_kv_json(in, root, err);
		if (rc) {
			cJSON_Delete(root);
			return rc;
		}
		return cli_emit_json(root, err);
	}
	print_text(in, o, why);
	rc = o->kv ? inspect_kv_text(in, err) : QK_OK;
	if (rc == QK_OK && o->stats)
		rc = inspect_stats_text(in, o->pattern, err);
	return rc;
}
