/* safetensors_index.c - sharded safetensors checkpoints; see safetensors_index.h. */
#include "safetensors_index.h"
#include "pt.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>

#include "../base/io.h"
#include "../base/json.h"
#include "../base/path.h"
#include "safetensors.h"

#define INDEX_NAME "model.safetensors.index.json"
#define SINGLE_NAME "model.safetensors"
#define ST_SUFFIX ".safetensors"
#define EXACT_LIMIT 9007199254740992.0 /* 2^53 */

/* A plain file name in the index's directory, never a path. */
static int check_shard_name(const char *file, const char *tensor, const char *s, qk_err *err)
{
	size_t len = strlen(s);

	if (len == 0 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strchr(s, '/') ||
	    strchr(s, '\\'))
		return qk_err_set(err, QK_E_INVALID,
				  "%s: tensor '%s': shard '%.200s' is not a plain file name in the index's directory",
				  file, tensor, s);
	if (len > 255 || !qk_utf8_valid(s, len))
		return qk_err_set(err, QK_E_INVALID,
				  "%s: tensor '%s': shard name of %zu bytes is too long or not UTF-8",
				  file, tensor, len);
	return QK_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct st_index_entry *)a)->name,
		      ((const struct st_index_entry *)b)->name);
}

static void read_total_size(struct st_index *idx, const cJSON *meta)
{
	const cJSON *ts = cJSON_IsObject(meta) ? cJSON_GetObjectItemCaseSensitive(meta, "total_size")
					       : NULL;
	double d;

	if (!cJSON_IsNumber(ts))
		return;
	d = ts->valuedouble;
	if (d >= 0.0 && d < EXACT_LIMIT && (double)(uint64_t)d == d) {
		idx->total_size = (uint64_t)d;
		idx->has_total_size = 1;
	}
}

/* weight_map -> entries (sorted by name) and shards (sorted, distinct) */
static int read_weight_map(struct st_index *idx, const cJSON *wm, qk_err *err)
{
	const char *file = idx->path;
	const cJSON *c;
	const char **shard_of;
	size_t n = 0, ns = 0;
	int rc = QK_OK;

	if (!wm)
		return qk_err_set(err, QK_E_INVALID, "%s: no weight_map", file);
	if (!cJSON_IsObject(wm))
		return qk_err_set(err, QK_E_INVALID,
				  "%s: weight_map is %s, expected an object of tensor name -> shard file",
				  file, qk_json_kind(wm));
	cJSON_ArrayForEach(c, wm)
		n++;
	if (n == 0)
		return qk_err_set(err, QK_E_INVALID, "%s: weight_map is empty", file);
	if (n > QK_MAX_TENSORS)
		return qk_err_set(err, QK_E_INVALID, "%s: weight_map lists %zu tensors, more than the limit of %u",
				  file, n, QK_MAX_TENSORS);
	idx->entries = calloc(n, sizeof(*idx->entries));
	shard_of = calloc(n, sizeof(*shard_of));
	idx->shards = calloc(n, sizeof(*idx->shards));
	if (!idx->entries || !shard_of || !idx->shards) {
		free(shard_of);
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", file);
	}
	cJSON_ArrayForEach(c, wm) {
		size_t len = strlen(c->string);

		if (len == 0 || len > QK_MAX_NAME || !qk_utf8_valid(c->string, len)) {
			rc = qk_err_set(err, QK_E_INVALID,
					"%s: weight_map has a tensor name of %zu bytes: empty, over %u bytes or not UTF-8",
					file, len, QK_MAX_NAME);
			goto out;
		}
		if (!cJSON_IsString(c)) {
			rc = qk_err_set(err, QK_E_INVALID,
					"%s: tensor '%s': weight_map value is %s, expected a shard file name",
					file, c->string, qk_json_kind(c));
			goto out;
		}
		rc = check_shard_name(file, c->string, c->valuestring, err);
		if (rc)
			goto out;
		idx->entries[idx->n_entries].name = strdup(c->string);
		if (!idx->entries[idx->n_entries].name) {
			rc = qk_err_set(err, QK_E_NOMEM, "%s: out of memory", file);
			goto out;
		}
		shard_of[idx->n_entries++] = c->valuestring;
	}
	/* distinct shard names, sorted */
	memcpy(idx->shards, shard_of, n * sizeof(*shard_of));
	qsort(idx->shards, n, sizeof(*idx->shards), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (ns == 0 || strcmp(idx->shards[ns - 1], idx->shards[i]) != 0)
			idx->shards[ns++] = idx->shards[i];
	/* shards[] still points into the cJSON tree: copy */
	for (size_t i = 0; i < ns; i++) {
		idx->shards[i] = strdup(idx->shards[i]);
		if (!idx->shards[i]) {
			for (size_t k = i; k < ns; k++)
				idx->shards[k] = NULL;
			idx->n_shards = ns;
			rc = qk_err_set(err, QK_E_NOMEM, "%s: out of memory", file);
			goto out;
		}
	}
	idx->n_shards = ns;
	for (size_t i = 0; i < n; i++) {
		const char *const *p = bsearch(&shard_of[i], idx->shards, ns, sizeof(*idx->shards),
					       cmp_str);
		idx->entries[i].shard = (size_t)(p - (const char *const *)idx->shards);
	}
	/* sorted for st_index_find; names are unique (json.h) */
	qsort(idx->entries, n, sizeof(*idx->entries), cmp_entry);
out:
	free(shard_of);
	return rc;
}

int st_index_parse(struct st_index *idx, const char *json, size_t len, const char *name,
		   qk_err *err)
{
	const cJSON *wm, *meta;
	const char *file = name ? name : "index";
	cJSON *root;
	int rc;

	memset(idx, 0, sizeof(*idx));
	idx->path = strdup(file);
	if (!idx->path)
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", file);
	rc = qk_json_parse(json, len, file, 0, &root, err);
	if (rc)
		return rc;
	if (!cJSON_IsObject(root)) {
		rc = qk_err_set(err, QK_E_INVALID, "%s: is %s, expected an object with a weight_map",
				file, qk_json_kind(root));
		goto out;
	}
	/* keys are unique (json.h) */
	wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
	meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	read_total_size(idx, meta);
	rc = read_weight_map(idx, wm, err);
out:
	cJSON_Delete(root);
	return rc;
}

void st_index_free(struct st_index *idx)
{
	if (!idx)
		return;
	for (size_t i = 0; idx->entries && i < idx->n_entries; i++)
		free(idx->entries[i].name);
	free(idx->entries);
	for (size_t i = 0; idx->shards && i < idx->n_shards; i++)
		free(idx->shards[i]);
	free(idx->shards);
	free(idx->path);
	memset(idx, 0, sizeof(*idx));
}

const struct st_index_entry *st_index_find(const struct st_index *idx, const char *name)
{
	struct st_index_entry key;

	key.name = (char *)(uintptr_t)name;
	key.shard = 0;
	return bsearch(&key, idx->entries, idx->n_entries, sizeof(key), cmp_entry);
}

/* Open one shard and check its tensors against the weight_map. */
static int open_shard(struct qk_catalog *cat, const struct st_index *idx, size_t s,
		      const char *path, unsigned char *seen, qk_err *err)
{
	const char *file = idx->path;
	struct stat st;
	size_t first = cat->n_tensors;
	int rc;

	if (stat(path, &st) != 0 && errno == ENOENT) {
		const char *tensor = "";
		for (size_t i = 0; i < idx->n_entries; i++)
			if (idx->entries[i].shard == s) {
				tensor = idx->entries[i].name;
				break;
			}
		return qk_err_set(err, QK_E_INVALID,
				  "%s: shard '%s' (holding tensor '%s') does not exist", file,
				  idx->shards[s], tensor);
	}
	/* pytorch_model.bin.index.json lists .bin shards (pt.h) */
	rc = strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".bin") == 0
		     ? pt_open(cat, path, err)
		     : st_open(cat, path, err);
	if (rc)
		return qk_err_prefix(err, "%s: shard '%s'", file, idx->shards[s]);
	for (size_t t = first; t < cat->n_tensors; t++) {
		const char *name = cat->tensors[t].name;
		const struct st_index_entry *e = st_index_find(idx, name);

		if (!e)
			return qk_err_set(err, QK_E_INVALID,
					  "%s: tensor '%s' in shard '%s' is not listed in weight_map",
					  file, name, idx->shards[s]);
		if (e->shard != s)
			return qk_err_set(err, QK_E_INVALID,
					  "%s: tensor '%s' is in shard '%s' but weight_map puts it in shard '%s'",
					  file, name, idx->shards[s], idx->shards[e->shard]);
		seen[e - idx->entries] = 1;
	}
	return QK_OK;
}

int st_index_open(struct qk_catalog *cat, const char *index_path, qk_err *err)
{
	struct qk_catalog_mark mark;
	struct st_index idx;
	const char *slash = strrchr(index_path, '/');
	const char *dir = slash ? index_path : ".";
	size_t dir_len = slash ? (size_t)(slash - index_path) : 1;
	unsigned char *seen = NULL;
	size_t text_len;
	char *text;
	int rc;

	if (slash == index_path) /* "/x.json": the root directory */
		dir_len = 0;
	rc = qk_read_file(index_path, QK_JSON_MAX_BYTES, &text, &text_len, err);
	if (rc)
		return rc;
	rc = st_index_parse(&idx, text, text_len, index_path, err);
	free(text);
	if (rc) {
		st_index_free(&idx);
		return rc;
	}
	qk_catalog_mark(cat, &mark);
	seen = calloc(idx.n_entries, 1);
	if (!seen)
		rc = qk_err_set(err, QK_E_NOMEM, "%s: out of memory", index_path);
	for (size_t s = 0; !rc && s < idx.n_shards; s++) {
		char *path = qk_path_join_n(dir, dir_len, idx.shards[s]);
		if (!path) {
			rc = qk_err_set(err, QK_E_NOMEM, "%s: out of memory", index_path);
			break;
		}
		rc = open_shard(cat, &idx, s, path, seen, err);
		free(path);
	}
	for (size_t i = 0; !rc && i < idx.n_entries; i++)
		if (!seen[i])
			rc = qk_err_set(err, QK_E_INVALID,
					"%s: weight_map puts tensor '%s' in shard '%s', which does not hold it",
					index_path, idx.entries[i].name,
					idx.shards[idx.entries[i].shard]);
	if (rc)
		qk_catalog_rollback(cat, &mark);
	free(seen);
	st_index_free(&idx);
	return rc;
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int st_find_in_dir(const char *dir, char **path_out, int *is_index, qk_err *err)
{
	static const struct {
		const char *name;
		int is_index;
	} fixed[] = { { INDEX_NAME, 1 }, { SINGLE_NAME, 0 },
		      /* PyTorch checkpoints (pt.h), after safetensors as transformers
		       * looks for them */
		      { "pytorch_model.bin.index.json", 1 }, { "pytorch_model.bin", 0 } };
	size_t dl = strlen(dir), n = 0, cap = 0, used, n_bin = 0;
	char **names = NULL, *p, list[768];
	struct dirent *de;
	DIR *d;
	int rc = QK_OK;

	*path_out = NULL;
	*is_index = 0;
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		p = qk_path_join_n(dir, dl, fixed[i].name);
		if (!p)
			return qk_err_set(err, QK_E_NOMEM, "out of memory");
		if (is_file(p)) {
			*path_out = p;
			*is_index = fixed[i].is_index;
			return QK_OK;
		}
		free(p);
	}
	d = opendir(dir);
	if (!d)
		return qk_err_set(err, QK_E_IO, "%s: cannot read directory: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name), sl = strlen(ST_SUFFIX);
		char **nn;

		n_bin += strncmp(de->d_name, "pytorch_model", 13) == 0 && len > 4 &&
			 strcmp(de->d_name + len - 4, ".bin") == 0;
		if (de->d_name[0] == '.' || len <= sl || strcmp(de->d_name + len - sl, ST_SUFFIX) != 0)
			continue;
		p = qk_path_join_n(dir, dl, de->d_name);
		if (!p || !is_file(p)) {
			free(p);
			if (!p) {
				rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
				break;
			}
			continue;
		}
		free(p);
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
				break;
			}
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
			break;
		}
		n++;
	}
	closedir(d);
	if (!rc && n == 0)
		rc = qk_err_set(err, QK_E_INVALID,
				"%s: no %s, %s or other *%s file%s", dir, INDEX_NAME, SINGLE_NAME,
				ST_SUFFIX, n_bin ? " (and its pytorch_model*.bin files are neither "
				"pytorch_model.bin nor listed by pytorch_model.bin.index.json)" : "");
	if (!rc && n == 1) {
		*path_out = qk_path_join_n(dir, dl, names[0]);
		if (!*path_out)
			rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
	}
	if (!rc && n > 1) {
		qsort(names, n, sizeof(*names), cmp_str);
		used = 0;
		list[0] = '\0';
		for (size_t i = 0; i < n && used < sizeof(list); i++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 i ? ", " : "", names[i]);
		rc = qk_err_set(err, QK_E_INVALID,
				"%s: %zu *%s files and no %s to tell how they fit together: %s",
				dir, n, ST_SUFFIX, INDEX_NAME, list);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
