/* imatrix_write.c - write importance matrices as llama-imatrix does: GGUF
 * (save_imatrix) and legacy .dat (save_imatrix_legacy); see imatrix.h. */
#include "imatrix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/outfile.h"
#include "../container/gguf.h"
#include "../../quant/qtype.h"

/* ---- GGUF ---- */

/* "<entry><sfx>" into buf; QK_E_USAGE when it does not fit a tensor name */
static int tensor_name(char buf[GF_MAX_NAME], const char *entry, const char *sfx, qk_err *err)
{
	if ((size_t)snprintf(buf, GF_MAX_NAME, "%s%s", entry, sfx) >= GF_MAX_NAME)
		return qk_err_set(err, QK_E_USAGE, "imatrix entry '%s': '%s%s' is longer than a "
				  "GGUF tensor name (%u bytes)", entry, entry, sfx, GF_MAX_NAME - 1);
	return QK_OK;
}

static int gguf_declare(const struct im_file *f, struct gf_writer *w, qk_err *err)
{
	int rc = gf_writer_add_str(w, "general.type", "imatrix", err);

	if (!rc)
		rc = gf_writer_add_arr_str(w, "imatrix.datasets", (const char *const *)f->datasets,
					   NULL, f->n_datasets, err);
	if (!rc)
		rc = gf_writer_add_u32(w, "imatrix.chunk_count", f->chunk_count, err);
	if (!rc)
		rc = gf_writer_add_u32(w, "imatrix.chunk_size", f->chunk_size, err);
	for (size_t i = 0; !rc && i < f->n; i++) {
		const struct im_entry *e = &f->e[i];
		/* ggml's n_dims: 2 only when there is more than one matrix */
		const int nd = e->n_mat > 1 ? 2 : 1;
		const int64_t ne_s[2] = { (int64_t)e->n_cols, (int64_t)e->n_mat };
		const int64_t ne_c[2] = { nd == 2 ? 1 : (int64_t)e->n_mat, (int64_t)e->n_mat };
		char tn[GF_MAX_NAME];

		if (!(rc = tensor_name(tn, e->name, ".in_sum2", err)))
			rc = gf_writer_add_tensor(w, tn, QT_F32, nd, ne_s, err);
		if (!rc && !(rc = tensor_name(tn, e->name, ".counts", err)))
			rc = gf_writer_add_tensor(w, tn, QT_F32, nd, ne_c, err);
	}
	return rc;
}

int im_write_gguf(const struct im_file *f, const char *path, qk_err *err)
{
	struct gf_writer *w = NULL;
	int rc;

	if ((rc = gf_writer_open(&w, path, err)))
		return rc;
	rc = gguf_declare(f, w, err);
	for (size_t i = 0; !rc && i < f->n; i++) {
		const struct im_entry *e = &f->e[i];

		rc = gf_writer_write(w, e->sums, (size_t)(e->n_cols * e->n_mat) * sizeof(float), err);
		for (uint64_t m = 0; !rc && m < e->n_mat; m++) {
			const float c = (float)e->counts[m];

			rc = gf_writer_write(w, &c, sizeof(c), err);
		}
	}
	if (rc) {
		gf_writer_abort(w);
		return rc;
	}
	return gf_writer_commit(w, err);
}

/* ---- legacy .dat ---- */

static int put_i32(struct qk_out *o, int32_t v, qk_err *err)
{
	const uint8_t b[4] = { (uint8_t)v, (uint8_t)((uint32_t)v >> 8), (uint8_t)((uint32_t)v >> 16),
			       (uint8_t)((uint32_t)v >> 24) };

	return qk_out_write(o, b, 4, err);
}

/* does the entry have any data (llama-imatrix skips those that have none)? */
static bool has_data(const struct im_entry *e)
{
	for (uint64_t m = 0; m < e->n_mat; m++)
		if (e->counts[m] != 0)
			return true;
	return false;
}

/* one entry: name, ncall, nval, values = sum / count * ncall (count 0: 1 * ncall) */
static int dat_entry(struct qk_out *o, const struct im_entry *e, uint32_t chunk_size,
		     float *tmp, qk_err *err)
{
	const uint64_t nval = e->n_cols * e->n_mat;
	int64_t maxc = e->counts[0];
	int rc;

	for (uint64_t m = 1; m < e->n_mat; m++)
		maxc = e->counts[m] > maxc ? e->counts[m] : maxc;
	/* ceiling division, in int64 as llama-imatrix computes it, stored as i32 */
	const int32_t ncall = (int32_t)((maxc + (chunk_size - 1)) / chunk_size);

	if ((rc = put_i32(o, (int32_t)strlen(e->name), err)) ||
	    (rc = qk_out_write(o, e->name, strlen(e->name), err)) ||
	    (rc = put_i32(o, ncall, err)) || (rc = put_i32(o, (int32_t)nval, err)))
		return rc;
	for (uint64_t i = 0; i < nval; i++) {
		float count = (float)e->counts[i / e->n_cols];
		float value = e->sums[i];

		if (count == 0.0f) {
			value = 1.0f;
			count = 1.0f;
		}
		tmp[i] = value / count * (float)ncall;
	}
	return qk_out_write(o, tmp, (size_t)nval * sizeof(float), err);
}

int im_write_dat(const struct im_file *f, const char *path, qk_err *err)
{
	struct qk_out *o = NULL;
	uint64_t most = 0;
	int32_t n = 0;
	float *tmp;
	int rc;

	if (f->chunk_size < 1)
		return qk_err_set(err, QK_E_USAGE, "%s: a legacy .dat imatrix needs a chunk size",
				  path);
	for (size_t i = 0; i < f->n; i++) {
		const uint64_t nval = f->e[i].n_cols * f->e[i].n_mat;

		if (nval > INT32_MAX)
			return qk_err_set(err, QK_E_USAGE, "%s: entry '%s' has %llu values, more than "
					  "the .dat format's i32", path, f->e[i].name,
					  (unsigned long long)nval);
		most = nval > most ? nval : most;
		n += has_data(&f->e[i]);
	}
	tmp = malloc((size_t)(most ? most : 1) * sizeof(float));
	if (!tmp)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %llu values",
				  (unsigned long long)most);
	rc = qk_out_open(&o, path, err);
	if (!rc)
		rc = put_i32(o, n, err);
	for (size_t i = 0; !rc && i < f->n; i++)
		if (has_data(&f->e[i]))
			rc = dat_entry(o, &f->e[i], f->chunk_size, tmp, err);
	if (!rc)
		rc = put_i32(o, (int32_t)f->chunk_count, err);
	if (!rc) {
		/* the last dataset, as llama-imatrix writes its text file's name */
		const char *ds = f->n_datasets ? f->datasets[f->n_datasets - 1] : "";

		rc = put_i32(o, (int32_t)strlen(ds), err);
		if (!rc)
			rc = qk_out_write(o, ds, strlen(ds), err);
	}
	free(tmp);
	if (rc) {
		qk_out_abort(o);
		return rc;
	}
	return qk_out_commit(o, err);
}
