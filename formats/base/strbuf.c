/* strbuf.c - a growing byte string; see strbuf.h. */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* room for n more bytes and a NUL */
static bool grow(struct qk_sb *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 64;
	char *p;

	if (b->oom || n >= SIZE_MAX - b->n) {
		b->oom = true;
		return false;
	}
	if (b->n + n < b->cap)
		return true;
	while (cap <= b->n + n) {
		if (cap > SIZE_MAX / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	p = realloc(b->s, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->s = p;
	b->cap = cap;
	return true;
}

void qk_sb_putn(struct qk_sb *b, const void *s, size_t n)
{
	if (!grow(b, n))
		return;
	if (n)
		memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

void qk_sb_puts(struct qk_sb *b, const char *s)
{
	qk_sb_putn(b, s, strlen(s));
}

void qk_sb_printf(struct qk_sb *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0) {
		b->oom = true;
		return;
	}
	if (!grow(b, (size_t)k))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

void qk_sb_free(struct qk_sb *b)
{
	if (!b)
		return;
	free(b->s);
	memset(b, 0, sizeof(*b));
}
