/* safetensors.c - the safetensors reader; see safetensors.h.
 *
 * Everything is validated into a temporary entry list before the catalog is
 * touched, so the catalog only sees whole files; the adds themselves can still
 * fail (a name already in the catalog from another shard, memory), and then a
 * catalog mark rolls them back.
 */
#include "safetensors.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "../base/dtype.h"
#include "../base/io.h"
#include "../base/json.h"

#define ST_EXACT_LIMIT 9007199254740992.0 /* 2^53: doubles above are not exact */

/* one tensor entry of a header, validated */
struct ent {
	const char *name;             /* into the cJSON tree */
	int dtype;
	int n_dims;
	uint64_t shape[QK_MAX_DIMS];  /* row-major */
	uint64_t n_elem, nbytes;
	uint64_t begin, end;          /* relative to the data buffer */
};

/* An exact non-negative integer below 2^53 (cJSON stores numbers as doubles;
 * at 2^53 and above two different texts can read as the same double). */
static bool json_uint(const cJSON *v, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	if (!(d >= 0.0) || signbit(d) || d >= ST_EXACT_LIMIT)
		return false;
	if ((double)(uint64_t)d != d)
		return false;
	*out = (uint64_t)d;
	return true;
}

/* "shape[1] is a string, expected ..." or "... = 1.5 is not an exact ..." */
static int bad_uint(const char *file, const char *tensor, const char *what, int idx,
		    const cJSON *v, qk_err *err)
{
	char field[64];

	if (idx >= 0)
		snprintf(field, sizeof(field), "%s[%d]", what, idx);
	else
		snprintf(field, sizeof(field), "%s", what);
	if (!cJSON_IsNumber(v))
		return qk_err_set(err, QK_E_INVALID,
				  "%s: tensor '%s': %s is %s, expected a non-negative integer",
				  file, tensor, field, qk_json_kind(v));
	return qk_err_set(err, QK_E_INVALID,
			  "%s: tensor '%s': %s = %.17g is not an exact non-negative integer below 2^53",
			  file, tensor, field, v->valuedouble);
}

static int parse_shape(const char *file, struct ent *e, const cJSON *v, qk_err *err)
{
	const cJSON *d;
	int n = 0;

	if (!cJSON_IsArray(v))
		return qk_err_set(err, QK_E_INVALID, "%s: tensor '%s': shape is %s, expected an array",
				  file, e->name, qk_json_kind(v));
	cJSON_ArrayForEach(d, v) {
		if (n == QK_MAX_DIMS)
			return qk_err_set(err, QK_E_INVALID,
					  "%s: tensor '%s': shape has %d dimensions, more than the limit of %d",
					  file, e->name, cJSON_GetArraySize(v), QK_MAX_DIMS);
		if (!json_uint(d, &e->shape[n]))
			return bad_uint(file, e->name, "shape", n, d, err);
		n++;
	}
	e->n_dims = n;
	return QK_OK;
}

static int parse_offsets(const char *file, struct ent *e, const cJSON *v, qk_err *err)
{
	const cJSON *b, *x;

	if (!cJSON_IsArray(v))
		return qk_err_set(err, QK_E_INVALID,
				  "%s: tensor '%s': data_offsets is %s, expected an array [begin, end]",
				  file, e->name, qk_json_kind(v));
	if (cJSON_GetArraySize(v) != 2)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: tensor '%s': data_offsets has %d elements, expected 2 [begin, end]",
				  file, e->name, cJSON_GetArraySize(v));
	b = v->child;
	x = b->next;
	if (!json_uint(b, &e->begin))
		return bad_uint(file, e->name, "data_offsets", 0, b, err);
	if (!json_uint(x, &e->end))
		return bad_uint(file, e->name, "data_offsets", 1, x, err);
	if (e->begin > e->end)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: tensor '%s': data_offsets [%llu, %llu] end before they begin",
				  file, e->name, (unsigned long long)e->begin, (unsigned long long)e->end);
	return QK_OK;
}

/* element count, bit count and byte size, cross-checked with the offsets */
static int check_size(const char *file, struct ent *e, qk_err *err)
{
	char shape[256];
	uint64_t bits;
	unsigned w = qk_dtype_bits(e->dtype);

	qk_shape_str(e->shape, e->n_dims, shape, sizeof(shape));
	e->n_elem = 1;
	for (int i = 0; i < e->n_dims; i++)
		if (!qk_mul_u64(e->n_elem, e->shape[i], &e->n_elem))
			return qk_err_set(err, QK_E_INVALID,
					  "%s: tensor '%s': shape %s has more elements than fit in 64 bits",
					  file, e->name, shape);
	if (!qk_mul_u64(e->n_elem, w, &bits))
		return qk_err_set(err, QK_E_INVALID,
				  "%s: tensor '%s': %s %s is more bits than fit in 64 bits",
				  file, e->name, qk_dtype_name(e->dtype), shape);
	if (bits % 8 != 0)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: tensor '%s': %llu elements of %s (%u bits) do not fill whole bytes",
				  file, e->name, (unsigned long long)e->n_elem,
				  qk_dtype_name(e->dtype), w);
	e->nbytes = bits / 8;
	if (e->end - e->begin != e->nbytes)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: tensor '%s': data_offsets [%llu, %llu] cover %llu bytes, expected %llu (%s %s)",
				  file, e->name, (unsigned long long)e->begin,
				  (unsigned long long)e->end,
				  (unsigned long long)(e->end - e->begin),
				  (unsigned long long)e->nbytes, qk_dtype_name(e->dtype), shape);
	return QK_OK;
}

static const char *const ent_fields[] = { "dtype", "shape", "data_offsets" };

static int parse_entry(const char *file, const cJSON *obj, struct ent *e, qk_err *err)
{
	const cJSON *field[3] = { NULL, NULL, NULL };
	const cJSON *c;
	int rc;

	memset(e, 0, sizeof(*e));
	e->name = obj->string;
	if (!cJSON_IsObject(obj))
		return qk_err_set(err, QK_E_INVALID,
				  "%s: tensor '%s': entry is %s, expected an object with dtype, shape and data_offsets",
				  file, e->name, qk_json_kind(obj));
	cJSON_ArrayForEach(c, obj) {
		int k = -1;
		for (int i = 0; i < 3; i++)
			if (strcmp(c->string, ent_fields[i]) == 0)
				k = i;
		if (k < 0)
			return qk_err_set(err, QK_E_INVALID,
					  "%s: tensor '%s': unknown field '%s', expected only dtype, shape and data_offsets",
					  file, e->name, c->string);
		field[k] = c; /* keys are unique (json.h) */
	}
	for (int i = 0; i < 3; i++)
		if (!field[i])
			return qk_err_set(err, QK_E_INVALID, "%s: tensor '%s': missing field '%s'",
					  file, e->name, ent_fields[i]);
	if (!cJSON_IsString(field[0]))
		return qk_err_set(err, QK_E_INVALID, "%s: tensor '%s': dtype is %s, expected a string",
				  file, e->name, qk_json_kind(field[0]));
	e->dtype = qk_dtype_from_st(field[0]->valuestring,
				    (uint32_t)strnlen(field[0]->valuestring, 64));
	if (e->dtype < 0)
		return qk_err_set(err, QK_E_INVALID, "%s: tensor '%s': unknown dtype '%.64s'",
				  file, e->name, field[0]->valuestring);
	rc = parse_shape(file, e, field[1], err);
	if (!rc)
		rc = parse_offsets(file, e, field[2], err);
	if (!rc)
		rc = check_size(file, e, err);
	return rc;
}

static int check_name(const char *file, const char *what, const char *s, qk_err *err)
{
	size_t len = strlen(s);

	if (len == 0)
		return qk_err_set(err, QK_E_INVALID, "%s: empty %s", file, what);
	if (len > QK_MAX_NAME)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: %s '%.40s...' is %zu bytes, longer than the limit of %u",
				  file, what, s, len, QK_MAX_NAME);
	if (!qk_utf8_valid(s, len))
		return qk_err_set(err, QK_E_INVALID, "%s: %s is not valid UTF-8", file, what);
	return QK_OK;
}

static int cmp_offsets(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* In offset order: first at 0, each where the previous ends, last at the end
 * of the data. */
static int check_layout(const char *file, struct ent *e, size_t n, uint64_t data_len,
			qk_err *err)
{
	uint64_t pos = 0;

	qsort(e, n, sizeof(*e), cmp_offsets);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 && e[i].begin != 0)
			return qk_err_set(err, QK_E_INVALID,
					  "%s: tensor '%s' is first in the data but begins at byte %llu, expected 0 (a hole of %llu bytes)",
					  file, e[i].name, (unsigned long long)e[i].begin,
					  (unsigned long long)e[i].begin);
		if (i > 0 && e[i].begin > pos)
			return qk_err_set(err, QK_E_INVALID,
					  "%s: hole of %llu bytes between tensor '%s' (ends at %llu) and tensor '%s' (begins at %llu)",
					  file, (unsigned long long)(e[i].begin - pos), e[i - 1].name,
					  (unsigned long long)pos, e[i].name,
					  (unsigned long long)e[i].begin);
		if (i > 0 && e[i].begin < pos)
			return qk_err_set(err, QK_E_INVALID,
					  "%s: tensors '%s' [%llu, %llu] and '%s' [%llu, %llu] overlap",
					  file, e[i - 1].name, (unsigned long long)e[i - 1].begin,
					  (unsigned long long)e[i - 1].end, e[i].name,
					  (unsigned long long)e[i].begin, (unsigned long long)e[i].end);
		pos = e[i].end;
	}
	if (pos < data_len)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: %llu trailing bytes after the last tensor (data section is %llu bytes, tensors cover %llu)",
				  file, (unsigned long long)(data_len - pos),
				  (unsigned long long)data_len, (unsigned long long)pos);
	if (pos > data_len)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: file is truncated: tensors need %llu bytes of data, the file holds %llu",
				  file, (unsigned long long)pos, (unsigned long long)data_len);
	return QK_OK;
}

/* __metadata__: an object of unique string keys with string values. */
static int parse_meta(const char *file, const cJSON *m, qk_err *err)
{
	const cJSON *c;
	int rc = QK_OK;

	if (!cJSON_IsObject(m))
		return qk_err_set(err, QK_E_INVALID,
				  "%s: __metadata__ is %s, expected an object of strings",
				  file, qk_json_kind(m));
	cJSON_ArrayForEach(c, m) {
		if (!cJSON_IsString(c)) {
			rc = qk_err_set(err, QK_E_INVALID,
					"%s: __metadata__ key '%s' is %s, expected a string",
					file, c->string, qk_json_kind(c));
			break;
		}
		rc = check_name(file, "__metadata__ key", c->string, err);
		if (rc)
			break;
	}
	return rc;
}

/* Add the validated entries and metadata to the catalog (all or nothing). */
static int commit(struct qk_catalog *cat, int file_idx, const char *file, const cJSON *meta,
		  const struct ent *e, size_t n, const uint8_t *data, uint64_t data_off,
		  qk_err *err)
{
	struct qk_catalog_mark mark;
	const cJSON *c;
	int rc = QK_OK;

	qk_catalog_mark(cat, &mark);
	if (meta)
		cJSON_ArrayForEach(c, meta) {
			rc = qk_catalog_add_meta(cat, file_idx, c->string, c->valuestring, err);
			if (rc)
				goto fail;
		}
	for (size_t i = 0; i < n; i++) {
		struct qk_tensor *t;

		rc = qk_catalog_add(cat, e[i].name, strlen(e[i].name), &t, err);
		if (rc)
			goto fail;
		t->dtype = e[i].dtype;
		t->n_dims = e[i].n_dims;
		memcpy(t->shape, e[i].shape, sizeof(t->shape));
		t->n_elem = e[i].n_elem;
		t->nbytes = e[i].nbytes;
		t->offset = data_off + e[i].begin;
		t->data = e[i].nbytes ? data + data_off + e[i].begin : NULL;
		t->file = file_idx;
	}
	return QK_OK;
fail:
	qk_catalog_rollback(cat, &mark);
	return qk_err_prefix(err, "%s", file);
}

/* 8-byte length, header bounds; *hlen = N */
static int header_bounds(const uint8_t *data, size_t size, const char *file, uint64_t *hlen,
			 qk_err *err)
{
	if (size < 8)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: file is %zu bytes, too short for the 8-byte header length",
				  file, size);
	*hlen = qk_ld64(data);
	if (*hlen > ST_MAX_HEADER)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: header length %llu is larger than the limit of %u bytes",
				  file, (unsigned long long)*hlen, ST_MAX_HEADER);
	if (*hlen > size - 8)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: header length %llu runs past the end of the file (%zu bytes after the length)",
				  file, (unsigned long long)*hlen, size - 8);
	return QK_OK;
}

/* Parse the header text into a cJSON object (json.h's rules); caller
 * deletes it. */
static int parse_json(const uint8_t *data, uint64_t hlen, const char *file, cJSON **out,
		      qk_err *err)
{
	int rc = qk_json_parse((const char *)data + 8, (size_t)hlen, file, 8, out, err);

	if (rc)
		return rc;
	if (!cJSON_IsObject(*out)) {
		rc = qk_err_set(err, QK_E_INVALID, "%s: header is %s, expected an object",
				file, qk_json_kind(*out));
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

int st_parse(struct qk_catalog *cat, int file_idx, const uint8_t *data, size_t size,
	     const char *name, qk_err *err)
{
	const char *file = name ? name : "safetensors";
	const cJSON *meta = NULL, *c;
	struct ent *ents = NULL;
	cJSON *root = NULL;
	uint64_t hlen = 0;
	size_t n_child = 0, n = 0;
	int rc;

	rc = header_bounds(data, size, file, &hlen, err);
	if (!rc)
		rc = parse_json(data, hlen, file, &root, err);
	if (rc)
		return rc;
	cJSON_ArrayForEach(c, root)
		n_child++;
	if (n_child > (size_t)QK_MAX_TENSORS + 1) {
		rc = qk_err_set(err, QK_E_INVALID, "%s: header lists %zu entries, more than the limit of %u tensors",
				file, n_child, QK_MAX_TENSORS);
		goto out;
	}
	ents = calloc(n_child ? n_child : 1, sizeof(*ents));
	if (!ents) {
		rc = qk_err_set(err, QK_E_NOMEM, "%s: out of memory for %zu tensors", file, n_child);
		goto out;
	}
	cJSON_ArrayForEach(c, root) {
		if (strcmp(c->string, "__metadata__") == 0) {
			meta = c; /* once: keys are unique (json.h) */
			continue;
		}
		rc = check_name(file, "tensor name", c->string, err);
		if (!rc)
			rc = parse_entry(file, c, &ents[n], err);
		if (rc)
			goto out;
		if (n == QK_MAX_TENSORS) {
			rc = qk_err_set(err, QK_E_INVALID, "%s: more than %u tensors", file,
					QK_MAX_TENSORS);
			goto out;
		}
		n++;
	}
	if (meta)
		rc = parse_meta(file, meta, err);
	if (!rc)
		rc = check_layout(file, ents, n, (uint64_t)size - 8 - hlen, err);
	if (!rc)
		rc = commit(cat, file_idx, file, meta, ents, n, data, 8 + hlen, err);
out:
	free(ents);
	cJSON_Delete(root);
	return rc;
}

int st_open(struct qk_catalog *cat, const char *path, qk_err *err)
{
	struct qk_catalog_mark mark;
	qk_map m;
	int idx, rc;

	rc = qk_map_open(&m, path, err);
	if (rc)
		return rc;
	qk_catalog_mark(cat, &mark);
	rc = qk_catalog_add_file(cat, &m, &idx, err);
	if (rc) {
		qk_map_close(&m);
		return qk_err_prefix(err, "%s", path);
	}
	rc = st_parse(cat, idx, cat->files[idx].data, cat->files[idx].size, path, err);
	if (rc)
		qk_catalog_rollback(cat, &mark);
	return rc;
}
