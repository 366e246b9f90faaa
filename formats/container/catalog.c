/* catalog.c - tensor list with a name map; see catalog.h. */
#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void qk_catalog_init(struct qk_catalog *cat)
{
	memset(cat, 0, sizeof(*cat));
}

void qk_catalog_free(struct qk_catalog *cat)
{
	if (!cat)
		return;
	for (size_t i = 0; i < cat->n_tensors; i++)
		free(cat->tensors[i].name);
	free(cat->tensors);
	for (size_t i = 0; i < cat->n_meta; i++) {
		free(cat->meta[i].key);
		free(cat->meta[i].val);
	}
	free(cat->meta);
	for (size_t i = 0; i < cat->n_pq; i++)
		free(cat->pq[i]);
	free(cat->pq);
	if (cat->gguf)
		for (size_t i = 0; i < cat->n_files; i++)
			if (cat->gguf[i])
				cat->close_gguf(cat->gguf[i]);
	free(cat->gguf);
	for (size_t i = 0; i < cat->n_files; i++)
		qk_map_close(&cat->files[i]);
	free(cat->files);
	qk_hmap_free(&cat->names);
	free(cat->path);
	free(cat->dir);
	memset(cat, 0, sizeof(*cat));
}

int qk_catalog_add_file(struct qk_catalog *cat, qk_map *map, int *idx, qk_err *err)
{
	qk_map *nf;
	struct gf_file **ng;

	if (cat->n_files >= 100000)
		return qk_err_set(err, QK_E_INVALID, "too many files in one model");
	nf = realloc(cat->files, (cat->n_files + 1) * sizeof(*nf));
	if (!nf)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	cat->files = nf;
	ng = realloc(cat->gguf, (cat->n_files + 1) * sizeof(*ng));
	if (!ng)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	cat->gguf = ng;
	cat->gguf[cat->n_files] = NULL;
	cat->files[cat->n_files] = *map;
	memset(map, 0, sizeof(*map));
	if (idx)
		*idx = (int)cat->n_files;
	cat->n_files++;
	return QK_OK;
}

static long lookup(const struct qk_catalog *cat, const char *name, size_t len)
{
	return (long)qk_hmap_get(&cat->names, name, len);
}

int qk_catalog_add(struct qk_catalog *cat, const char *name, size_t len,
		   struct qk_tensor **out, qk_err *err)
{
	struct qk_tensor *t;

	if (len > QK_MAX_NAME)
		return qk_err_set(err, QK_E_INVALID, "tensor name of %zu bytes is longer than the limit of %u",
				  len, QK_MAX_NAME);
	if (cat->n_tensors >= QK_MAX_TENSORS)
		return qk_err_set(err, QK_E_INVALID, "more than %u tensors", QK_MAX_TENSORS);
	if (lookup(cat, name, len) >= 0)
		return qk_err_set(err, QK_E_INVALID, "duplicate tensor name '%.*s'", (int)len, name);
	if (cat->n_tensors == cat->cap_tensors) {
		size_t nc = cat->cap_tensors ? cat->cap_tensors * 2 : 64;
		t = realloc(cat->tensors, nc * sizeof(*t));
		if (!t)
			return qk_err_set(err, QK_E_NOMEM, "out of memory");
		cat->tensors = t;
		cat->cap_tensors = nc;
	}
	t = &cat->tensors[cat->n_tensors];
	memset(t, 0, sizeof(*t));
	t->name = malloc(len + 1);
	if (!t->name)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	memcpy(t->name, name, len);
	t->name[len] = '\0';
	t->n_elem = 1;
	if (qk_hmap_put(&cat->names, t->name, len, (int64_t)cat->n_tensors) == -2) {
		free(t->name);
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	}
	cat->n_tensors++;
	*out = t;
	return QK_OK;
}

int qk_catalog_add_meta(struct qk_catalog *cat, int file, const char *key,
			const char *val, qk_err *err)
{
	struct qk_meta *nm = realloc(cat->meta, (cat->n_meta + 1) * sizeof(*nm));
	char *k, *v;

	if (!nm)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	cat->meta = nm;
	k = strdup(key);
	v = strdup(val);
	if (!k || !v) {
		free(k);
		free(v);
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	}
	nm[cat->n_meta].file = file;
	nm[cat->n_meta].key = k;
	nm[cat->n_meta].val = v;
	cat->n_meta++;
	return QK_OK;
}

const char *qk_catalog_meta(const struct qk_catalog *cat, int file, const char *key)
{
	for (size_t i = 0; i < cat->n_meta; i++)
		if ((file < 0 || cat->meta[i].file == file) && strcmp(cat->meta[i].key, key) == 0)
			return cat->meta[i].val;
	return NULL;
}

void qk_catalog_mark(const struct qk_catalog *cat, struct qk_catalog_mark *m)
{
	m->n_files = cat->n_files;
	m->n_tensors = cat->n_tensors;
	m->n_meta = cat->n_meta;
}

void qk_catalog_rollback(struct qk_catalog *cat, const struct qk_catalog_mark *m)
{
	while (cat->n_tensors > m->n_tensors) {
		char *name = cat->tensors[--cat->n_tensors].name;

		qk_hmap_del(&cat->names, name, strlen(name));
		free(name);
	}
	while (cat->n_meta > m->n_meta) {
		cat->n_meta--;
		free(cat->meta[cat->n_meta].key);
		free(cat->meta[cat->n_meta].val);
	}
	while (cat->n_files > m->n_files) {
		cat->n_files--;
		if (cat->gguf) {
			if (cat->gguf[cat->n_files])
				cat->close_gguf(cat->gguf[cat->n_files]);
			cat->gguf[cat->n_files] = NULL;
		}
		qk_map_close(&cat->files[cat->n_files]);
	}
}

long qk_catalog_index(const struct qk_catalog *cat, const char *name)
{
	return lookup(cat, name, strlen(name));
}

const struct qk_tensor *qk_catalog_find(const struct qk_catalog *cat, const char *name)
{
	long i = lookup(cat, name, strlen(name));
	return i < 0 ? NULL : &cat->tensors[i];
}

void qk_shape_str(const uint64_t *shape, int n_dims, char *buf, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	used += (size_t)snprintf(buf + used, size - used, "[");
	for (int i = 0; i < n_dims && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%llu", i ? ", " : "",
					 (unsigned long long)shape[i]);
	if (used < size)
		snprintf(buf + used, size - used, "]");
}

const char *qk_catalog_container(const struct qk_catalog *cat)
{
	if (cat->format == QK_FMT_GGUF)
		return "gguf";
	return cat->pytorch ? "pytorch" : "safetensors";
}

void qk_catalog_where(const struct qk_catalog *cat, const struct qk_tensor *t, char *buf,
		      size_t n)
{
	const char *p = NULL, *slash;

	if (t && cat->files && t->file >= 0 && (size_t)t->file < cat->n_files &&
	    cat->files[t->file].path) {
		p = cat->files[t->file].path;
		slash = strrchr(p, '/');
		if (slash && slash[1])
			p = slash + 1;
	}
	if (!p)
		p = cat->path;
	snprintf(buf, n, "%s%s", p ? p : "", p ? ": " : "");
}
