/* filetype.c - what a model file is made of, as every tool names it: the
 * GGUF file type (general.file_type, "Q4_K_M") and the tensor-data size in
 * bytes and bits per weight. See common.h. */
#include "common.h"

#include <inttypes.h>
#include <stdio.h>

#include "../formats/container/gguf.h"
#include "../quant/mix.h"

int64_t cli_file_type(const struct qk_catalog *cat)
{
	int64_t i, v;

	if (cat->format != QK_FMT_GGUF)
		return -1;
	i = gf_find_key(cat->gguf[0], "general.file_type");
	if (i < 0 || !gf_kv_int(cat->gguf[0], i, 0, INT32_MAX, &v))
		return -1;
	return v;
}

const char *cli_file_type_name(int64_t ft)
{
	const struct qm_mix *m = ft >= 0 && ft <= INT32_MAX ? qm_mix_by_ftype((int)ft) : NULL;

	return m ? m->name : NULL;
}

void cli_catalog_size(const struct qk_catalog *cat, uint64_t *bytes, uint64_t *n_elem)
{
	uint64_t b = 0, n = 0;

	for (size_t i = 0; i < cat->n_tensors; i++) {
		b += cat->tensors[i].nbytes;
		n += cat->tensors[i].n_elem;
	}
	*bytes = b;
	*n_elem = n;
}

void cli_json_file_size(cJSON *o, const struct qk_catalog *cat)
{
	int64_t ft = cli_file_type(cat);
	uint64_t bytes, n;

	if (ft >= 0) {
		cJSON_AddNumberToObject(o, "file_type_id", (double)ft);
		if (cli_file_type_name(ft))
			cJSON_AddStringToObject(o, "file_type", cli_file_type_name(ft));
		else
			cJSON_AddNullToObject(o, "file_type");
	}
	cli_catalog_size(cat, &bytes, &n);
	cJSON_AddNumberToObject(o, "n_weights", (double)n);
	cJSON_AddNumberToObject(o, "bytes", (double)bytes);
	cJSON_AddNumberToObject(o, "bpw", n ? 8.0 * (double)bytes / (double)n : 0.0);
}

void cli_ne_str(const int64_t *ne, int n_dims, char *buf, size_t size)
{
	size_t k = 0;

	if (!size)
		return;
	buf[0] = 0;
	for (int d = 0; d < n_dims && k < size; d++) {
		int w = snprintf(buf + k, size - k, "%s%" PRId64, d ? ", " : "{", ne[d]);
		if (w < 0)
			return;
		k += (size_t)w;
	}
	if (k < size)
		snprintf(buf + k, size - k, "%s}", n_dims ? "" : "{");
}

cJSON *cli_ne_json(const int64_t *ne, int n_dims)
{
	cJSON *a = cJSON_CreateArray();

	for (int d = 0; a && d < n_dims; d++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)ne[d]));
	return a;
}
