/* fnv.h - FNV-1a 64-bit hashing for tests that compare against hashes the
 * generators in testdata/gen/ wrote (tests/unit/fnv.c, linked into every
 * test program). */
#ifndef TEST_FNV_H
#define TEST_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A64_INIT 0xcbf29ce484222325ull

/* h continued over n bytes at p (start with FNV1A64_INIT) */
uint64_t fnv1a64(uint64_t h, const void *p, size_t n);

#endif
