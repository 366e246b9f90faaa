/* imatrix.c - read importance matrices (GGUF and legacy .dat), the entry
 * table and llama-quantize's weights; see imatrix.h. */
#include "imatrix.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/io.h"
#include "../container/gguf.h"
#include "../../quant/qtype.h"

#define KEY_DATASETS "imatrix.datasets"
#define KEY_CHUNK_COUNT "imatrix.chunk_count"
#define KEY_CHUNK_SIZE "imatrix.chunk_size"

void im_free(struct im_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->e[i].name);
		free(f->e[i].sums);
		free(f->e[i].counts);
	}
	free(f->e);
	for (size_t i = 0; i < f->n_datasets; i++)
		free(f->datasets[i]);
	free(f->datasets);
	memset(f, 0, sizeof(*f));
}

/* index where `name` is or would go (binary search over the sorted table) */
static size_t lower_bound(const struct im_file *f, const char *name)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		const size_t mid = lo + (hi - lo) / 2;

		if (strcmp(f->e[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct im_entry *im_find(const struct im_file *f, const char *name)
{
	const size_t i = lower_bound(f, name);

	return i < f->n && strcmp(f->e[i].name, name) == 0 ? &f->e[i] : NULL;
}

int im_add(struct im_file *f, const char *name, uint64_t n_cols, uint64_t n_mat,
	   struct im_entry **out, qk_err *err)
{
	const size_t at = lower_bound(f, name);
	uint64_t nval;
	struct im_entry e = { 0 }, *grown;

	if (at < f->n && strcmp(f->e[at].name, name) == 0)
		return qk_err_set(err, QK_E_USAGE, "imatrix entry '%s' twice", name);
	if (n_cols == 0 || n_mat == 0 || !qk_mul_u64(n_cols, n_mat, &nval) ||
	    nval > SIZE_MAX / sizeof(float))
		return qk_err_set(err, QK_E_USAGE, "imatrix entry '%s': %llu x %llu values", name,
				  (unsigned long long)n_mat, (unsigned long long)n_cols);
	e.name = strdup(name);
	e.sums = calloc((size_t)nval, sizeof(float));
	e.counts = calloc((size_t)n_mat, sizeof(int64_t));
	grown = realloc(f->e, (f->n + 1) * sizeof(*f->e));
	if (!e.name || !e.sums || !e.counts || !grown) {
		free(e.name);
		free(e.sums);
		free(e.counts);
		if (grown)
			f->e = grown;
		return qk_err_set(err, QK_E_NOMEM, "out of memory for imatrix entry '%s' (%llu values)",
				  name, (unsigned long long)nval);
	}
	e.n_cols = n_cols;
	e.n_mat = n_mat;
	f->e = grown;
	memmove(&f->e[at + 1], &f->e[at], (f->n - at) * sizeof(*f->e));
	f->e[at] = e;
	f->n++;
	if (out)
		*out = &f->e[at];
	return QK_OK;
}

static int add_dataset_n(struct im_file *f, const char *s, size_t len, qk_err *err)
{
	char **grown = realloc(f->datasets, (f->n_datasets + 1) * sizeof(*f->datasets));
	char *copy = malloc(len + 1);

	if (grown)
		f->datasets = grown;
	if (!grown || !copy) {
		free(copy);
		return qk_err_set(err, QK_E_NOMEM, "out of memory for a %zu-byte dataset name", len);
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	f->datasets[f->n_datasets++] = copy;
	return QK_OK;
}

int im_add_dataset(struct im_file *f, const char *dataset, qk_err *err)
{
	return add_dataset_n(f, dataset, strlen(dataset), err);
}

/* ---- GGUF ---- */

/* "<entry>.in_sum2" / "<entry>.counts": which suffix (0 none), entry length */
static int suffix_of(const char *name, size_t *stem)
{
	static const char *const sfx[] = { ".in_sum2", ".counts" };
	const size_t len = strlen(name);

	for (int k = 0; k < 2; k++) {
		const size_t s = strlen(sfx[k]);

		if (len > s && strcmp(name + len - s, sfx[k]) == 0) {
			*stem = len - s;
			return k + 1;
		}
	}
	return 0;
}

static int gguf_meta(struct im_file *f, const struct gf_file *g, qk_err *err)
{
	const int64_t kd = gf_find_key(g, KEY_DATASETS);
	const int64_t kc = gf_find_key(g, KEY_CHUNK_COUNT), ks = gf_find_key(g, KEY_CHUNK_SIZE);
	int rc;

	/* llama.cpp reads datasets only when it is an array of strings */
	if (kd >= 0 && gf_kv_type(g, kd) == GF_ARRAY && gf_arr_type(g, kd) == GF_STRING) {
		for (uint64_t j = 0; j < gf_arr_n(g, kd); j++) {
			size_t len;
			const char *s = gf_arr_str(g, kd, j, &len);

			if ((rc = add_dataset_n(f, s, len, err)))
				return rc;
		}
	}
	if (kc >= 0 && (rc = gf_get_u32(g, KEY_CHUNK_COUNT, &f->chunk_count, err)))
		return rc;
	if (ks >= 0 && (rc = gf_get_u32(g, KEY_CHUNK_SIZE, &f->chunk_size, err)))
		return rc;
	f->has_metadata = kd >= 0 && kc >= 0 && ks >= 0;
	return QK_OK;
}

static int f32_check(const struct gf_file *g, int64_t t, const char *name, qk_err *err)
{
	const struct qt_type *q = qt_type_get(gf_tensor_type(g, t));

	if (gf_tensor_type(g, t) == QT_F32)
		return QK_OK;
	return qk_err_set_in(err, QK_E_INVALID, name,
			     "tensor '%s' has type %s; imatrix sums and counts must be F32",
			     gf_tensor_name(g, t), q ? q->name : "?");
}

/* one entry from its two tensors */
static int gguf_entry(struct im_file *f, const struct gf_file *g, const char *entry,
		      int64_t ts, int64_t tc, const char *name, qk_err *err)
{
	const uint64_t nval = gf_tensor_n_elem(g, ts), ncount = gf_tensor_n_elem(g, tc);
	struct im_entry *e;
	float *cnt;
	int rc;

	if ((rc = f32_check(g, ts, name, err)) || (rc = f32_check(g, tc, name, err)))
		return rc;
	if (ncount == 0 || nval % ncount != 0)
		return qk_err_set_in(err, QK_E_INVALID, name,
				     "entry '%s': %llu sums for %llu counts; expected a multiple "
				     "(one row of sums per matrix)", entry,
				     (unsigned long long)nval, (unsigned long long)ncount);
	if ((rc = im_add(f, entry, nval / ncount, ncount, &e, err)))
		return rc; /* names are unique: GGUF tensor names are */
	cnt = malloc((size_t)ncount * sizeof(float));
	if (!cnt)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %llu counts",
				  (unsigned long long)ncount);
	memcpy(e->sums, gf_tensor_data(g, ts), (size_t)nval * sizeof(float));
	memcpy(cnt, gf_tensor_data(g, tc), (size_t)ncount * sizeof(float));
	for (uint64_t j = 0; j < ncount; j++) {
		/* llama.cpp rounds with lround; a count must be a token count */
		if (!(cnt[j] >= 0.0f && cnt[j] < 9.0e18f)) {
			rc = qk_err_set_in(err, QK_E_INVALID, name,
					   "entry '%s': count %llu is %g; expected a token count >= 0",
					   entry, (unsigned long long)j, (double)cnt[j]);
			break;
		}
		e->counts[j] = (int64_t)llroundf(cnt[j]);
	}
	free(cnt);
	return rc;
}

static int parse_gguf(struct im_file *f, const uint8_t *data, size_t size, const char *name,
		      qk_err *err)
{
	struct gf_file *g = NULL;
	int rc = gf_parse(&g, data, size, name, err);
	const int64_t nt = rc ? 0 : gf_n_tensors(g);

	if (!rc && nt < 1)
		rc = qk_err_set_in(err, QK_E_INVALID, name, "no tensors; an imatrix GGUF holds "
				   "<name>.in_sum2 and <name>.counts pairs");
	if (!rc)
		rc = gguf_meta(f, g, err);
	for (int64_t t = 0; !rc && t < nt; t++) {
		const char *tn = gf_tensor_name(g, t);
		char entry[GF_MAX_NAME], other[GF_MAX_NAME + 16];
		size_t stem;
		const int k = suffix_of(tn, &stem);
		int64_t mate;

		if (k == 0)
			continue; /* llama.cpp ignores other tensors */
		memcpy(entry, tn, stem);
		entry[stem] = '\0';
		snprintf(other, sizeof(other), "%s%s", entry, k == 1 ? ".counts" : ".in_sum2");
		mate = gf_find_tensor(g, other);
		if (mate < 0) {
			rc = qk_err_set_in(err, QK_E_INVALID, name,
					   "tensor '%s' has no '%s': sums and counts come in pairs",
					   tn, other);
			break;
		}
		if (k == 1)
			rc = gguf_entry(f, g, entry, t, mate, name, err);
	}
	gf_close(g);
	return rc;
}

/* ---- legacy .dat ---- */

static int read_i32(qk_cur *c, int32_t *v, const char *field, qk_err *err)
{
	uint32_t u;
	int rc = qk_cur_u32(c, &u, field, err);

	*v = (int32_t)u;
	return rc;
}

static int dat_entry(struct im_file *f, qk_cur *c, int32_t i, const char *name, qk_err *err)
{
	int32_t len, ncall, nval;
	const uint8_t *p;
	char ename[IM_MAX_NAME + 1];
	struct im_entry *e;
	int rc;

	if ((rc = read_i32(c, &len, "entry name length", err)))
		return rc;
	if (len < 1 || (uint32_t)len > IM_MAX_NAME)
		return qk_err_set_in(err, QK_E_INVALID, name,
				     "entry %d: name length %d at byte %llu; expected 1..%u", i, len,
				     (unsigned long long)(qk_cur_offset(c) - 4), IM_MAX_NAME);
	if ((rc = qk_cur_bytes(c, (size_t)len, &p, "entry name", err)))
		return rc;
	memcpy(ename, p, (size_t)len);
	ename[len] = '\0';
	if (strlen(ename) != (size_t)len)
		return qk_err_set_in(err, QK_E_INVALID, name, "entry %d: name holds a NUL byte", i);
	if ((rc = read_i32(c, &ncall, "ncall", err)) || (rc = read_i32(c, &nval, "nval", err)))
		return rc;
	if (nval < 1)
		return qk_err_set_in(err, QK_E_INVALID, name,
				     "entry '%s': %d values; expected at least 1", ename, nval);
	if ((uint64_t)nval * 4 > qk_cur_left(c))
		return qk_err_set_in(err, QK_E_INVALID, name,
				     "entry '%s': %d values need %llu bytes at byte %llu, %zu left",
				     ename, nval, (unsigned long long)nval * 4,
				     (unsigned long long)qk_cur_offset(c), qk_cur_left(c));
	if (im_find(f, ename))
		return qk_err_set_in(err, QK_E_INVALID, name, "entry '%s' appears twice", ename);
	if ((rc = im_add(f, ename, (uint64_t)nval, 1, &e, err)) ||
	    (rc = qk_cur_bytes(c, (size_t)nval * 4, &p, "values", err)))
		return rc;
	memcpy(e->sums, p, (size_t)nval * 4);
	e->counts[0] = ncall;
	return QK_OK;
}

static int parse_dat(struct im_file *f, const uint8_t *data, size_t size, const char *name,
		     qk_err *err)
{
	qk_cur c;
	int32_t n, chunks, len;
	const uint8_t *p;
	int rc;

	qk_cur_init(&c, data, size, name, 0);
	f->legacy = true;
	if (size < 4)
		return qk_err_set_in(err, QK_E_INVALID, name, "%zu bytes: neither a GGUF file (no "
				     "\"GGUF\" magic) nor a legacy .dat imatrix (no entry count)", size);
	if ((rc = read_i32(&c, &n, "entry count", err)))
		return rc;
	if (n < 1)
		return qk_err_set_in(err, QK_E_INVALID, name,
				     "legacy .dat imatrix with %d entries; expected at least 1 "
				     "(not a GGUF file either)", n);
	for (int32_t i = 0; i < n; i++)
		if ((rc = dat_entry(f, &c, i, name, err)))
			return rc;
	/* optional trailer: chunk count, then the dataset name */
	if (qk_cur_left(&c) == 0)
		return QK_OK;
	if ((rc = read_i32(&c, &chunks, "chunk count", err)))
		return rc;
	f->chunk_count = (uint32_t)chunks;
	if (qk_cur_left(&c) < 4)
		return QK_OK;
	if ((rc = read_i32(&c, &len, "dataset name length", err)))
		return rc;
	if (len <= 0)
		return QK_OK;
	if ((rc = qk_cur_bytes(&c, (size_t)len, &p, "dataset name", err)))
		return rc;
	return add_dataset_n(f, (const char *)p, strnlen((const char *)p, (size_t)len), err);
}

int im_parse(struct im_file *f, const uint8_t *data, size_t size, const char *name,
	     qk_err *err)
{
	int rc;

	memset(f, 0, sizeof(*f));
	if (size >= 4 && memcmp(data, "GGUF", 4) == 0)
		rc = parse_gguf(f, data, size, name, err);
	else
		rc = parse_dat(f, data, size, name, err);
	if (rc)
		im_free(f);
	return rc;
}

int im_load(struct im_file *f, const char *path, qk_err *err)
{
	qk_map map;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = qk_map_open(&map, path, err)))
		return rc;
	rc = im_parse(f, map.data ? map.data : (const uint8_t *)"", map.size, path, err);
	qk_map_close(&map);
	return rc;
}

/* ---- llama-quantize's weights ---- */

int im_weights(const struct im_file *f, const struct im_entry *e, float *out, qk_err *err)
{
	const uint64_t n = e->n_cols;

	for (uint64_t m = 0; m < e->n_mat; m++) {
		const float *s = e->sums + m * n;
		float *w = out + m * n;
		/* GGUF: per-matrix count (0: weight 1); legacy: ncall (0: as stored) */
		const float cnt = (float)e->counts[m];

		for (uint64_t c = 0; c < n; c++) {
			if (f->legacy)
				w[c] = e->counts[0] > 0 ? s[c] / cnt : s[c];
			else
				w[c] = cnt > 0.0f ? s[c] / cnt : 1.0f;
			if (!isfinite(w[c]))
				return qk_err_set(err, QK_E_INVALID,
						  "imatrix entry '%s': weight %llu of matrix %llu is %g "
						  "(llama-quantize refuses non-finite importance)",
						  e->name, (unsigned long long)c, (unsigned long long)m,
						  (double)w[c]);
		}
	}
	return QK_OK;
}
