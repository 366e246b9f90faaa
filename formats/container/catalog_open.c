/* catalog_open.c - open whatever the user named: a model directory, a
 * .safetensors file, a shard index, or a .gguf file (any file of a split
 * GGUF set opens the whole set, gguf_split.h). */
#define _GNU_SOURCE
#include "catalog.h"
#include "../base/json.h"
#include "../base/path.h"
#include "gguf.h"
#include "gguf_split.h"
#include "pq.h"
#include "pt.h"
#include "safetensors.h"
#include "safetensors_index.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static char *dir_of(const char *path)
{
	char *copy = strdup(path), *d;

	if (!copy)
		return NULL;
	d = strdup(dirname(copy));
	free(copy);
	return d;
}

/* A directory without safetensors files but with exactly one .gguf file, or
 * with the files of one split GGUF set: return the path of that file (of the
 * set's lowest-numbered file present), malloc'd, else NULL. */
static char *lone_gguf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *found = NULL;
	int n_gguf = 0, n_st = 0;

	if (!d)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (has_suffix(e->d_name, ".safetensors"))
			n_st++;
		else if (has_suffix(e->d_name, ".gguf") && ++n_gguf == 1) {
			found = qk_path_join(dir, e->d_name);
		}
	}
	closedir(d);
	if (n_st || n_gguf != 1) {
		free(found);
		return !n_st && n_gguf > 1 ? gs_find_in_dir(dir) : NULL;
	}
	return found;
}

/* The kinds of file we open, by name suffix: a table, not a chain of ifs. */
static const struct {
	const char *suffix;
	int (*open)(struct qk_catalog *, const char *, qk_err *);
} openers[] = {
	{ ".gguf", gs_to_catalog },
	{ ".safetensors", st_open },
	{ ".json", st_index_open },
	{ ".bin", pt_open },
};

/* A checkpoint shipped quantized (config.json "quantization_config" beside
 * its safetensors files): its quantized matrices become storages (pq.h). A
 * config.json that cannot be read is left to the hyperparameter loader. */
static int attach_quantized(struct qk_catalog *cat, qk_err *err)
{
	char *path;
	cJSON *root = NULL;
	const cJSON *q;
	qk_err ignore;
	int rc = QK_OK;

	if (cat->format != QK_FMT_SAFETENSORS || !cat->dir)
		return QK_OK;
	path = qk_path_join(cat->dir, "config.json");
	if (!path)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	if (qk_json_load(path, &root, &ignore) == QK_OK) {
		q = cJSON_GetObjectItemCaseSensitive(root, "quantization_config");
		if (q && !cJSON_IsNull(q))
			rc = pq_attach(cat, q, path, err);
		cJSON_Delete(root);
	}
	free(path);
	return rc;
}

int qk_catalog_open(struct qk_catalog *cat, const char *path, qk_err *err)
{
	struct stat st;
	char *file = NULL;
	int is_index = 0, rc;

	qk_catalog_init(cat);
	if (stat(path, &st) != 0)
		return qk_err_set(err, QK_E_IO, "%s: %s", path, strerror(errno));
	cat->path = strdup(path);
	if (!cat->path)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	if (S_ISDIR(st.st_mode)) {
		file = lone_gguf(path);
		if (file) {
			rc = gs_to_catalog(cat, file, err);
			free(file);
			if (rc)
				goto fail;
			return QK_OK;
		}
		rc = st_find_in_dir(path, &file, &is_index, err);
		if (rc)
			goto fail;
		cat->dir = strdup(path);
		if (!cat->dir) {
			rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
			goto fail;
		}
		rc = is_index ? st_index_open(cat, file, err)
			      : has_suffix(file, ".bin") ? pt_open(cat, file, err)
							 : st_open(cat, file, err);
		free(file);
		if (rc)
			goto fail;
		cat->format = QK_FMT_SAFETENSORS;
		if ((rc = attach_quantized(cat, err)))
			goto fail;
		return QK_OK;
	}
	for (size_t i = 0; i < sizeof(openers) / sizeof(openers[0]); i++) {
		if (!has_suffix(path, openers[i].suffix))
			continue;
		rc = openers[i].open(cat, path, err);
		if (rc)
			goto fail;
		if (cat->format == QK_FMT_NONE)
			cat->format = QK_FMT_SAFETENSORS;
		if (cat->format == QK_FMT_SAFETENSORS && !cat->dir) {
			cat->dir = dir_of(path);
			if (!cat->dir) {
				rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
				goto fail;
			}
		}
		if ((rc = attach_quantized(cat, err)))
			goto fail;
		return QK_OK;
	}
	rc = qk_err_set(err, QK_E_UNSUPPORTED,
			"%s: not a model directory, .safetensors file, shard index (.json) or .gguf file",
			path);
fail:
	qk_catalog_free(cat);
	return rc;
}
