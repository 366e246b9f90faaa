/* strbuf.h - a growing byte string for building text (JSON headers, printed
 * values) whose size is not known in advance.
 *
 * Appends never fail loudly: the first allocation failure sets `oom`, and
 * every later append does nothing, so a caller appends freely and checks
 * `oom` once at the end. `s` is NUL-terminated whenever n > 0 (the NUL is
 * not counted in n); it is NULL before the first append.
 *
 * Ownership: the caller owns the struct (zero-initialise it: `= { 0 }`) and
 * frees its bytes with qk_sb_free.
 */
#ifndef QK_STRBUF_H
#define QK_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qk_sb {
	char *s;        /* [cap] bytes, NUL-terminated after the first append */
	size_t n, cap;  /* bytes used (without the NUL), bytes allocated */
	bool oom;       /* an append failed: contents are incomplete */
};

void qk_sb_putn(struct qk_sb *b, const void *s, size_t n);
void qk_sb_puts(struct qk_sb *b, const char *s);
void qk_sb_printf(struct qk_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Free the bytes and zero the struct; accepts NULL. */
void qk_sb_free(struct qk_sb *b);

#endif
