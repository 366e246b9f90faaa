/* verify_npz.c - NumPy .npz output: a zip archive (libzip, deflate via zlib)
 * of .npy files, what numpy.load reads. See verify.h.
 *
 * .npy format version 1.0 (numpy/lib/format.py, NEP 1): the magic
 * "\x93NUMPY", major 1, minor 0, a little-endian u16 HEADER_LEN, then
 * HEADER_LEN bytes of ASCII: a Python dict literal
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (T, V), }
 * padded with spaces and ended by '\n' so that 10 + HEADER_LEN is a multiple
 * of 64; then the array data in C order. A one-dimensional shape is
 * written "(T,)".
 *
 * The archive is built in memory (libzip's buffer source) and then written
 * through formats/base/outfile.h, so the target appears only when complete and an
 * interrupted run leaves nothing. Entry times are fixed (1980-01-02) so the
 * same arrays give the same bytes.
 */
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

#include "../formats/base/outfile.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "verify_npz.c writes host floats as '<f4': little-endian hosts only"
#endif

#define NPY_ALIGN 64
#define NPZ_MTIME ((time_t)315619200) /* 1980-01-02T00:00:00Z */
#define NPZ_CHUNK (1u << 20)

struct npy_head {
	unsigned char b[256];
	size_t len;
};

static int npy_header(const struct npz_entry *e, struct npy_head *h, uint64_t *data_bytes,
		      qk_err *err)
{
	char dict[200], shape[120];
	size_t n = 0, pad;
	uint64_t count = 1;
	int w;

	shape[0] = '\0';
	for (int d = 0; d < e->n_dims; d++) {
		if (!qk_mul_u64(count, e->shape[d], &count))
			return qk_err_set(err, QK_E_USAGE, "npz: '%s': shape overflows", e->name);
		n += (size_t)snprintf(shape + n, sizeof(shape) - n, "%s%llu", d ? ", " : "",
				      (unsigned long long)e->shape[d]);
	}
	if (e->n_dims == 1)
		snprintf(shape + n, sizeof(shape) - n, ",");
	if (!qk_mul_u64(count, 4, data_bytes))
		return qk_err_set(err, QK_E_USAGE, "npz: '%s': shape overflows", e->name);
	w = snprintf(dict, sizeof(dict), "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
		     e->descr, shape);
	if (w < 0 || (size_t)w >= sizeof(dict))
		return qk_err_set(err, QK_E_USAGE, "npz: '%s': header too long", e->name);
	/* 10 bytes of preamble + dict + pad spaces + '\n' = multiple of 64 */
	pad = (NPY_ALIGN - (10 + (size_t)w + 1) % NPY_ALIGN) % NPY_ALIGN;
	h->len = 10 + (size_t)w + pad + 1;
	memcpy(h->b, "\x93NUMPY\x01\x00", 8);
	h->b[8] = (unsigned char)((h->len - 10) & 0xff);
	h->b[9] = (unsigned char)((h->len - 10) >> 8);
	memcpy(h->b + 10, dict, (size_t)w);
	memset(h->b + 10 + w, ' ', pad);
	h->b[h->len - 1] = '\n';
	return QK_OK;
}

static int zip_fail(qk_err *err, const char *path, const char *what, zip_error_t *ze)
{
	return qk_err_set(err, QK_E_IO, "%s: %s: %s", path, what, zip_error_strerror(ze));
}

/* Add every entry to an archive on `src` and close it (the bytes land in src). */
static int build(zip_source_t *src, const char *path, const struct npz_entry *e, size_t n,
		 struct npy_head *heads, qk_err *err)
{
	zip_error_t ze;
	zip_t *za;

	zip_error_init(&ze);
	za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	if (!za) {
		int rc = zip_fail(err, path, "cannot start a zip archive", &ze);
		zip_error_fini(&ze);
		return rc;
	}
	zip_error_fini(&ze);
	zip_source_keep(src); /* the archive's; this reference survives zip_close */
	for (size_t i = 0; i < n; i++) {
		zip_buffer_fragment_t frag[2];
		uint64_t bytes = 0;
		char name[128];
		zip_source_t *s;
		zip_int64_t idx;
		int rc;

		if ((rc = npy_header(&e[i], &heads[i], &bytes, err))) {
			zip_discard(za);
			return rc;
		}
		frag[0].data = heads[i].b;
		frag[0].length = heads[i].len;
		frag[1].data = (zip_uint8_t *)(uintptr_t)e[i].data; /* read only */
		frag[1].length = bytes;
		snprintf(name, sizeof(name), "%s.npy", e[i].name);
		s = zip_source_buffer_fragment(za, frag, bytes ? 2 : 1, 0);
		idx = s ? zip_file_add(za, name, s, ZIP_FL_ENC_UTF_8) : -1;
		if (idx < 0) {
			if (s)
				zip_source_free(s);
			rc = qk_err_set(err, QK_E_IO, "%s: adding '%s': %s", path, name,
					zip_strerror(za));
			zip_discard(za);
			return rc;
		}
		if (zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 1) ||
		    zip_file_set_mtime(za, (zip_uint64_t)idx, NPZ_MTIME, 0)) {
			rc = qk_err_set(err, QK_E_IO, "%s: '%s': %s", path, name, zip_strerror(za));
			zip_discard(za);
			return rc;
		}
	}
	if (zip_close(za)) {
		int rc = qk_err_set(err, QK_E_IO, "%s: writing the archive: %s", path,
				    zip_strerror(za));
		zip_discard(za);
		return rc;
	}
	return QK_OK;
}

/* Copy the finished archive from src to path through an atomic output. */
static int copy_out(zip_source_t *src, const char *path, qk_err *err)
{
	struct qk_out *out = NULL;
	unsigned char *buf;
	int rc;

	if (zip_source_open(src) < 0)
		return zip_fail(err, path, "reading the archive back", zip_source_error(src));
	buf = malloc(NPZ_CHUNK);
	if (!buf) {
		zip_source_close(src);
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	}
	rc = qk_out_open(&out, path, err);
	while (!rc) {
		zip_int64_t got = zip_source_read(src, buf, NPZ_CHUNK);

		if (got < 0) {
			rc = zip_fail(err, path, "reading the archive back", zip_source_error(src));
			break;
		}
		if (got == 0)
			break;
		rc = qk_out_write(out, buf, (size_t)got, err);
	}
	if (!rc)
		rc = qk_out_commit(out, err);
	else
		qk_out_abort(out);
	zip_source_close(src);
	free(buf);
	return rc;
}

int npz_write(const char *path, const struct npz_entry *e, size_t n, qk_err *err)
{
	struct npy_head *heads;
	zip_error_t ze;
	zip_source_t *src;
	int rc;

	heads = calloc(n ? n : 1, sizeof(*heads));
	if (!heads)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	zip_error_init(&ze);
	src = zip_source_buffer_create(NULL, 0, 0, &ze);
	if (!src) {
		rc = zip_fail(err, path, "cannot start a zip archive", &ze);
		zip_error_fini(&ze);
		free(heads);
		return rc;
	}
	zip_error_fini(&ze);
	rc = build(src, path, e, n, heads, err);
	if (!rc)
		rc = copy_out(src, path, err);
	zip_source_free(src);
	free(heads);
	return rc;
}
