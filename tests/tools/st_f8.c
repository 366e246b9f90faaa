/* st_f8.c - test-only: copy a safetensors file with one BF16/F16 tensor
 * stored as F8_E4M3 (the high byte of each element: a model qwenkit can read
 * but not compute, for the F8 refusal tests).
 *
 *   st_f8 IN.safetensors OUT.safetensors TENSOR
 *
 * Exit status 0, 2 usage, else qk_err_exit_code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/dtype.h"
#include "../../formats/container/catalog.h"
#include "../../formats/container/safetensors.h"

int main(int argc, char **argv)
{
	struct qk_catalog cat;
	struct st_writer *w = NULL;
	qk_err err;
	int rc;

	if (argc != 4)
		return fprintf(stderr, "usage: st_f8 IN OUT TENSOR\n"), 2;
	if ((rc = qk_catalog_open(&cat, argv[1], &err)))
		return fprintf(stderr, "st_f8: %s\n", err.msg), qk_err_exit_code(rc);
	rc = st_writer_open(&w, argv[2], &err);
	for (size_t i = 0; !rc && i < cat.n_tensors; i++) {
		const struct qk_tensor *t = &cat.tensors[i];
		bool f8 = !strcmp(t->name, argv[3]) && qk_dtype_bits(t->dtype) == 16;

		rc = st_writer_add(w, t->name, f8 ? QK_DT_F8_E4M3 : t->dtype, t->n_dims, t->shape,
				   &err);
	}
	for (size_t i = 0; !rc && i < cat.n_tensors; i++) {
		const struct qk_tensor *t = &cat.tensors[i];

		if (!strcmp(t->name, argv[3]) && qk_dtype_bits(t->dtype) == 16)
			for (uint64_t k = 0; !rc && k < t->n_elem; k++)
				rc = st_writer_write(w, t->data + 2 * k + 1, 1, &err);
		else
			rc = st_writer_write(w, t->data, (size_t)t->nbytes, &err);
	}
	if (!rc) {
		rc = st_writer_commit(w, &err); /* frees w in every case */
		w = NULL;
	}
	if (rc) {
		st_writer_abort(w);
		fprintf(stderr, "st_f8: %s\n", err.msg);
	}
	qk_catalog_free(&cat);
	return rc ? qk_err_exit_code(rc) : 0;
}
