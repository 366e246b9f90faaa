/* json.c - the one JSON reader; see json.h for the rules.
 *
 * The scan below checks the whole grammar before cJSON sees the text, so a
 * cJSON failure afterwards can only be memory: cJSON's allocations go
 * through a hook that records a failure in a thread-local flag, which turns
 * a NULL tree into QK_E_NOMEM instead of "invalid JSON".
 */
#include "json.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "io.h"
#include "path.h"

/* ---- cJSON allocations that report failure ---- */

static _Thread_local bool oom;

static void *count_malloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		oom = true;
	return p;
}

static void install_hooks(void)
{
	cJSON_Hooks h = { count_malloc, free };

	cJSON_InitHooks(&h);
}

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

/* ---- the scan ---- */

struct scan {
	const char *s;
	size_t n, i;
	uint64_t values;     /* values seen (each becomes one cJSON item) */
	const char *file;
	uint64_t origin;
	qk_err *err;
};

/* "<file>: <what> at byte N (line L, column C)[: <detail>]" for position
 * `at`; `what` is formatted */
static int fail_at(const struct scan *sc, size_t at, const char *detail, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(const struct scan *sc, size_t at, const char *detail, const char *fmt, ...)
{
	char what[128];
	unsigned line = 1, col = 1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	for (size_t k = 0; k < at && k < sc->n; k++) {
		if (sc->s[k] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)sc->s[k] & 0xc0) != 0x80) {
			col++; /* columns count characters, not UTF-8 continuation bytes */
		}
	}
	return qk_err_set_in(sc->err, QK_E_INVALID, sc->file, "%s at byte %llu (line %u, column %u)%s%s",
			     what, (unsigned long long)(sc->origin + at), line, col,
			     detail ? ": " : "", detail ? detail : "");
}

/* the byte at sc->i is not what the grammar wants there */
static int bad_byte(const struct scan *sc, const char *expected)
{
	char detail[96];
	unsigned char c;

	if (sc->i >= sc->n) {
		snprintf(detail, sizeof(detail), "the text ends where %s was expected", expected);
		return fail_at(sc, sc->i, detail, "invalid JSON");
	}
	c = (unsigned char)sc->s[sc->i];
	if (c < 0x20)
		return fail_at(sc, sc->i, "outside any JSON string", "control byte 0x%02x", c);
	if (c < 0x80)
		snprintf(detail, sizeof(detail), "'%c' where %s was expected", c, expected);
	else
		snprintf(detail, sizeof(detail), "byte 0x%02x where %s was expected", c, expected);
	return fail_at(sc, sc->i, detail, "invalid JSON");
}

static void skip_ws(struct scan *sc)
{
	while (sc->i < sc->n && strchr(" \t\r\n", sc->s[sc->i]) && sc->s[sc->i])
		sc->i++;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 4 hex digits at s[i] (i + 4 <= n checked by the caller) */
static long hex4(const char *s)
{
	long v = 0;

	for (int k = 0; k < 4; k++) {
		char c = s[k];
		int d = is_digit(c) ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* \uXXXX at s[i] (the backslash); advances past it (and a low surrogate) */
static int scan_u_escape(struct scan *sc)
{
	size_t at = sc->i;
	long u = sc->n - sc->i >= 6 ? hex4(sc->s + sc->i + 2) : -1;

	if (u < 0)
		return fail_at(sc, at, "\\u must be followed by 4 hex digits", "invalid JSON");
	if (u == 0)
		return fail_at(sc, at, "keys and text may not contain NUL", "escaped NUL (\\u0000)");
	sc->i += 6;
	if (u >= 0xdc00 && u <= 0xdfff)
		return fail_at(sc, at, "a low surrogate escape without a high one", "invalid JSON");
	if (u >= 0xd800 && u <= 0xdbff) {
		long lo = sc->n - sc->i >= 6 && sc->s[sc->i] == '\\' && sc->s[sc->i + 1] == 'u'
			  ? hex4(sc->s + sc->i + 2) : -1;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail_at(sc, at, "a high surrogate escape without a low one",
				       "invalid JSON");
		sc->i += 6;
	}
	return QK_OK;
}

static int scan_string(struct scan *sc)
{
	size_t start = sc->i;

	sc->i++; /* the opening quote */
	while (sc->i < sc->n) {
		unsigned char c = (unsigned char)sc->s[sc->i];
		int rc;

		if (c == '"') {
			sc->i++;
			return QK_OK;
		}
		if (c < 0x20)
			return fail_at(sc, sc->i, NULL, "raw control byte 0x%02x inside a JSON string",
				       c);
		if (c != '\\') {
			sc->i++;
			continue;
		}
		if (sc->i + 1 >= sc->n)
			break;
		c = (unsigned char)sc->s[sc->i + 1];
		if (c == 'u') {
			if ((rc = scan_u_escape(sc)))
				return rc;
		} else if (strchr("\"\\/bfnrt", c) && c) {
			sc->i += 2;
		} else {
			return fail_at(sc, sc->i, "unknown escape", "invalid JSON");
		}
	}
	return fail_at(sc, start, "the string starting here has no closing quote", "invalid JSON");
}

static int scan_digits(struct scan *sc, const char *what)
{
	if (sc->i >= sc->n || !is_digit(sc->s[sc->i]))
		return bad_byte(sc, what);
	while (sc->i < sc->n && is_digit(sc->s[sc->i]))
		sc->i++;
	return QK_OK;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(struct scan *sc)
{
	int rc;

	if (sc->s[sc->i] == '-')
		sc->i++;
	if (sc->i < sc->n && sc->s[sc->i] == '0')
		sc->i++;
	else if ((rc = scan_digits(sc, "a digit")))
		return rc;
	if (sc->i < sc->n && sc->s[sc->i] == '.') {
		sc->i++;
		if ((rc = scan_digits(sc, "a digit after the decimal point")))
			return rc;
	}
	if (sc->i < sc->n && (sc->s[sc->i] == 'e' || sc->s[sc->i] == 'E')) {
		sc->i++;
		if (sc->i < sc->n && (sc->s[sc->i] == '+' || sc->s[sc->i] == '-'))
			sc->i++;
		if ((rc = scan_digits(sc, "a digit in the exponent")))
			return rc;
	}
	return QK_OK;
}

static int scan_literal(struct scan *sc)
{
	static const char *const lits[] = { "true", "false", "null" };

	for (size_t k = 0; k < sizeof(lits) / sizeof(lits[0]); k++) {
		size_t l = strlen(lits[k]);
		if (sc->n - sc->i >= l && memcmp(sc->s + sc->i, lits[k], l) == 0) {
			sc->i += l;
			return QK_OK;
		}
	}
	return bad_byte(sc, "a value");
}

/* The grammar without recursion: stack[] holds the open containers. */
static int scan_text(struct scan *sc)
{
	char stack[QK_JSON_MAX_DEPTH];
	int depth = 0, rc;

	for (;;) {
		/* a value */
		rc = QK_OK;
		if (++sc->values > QK_JSON_MAX_VALUES)
			return fail_at(sc, sc->i, NULL, "more than the limit of %u values (the tree "
				       "would need about %u MB of memory)", QK_JSON_MAX_VALUES,
				       (unsigned)((uint64_t)QK_JSON_MAX_VALUES * QK_JSON_ITEM_BYTES >> 20));
		skip_ws(sc);
		if (sc->i >= sc->n)
			return bad_byte(sc, "a value");
		switch (sc->s[sc->i]) {
		case '{':
		case '[':
			if (depth == QK_JSON_MAX_DEPTH)
				return fail_at(sc, sc->i, NULL, "nesting deeper than the limit of %d "
					       "arrays and objects", QK_JSON_MAX_DEPTH);
			stack[depth++] = sc->s[sc->i++];
			skip_ws(sc);
			if (sc->i < sc->n && sc->s[sc->i] == (stack[depth - 1] == '{' ? '}' : ']')) {
				sc->i++;
				depth--;
				break;
			}
			if (stack[depth - 1] == '[')
				continue; /* the first element */
			goto key;
		case '"':
			rc = scan_string(sc);
			break;
		case 't':
		case 'f':
		case 'n':
			rc = scan_literal(sc);
			break;
		default:
			if (sc->s[sc->i] != '-' && !is_digit(sc->s[sc->i]))
				return bad_byte(sc, "a value");
			rc = scan_number(sc);
			break;
		}
		if (rc)
			return rc;
		/* after a value: close containers, or go on after a comma */
		for (;;) {
			char close;

			if (depth == 0) {
				skip_ws(sc);
				if (sc->i < sc->n)
					return sc->s[sc->i] < 0x20 && sc->s[sc->i] >= 0
						? bad_byte(sc, "the end")
						: fail_at(sc, sc->i, NULL,
							  "unexpected text after the JSON value");
				return QK_OK;
			}
			close = stack[depth - 1] == '{' ? '}' : ']';
			skip_ws(sc);
			if (sc->i < sc->n && sc->s[sc->i] == close) {
				sc->i++;
				depth--;
				continue;
			}
			if (sc->i >= sc->n || sc->s[sc->i] != ',')
				return bad_byte(sc, close == '}' ? "',' or '}'" : "',' or ']'");
			sc->i++;
			break;
		}
		if (stack[depth - 1] == '[')
			continue;
key:
		/* "key": in an object */
		skip_ws(sc);
		if (sc->i >= sc->n || sc->s[sc->i] != '"')
			return bad_byte(sc, "a key in quotes");
		if ((rc = scan_string(sc)))
			return rc;
		skip_ws(sc);
		if (sc->i >= sc->n || sc->s[sc->i] != ':')
			return bad_byte(sc, "':'");
		sc->i++;
	}
}

/* ---- duplicate keys, on the tree (keys compared after unescaping) ---- */

/* `s` for a message: at most 80 bytes, control bytes as \xNN */
static const char *shown(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	for (; *s && o + 8 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (o >= 80) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		o += (size_t)snprintf(buf + o, size - o, c < 0x20 || c == 0x7f ? "\\x%02x" : "%c", c);
	}
	buf[o] = '\0';
	return buf;
}

/* path: where this container is, "" for the top level ("model.vocab",
 * "added_tokens[2]") */
static int check_dups(const cJSON *v, char *path, size_t plen, size_t cap, const char *file,
		      qk_err *err)
{
	struct qk_hmap seen = { 0 };
	size_t idx = 0;
	int rc = QK_OK;

	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return QK_OK;
	for (const cJSON *c = v->child; c && !rc; c = c->next, idx++) {
		size_t l = plen;

		if (cJSON_IsObject(v)) {
			char b1[96], b2[96];
			int64_t old = qk_hmap_put(&seen, c->string, strlen(c->string), (int64_t)idx);

			if (old == -2) {
				rc = qk_err_set_in(err, QK_E_NOMEM, file, "out of memory");
				break;
			}
			if (old >= 0) {
				rc = qk_err_set_in(err, QK_E_INVALID, file, "key '%s' appears twice in %s%s%s"
						   " (JSON keys must be unique)",
						   shown(c->string, b1, sizeof(b1)),
						   plen ? "object '" : "the top-level object",
						   plen ? shown(path, b2, sizeof(b2)) : "", plen ? "'" : "");
				break;
			}
			l += (size_t)snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "",
					      c->string);
		} else {
			l += (size_t)snprintf(path + plen, cap - plen, "[%zu]", idx);
		}
		rc = check_dups(c, path, l < cap ? l : cap - 1, cap, file, err);
		path[plen] = '\0';
	}
	qk_hmap_free(&seen);
	return rc;
}

/* ---- entry points ---- */

int qk_json_parse(const char *text, size_t len, const char *file, uint64_t origin,
		  cJSON **out, qk_err *err)
{
	struct scan sc = { text, len, 0, 0, file ? file : "JSON", origin, err };
	size_t bad;
	const char *end = NULL;
	char path[256] = "";
	cJSON *root;
	int rc;

	*out = NULL;
	if (len > QK_JSON_MAX_BYTES)
		return qk_err_set_in(err, QK_E_INVALID, sc.file, "%zu bytes of JSON, more than the "
				     "limit of %u bytes", len, QK_JSON_MAX_BYTES);
	if (len == 0)
		return qk_err_set_in(err, QK_E_INVALID, sc.file, "file is empty, expected JSON");
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		return qk_err_set_in(err, QK_E_INVALID, sc.file, "starts with a UTF-8 byte order "
				     "mark, expected JSON");
	if ((bad = qk_utf8_invalid_at(text, len)) < len)
		return fail_at(&sc, bad, NULL, "not valid UTF-8 (byte 0x%02x)",
			       (unsigned char)text[bad]);
	if ((rc = scan_text(&sc)))
		return rc;
	pthread_once(&hooks_once, install_hooks);
	oom = false;
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		if (oom)
			return qk_err_set_in(err, QK_E_NOMEM, sc.file, "out of memory reading %zu bytes "
					     "of JSON", len);
		/* the scan passed: a cJSON limit, not a grammar error */
		return fail_at(&sc, end && end >= text && end <= text + len ? (size_t)(end - text) : 0,
			       "cJSON cannot read it", "invalid JSON");
	}
	rc = check_dups(root, path, 0, sizeof(path), sc.file, err);
	if (rc) {
		cJSON_Delete(root);
		return rc;
	}
	*out = root;
	return QK_OK;
}

int qk_json_load(const char *path, cJSON **out, qk_err *err)
{
	char *text;
	size_t len;
	int rc;

	*out = NULL;
	rc = qk_read_file(path, QK_JSON_MAX_BYTES, &text, &len, err);
	if (rc)
		return rc;
	rc = qk_json_parse(text, len, path, 0, out, err);
	free(text);
	return rc;
}

int qk_json_load_optional(const char *dir, const char *name, cJSON **out, qk_err *err)
{
	char *path = dir ? qk_path_join(dir, name) : NULL;
	qk_err e;
	int rc = QK_OK;

	*out = NULL;
	if (dir && !path)
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", dir);
	if (path && qk_json_load(path, out, &e) == QK_E_NOMEM)
		rc = qk_err_set(err, QK_E_NOMEM, "%s", e.msg);
	free(path);
	return rc;
}

const char *qk_json_kind(const cJSON *v)
{
	static const struct {
		int type;
		const char *name;
	} kinds[] = {
		{ cJSON_False, "a boolean" }, { cJSON_True, "a boolean" }, { cJSON_NULL, "null" },
		{ cJSON_Number, "a number" }, { cJSON_String, "a string" }, { cJSON_Array, "an array" },
		{ cJSON_Object, "an object" }, { cJSON_Raw, "a raw value" },
	};

	if (!v)
		return "nothing";
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if ((v->type & 0xff) == kinds[i].type)
			return kinds[i].name;
	return "an invalid value";
}
