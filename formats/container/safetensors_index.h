/* safetensors_index.h - sharded safetensors checkpoints (model.safetensors.index.json).
 *
 * The index is JSON:
 *
 *   { "metadata": { "total_size": 16060522496, ... },     (optional, advisory)
 *     "weight_map": { "<tensor name>": "<shard file name>", ... } }
 *
 * Shard names are plain file names in the index's own directory: never empty,
 * ".", "..", or containing '/' or '\\', so no name from a file can point
 * elsewhere. The weight_map is checked against the shards' own headers: every
 * tensor of every shard must be listed with that shard, and every listed
 * tensor must be in its shard. total_size is kept but not enforced (generators
 * disagree on whether it counts file or tensor bytes). Other top-level keys
 * are ignored.
 *
 * Errors: QK_E_INVALID with a message that names the index file, and the
 * tensor and shard where one is involved; QK_E_IO, QK_E_NOMEM.
 */
#ifndef QK_ST_INDEX_H
#define QK_ST_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "../base/err.h"


struct st_index_entry {
	char *name;      /* tensor name, owned */
	size_t shard;    /* index into shards[] */
};

/* A parsed index (init with memset 0; st_index_free frees). */
struct st_index {
	char *path;                     /* for messages, owned */
	size_t n_shards;
	char **shards;                  /* [n_shards] distinct shard names, sorted */
	size_t n_entries;
	struct st_index_entry *entries; /* [n_entries] sorted by name */
	int has_total_size;             /* metadata.total_size was an exact integer */
	uint64_t total_size;
};

/* Parse index JSON text (json need not be NUL-terminated); `name` is used in
 * messages. Validates structure and shard names; opens nothing. */
int st_index_parse(struct st_index *idx, const char *json, size_t len, const char *name,
		   qk_err *err);
void st_index_free(struct st_index *idx);
/* The entry for a tensor name, or NULL. */
const struct st_index_entry *st_index_find(const struct st_index *idx, const char *name);

/* Read the index at index_path, open each shard once with st_open (from the
 * index's directory, in shard-name order) and cross-check the weight_map with
 * the shards. On error nothing is added to cat. */
int st_index_open(struct qk_catalog *cat, const char *index_path, qk_err *err);

/* What to open in a directory: "model.safetensors.index.json" if present
 * (*is_index = 1), else "model.safetensors", else the only "*.safetensors"
 * file (*is_index = 0). *path_out is "<dir>/<name>", malloc'd. QK_E_INVALID
 * when there is none, or several and no index (the message lists them);
 * QK_E_IO if the directory cannot be read. */
int st_find_in_dir(const char *dir, char **path_out, int *is_index, qk_err *err);

#endif
