/* fuzz_imatrix.c - libFuzzer target for the importance-matrix reader
 * (formats/imatrix/imatrix.h), GGUF and legacy .dat.
 *
 * Parses the input from memory. On success the entries must be sorted with
 * unique names that im_find finds, every entry must have n_mat x n_cols >= 1
 * values and n_mat counts, and im_weights must either succeed or refuse
 * with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/imatrix/imatrix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct im_file f;
	qk_err err;

	if (im_parse(&f, data, size, "fuzz", &err) != QK_OK) {
		if (err.msg[0] == '\0')
			abort();
		return 0;
	}
	for (size_t i = 0; i < f.n; i++) {
		const struct im_entry *e = &f.e[i];
		float *w;

		if (e->n_cols == 0 || e->n_mat == 0 || !e->sums || !e->counts ||
		    im_find(&f, e->name) != e || (i > 0 && strcmp(f.e[i - 1].name, e->name) >= 0))
			abort();
		w = malloc((size_t)(e->n_cols * e->n_mat) * sizeof(float));
		if (!w)
			abort();
		if (im_weights(&f, e, w, &err) != QK_OK && err.msg[0] == '\0')
			abort();
		free(w);
	}
	im_free(&f);
	return 0;
}
