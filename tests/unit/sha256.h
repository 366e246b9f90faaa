/* sha256.h - SHA-256 (FIPS 180-4) for tests that compare whole files with
 * the digests the generators in testdata/gen/ recorded from files other
 * tools wrote (tests/unit/sha256.c, linked into every test program). */
#ifndef TEST_SHA256_H
#define TEST_SHA256_H

#include <stddef.h>

/* the lower-case hex digest of a file (65 bytes with the NUL) and its size;
 * 0 on success, -1 when it cannot be read */
int sha256_file(const char *path, char hex[65], size_t *size);

#endif
