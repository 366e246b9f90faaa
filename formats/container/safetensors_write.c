/* safetensors_write.c - the streaming safetensors writer; see safetensors.h.
 *
 * The declared tensors are kept in a qk_catalog (without files): it already
 * has the fields a declaration needs and a name hash for duplicate checks.
 * The header JSON is built by hand rather than by cJSON, whose number printer
 * may write large integers as "1e+16", which the reference reader rejects.
 */
#include "safetensors.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/dtype.h"
#include "../base/io.h"
#include "../base/outfile.h"
#include "../base/strbuf.h"

#define ST_EXACT_LIMIT (1ull << 53) /* offsets readers can hold exactly in a double */

struct st_writer {
	char *path;                 /* target, for messages */
	struct qk_out *out;
	struct qk_catalog decl;     /* declared tensors; offset = begin in the data */
	uint64_t data_size;         /* sum of declared byte sizes */
	char **mkeys, **mvals;      /* [n_meta] __metadata__ */
	size_t n_meta;
	bool header_done;
	bool failed;                /* an error happened: only abort is useful */
	size_t cur;                 /* tensor the next bytes belong to */
	uint64_t cur_done;          /* bytes of it written */
};

static void sb_u64(struct qk_sb *b, uint64_t v)
{
	char t[24];
	int k = snprintf(t, sizeof(t), "%llu", (unsigned long long)v);
	qk_sb_putn(b, t, (size_t)k);
}

/* A JSON string: quotes, backslashes and control bytes escaped; UTF-8 as is. */
static void sb_json_str(struct qk_sb *b, const char *s)
{
	qk_sb_putn(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			qk_sb_putn(b, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			qk_sb_putn(b, esc, 6);
		} else {
			qk_sb_putn(b, (const char *)s, 1);
		}
	}
	qk_sb_putn(b, "\"", 1);
}

static int check_text(struct st_writer *w, const char *what, const char *s, qk_err *err)
{
	size_t len = s ? strlen(s) : 0;

	if (len == 0)
		return qk_err_set(err, QK_E_USAGE, "%s: empty %s", w->path, what);
	if (len > QK_MAX_NAME)
		return qk_err_set(err, QK_E_USAGE, "%s: %s '%.40s...' is %zu bytes, longer than the limit of %u",
				  w->path, what, s, len, QK_MAX_NAME);
	if (!qk_utf8_valid(s, len))
		return qk_err_set(err, QK_E_USAGE, "%s: %s is not valid UTF-8", w->path, what);
	return QK_OK;
}

int st_writer_open(struct st_writer **wp, const char *path, qk_err *err)
{
	struct st_writer *w;
	int rc;

	*wp = NULL;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path))) {
		free(w);
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", path);
	}
	qk_catalog_init(&w->decl);
	rc = qk_out_open(&w->out, path, err);
	if (rc) {
		st_writer_abort(w);
		return rc;
	}
	*wp = w;
	return QK_OK;
}

int st_writer_add(struct st_writer *w, const char *name, int dtype, int n_dims,
		  const uint64_t *shape, qk_err *err)
{
	struct qk_tensor *t;
	char sh[256];
	uint64_t n_elem = 1, nbytes, end;
	int rc;

	if (w->failed || w->header_done)
		return qk_err_set(err, QK_E_USAGE, "%s: tensor '%s' declared after data was written",
				  w->path, name ? name : "");
	rc = check_text(w, "tensor name", name, err);
	if (rc)
		return rc;
	if (strcmp(name, "__metadata__") == 0)
		return qk_err_set(err, QK_E_USAGE, "%s: '__metadata__' is not a tensor name", w->path);
	if (qk_catalog_find(&w->decl, name))
		return qk_err_set(err, QK_E_USAGE, "%s: tensor '%s' declared twice", w->path, name);
	if (!qk_dtype_st_name(dtype))
		return qk_err_set(err, QK_E_USAGE, "%s: tensor '%s': dtype %s has no safetensors form",
				  w->path, name, qk_dtype_name(dtype));
	if (n_dims < 0 || n_dims > QK_MAX_DIMS || (n_dims > 0 && !shape))
		return qk_err_set(err, QK_E_USAGE, "%s: tensor '%s': %d dimensions, expected 0 to %d",
				  w->path, name, n_dims, QK_MAX_DIMS);
	for (int i = 0; i < n_dims; i++)
		if (!qk_mul_u64(n_elem, shape[i], &n_elem))
			n_elem = UINT64_MAX; /* caught below: no dtype fits that */
	qk_shape_str(shape, n_dims, sh, sizeof(sh));
	if (n_elem == UINT64_MAX || !qk_dtype_nbytes(dtype, n_elem, &nbytes))
		return qk_err_set(err, QK_E_USAGE,
				  "%s: tensor '%s': %s %s is not a whole number of bytes below 2^64",
				  w->path, name, qk_dtype_name(dtype), sh);
	if (!qk_add_u64(w->data_size, nbytes, &end) || end >= ST_EXACT_LIMIT)
		return qk_err_set(err, QK_E_UNSUPPORTED,
				  "%s: tensor '%s': data would end past 2^53 bytes", w->path, name);
	rc = qk_catalog_add(&w->decl, name, strlen(name), &t, err);
	if (rc)
		return qk_err_prefix(err, "%s", w->path);
	t->dtype = dtype;
	t->n_dims = n_dims;
	for (int i = 0; i < n_dims; i++)
		t->shape[i] = shape[i];
	t->n_elem = n_elem;
	t->nbytes = nbytes;
	t->offset = w->data_size;
	w->data_size = end;
	return QK_OK;
}

int st_writer_meta(struct st_writer *w, const char *key, const char *val, qk_err *err)
{
	char **nk, **nv;
	int rc;

	if (w->failed || w->header_done)
		return qk_err_set(err, QK_E_USAGE, "%s: metadata '%s' added after data was written",
				  w->path, key ? key : "");
	rc = check_text(w, "metadata key", key, err);
	if (rc)
		return rc;
	if (!val || !qk_utf8_valid(val, strlen(val)))
		return qk_err_set(err, QK_E_USAGE, "%s: metadata '%s': value is not valid UTF-8",
				  w->path, key);
	for (size_t i = 0; i < w->n_meta; i++)
		if (strcmp(w->mkeys[i], key) == 0)
			return qk_err_set(err, QK_E_USAGE, "%s: metadata key '%s' added twice",
					  w->path, key);
	nk = realloc(w->mkeys, (w->n_meta + 1) * sizeof(*nk));
	if (nk)
		w->mkeys = nk;
	nv = realloc(w->mvals, (w->n_meta + 1) * sizeof(*nv));
	if (nv)
		w->mvals = nv;
	if (!nk || !nv)
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", w->path);
	w->mkeys[w->n_meta] = strdup(key);
	w->mvals[w->n_meta] = strdup(val);
	if (!w->mkeys[w->n_meta] || !w->mvals[w->n_meta]) {
		free(w->mkeys[w->n_meta]);
		free(w->mvals[w->n_meta]);
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", w->path);
	}
	w->n_meta++;
	return QK_OK;
}

/* The header: {"__metadata__":{...},"name":{"dtype":..,"shape":[..],
 * "data_offsets":[b,e]},...} padded with spaces to a multiple of 8. */
static int write_header(struct st_writer *w, qk_err *err)
{
	struct qk_sb b = { 0 };
	uint8_t len[8];
	int rc;

	qk_sb_putn(&b, "{", 1);
	if (w->n_meta) {
		qk_sb_puts(&b, "\"__metadata__\":{");
		for (size_t i = 0; i < w->n_meta; i++) {
			if (i)
				qk_sb_putn(&b, ",", 1);
			sb_json_str(&b, w->mkeys[i]);
			qk_sb_putn(&b, ":", 1);
			sb_json_str(&b, w->mvals[i]);
		}
		qk_sb_putn(&b, "}", 1);
	}
	for (size_t i = 0; i < w->decl.n_tensors; i++) {
		const struct qk_tensor *t = &w->decl.tensors[i];

		if (i || w->n_meta)
			qk_sb_putn(&b, ",", 1);
		sb_json_str(&b, t->name);
		qk_sb_puts(&b, ":{\"dtype\":\"");
		qk_sb_puts(&b, qk_dtype_st_name(t->dtype));
		qk_sb_puts(&b, "\",\"shape\":[");
		for (int d = 0; d < t->n_dims; d++) {
			if (d)
				qk_sb_putn(&b, ",", 1);
			sb_u64(&b, t->shape[d]);
		}
		qk_sb_puts(&b, "],\"data_offsets\":[");
		sb_u64(&b, t->offset);
		qk_sb_putn(&b, ",", 1);
		sb_u64(&b, t->offset + t->nbytes);
		qk_sb_puts(&b, "]}");
		if (b.n > ST_MAX_HEADER)
			break;
	}
	qk_sb_putn(&b, "}", 1);
	while (!b.oom && b.n % 8 != 0)
		qk_sb_putn(&b, " ", 1);
	if (b.oom) {
		qk_sb_free(&b);
		w->failed = true;
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory for the header", w->path);
	}
	if (b.n > ST_MAX_HEADER) {
		qk_sb_free(&b);
		w->failed = true;
		return qk_err_set(err, QK_E_UNSUPPORTED,
				  "%s: header of %zu tensors is more than the limit of %u bytes",
				  w->path, w->decl.n_tensors, ST_MAX_HEADER);
	}
	qk_st64(len, (uint64_t)b.n);
	rc = qk_out_write(w->out, len, sizeof(len), err);
	if (!rc)
		rc = qk_out_write(w->out, b.s, b.n, err);
	qk_sb_free(&b);
	w->header_done = true;
	if (rc)
		w->failed = true;
	return rc;
}

/* move past complete (and empty) tensors */
static void advance(struct st_writer *w)
{
	while (w->cur < w->decl.n_tensors && w->cur_done == w->decl.tensors[w->cur].nbytes) {
		w->cur++;
		w->cur_done = 0;
	}
}

size_t st_writer_current(const struct st_writer *w)
{
	size_t c = w->cur;
	uint64_t done = w->cur_done;

	while (c < w->decl.n_tensors && done == w->decl.tensors[c].nbytes) {
		c++;
		done = 0;
	}
	return c;
}

int st_writer_write(struct st_writer *w, const void *data, size_t n, qk_err *err)
{
	const struct qk_tensor *t;
	int rc;

	if (w->failed)
		return qk_err_set(err, QK_E_USAGE, "%s: write after an earlier error", w->path);
	if (!w->header_done) {
		rc = write_header(w, err);
		if (rc)
			return rc;
	}
	if (n == 0)
		return QK_OK;
	advance(w);
	if (w->cur == w->decl.n_tensors) {
		w->failed = true;
		return qk_err_set(err, QK_E_USAGE,
				  "%s: %zu more bytes written after every declared tensor was complete",
				  w->path, n);
	}
	t = &w->decl.tensors[w->cur];
	if (n > t->nbytes - w->cur_done) {
		w->failed = true;
		return qk_err_set(err, QK_E_USAGE,
				  "%s: tensor '%s': a chunk of %zu bytes at byte %llu runs past its end at %llu",
				  w->path, t->name, n, (unsigned long long)w->cur_done,
				  (unsigned long long)t->nbytes);
	}
	rc = qk_out_write(w->out, data, n, err);
	if (rc) {
		w->failed = true;
		return rc;
	}
	w->cur_done += n;
	return QK_OK;
}

int st_writer_commit(struct st_writer *w, qk_err *err)
{
	int rc = QK_OK;

	if (w->failed)
		rc = qk_err_set(err, QK_E_USAGE, "%s: not committed after an earlier error", w->path);
	if (!rc && !w->header_done)
		rc = write_header(w, err);
	if (!rc) {
		advance(w);
		if (w->cur < w->decl.n_tensors) {
			const struct qk_tensor *t = &w->decl.tensors[w->cur];
			rc = qk_err_set(err, QK_E_USAGE,
					"%s: tensor '%s': %llu of its %llu bytes written",
					w->path, t->name, (unsigned long long)w->cur_done,
					(unsigned long long)t->nbytes);
		}
	}
	if (rc) {
		st_writer_abort(w);
		return rc;
	}
	rc = qk_out_commit(w->out, err);
	w->out = NULL;
	st_writer_abort(w); /* frees the rest */
	return rc;
}

void st_writer_abort(struct st_writer *w)
{
	if (!w)
		return;
	qk_out_abort(w->out);
	qk_catalog_free(&w->decl);
	for (size_t i = 0; i < w->n_meta; i++) {
		free(w->mkeys[i]);
		free(w->mvals[i]);
	}
	free(w->mkeys);
	free(w->mvals);
	free(w->path);
	free(w);
}
