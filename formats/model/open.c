/* open.c - catalog + hyperparameters + binding in one call; see open.h. */
#include "open.h"

#include <cJSON.h>

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>

#include "../base/json.h"
#include "../base/path.h"
#include "../container/gguf.h"

/* GGUF MoE models: layers holding dense FFN tensors and no router are dense
 * (the keys cannot say so; see open.h). */
static void gguf_dense_layers(struct qk_hparams *hp, const struct qk_catalog *cat)
{
	char name[64];

	if (cat->format != QK_FMT_GGUF || hp->n_expert == 0)
		return;
	for (uint32_t l = 0; l < hp->n_layer; l++) {
		snprintf(name, sizeof(name), "blk.%u.ffn_gate_inp.weight", l);
		if (qk_catalog_find(cat, name))
			continue;
		snprintf(name, sizeof(name), "blk.%u.ffn_gate.weight", l);
		if (qk_catalog_find(cat, name))
			hp->layer_flags[l] &= (uint8_t)~QK_LAYER_MOE;
	}
}

/* Does dir hold a config.json? (Any other failure to read it is reported by
 * the loader with its own cause.) */
static bool has_config(const char *dir)
{
	char *path = dir ? qk_path_join(dir, "config.json") : NULL;
	struct stat st;
	bool has;

	if (!path)
		return true;
	has = stat(path, &st) == 0 || errno != ENOENT;
	free(path);
	return has;
}

/* The architecture config.json names (architectures[0], else model_type):
 * known, unknown, or not readable (then -1: let the loader report it). */
static int config_names_known_arch(const char *dir)
{
	char *path = qk_path_join(dir, "config.json");
	cJSON *root = NULL;
	const cJSON *a, *mt;
	int known = -1;
	qk_err ignore;
	int rc = path ? qk_json_load(path, &root, &ignore) : QK_E_NOMEM;

	free(path);
	if (rc)
		return -1;
	a = cJSON_GetObjectItemCaseSensitive(root, "architectures");
	mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
	if (cJSON_IsArray(a) && cJSON_IsString(cJSON_GetArrayItem(a, 0)))
		known = qk_arch_from_hf(cJSON_GetArrayItem(a, 0)->valuestring) >= 0;
	else if (cJSON_IsString(mt))
		known = qk_arch_from_model_type(mt->valuestring) >= 0;
	cJSON_Delete(root);
	return known;
}

/* Does the input present itself as a model of a Qwen architecture this build
 * knows? Not: a safetensors file without config.json (a bare tensor file, a
 * LoRA adapter), a config.json or GGUF naming another architecture, a GGUF
 * without tensors (a vocabulary-only file). */
static bool claims_qwen(const struct qk_catalog *cat)
{
	if (cat->format == QK_FMT_GGUF) {
		const struct gf_file *f = cat->gguf[0];
		int64_t i = gf_find_key(f, "general.architecture");
		if (gf_n_tensors(f) == 0)
			return false;
		return i < 0 || gf_kv_type(f, i) != GF_STRING ||
		       qk_arch_from_gguf(gf_kv_str(f, i, NULL)) >= 0;
	}
	if (!has_config(cat->dir))
		return false;
	return config_names_known_arch(cat->dir) != 0;
}

/* A model that fails to bind from one .safetensors file that has a shard
 * index beside it is most likely one shard of a sharded checkpoint: say so,
 * after the binding's own message. */
static void shard_hint(const struct qk_input *in, qk_err *err)
{
	const char *path = in->cat.path;
	size_t n = strlen(path);
	char *index;
	struct stat st;

	if (in->cat.format != QK_FMT_SAFETENSORS || in->cat.n_files != 1 || !in->cat.dir ||
	    n < 12 || strcmp(path + n - 12, ".safetensors") != 0)
		return;
	index = qk_path_join(in->cat.dir, "model.safetensors.index.json");
	if (index && stat(index, &st) == 0) {
		qk_err first = *err; /* the message is rewritten from a copy */
		qk_err_set(err, first.code, "%s; %s is one shard of a sharded checkpoint: open its "
			   "directory or %s", first.msg, path, index);
	}
	free(index);
}

/* hyperparameters and binding of an opened catalog */
static int open_view(struct qk_input *in, qk_err *err)
{
	int rc;

	if (in->cat.format == QK_FMT_GGUF) {
		rc = qk_hparams_from_gguf(&in->hp, in->cat.gguf[0], err);
		if (rc == QK_OK)
			gguf_dense_layers(&in->hp, &in->cat);
	} else if (!has_config(in->cat.dir)) {
		rc = qk_err_set(err, QK_E_INVALID,
				"%s: no config.json beside the safetensors files: the Qwen model view "
				"needs the checkpoint's config.json (a LoRA adapter or a bare tensor file "
				"has none)", in->cat.dir ? in->cat.dir : in->cat.path);
	} else {
		rc = qk_hparams_load_config(&in->hp, in->cat.dir, err);
	}
	if (rc == QK_OK)
		rc = qk_model_bind(&in->model, &in->cat, &in->hp, err);
	if (rc == QK_OK)
		in->bound = true;
	else if (rc != QK_E_NOMEM)
		shard_hint(in, err);
	return rc;
}

int qk_input_open(struct qk_input *in, const char *path, qk_err *err)
{
	int rc;

	memset(in, 0, sizeof(*in));
	rc = qk_catalog_open(&in->cat, path, err);
	if (rc == QK_OK)
		rc = open_view(in, err);
	if (rc)
		qk_input_close(in);
	return rc;
}

int qk_input_open_any(struct qk_input *in, const char *path, qk_err *why, qk_err *err)
{
	int rc;

	memset(in, 0, sizeof(*in));
	qk_err_clear(why);
	rc = qk_catalog_open(&in->cat, path, err);
	if (rc)
		return rc;
	rc = open_view(in, why);
	if (rc == QK_OK)
		return QK_OK;
	/* Not a Qwen model at all: list it. A file that says it is a Qwen model
	 * and is not a valid one stays an error. */
	if (rc != QK_E_NOMEM && !claims_qwen(&in->cat)) {
		memset(&in->hp, 0, sizeof(in->hp));
		return QK_OK;
	}
	*err = *why;
	qk_input_close(in);
	return rc;
}

void qk_input_close(struct qk_input *in)
{
	if (!in)
		return;
	if (in->bound)
		qk_model_free(&in->model);
	qk_catalog_free(&in->cat);
	memset(in, 0, sizeof(*in));
}
