/* fuzz_st_index.c - libFuzzer target for the shard index parser.
 *
 * Parses the input as model.safetensors.index.json from memory (no shard is
 * opened). On success the entries must be sorted and unique, each findable,
 * and every shard a plain file name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/container/safetensors_index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct st_index idx;
	qk_err err;

	if (st_index_parse(&idx, (const char *)data, size, "fuzz", &err) == QK_OK) {
		for (size_t i = 0; i < idx.n_entries; i++) {
			const struct st_index_entry *e = &idx.entries[i];
			if (e->shard >= idx.n_shards || st_index_find(&idx, e->name) != e)
				abort();
			if (i > 0 && strcmp(idx.entries[i - 1].name, e->name) >= 0)
				abort();
		}
		for (size_t s = 0; s < idx.n_shards; s++)
			if (strchr(idx.shards[s], '/') || strcmp(idx.shards[s], "..") == 0)
				abort();
	} else if (err.msg[0] == '\0') {
		abort();
	}
	st_index_free(&idx);
	return 0;
}
