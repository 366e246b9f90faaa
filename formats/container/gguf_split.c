/* gguf_split.c - split GGUF sets as one catalog; see gguf_split.h.
 *
 * Facts from llama.cpp (src/llama.cpp llama_split_path/llama_split_prefix,
 * src/llama-model-loader.cpp, tools/gguf-split) and gguf-py (GGUFWriter
 * add_shard_kv_data): names "%s-%05d-of-%05d.gguf" with the number 1-based;
 * split.no 0-based; split.no/split.count u16 and split.tensors.count i32,
 * written into every file; model key/values in the first file only. */
#include "gguf_split.h"
#include "gguf.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* "-00001-of-00003.gguf": '-', 5 digits, "-of-", 5 digits, ".gguf" */
#define SUFFIX_LEN 20u
#define DIGITS 5u

/* ---- names ---- */

/* exactly DIGITS ASCII digits */
static bool digits(const char *s, unsigned *out)
{
	unsigned v = 0;

	for (unsigned i = 0; i < DIGITS; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

int gs_parse_name(const char *path, char *prefix, size_t size, unsigned *no, unsigned *count)
{
	size_t n = strlen(path), plen;
	const char *s;
	unsigned a, b;

	if (n <= SUFFIX_LEN)
		return 0;
	plen = n - SUFFIX_LEN;
	s = path + plen;
	if (s[0] != '-' || memcmp(s + 1 + DIGITS, "-of-", 4) != 0 ||
	    memcmp(s + 1 + DIGITS + 4 + DIGITS, ".gguf", 5) != 0)
		return 0;
	if (!digits(s + 1, &a) || !digits(s + 1 + DIGITS + 4, &b))
		return 0;
	if (a < 1 || a > b || b > GS_MAX_COUNT)
		return 0;
	if (prefix) {
		if (plen >= size)
			return -1;
		memcpy(prefix, path, plen);
		prefix[plen] = '\0';
	}
	if (no)
		*no = a;
	if (count)
		*count = b;
	return 1;
}

int gs_split_path(char *buf, size_t size, const char *prefix, unsigned no, unsigned count)
{
	int n;

	if (size)
		buf[0] = '\0';
	if (no < 1 || no > count || count > GS_MAX_COUNT)
		return QK_E_USAGE;
	n = snprintf(buf, size, "%s-%05u-of-%05u.gguf", prefix, no, count);
	if (n < 0 || (size_t)n >= size) {
		if (size)
			buf[0] = '\0';
		return QK_E_USAGE;
	}
	return QK_OK;
}

/* ---- split keys ---- */

struct keys {
	bool has_no, has_count, has_tensors;
	unsigned no, count;   /* split.no (0-based), split.count */
	int32_t tensors;      /* split.tensors.count */
};

/* key `key` of exact type `type`: *has false if absent */
static int find_typed(const struct gf_file *f, const char *key, enum gf_type type,
		      int64_t *idx, bool *has, qk_err *err)
{
	*idx = gf_find_key(f, key);
	*has = *idx >= 0;
	if (*has && gf_kv_type(f, *idx) != type)
		return qk_err_set(err, QK_E_INVALID, "%s: key '%s' has type %s, expected %s",
				  gf_name(f), key, gf_type_name(gf_kv_type(f, *idx)),
				  gf_type_name(type));
	return QK_OK;
}

static int read_keys(const struct gf_file *f, struct keys *k, qk_err *err)
{
	int64_t i;
	int rc;

	memset(k, 0, sizeof(*k));
	if ((rc = find_typed(f, GS_KEY_NO, GF_U16, &i, &k->has_no, err)))
		return rc;
	if (k->has_no)
		k->no = gf_kv_u16(f, i);
	if ((rc = find_typed(f, GS_KEY_COUNT, GF_U16, &i, &k->has_count, err)))
		return rc;
	if (k->has_count)
		k->count = gf_kv_u16(f, i);
	if ((rc = find_typed(f, GS_KEY_TENSORS, GF_I32, &i, &k->has_tensors, err)))
		return rc;
	if (k->has_tensors)
		k->tensors = gf_kv_i32(f, i);
	return QK_OK;
}

static int key_missing(const struct gf_file *f, const char *key, const char *expected,
		       qk_err *err)
{
	return qk_err_set(err, QK_E_INVALID, "%s: key '%s' is missing, expected %s in a split set",
			  gf_name(f), key, expected);
}

/* a later file (0-based position pos of n): its own split keys */
static int check_member(const struct gf_file *f, unsigned pos, unsigned n,
			const struct keys *first, qk_err *err)
{
	struct keys k;
	int rc = read_keys(f, &k, err);

	if (rc)
		return rc;
	if (!k.has_no)
		return key_missing(f, GS_KEY_NO, "u16", err);
	if (k.no != pos)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: split.no is %u, expected %u (split %u of %u; split.no counts from 0)",
				  gf_name(f), k.no, pos, pos + 1, n);
	if (!k.has_count)
		return key_missing(f, GS_KEY_COUNT, "u16", err);
	if (k.count != n)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: split.count is %u, expected %u as in the first split",
				  gf_name(f), k.count, n);
	if (k.has_tensors && k.tensors != first->tensors)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: split.tensors.count is %" PRId32 ", expected %" PRId32
				  " as in the first split", gf_name(f), k.tensors, first->tensors);
	return QK_OK;
}

/* QK_E_INVALID naming `path` if it does not exist; other stat errors are
 * left to the open that follows (it reports them as I/O errors) */
static int exists_or_invalid(const char *path, unsigned no, unsigned n, qk_err *err)
{
	struct stat st;

	if (stat(path, &st) != 0 && errno == ENOENT)
		return qk_err_set(err, QK_E_INVALID, "%s: split %u of %u is missing", path, no, n);
	return QK_OK;
}

/* ---- the set ---- */

/* The first file is in the catalog (file index first_idx) with keys k0 and
 * split.count n > 1; its name is "<prefix>-00001-of-<n>.gguf". Add files
 * 2..n and check the set. */
static int add_rest(struct qk_catalog *cat, size_t first_idx, const struct keys *k0,
		    const char *prefix, unsigned n, qk_err *err)
{
	const struct gf_file *f0 = cat->gguf[first_idx];
	size_t size = strlen(prefix) + SUFFIX_LEN + 1;
	char *p = malloc(size);
	uint64_t total = (uint64_t)gf_n_tensors(f0);
	int rc = QK_OK;

	if (!p)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	for (unsigned no = 2; no <= n; no++) {
		size_t idx = cat->n_files;

		rc = gs_split_path(p, size, prefix, no, n);
		if (rc) { /* cannot happen: size fits the name, no <= n */
			rc = qk_err_set(err, QK_E_USAGE, "%s: cannot form split %u of %u", prefix, no, n);
			break;
		}
		if ((rc = exists_or_invalid(p, no, n, err)) || (rc = gf_to_catalog(cat, p, err)) ||
		    (rc = check_member(cat->gguf[idx], no - 1, n, k0, err)))
			break;
		total += (uint64_t)gf_n_tensors(cat->gguf[idx]);
	}
	if (!rc && (k0->tensors < 0 || total != (uint64_t)k0->tensors))
		rc = qk_err_set(err, QK_E_INVALID,
				"%s: split.tensors.count is %" PRId32 ", but the %u splits hold %" PRIu64
				" tensors", gf_name(f0), k0->tensors, n, total);
	free(p);
	return rc;
}

/* Checks of the first file: split.no 0, its name, split.tensors.count */
static int check_first(const struct gf_file *f0, const struct keys *k0, bool name_ok,
		       unsigned n, qk_err *err)
{
	if (!k0->has_no)
		return key_missing(f0, GS_KEY_NO, "u16", err);
	if (k0->no != 0)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: split.no is %u, expected 0: a split set is opened from its "
				  "first file, named -00001-of-%05u.gguf", gf_name(f0), k0->no, n);
	if (!name_ok)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: split.count is %u but the file name does not end in "
				  "-00001-of-%05u.gguf, so the other splits cannot be found",
				  gf_name(f0), n, n);
	if (!k0->has_tensors)
		return key_missing(f0, GS_KEY_TENSORS, "i32", err);
	return QK_OK;
}

int gs_to_catalog(struct qk_catalog *cat, const char *path, qk_err *err)
{
	struct qk_catalog_mark mark;
	size_t size = strlen(path) + 1, first_idx;
	char *prefix = malloc(size), *first = NULL;
	const char *first_path = path;
	unsigned no = 0, count = 0, n;
	struct keys k0;
	int named, rc;

	if (!prefix)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	qk_catalog_mark(cat, &mark);
	first_idx = mark.n_files;
	named = gs_parse_name(path, prefix, size, &no, &count) == 1;
	if (named && no > 1) {
		/* a later member: the set is opened from its first file, whose
		 * name has the same length */
		first = malloc(size);
		if (!first) {
			rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
			goto out;
		}
		(void)gs_split_path(first, size, prefix, 1, count);
		if ((rc = exists_or_invalid(first, 1, count, err))) {
			qk_err_prefix(err, "opening the split set of %s", path);
			goto out;
		}
		first_path = first;
	}
	if ((rc = gf_to_catalog(cat, first_path, err)))
		goto out;
	if ((rc = read_keys(cat->gguf[first_idx], &k0, err)))
		goto out;
	n = k0.has_count ? k0.count : 0;
	if (first && !k0.has_count) {
		rc = key_missing(cat->gguf[first_idx], GS_KEY_COUNT, "u16", err);
		qk_err_prefix(err, "opening the split set of %s", path);
		goto out;
	}
	if (first && n != count) {
		rc = qk_err_set(err, QK_E_INVALID,
				"%s: split.count is %u, expected %u from the name of %s",
				first_path, n, count, path);
		goto out;
	}
	if (n <= 1) /* a plain file (split.count 0: a gguf-split --merge output) */
		goto out;
	if ((rc = check_first(cat->gguf[first_idx], &k0, named && (first || (no == 1 && count == n)),
			      n, err)))
		goto out;
	rc = add_rest(cat, first_idx, &k0, prefix, n, err);
out:
	if (rc)
		qk_catalog_rollback(cat, &mark);
	free(prefix);
	free(first);
	return rc;
}

/* ---- directories ---- */

static bool is_gguf(const char *name)
{
	size_t n = strlen(name);
	return n >= 5 && strcmp(name + n - 5, ".gguf") == 0;
}

char *gs_find_in_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char set_prefix[256], pfx[256], *out = NULL;
	unsigned set_count = 0, low = 0, no, count;
	bool any = false, ok = true;
	size_t size;

	if (!d)
		return NULL;
	while (ok && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !is_gguf(e->d_name))
			continue;
		if (gs_parse_name(e->d_name, pfx, sizeof(pfx), &no, &count) != 1) {
			ok = false;
		} else if (!any) {
			strcpy(set_prefix, pfx);
			set_count = count;
			low = no;
			any = true;
		} else if (strcmp(pfx, set_prefix) != 0 || count != set_count) {
			ok = false;
		} else if (no < low) {
			low = no;
		}
	}
	closedir(d);
	if (!ok || !any)
		return NULL;
	size = strlen(dir) + 1 + strlen(set_prefix) + SUFFIX_LEN + 1;
	out = malloc(size);
	if (!out)
		return NULL;
	snprintf(out, size, "%s/", dir);
	if (gs_split_path(out + strlen(out), size - strlen(out), set_prefix, low, set_count)) {
		free(out);
		return NULL;
	}
	return out;
}
