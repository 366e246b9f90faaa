/* pt_zip.c - the zip container of a PyTorch checkpoint: its central
 * directory (PKWARE APPNOTE 6.3: end of central directory record, zip64
 * locator and record, central file headers with the zip64 extra field,
 * local file headers), and pt_parse / pt_open, which tie the archive, the
 * pickle and the catalog together; see pt.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "../base/dtype.h"
#include "../base/io.h"
#include "pt_priv.h"

#define SIG_EOCD 0x06054b50u
#define SIG_Z64_LOC 0x07064b50u
#define SIG_Z64_EOCD 0x06064b50u
#define SIG_CDH 0x02014b50u
#define SIG_LFH 0x04034b50u
#define EOCD_SIZE 22u
#define Z64_LOC_SIZE 20u
#define CDH_SIZE 46u
#define LFH_SIZE 30u

/* the archive's totals from its (zip64) end records */
struct eocd {
	uint64_t n_entries, cd_size, cd_off;
};

static int bad(qk_err *err, const char *file, const char *fmt, uint64_t a)
{
	return qk_err_set(err, QK_E_INVALID, "%s: not a valid zip archive: %s %llu", file, fmt,
			  (unsigned long long)a);
}

static int find_eocd(const uint8_t *d, size_t size, const char *file, struct eocd *e,
		     qk_err *err)
{
	size_t lo = size > EOCD_SIZE + 65535u ? size - EOCD_SIZE - 65535u : 0, at = 0;
	bool found = false;

	if (size < EOCD_SIZE)
		return bad(err, file, "the file is shorter than an end record:", size);
	for (size_t p = size - EOCD_SIZE + 1; p-- > lo;)
		if (qk_ld32(d + p) == SIG_EOCD && p + EOCD_SIZE + qk_ld16(d + p + 20) == size) {
			at = p;
			found = true;
			break;
		}
	if (!found)
		return bad(err, file, "no end of central directory record in its last bytes; size",
			   size);
	if (qk_ld16(d + at + 4) || qk_ld16(d + at + 6))
		return qk_err_set(err, QK_E_UNSUPPORTED, "%s: a multi-disk zip archive", file);
	e->n_entries = qk_ld16(d + at + 10);
	e->cd_size = qk_ld32(d + at + 12);
	e->cd_off = qk_ld32(d + at + 16);
	if (e->n_entries != 0xffffu && e->cd_size != 0xffffffffu && e->cd_off != 0xffffffffu)
		return QK_OK;
	/* zip64: the locator right before the end record points at the record */
	if (at < Z64_LOC_SIZE || qk_ld32(d + at - Z64_LOC_SIZE) != SIG_Z64_LOC)
		return bad(err, file, "zip64 sizes without a zip64 locator, end record at", at);
	{
		uint64_t r = qk_ld64(d + at - Z64_LOC_SIZE + 8);

		if (r > size || size - r < 56 || qk_ld32(d + r) != SIG_Z64_EOCD)
			return bad(err, file, "no zip64 end record at", r);
		e->n_entries = qk_ld64(d + r + 32);
		e->cd_size = qk_ld64(d + r + 40);
		e->cd_off = qk_ld64(d + r + 48);
	}
	return QK_OK;
}

/* zip64 extra field (id 1): the values whose 32-bit field is all ones, in
 * order uncompressed size, compressed size, local header offset */
static int zip64_extra(const uint8_t *x, size_t n, uint64_t *usize, uint64_t *csize,
		       uint64_t *off)
{
	while (n >= 4) {
		uint16_t id = qk_ld16(x), len = qk_ld16(x + 2);
		size_t k = 4;

		if ((size_t)len > n - 4)
			return -1;
		if (id == 1) {
			uint64_t *v[3] = { usize, csize, off };

			for (int i = 0; i < 3; i++) {
				if (*v[i] != 0xffffffffu)
					continue;
				if (k + 8 > (size_t)len + 4)
					return -1;
				*v[i] = qk_ld64(x + k);
				k += 8;
			}
			return 0;
		}
		x += 4 + len;
		n -= 4 + (size_t)len;
	}
	return 0;
}

int pt_zip_read(const uint8_t *d, size_t size, const char *file, struct pt_zip *z, qk_err *err)
{
	struct eocd e = { 0, 0, 0 };
	uint64_t p, end = 0;
	int rc;

	memset(z, 0, sizeof(*z));
	if ((rc = find_eocd(d, size, file, &e, err)))
		return rc;
	if (e.n_entries > PT_MAX_ENTRIES)
		return bad(err, file, "more entries than the limit of 1000000:", e.n_entries);
	if (!qk_add_u64(e.cd_off, e.cd_size, &end) || end > size)
		return bad(err, file, "the central directory ends past the file, at", end);
	z->e = calloc(e.n_entries ? e.n_entries : 1, sizeof(*z->e));
	if (!z->e)
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", file);
	p = e.cd_off;
	for (uint64_t i = 0; i < e.n_entries; i++) {
		struct pt_entry *en = &z->e[i];
		uint64_t usize, csize, loff, data;
		uint16_t nl, xl, cl;

		if (end - p < CDH_SIZE || qk_ld32(d + p) != SIG_CDH)
			return bad(err, file, "no central file header at", p);
		nl = qk_ld16(d + p + 28);
		xl = qk_ld16(d + p + 30);
		cl = qk_ld16(d + p + 32);
		if (end - p - CDH_SIZE < (uint64_t)nl + xl + cl)
			return bad(err, file, "a central file header runs past the directory, at", p);
		en->flags = qk_ld16(d + p + 8);
		en->method = qk_ld16(d + p + 10);
		en->crc = qk_ld32(d + p + 16);
		csize = qk_ld32(d + p + 20);
		usize = qk_ld32(d + p + 24);
		loff = qk_ld32(d + p + 42);
		en->name = (const char *)d + p + CDH_SIZE;
		en->name_len = nl;
		if (zip64_extra(d + p + CDH_SIZE + nl, xl, &usize, &csize, &loff))
			return bad(err, file, "a malformed zip64 extra field in the header at", p);
		if (loff > size || size - loff < LFH_SIZE || qk_ld32(d + loff) != SIG_LFH)
			return bad(err, file, "no local file header at", loff);
		data = loff + LFH_SIZE + qk_ld16(d + loff + 26) + qk_ld16(d + loff + 28);
		if (data > size || size - data < csize)
			return qk_err_set(err, QK_E_INVALID,
					  "%s: entry '%.*s' (%llu bytes at %llu) runs past the end of "
					  "the file (%zu bytes): truncated?", file, (int)nl, en->name,
					  (unsigned long long)csize, (unsigned long long)data, size);
		if (en->method == 0 && csize != usize)
			return bad(err, file, "a stored entry with two sizes, at", p);
		en->off = data;
		en->size = csize;
		p += CDH_SIZE + (uint64_t)nl + xl + cl;
		z->n++;
	}
	return QK_OK;
}

void pt_zip_free(struct pt_zip *z)
{
	if (!z)
		return;
	free(z->e);
	memset(z, 0, sizeof(*z));
}

/* ---- CRC-32 ---- */

#define CRC_CHUNK (64u << 20) /* bytes summed (and then evicted) at a time */

/* Every stored entry's bytes against the CRC-32 its directory entry
 * records (zlib's crc32 is the zip polynomial). A compressed or encrypted
 * entry is skipped: it is refused if the checkpoint uses it. `map`, when
 * the bytes are a file mapping, gets each chunk evicted once summed, so
 * the pass keeps no more than a chunk of the file resident. */
static int check_crcs(const uint8_t *d, const struct pt_zip *z, const qk_map *map,
		      const char *file, qk_err *err)
{
	for (size_t i = 0; i < z->n; i++) {
		const struct pt_entry *en = &z->e[i];
		uLong crc = crc32(0L, Z_NULL, 0);

		if (en->method != 0 || (en->flags & 1))
			continue;
		for (uint64_t at = 0; at < en->size;) {
			uint64_t n = en->size - at < CRC_CHUNK ? en->size - at : CRC_CHUNK;

			crc = crc32(crc, d + en->off + at, (uInt)n);
			qk_map_evict(map, (size_t)(en->off + at), (size_t)n);
			at += n;
		}
		if ((uint32_t)crc != en->crc)
			return qk_err_set(err, QK_E_INVALID,
					  "%s: entry '%.*s' (%llu bytes at %llu) has CRC-32 %08x, "
					  "its directory entry says %08x: the file is damaged", file,
					  (int)en->name_len, en->name, (unsigned long long)en->size,
					  (unsigned long long)en->off, (unsigned)crc, (unsigned)en->crc);
	}
	return QK_OK;
}

/* ---- the checkpoint ---- */

/* the entry named prefix + suffix, or NULL */
static const struct pt_entry *entry(const struct pt_zip *z, const char *prefix, size_t pl,
				    const char *suffix, size_t sl)
{
	for (size_t i = 0; i < z->n; i++)
		if (z->e[i].name_len == pl + sl && memcmp(z->e[i].name, prefix, pl) == 0 &&
		    memcmp(z->e[i].name + pl, suffix, sl) == 0)
			return &z->e[i];
	return NULL;
}

/* the one "<dir>/data.pkl" entry; *pl gets the length of "<dir>/" */
static int find_pickle(const struct pt_zip *z, const char *file, const struct pt_entry **out,
		       size_t *pl, qk_err *err)
{
	static const char pkl[] = "/data.pkl";
	const size_t k = sizeof(pkl) - 1;

	*out = NULL;
	for (size_t i = 0; i < z->n; i++) {
		const struct pt_entry *en = &z->e[i];
		const char *slash;

		if (en->name_len <= k || memcmp(en->name + en->name_len - k, pkl, k) != 0)
			continue;
		slash = memchr(en->name, '/', en->name_len);
		if ((size_t)(slash - en->name) != en->name_len - k)
			continue; /* not at depth one */
		if (*out)
			return qk_err_set(err, QK_E_INVALID, "%s: two pickles, '%.*s' and '%.*s'", file,
					  (int)(*out)->name_len, (*out)->name, (int)en->name_len,
					  en->name);
		*out = en;
		*pl = en->name_len - k + 1;
	}
	if (!*out)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: a zip archive without <name>/data.pkl: not a torch.save file",
				  file);
	return QK_OK;
}

/* rows of t: storage bytes checked, catalog tensor added */
static int add_tensor(struct qk_catalog *cat, int file, const uint8_t *data,
		      const struct pt_zip *z, const char *prefix, size_t pl,
		      const struct pt_tensor *t, const char *name, qk_err *err)
{
	char key[64];
	const struct pt_entry *en;
	uint64_t esz = 1, n_elem = 1, need = 0, sbytes = 0, first;
	struct qk_tensor *ct;
	int rc;

	snprintf(key, sizeof(key), "data/%.*s", (int)(t->key_len < 48 ? t->key_len : 48), t->key);
	en = t->key_len < 48 ? entry(z, prefix, pl, key, strlen(key)) : NULL;
	if (!en)
		return qk_err_set(err, QK_E_INVALID, "%s: tensor '%.*s': no entry '%.*s%s' for its "
				  "storage", name, (int)t->name_len, t->name, (int)pl, prefix, key);
	if (en->method != 0 || (en->flags & 1))
		return qk_err_set(err, QK_E_UNSUPPORTED, "%s: entry '%.*s' is %s (torch.save "
				  "stores storages uncompressed)", name, (int)en->name_len,
				  en->name, en->flags & 1 ? "encrypted" : "compressed");
	qk_dtype_nbytes(t->dtype, 1, &esz);
	for (int i = 0; i < t->n_dims; i++)
		if (!qk_mul_u64(n_elem, t->shape[i], &n_elem))
			return qk_err_set(err, QK_E_INVALID, "%s: tensor '%.*s': size beyond 64 bits",
					  name, (int)t->name_len, t->name);
	if (!qk_mul_u64(t->numel, esz, &sbytes) || sbytes > en->size)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: storage '%.*s' of tensor '%.*s' is %llu %s elements, but its "
				  "entry holds %llu bytes", name, (int)t->key_len, t->key,
				  (int)t->name_len, t->name, (unsigned long long)t->numel,
				  qk_dtype_name(t->dtype), (unsigned long long)en->size);
	if (!qk_add_u64(t->offset, n_elem, &need) || need > t->numel)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: tensor '%.*s': elements %llu .. %llu of a storage of %llu",
				  name, (int)t->name_len, t->name, (unsigned long long)t->offset,
				  (unsigned long long)need, (unsigned long long)t->numel);
	if ((rc = qk_catalog_add(cat, t->name, t->name_len, &ct, err)))
		return qk_err_prefix(err, "%s", name);
	first = en->off + t->offset * esz;
	ct->dtype = t->dtype;
	ct->n_dims = t->n_dims;
	memcpy(ct->shape, t->shape, sizeof(ct->shape));
	ct->n_elem = n_elem;
	ct->nbytes = n_elem * esz;
	ct->data = ct->nbytes ? data + first : NULL;
	ct->offset = first;
	ct->file = file;
	return QK_OK;
}

int pt_parse(struct qk_catalog *cat, int file, const uint8_t *data, size_t size,
	     const char *name, qk_err *err)
{
	struct qk_catalog_mark mark;
	struct pt_zip z = { 0, NULL };
	struct pt_dict dict = { 0, NULL };
	const struct pt_entry *pkl, *bo;
	size_t pl = 0;
	int rc;

	if (size >= 2 && data[0] == 0x80 && data[1] <= 5)
		return qk_err_set(err, QK_E_UNSUPPORTED,
				  "%s: the legacy (pre-1.6, non-zip) torch.save format is not read: "
				  "load it with torch and save it again (torch.save, or "
				  "save_pretrained(DIR, safe_serialization=True))", name);
	if (size < 4 || qk_ld32(data) != SIG_LFH)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: not a PyTorch checkpoint (a zip archive starts with PK\\3\\4)",
				  name);
	qk_catalog_mark(cat, &mark);
	if ((rc = pt_zip_read(data, size, name, &z, err)))
		goto out;
	if ((rc = find_pickle(&z, name, &pkl, &pl, err)))
		goto out;
	bo = entry(&z, pkl->name, pl, "byteorder", 9);
	if (bo && !(bo->method == 0 && bo->size == 6 && memcmp(data + bo->off, "little", 6) == 0)) {
		rc = qk_err_set(err, QK_E_UNSUPPORTED, "%s: a big-endian (or unreadable) "
				"byteorder entry: only little-endian checkpoints are read", name);
		goto out;
	}
	if (pkl->method != 0 || (pkl->flags & 1)) {
		rc = qk_err_set(err, QK_E_UNSUPPORTED, "%s: data.pkl is compressed or encrypted",
				name);
		goto out;
	}
	if ((rc = pt_unpickle(data + pkl->off, (size_t)pkl->size, name, &dict, err)))
		goto out;
	for (size_t i = 0; i < dict.n && !rc; i++)
		rc = add_tensor(cat, file, data, &z, pkl->name, pl, &dict.t[i], name, err);
	/* the CRC-32s last, so that a fuzzer's mutations of data.pkl still
	 * reach the unpickler (a failure rolls the tensors back); the
	 * catalog's mapping of these bytes, if they are one (not in the fuzz
	 * target), has its chunks evicted after their check */
	if (!rc)
		rc = check_crcs(data, &z, file >= 0 && (size_t)file < cat->n_files &&
				cat->files[file].data == data ? &cat->files[file] : NULL, name, err);
out:
	if (rc)
		qk_catalog_rollback(cat, &mark); /* tensors added before the failure */
	pt_dict_free(&dict);
	pt_zip_free(&z);
	return rc;
}

int pt_open(struct qk_catalog *cat, const char *path, qk_err *err)
{
	struct qk_catalog_mark mark;
	qk_map m;
	int idx, rc;

	if ((rc = qk_map_open(&m, path, err)))
		return rc;
	qk_catalog_mark(cat, &mark);
	if ((rc = qk_catalog_add_file(cat, &m, &idx, err))) {
		qk_map_close(&m);
		return qk_err_prefix(err, "%s", path);
	}
	rc = pt_parse(cat, idx, cat->files[idx].data, cat->files[idx].size, path, err);
	if (rc)
		qk_catalog_rollback(cat, &mark);
	else
		cat->pytorch = true;
	return rc;
}
