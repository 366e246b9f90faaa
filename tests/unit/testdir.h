/* testdir.h - scratch directories for unit tests (tests/unit/testdir.c,
 * linked into every test program). */
#ifndef TESTDIR_H
#define TESTDIR_H

#include <stddef.h>

/* Create /tmp/qk_<tag>_XXXXXX into buf (size >= 32 + strlen(tag)); 0 on
 * success, -1 on failure. */
int td_make(char *buf, size_t size, const char *tag);
/* Remove a directory tree (no shell involved); 0 on success. */
int td_remove(const char *dir);

/* Write `text` to `path` (created or truncated); 0 on success. */
int td_put(const char *path, const char *text);
/* The content of a small file (up to 255 bytes) in a static buffer, "" when
 * it cannot be read. */
const char *td_slurp(const char *path);

/* Field k (0-based) of a tab-separated line (ending at '\n' or NUL) into out,
 * "" when the line has fewer fields; always NUL-terminated. */
void td_field(const char *line, int k, char *out, size_t n);

#endif
