/* fuzz_catalog.h - the one check of the libFuzzer targets of catalog parsers
 * (fuzz_safetensors.c, fuzz_pt.c): parse the input as a whole file from
 * memory; on success every tensor must lie inside the input and be findable
 * by name, and a second parse into the same catalog must fail (every name is
 * now a duplicate) and leave the catalog exactly as it was; on failure the
 * catalog stays empty and the error has a message. Any violation aborts
 * (what libFuzzer reports). */
#ifndef FUZZ_CATALOG_H
#define FUZZ_CATALOG_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/container/catalog.h"

typedef int (*fuzz_parse_fn)(struct qk_catalog *cat, int file, const uint8_t *data, size_t size,
			     const char *name, qk_err *err);

static inline void fuzz_catalog_parser(fuzz_parse_fn parse, const uint8_t *data, size_t size)
{
	struct qk_catalog cat;
	volatile uint8_t sink = 0;
	size_t n;
	qk_err err;

	qk_catalog_init(&cat);
	if (parse(&cat, 0, data, size, "fuzz", &err) == QK_OK) {
		n = cat.n_tensors;
		for (size_t i = 0; i < n; i++) {
			const struct qk_tensor *t = &cat.tensors[i];
			if (t->nbytes) {
				if (t->data < data || t->nbytes > size ||
				    (size_t)(t->data - data) > size - t->nbytes ||
				    t->offset != (uint64_t)(t->data - data))
					abort();
				sink ^= t->data[0] ^ t->data[t->nbytes - 1];
			}
			if (qk_catalog_find(&cat, t->name) != t)
				abort();
		}
		if (n > 0) {
			if (parse(&cat, 1, data, size, "again", &err) == QK_OK)
				abort();
			if (cat.n_tensors != n)
				abort();
			for (size_t i = 0; i < n; i++)
				if (qk_catalog_find(&cat, cat.tensors[i].name) != &cat.tensors[i])
					abort();
		}
	} else if (cat.n_tensors != 0 || cat.n_meta != 0 || err.msg[0] == '\0') {
		abort();
	}
	qk_catalog_free(&cat);
	(void)sink;
}

#endif
