/* inspect_pq.c - qwen-inspect's lines about matrices a checkpoint ships
 * quantized (formats/container/pq.h): how many, stored how, and their
 * bytes (weights, scales, zero points together). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../formats/base/dtype.h"
#include "../formats/container/pq.h"
#include "inspect.h"

#define MAX_KINDS 32 /* distinct storages listed; the rest are counted last */

struct pq_group {
	const struct pq_store *first; /* a representative */
	char desc[160];
	uint64_t n, bytes;
};

/* group the catalog's storages by method and description; returns groups */
static size_t group(const struct qk_catalog *cat, struct pq_group *g, uint64_t *n_other)
{
	size_t n = 0;

	*n_other = 0;
	for (size_t i = 0; i < cat->n_pq; i++) {
		const struct pq_store *s = cat->pq[i];
		char d[160];
		size_t k;

		pq_describe(s, d, sizeof(d));
		for (k = 0; k < n; k++)
			if (strcmp(g[k].desc, d) == 0 && strcmp(g[k].first->method, s->method) == 0)
				break;
		if (k == n && n == MAX_KINDS) {
			(*n_other)++;
			continue;
		}
		if (k == n) {
			g[n].first = s;
			snprintf(g[n].desc, sizeof(g[n].desc), "%s", d);
			g[n].n = g[n].bytes = 0;
			n++;
		}
		g[k].n++;
		g[k].bytes += s->bytes;
	}
	return n;
}

void inspect_pq_text(FILE *f, const struct qk_catalog *cat)
{
	struct pq_group g[MAX_KINDS];
	uint64_t other;
	size_t n;

	if (!cat->n_pq)
		return;
	n = group(cat, g, &other);
	fprintf(f, "quantized storage (config.json quantization_config):\n");
	for (size_t k = 0; k < n; k++)
		fprintf(f, "  %-20s %5" PRIu64 " matrices %12" PRIu64 " bytes  %s\n",
			g[k].first->method, g[k].n, g[k].bytes, g[k].desc);
	if (other)
		fprintf(f, "  %" PRIu64 " more matrices in other storages\n", other);
}

cJSON *inspect_pq_store_json(const struct pq_store *s)
{
	cJSON *o = cJSON_CreateObject();
	char d[160];

	if (!o)
		return NULL;
	pq_describe(s, d, sizeof(d));
	cJSON_AddStringToObject(o, "method", s->method);
	cJSON_AddStringToObject(o, "storage", d);
	cJSON_AddNumberToObject(o, "bits", s->bits);
	if (s->kind == PQ_SCALED) {
		cJSON *b = cJSON_AddArrayToObject(o, "block");

		cJSON_AddItemToArray(b, cJSON_CreateNumber((double)s->blk_r));
		cJSON_AddItemToArray(b, cJSON_CreateNumber((double)s->blk_c));
	} else {
		cJSON_AddNumberToObject(o, "group_size", s->group);
	}
	cJSON_AddStringToObject(o, "scale_dtype", qk_dtype_name(s->scale.dtype));
	cJSON_AddNumberToObject(o, "bytes", (double)s->bytes);
	return o;
}

void inspect_pq_json(cJSON *root, const struct qk_catalog *cat)
{
	struct pq_group g[MAX_KINDS];
	uint64_t other;
	cJSON *a;
	size_t n;

	if (!cat->n_pq)
		return;
	n = group(cat, g, &other);
	a = cJSON_AddArrayToObject(root, "quantized_storage");
	for (size_t k = 0; a && k < n; k++) {
		cJSON *o = inspect_pq_store_json(g[k].first);

		if (!o)
			break;
		cJSON_ReplaceItemInObject(o, "bytes", cJSON_CreateNumber((double)g[k].bytes));
		cJSON_AddNumberToObject(o, "matrices", (double)g[k].n);
		cJSON_AddItemToArray(a, o);
	}
}
