/* qkg.c - see qkg.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../formats/base/io.h"
#include "qkg.h"

const char *qkg_dir(void)
{
	const char *d = getenv("QK_QUANT_GOLDEN_DIR");

	return d && *d ? d : "testdata/quant";
}

static unsigned dtype_size(const char *dt)
{
	if (strcmp(dt, "u8") == 0)
		return 1;
	if (strcmp(dt, "u16") == 0)
		return 2;
	if (strcmp(dt, "u32") == 0 || strcmp(dt, "f32") == 0)
		return 4;
	if (strcmp(dt, "u64") == 0)
		return 8;
	return 0;
}

static uint64_t parse_num(const char *s, int base, const char *what, const char *path,
			  char **endp)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || end == s || (*end && *end != ' ' && *end != '\n'))
		fail_msg("%s: bad number '%s' for %s", path, s, what);
	if (endp)
		*endp = end;
	return v;
}

static uint64_t parse_u64(const char *s, const char *what, const char *path)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || (*end && *end != ' ' && *end != '\n'))
		fail_msg("%s: bad number '%s' for %s", path, s, what);
	return v;
}

/* Load and index a .qkg file; fails the test on any malformation. */
void qkg_load(struct qkg *g, const char *name)
{
	qk_err err;
	char *line, *next;
	uint64_t off = 0;

	memset(g, 0, sizeof(*g));
	g->ggml_id = -1;
	snprintf(g->path, sizeof(g->path), "%s/%s", qkg_dir(), name);
	if (getenv("QK_QUANT_GOLDEN_DIR") && access(g->path, F_OK) != 0)
		skip(); /* an override set (e.g. --bulk) need not have every file */
	if (qk_read_file(g->path, GOLDEN_MAX_BYTES, &g->buf, &g->len, &err) != QK_OK)
		fail_msg("%s (run from the repo root)", err.msg);
	if (strncmp(g->buf, "qkgold 1\n", 9) != 0)
		fail_msg("%s: not a qkgold 1 file", g->path);
	for (line = g->buf; ; line = next) {
		char *nl = memchr(line, '\n', g->len - (size_t)(line - g->buf));

		if (!nl)
			fail_msg("%s: header has no 'end' line", g->path);
		*nl = '\0';
		next = nl + 1;
		if (strcmp(line, "end") == 0)
			break;
		if (strncmp(line, "data ", 5) == 0) {
			struct qkg_section *s = &g->sec[g->n_sec];
			char cnt[32];

			if (g->n_sec == MAX_SECTIONS ||
			    sscanf(line + 5, "%31s %7s %31s", s->name, s->dtype, cnt) != 3 ||
			    dtype_size(s->dtype) == 0)
				fail_msg("%s: bad data line '%s'", g->path, line);
			s->count = parse_u64(cnt, s->name, g->path);
			g->n_sec++;
		}
		if (strncmp(line, "meta ", 5) == 0 && g->n_meta < QKG_MAX_META) {
			char *sp = strchr(line + 5, ' ');

			if (sp) {
				g->meta[g->n_meta].key = line + 5; /* up to the space */
				g->meta[g->n_meta++].value = sp + 1;
			}
		}
		if (strncmp(line, "data ", 5) == 0) {
			/* counted above */
		} else if (strncmp(line, "meta rows ", 10) == 0) {
			g->rows = parse_u64(line + 10, "rows", g->path);
		} else if (strncmp(line, "meta n_per_row ", 15) == 0) {
			g->n_per_row = parse_u64(line + 15, "n_per_row", g->path);
		} else if (strncmp(line, "meta widen_stride ", 18) == 0) {
			g->widen_stride = parse_u64(line + 18, "widen_stride", g->path);
		} else if (strncmp(line, "meta ggml_id ", 13) == 0) {
			g->ggml_id = (int)parse_u64(line + 13, "ggml_id", g->path);
		} else if (strncmp(line, "meta seed ", 10) == 0) {
			g->seed = parse_num(line + 10, 16, "seed", g->path, NULL);
		} else if (strncmp(line, "meta input_hash ", 16) == 0) {
			g->input_hash = parse_num(line + 16, 16, "input_hash", g->path, NULL);
		} else if (strncmp(line, "meta scale_bits ", 16) == 0) {
			char *p = line + 16;

			while (*p && g->n_scales < 16)
				g->scale_bits[g->n_scales++] =
					(uint32_t)parse_num(p, 16, "scale_bits", g->path, &p);
		} else if (strncmp(line, "meta synth_type ", 16) == 0 && g->n_types < 16) {
			char *st = line + 16, *sp = strchr(st, ' ');

			if (!sp || sp - st >= 16)
				fail_msg("%s: bad line '%s'", g->path, line);
			memcpy(g->types[g->n_types].stem, st, (size_t)(sp - st));
			g->types[g->n_types].stem[sp - st] = '\0';
			g->types[g->n_types].id = (int)parse_u64(sp + 1, "type id", g->path);
			g->n_types++;
		} else if (strncmp(line, "meta row_label ", 15) == 0) {
			char *sp = strchr(line + 15, ' ');
			uint64_t i = parse_u64(line + 15, "row_label", g->path);

			if (sp && i < MAX_LABELS)
				g->labels[i] = sp + 1;
		}
	}
	off = (uint64_t)(next - g->buf);
	for (int i = 0; i < g->n_sec; i++) {
		uint64_t bytes;

		g->sec[i].data = (const uint8_t *)g->buf + off;
		if (!qk_mul_u64(g->sec[i].count, dtype_size(g->sec[i].dtype), &bytes) ||
		    !qk_add_u64(off, bytes, &off) || off > g->len)
			fail_msg("%s: section '%s' runs past the end of the file", g->path,
				 g->sec[i].name);
	}
	if (off != g->len)
		fail_msg("%s: %zu trailing bytes after the sections", g->path,
			 g->len - (size_t)off);
}

const struct qkg_section *qkg_get(const struct qkg *g, const char *name,
					 const char *dtype, uint64_t count)
{
	for (int i = 0; i < g->n_sec; i++) {
		const struct qkg_section *s = &g->sec[i];

		if (strcmp(s->name, name) != 0)
			continue;
		if (strcmp(s->dtype, dtype) != 0 || (count != ANY_COUNT && s->count != count))
			fail_msg("%s: section '%s' is %s[%llu], expected %s[%llu]", g->path, name,
				 s->dtype, (unsigned long long)s->count, dtype,
				 (unsigned long long)count);
		return s;
	}
	fail_msg("%s: no section '%s'", g->path, name);
	return NULL;
}

void qkg_free(struct qkg *g)
{
	free(g->buf);
	g->buf = NULL;
}

const char *qkg_meta(const struct qkg *g, const char *key)
{
	const size_t n = strlen(key);

	for (int i = 0; i < g->n_meta; i++)
		if (strncmp(g->meta[i].key, key, n) == 0 && g->meta[i].key[n] == ' ')
			return g->meta[i].value;
	return NULL;
}

uint64_t qkg_meta_num(const struct qkg *g, const char *key, int base)
{
	const char *v = qkg_meta(g, key);

	if (!v)
		fail_msg("%s: no 'meta %s' line", g->path, key);
	return parse_num(v, base, key, g->path, NULL);
}

uint64_t qkg_splitmix64(uint64_t seed, uint64_t k)
{
	uint64_t z = seed + (k + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void qkg_synth_row(const struct qkg *g, uint64_t row, float *x)
{
	float scale;

	memcpy(&scale, &g->scale_bits[row % (uint64_t)g->n_scales], 4);
	for (uint64_t j = 0; j < g->n_per_row; j++) {
		const uint64_t i = row * g->n_per_row + j;
		const uint64_t z0 = qkg_splitmix64(g->seed, 2 * i), z1 = qkg_splitmix64(g->seed, 2 * i + 1);
		const int64_t s = (int64_t)((z0 & 0xffffffffu) + (z0 >> 32) + (z1 & 0xffffffffu) +
					    (z1 >> 32)) - 2 * (int64_t)0xffffffff;
		float v = (float)s * 0x1p-31f;

		if (((z1 >> 40) & 0x3ff) == 0)
			v *= 16.0f;
		x[j] = v * scale;
	}
}

/* the near-tie recipe: gen_quant_golden.py's tie_values (the comment there) */
static const int tie_den[5] = { 30, 64, 126, 254, 256 };

void qkg_tie_values(uint64_t seed, uint64_t first, uint64_t n, float *x)
{
	for (uint64_t t = 0; t < n; t++) {
		const uint64_t i = first + t, b = i / 256, g = i / 16, p = i % 16;
		const uint64_t zb = qkg_splitmix64(seed, 3 * b);
		const int64_t qmax = ((int64_t)1 << (1 + zb % 6)) - 1;
		const int64_t den = tie_den[(zb >> 8) % 5];
		const int e = (int)((zb >> 16) % 17) - 12, f = (int)((zb >> 26) % 5) - 2;
		const int pair = (int)(zb >> 24) & 1, neg = (int)(zb >> 25) & 1;
		const int64_t h = (int64_t)(zb >> 29) & 1;
		const uint64_t k = pair ? g >> 1 : g, lk = k % (pair ? 8 : 16);
		const uint64_t zg = qkg_splitmix64(seed, 3 * k + 1);
		const uint64_t ze = qkg_splitmix64(seed, 3 * i + 2);
		const int64_t nn = lk == 0 ? den : 1 + 2 * (int64_t)(zg % (uint64_t)(den / 2));
		const int64_t o = lk == 0 ? den : 1 + 2 * (int64_t)((zg >> 16) % (uint64_t)(den / 2));
		const int lead = !(pair && (g & 1));
		int64_t q = (int64_t)(ze % (uint64_t)(qmax + 1));
		float v;

		if (lead && p == 0)
			q = 0;
		if (lead && p == 1)
			q = qmax;
		/* |8 nn q + 4 nn h - o 2^(f+3)| < 2^24: exact in float, and so is
		 * the power-of-two scaling */
		v = ldexpf((float)(8 * nn * q + 4 * nn * h - o * ((int64_t)1 << (f + 3))), e - 3);
		x[t] = neg ? -v : v;
	}
}
