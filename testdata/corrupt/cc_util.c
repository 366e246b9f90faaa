/* cc_util.c - the helpers every corrupt-case table writes its files with
 * (corrupt.h). Linked into corrupt-gen and into the unit tests that compile
 * case tables in to check messages without the CLI. */
#include "corrupt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q) {
		fprintf(stderr, "corrupt cases: out of memory\n");
		exit(1);
	}
	return q;
}

void cc_put(struct cc_buf *b, const void *data, size_t len)
{
	if (b->n + len > b->cap) {
		b->cap = (b->n + len) * 2 + 64;
		b->p = xrealloc(b->p, b->cap);
	}
	if (len)
		memcpy(b->p + b->n, data, len);
	b->n += len;
}

void cc_u8(struct cc_buf *b, uint8_t v) { cc_put(b, &v, 1); }

void cc_u32(struct cc_buf *b, uint32_t v)
{
	uint8_t t[4];
	for (int i = 0; i < 4; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	cc_put(b, t, 4);
}

void cc_u64(struct cc_buf *b, uint64_t v)
{
	uint8_t t[8];
	for (int i = 0; i < 8; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	cc_put(b, t, 8);
}

void cc_f32(struct cc_buf *b, float v)
{
	uint32_t u;
	memcpy(&u, &v, 4);
	cc_u32(b, u);
}

void cc_str(struct cc_buf *b, const char *s)
{
	cc_u64(b, strlen(s));
	cc_put(b, s, strlen(s));
}

void cc_zeros(struct cc_buf *b, size_t n)
{
	static const uint8_t z[256];
	while (n) {
		size_t k = n < sizeof(z) ? n : sizeof(z);
		cc_put(b, z, k);
		n -= k;
	}
}

void cc_free(struct cc_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int cc_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	if (len && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

int cc_write_text(const char *path, const char *text)
{
	return cc_write(path, text, strlen(text));
}

int cc_mkdir(const char *path)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

int cc_write_st(const char *path, const char *header_json, size_t data_len)
{
	struct cc_buf b = { 0 };
	size_t hl = strlen(header_json), padded = (hl + 7) / 8 * 8;
	int rc;

	cc_u64(&b, padded);
	cc_put(&b, header_json, hl);
	for (size_t i = hl; i < padded; i++)
		cc_u8(&b, ' ');
	for (size_t i = 0; i < data_len; i++)
		cc_u8(&b, (uint8_t)(i * 7 + 3));
	rc = cc_write(path, b.p, b.n);
	cc_free(&b);
	return rc;
}
