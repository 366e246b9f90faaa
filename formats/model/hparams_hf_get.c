/* hparams_hf_get.c - config.json lookups (text_config first, then the top
 * level), checked conversions to integers, numbers and booleans, and the
 * messages that name the file, the key path, the value and what was
 * expected; see hparams_hf_priv.h. */
#include "hparams_hf_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- messages ---- */

/* A short printable rendering of a JSON value. */
void hf_describe(const cJSON *v, char *buf, size_t n)
{
	if (!v || cJSON_IsNull(v)) {
		snprintf(buf, n, "null");
	} else if (cJSON_IsBool(v)) {
		snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (!isfinite(d)) {
			snprintf(buf, n, "a number too large to represent");
		} else {
			snprintf(buf, n, "%.15g", d);
			if (strtod(buf, NULL) != d)
				snprintf(buf, n, "%.17g", d);
		}
	} else if (cJSON_IsString(v)) {
		const unsigned char *s = (const unsigned char *)v->valuestring;
		size_t len = strlen(v->valuestring), k = 0, cut = len > 48 ? 48 : len;

		while (cut < len && cut > 0 && (s[cut] & 0xc0) == 0x80)
			cut--; /* do not split a UTF-8 sequence */
		if (n < 8)
			return;
		buf[k++] = '"';
		for (size_t i = 0; i < cut && k + 6 < n; i++)
			buf[k++] = (char)(s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
		if (cut < len && k + 5 < n) {
			memcpy(buf + k, "...", 3);
			k += 3;
		}
		buf[k++] = '"';
		buf[k] = '\0';
	} else if (cJSON_IsArray(v)) {
		snprintf(buf, n, "an array");
	} else {
		snprintf(buf, n, "an object");
	}
}

/* "config.json: 'hidden_size' is -4, expected an integer in 1..4294967295" */
int hf_bad(const struct cfg *c, const struct item *it, const char *expect)
{
	char val[80];

	hf_describe(it->v, val, sizeof(val));
	return qk_err_set(c->err, QK_E_INVALID, "%s: '%s' is %s, expected %s", c->fname,
			  it->path, val, expect);
}

int hf_missing(const struct cfg *c, const char *key, const char *expect)
{
	return qk_err_set(c->err, QK_E_INVALID, "%s: missing required key '%s' (%s)", c->fname,
			  key, expect);
}

/* ---- lookups ---- */

/* `key` in object `obj` (NULL = nowhere); keys are unique (json.h). Always
 * QK_OK: an int so that lookups chain with the checks that follow them. */
int hf_look(const struct cfg *c, const cJSON *obj, const char *prefix, const char *key,
		struct item *it)
{
	const cJSON *found = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	(void)c;
	if (snprintf(it->path, sizeof(it->path), "%s%s", prefix, key) >= (int)sizeof(it->path))
		it->path[sizeof(it->path) - 1] = '\0'; /* cut: only for messages */
	it->v = cJSON_IsNull(found) ? NULL : found;
	return QK_OK;
}

/* el->path = "base[idx]" (truncated if it must be) */
void hf_index_path(struct item *el, const char *base, int idx)
{
	if (snprintf(el->path, sizeof(el->path), "%s[%d]", base, idx) >= (int)sizeof(el->path))
		el->path[sizeof(el->path) - 1] = '\0';
}

int hf_find(const struct cfg *c, const char *key, struct item *it)
{
	int rc = hf_look(c, c->text, "text_config.", key, it);

	if (rc || it->v)
		return rc;
	return hf_look(c, c->root, "", key, it);
}

int hf_u32_of(const struct cfg *c, const struct item *it, uint32_t lo, uint32_t hi,
		  uint32_t *out)
{
	double d = cJSON_IsNumber(it->v) ? it->v->valuedouble : NAN;
	char expect[64];

	if (!isfinite(d) || d != floor(d) || d < lo || d > hi) {
		snprintf(expect, sizeof(expect), "an integer in %u..%u", (unsigned)lo, (unsigned)hi);
		return hf_bad(c, it, expect);
	}
	*out = (uint32_t)d;
	return QK_OK;
}

/* A number in [lo, hi], or (lo, hi] when lo_open; `expect` says so in words. */
int hf_num_of(const struct cfg *c, const struct item *it, double lo, double hi,
		  bool lo_open, const char *expect, double *out)
{
	double d = cJSON_IsNumber(it->v) ? it->v->valuedouble : NAN;

	if (!isfinite(d) || d < lo || d > hi || (lo_open && d == lo))
		return hf_bad(c, it, expect);
	*out = d;
	return QK_OK;
}

int hf_req_u32(const struct cfg *c, const char *key, uint32_t lo, uint32_t hi,
		   uint32_t *out)
{
	struct item it;
	char expect[64];
	int rc = hf_find(c, key, &it);

	if (rc)
		return rc;
	if (!it.v) {
		snprintf(expect, sizeof(expect), "an integer in %u..%u", (unsigned)lo, (unsigned)hi);
		return hf_missing(c, key, expect);
	}
	return hf_u32_of(c, &it, lo, hi, out);
}

int hf_opt_u32(const struct cfg *c, const char *key, uint32_t def, uint32_t lo,
		   uint32_t hi, uint32_t *out)
{
	struct item it;
	int rc = hf_find(c, key, &it);

	if (rc)
		return rc;
	*out = def;
	return it.v ? hf_u32_of(c, &it, lo, hi, out) : QK_OK;
}

int hf_opt_num(const struct cfg *c, const cJSON *obj, const char *prefix, const char *key,
		   double def, double lo, double hi, bool lo_open, const char *expect,
		   double *out)
{
	struct item it;
	int rc = obj ? hf_look(c, obj, prefix, key, &it) : hf_find(c, key, &it);

	if (rc)
		return rc;
	*out = def;
	return it.v ? hf_num_of(c, &it, lo, hi, lo_open, expect, out) : QK_OK;
}

int hf_opt_bool(const struct cfg *c, const cJSON *obj, const char *prefix, const char *key,
		    bool def, bool *out)
{
	struct item it;
	int rc = obj ? hf_look(c, obj, prefix, key, &it) : hf_find(c, key, &it);

	if (rc)
		return rc;
	*out = def;
	if (!it.v)
		return QK_OK;
	if (!cJSON_IsBool(it.v))
		return hf_bad(c, &it, "true or false");
	*out = cJSON_IsTrue(it.v);
	return QK_OK;
}
