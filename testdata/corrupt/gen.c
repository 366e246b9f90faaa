/* gen.c - writes every corrupt case and manifest.tsv; see corrupt.h.
 * usage: corrupt-gen OUTDIR */
#include "corrupt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* each table with the tool its cases run through (tests/cli/corrupt.sh) */
static const struct {
	const struct cc_table *table;
	const char *tool;      /* "qwen-inspect": TOOL PATH; others: TOOL PATH -o OUT.gguf */
} tables[] = {
	{ &cc_st_cases, "qwen-inspect" },     { &cc_index_cases, "qwen-inspect" },
	{ &cc_gguf_cases, "qwen-inspect" },   { &cc_config_cases, "qwen-inspect" },
	{ &cc_model_cases, "qwen-inspect" },  { &cc_tok_cases, "qwen-convert" },
	{ &cc_split_cases, "qwen-inspect" },
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q) {
		fprintf(stderr, "corrupt-gen: out of memory\n");
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

int main(int argc, char **argv)
{
	char path[4096], mpath[4096];
	FILE *man;
	size_t total = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: corrupt-gen OUTDIR\n");
		return 2;
	}
	if (cc_mkdir(argv[1])) {
		fprintf(stderr, "corrupt-gen: cannot create %s\n", argv[1]);
		return 1;
	}
	snprintf(mpath, sizeof(mpath), "%s/manifest.tsv", argv[1]);
	man = fopen(mpath, "w");
	if (!man) {
		fprintf(stderr, "corrupt-gen: cannot write %s\n", mpath);
		return 1;
	}
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (size_t i = 0; i < tables[t].table->n; i++) {
			const struct cc_case *c = &tables[t].table->cases[i];
			snprintf(path, sizeof(path), "%s/%s%s", argv[1], c->name, c->ext);
			if (c->make(path)) {
				fprintf(stderr, "corrupt-gen: case %s: cannot write %s\n", c->name, path);
				fclose(man);
				return 1;
			}
			fprintf(man, "%s\t%s\t%d\t%s\t%s\n", c->name, path, c->exit_code,
				c->fragment, tables[t].tool);
			total++;
		}
	}
	if (fclose(man)) {
		fprintf(stderr, "corrupt-gen: cannot write %s\n", mpath);
		return 1;
	}
	printf("corrupt-gen: %zu cases in %s\n", total, argv[1]);
	return 0;
}
