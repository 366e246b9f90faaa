/* st_poke.c - test-only: overwrite one element of a tensor in place, to make
 * broken models (NaN/Inf weights) for the CLI suites.
 *
 *   st_poke FILE TENSOR INDEX nan|inf|-inf|zero
 *
 * FILE is a .safetensors or .gguf file; the tensor must be F32, F16 or BF16.
 * INDEX counts elements in storage order. Exit status 0, 2 usage, else
 * qk_err_exit_code.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../formats/base/dtype.h"
#include "../../formats/container/catalog.h"

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		uint32_t f32;
		uint16_t f16, bf16;
	} vals[] = {
		{ "nan", 0x7fc00000u, 0x7e00u, 0x7fc0u },
		{ "inf", 0x7f800000u, 0x7c00u, 0x7f80u },
		{ "-inf", 0xff800000u, 0xfc00u, 0xff80u },
		{ "zero", 0u, 0u, 0u },
	};
	struct qk_catalog cat;
	const struct qk_tensor *t;
	unsigned char b[4];
	size_t v = 0, width;
	unsigned long long idx;
	qk_err err;
	int fd, rc;

	if (argc != 5)
		return fprintf(stderr, "usage: st_poke FILE TENSOR INDEX nan|inf|-inf|zero\n"), 2;
	while (v < 4 && strcmp(vals[v].name, argv[4]))
		v++;
	idx = strtoull(argv[3], NULL, 10);
	if (v == 4)
		return fprintf(stderr, "st_poke: value must be nan, inf, -inf or zero\n"), 2;
	if ((rc = qk_catalog_open(&cat, argv[1], &err)))
		return fprintf(stderr, "st_poke: %s\n", err.msg), qk_err_exit_code(rc);
	t = qk_catalog_find(&cat, argv[2]);
	width = !t ? 0 : t->dtype == QK_DT_F32 ? 4 : t->dtype == QK_DT_F16 || t->dtype == QK_DT_BF16 ? 2 : 0;
	if (!width || idx >= t->n_elem) {
		fprintf(stderr, "st_poke: no F32/F16/BF16 tensor '%s' with element %llu\n", argv[2], idx);
		qk_catalog_free(&cat);
		return 2;
	}
	if (width == 4) {
		for (int i = 0; i < 4; i++)
			b[i] = (unsigned char)(vals[v].f32 >> (8 * i));
	} else {
		uint16_t h = t->dtype == QK_DT_F16 ? vals[v].f16 : vals[v].bf16;

		b[0] = (unsigned char)h;
		b[1] = (unsigned char)(h >> 8);
	}
	fd = open(cat.files[t->file].path, O_RDWR);
	rc = fd >= 0 && pwrite(fd, b, width, (off_t)(t->offset + idx * width)) == (ssize_t)width ? 0 : 4;
	if (fd >= 0)
		close(fd);
	if (rc)
		fprintf(stderr, "st_poke: cannot write %s\n", cat.files[t->file].path);
	qk_catalog_free(&cat);
	return rc;
}
