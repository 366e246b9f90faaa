/* quant_imatrix.c - qwen-quant --imatrix: load the file, give every planned
 * tensor its importance weights, and the quantize.imatrix.* keys; see
 * quant.h. The rules are llama-quantize's (tools/quantize/quantize.cpp,
 * src/llama-quant.cpp of the llama.cpp llama-cpp-python 0.3.36 vendors):
 *
 * - a GGUF imatrix needs its metadata keys (legacy .dat files need none);
 * - weights are each entry's sums over its per-matrix counts (1 where a
 *   count is 0; legacy: values over ncall), and every weight of every entry
 *   must be finite;
 * - a tensor that is quantized (its type changes) looks its entry up by
 *   name: none, and it is quantized without weights; one whose size is not
 *   the tensor's ne[0] x ne[2] is an error, except for token_embd.weight,
 *   which is then quantized without; a stacked expert tensor uses slice e
 *   (ne[0] weights) for the ne[1] rows of expert e;
 * - the output gets quantize.imatrix.file (the path as given, at most 127
 *   bytes), .dataset (the first dataset, likewise; only if there is one),
 *   .entries_count and .chunks_count (only when > 0), as u32, after
 *   general.file_type. */
#include "quant.h"
#include "common.h"

#include <stdlib.h>
#include <string.h>

#include "../formats/container/gguf.h"

#define KV_STR_MAX 127 /* llama_model_kv_override.val_str holds 128 bytes */

/* the entry's weights into j->imat_w (one block for all entries) */
static int load_weights(struct quant_job *j, const char *path, qk_err *err)
{
	uint64_t total = 0, at = 0;
	int rc;

	if ((rc = im_load(&j->imat, path, err)))
		return rc;
	if (!j->imat.legacy && !j->imat.has_metadata)
		return qk_err_set_in(err, QK_E_INVALID, path,
				     "imatrix GGUF without imatrix.datasets, imatrix.chunk_count and "
				     "imatrix.chunk_size (llama-quantize refuses it too)");
	for (size_t i = 0; i < j->imat.n; i++)
		total += j->imat.e[i].n_cols * j->imat.e[i].n_mat; /* bounded by the file */
	j->imat_w = malloc((size_t)(total ? total : 1) * sizeof(float));
	j->imat_at = calloc(j->imat.n ? j->imat.n : 1, sizeof(*j->imat_at));
	if (!j->imat_w || !j->imat_at)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %llu importance weights",
				  (unsigned long long)total);
	for (size_t i = 0; i < j->imat.n; i++) {
		j->imat_at[i] = at;
		if ((rc = im_weights(&j->imat, &j->imat.e[i], j->imat_w + at, err)))
			return qk_err_prefix(err, "%s", path);
		at += j->imat.e[i].n_cols * j->imat.e[i].n_mat;
	}
	return QK_OK;
}

int quant_imatrix_attach(struct quant_job *j, const char *path, qk_err *err)
{
	int rc;

	j->imat_path = path;
	if ((rc = load_weights(j, path, err)))
		return rc;
	for (size_t i = 0; i < j->plan.n; i++) {
		struct wp_tensor *t = &j->plan.t[i];
		const struct im_entry *e;
		uint64_t want;

		if (t->type == t->src_type)
			continue; /* copied: llama-quantize looks nothing up */
		e = im_find(&j->imat, t->name);
		if (!e) {
			j->imat_missing++;
			continue;
		}
		want = (uint64_t)t->ne[0] * (uint64_t)t->ne[2];
		if (e->n_cols * e->n_mat != want) {
			if (strcmp(t->name, "token_embd.weight") == 0) {
				j->imat_missing++;
				continue;
			}
			return qk_err_set_in(err, QK_E_INVALID, path,
					     "entry '%s' has %llu values; the tensor needs %llu "
					     "(ne[0] %lld x %lld experts)", t->name,
					     (unsigned long long)(e->n_cols * e->n_mat),
					     (unsigned long long)want, (long long)t->ne[0],
					     (long long)t->ne[2]);
		}
		t->qw = j->imat_w + j->imat_at[e - j->imat.e];
		t->qw_rows = (uint64_t)t->ne[1];
		j->imat_used++;
	}
	return QK_OK;
}

/* a string key cut to llama-quantize's 127 bytes */
static int add_cut(struct gf_writer *w, const char *key, const char *v, qk_err *err)
{
	const size_t len = strlen(v);

	return gf_writer_add_strn(w, key, v, len > KV_STR_MAX ? KV_STR_MAX : len, err);
}

int quant_imatrix_kvs(const struct quant_job *j, struct gf_writer *w, qk_err *err)
{
	int rc;

	if (!j->imat_path)
		return QK_OK;
	rc = add_cut(w, "quantize.imatrix.file", j->imat_path, err);
	if (!rc && j->imat.n_datasets)
		rc = add_cut(w, "quantize.imatrix.dataset", j->imat.datasets[0], err);
	if (!rc)
		rc = gf_writer_add_u32(w, "quantize.imatrix.entries_count", (uint32_t)j->imat.n, err);
	if (!rc && (int32_t)j->imat.chunk_count > 0)
		rc = gf_writer_add_u32(w, "quantize.imatrix.chunks_count", j->imat.chunk_count, err);
	return rc;
}

void quant_imatrix_free(struct quant_job *j)
{
	im_free(&j->imat);
	free(j->imat_w);
	free(j->imat_at);
	j->imat_w = NULL;
	j->imat_at = NULL;
}
