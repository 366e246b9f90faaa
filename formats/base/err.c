/* err.c - error values with messages; see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void qk_err_clear(qk_err *err)
{
	if (!err)
		return;
	err->code = QK_OK;
	err->msg[0] = '\0';
}

int qk_err_set(qk_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* "<file>[:<line>]: <fmt...>" */
static int set_located(qk_err *err, int code, const char *file, unsigned line,
		       const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

static int set_located(qk_err *err, int code, const char *file, unsigned line,
		       const char *fmt, va_list ap)
{
	char msg[QK_ERR_MSG_MAX];

	if (!err)
		return code;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!file)
		return qk_err_set(err, code, "%s", msg);
	if (line)
		return qk_err_set(err, code, "%s:%u: %s", file, line, msg);
	return qk_err_set(err, code, "%s: %s", file, msg);
}

int qk_err_set_in(qk_err *err, int code, const char *file, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = set_located(err, code, file, 0, fmt, ap);
	va_end(ap);
	return code;
}

int qk_err_set_at(qk_err *err, int code, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = set_located(err, code, file, line, fmt, ap);
	va_end(ap);
	return code;
}

/* Appends up to `len` bytes of src at msg[*n], keeping the last byte of the
 * buffer for the NUL; returns nothing, advances *n. */
static void put(char *msg, size_t *n, const char *src, size_t len)
{
	size_t room = QK_ERR_MSG_MAX - 1 - *n; /* *n <= MAX - 1 always */

	if (len > room)
		len = room;
	memcpy(msg + *n, src, len);
	*n += len;
}

int qk_err_prefix(qk_err *err, const char *fmt, ...)
{
	char old[QK_ERR_MSG_MAX];
	size_t n;
	va_list ap;
	int w;

	if (!err)
		return QK_E_INVALID;
	memcpy(old, err->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	va_start(ap, fmt);
	w = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/* the prefix as written (vsnprintf cut it to MAX - 1 bytes), then as
	 * much of ": old" as fits */
	n = w < 0 ? 0 : (size_t)w < sizeof(err->msg) ? (size_t)w : sizeof(err->msg) - 1;
	put(err->msg, &n, ": ", 2);
	put(err->msg, &n, old, strlen(old));
	err->msg[n] = '\0';
	return err->code;
}

static const struct {
	int code;
	int exit_code;
	const char *name;
} code_table[] = {
	{ QK_OK, 0, "ok" },
	{ QK_E_THRESHOLD, 1, "outside thresholds" },
	{ QK_E_USAGE, 2, "usage error" },
	{ QK_E_INVALID, 3, "invalid input" },
	{ QK_E_UNSUPPORTED, 3, "unsupported input" },
	{ QK_E_IO, 4, "i/o error" },
	{ QK_E_NOMEM, 4, "out of memory" },
};

int qk_err_exit_code(int code)
{
	for (size_t i = 0; i < sizeof(code_table) / sizeof(code_table[0]); i++)
		if (code_table[i].code == code)
			return code_table[i].exit_code;
	return 4;
}

const char *qk_err_code_name(int code)
{
	for (size_t i = 0; i < sizeof(code_table) / sizeof(code_table[0]); i++)
		if (code_table[i].code == code)
			return code_table[i].name;
	return "unknown error";
}
