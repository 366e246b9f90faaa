/* err.h - the one error type of formats/ and ref/.
 *
 * A qk_err carries a code and a message that says what failed, where (file,
 * tensor, key, byte offset) and why. Library code fills it and returns; only
 * cli/ prints it and turns the code into an exit status (qk_err_exit_code).
 *
 * Messages follow the house style: lower case, no full stop, the subject in
 * quotes, e.g. "model.safetensors: tensor 'lm_head.weight': data_offsets [0, 12]
 * cover 12 bytes, expected 16 (F32 [2, 2])".
 *
 * A function that takes a `qk_err *err` may be passed NULL when the caller does
 * not want the message; the return value still reports failure.
 */
#ifndef QK_ERR_H
#define QK_ERR_H

#include <stddef.h>

enum qk_code {
	QK_OK = 0,
	QK_E_USAGE,       /* bad arguments from the caller (exit 2) */
	QK_E_INVALID,     /* the input file is malformed (exit 3) */
	QK_E_UNSUPPORTED, /* well-formed but not something we handle (exit 3) */
	QK_E_IO,          /* open/read/write/rename failed (exit 4) */
	QK_E_NOMEM,       /* allocation failed (exit 4) */
	QK_E_THRESHOLD,   /* a verification is outside its thresholds (exit 1) */
};

#define QK_ERR_MSG_MAX 1024

typedef struct qk_err {
	int code;                   /* enum qk_code */
	char msg[QK_ERR_MSG_MAX];   /* NUL-terminated, may be truncated */
} qk_err;

/* Reset to QK_OK with an empty message. Accepts NULL. */
void qk_err_clear(qk_err *err);

/* Set code and printf-style message (cut to QK_ERR_MSG_MAX - 1 bytes); returns `code` so callers can write
 * `return qk_err_set(err, QK_E_INVALID, "...")`. Accepts NULL err. */
int qk_err_set(qk_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set code and "<file>: <message>", the one way a module names the file
 * (or other subject) an error is about; a NULL file gives the message alone.
 * Returns code. Accepts NULL err. */
int qk_err_set_in(qk_err *err, int code, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same with a line number: "<file>:<line>: <message>". */
int qk_err_set_at(qk_err *err, int code, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Prepend "prefix: " to an existing message (adds context as an error travels
 * up: the file name, the tensor). The result is the first QK_ERR_MSG_MAX - 1
 * bytes of "prefix: message", whatever the lengths (a prefix filling the
 * buffer leaves no room for the message). Returns err->code (QK_E_INVALID if
 * err is NULL). */
int qk_err_prefix(qk_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The process exit status for a code: 0 success, 1 verification outside its
 * thresholds, 2 usage, 3 invalid or unsupported input, 4 I/O or system
 * (out of memory included). Every tool exits with these. */
int qk_err_exit_code(int code);

/* Human name of a code ("invalid input", ...). */
const char *qk_err_code_name(int code);

#endif
