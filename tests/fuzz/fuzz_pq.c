/* fuzz_pq.c - libFuzzer target for pre-quantized storages (pq.h): a
 * quantization_config and a safetensors file of tensors, grouped by
 * pq_attach, then every row of every storage read by pq_read_row.
 *
 * Input: a 4-byte little-endian length n, n bytes of quantization_config
 * JSON, then the safetensors file (seeds: tests/fuzz/corpus/pq/, cut from
 * testdata/pq by testdata/gen/pq_fuzz_seeds.py). Any input must give
 * either storages whose every row reads (QK_OK, or an error with a
 * message; ASan/UBSan watch the reads), or an error with a message from
 * pq_attach; never a crash. Storages larger than 2^20 values are not read
 * (time, not safety: the same code reads every row). */
#include <stdint.h>
#include <stdlib.h>

#include "../../formats/base/io.h"
#include "../../formats/base/json.h"
#include "../../formats/container/pq.h"
#include "../../formats/container/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VALUES (1u << 20)

static void read_rows(const struct pq_store *s)
{
	float *row; /* [s->cols] */
	qk_err err;

	if (s->cols == 0 || s->rows > MAX_VALUES / s->cols)
		return;
	row = malloc(s->cols * sizeof(float));
	if (!row)
		return;
	for (uint64_t r = 0; r < s->rows; r++)
		if (pq_read_row(s, r, row, &err) != QK_OK && err.msg[0] == '\0')
			__builtin_trap();
	free(row);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qk_catalog cat;
	cJSON *cfg = NULL;
	uint32_t n;
	qk_err err;

	if (size < 4)
		return 0;
	n = qk_ld32(data);
	if (n > size - 4)
		return 0;
	if (qk_json_parse((const char *)data + 4, n, "config.json", 0, &cfg, &err) != QK_OK)
		return 0;
	qk_catalog_init(&cat);
	if (st_parse(&cat, 0, data + 4 + n, size - 4 - n, "model.safetensors", &err) == QK_OK) {
		if (pq_attach(&cat, cfg, "config.json", &err) == QK_OK) {
			for (size_t i = 0; i < cat.n_tensors; i++)
				if (cat.tensors[i].pq)
					read_rows(cat.tensors[i].pq);
		} else if (err.msg[0] == '\0') {
			__builtin_trap();
		}
	}
	qk_catalog_free(&cat);
	cJSON_Delete(cfg);
	return 0;
}
