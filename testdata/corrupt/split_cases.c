/* split_cases.c - broken split GGUF sets, one per rule of formats/container/gguf_split.h
 * (llama.cpp's names "<prefix>-%05d-of-%05d.gguf", split.no u16 0-based,
 * split.count u16, split.tensors.count i32). Each case is a directory holding
 * the files of one set; qwen-inspect is given the directory and opens the set
 * from its lowest-numbered file.
 *
 * Every file is built field by field:
 *   "GGUF" 3 n_tensors n_kv
 *   [first file only] general.architecture = "qwen3"
 *   split.no (u16), split.count (u16), split.tensors.count (i32)
 *   tensor infos: name, n_dims 1, ne [4], F32, offset k*32
 *   zero padding to 32; per tensor 16 data bytes padded to 32 */
#include "corrupt.h"

#include <stdio.h>
#include <string.h>

enum { T_U16 = 2, T_U32 = 4, T_I32 = 5, T_STR = 8 };

/* one file of a set; a negative value leaves that key out */
struct sf {
	int no, count, tensors;
	int count_type;            /* T_U16 unless a case says otherwise */
	const char *names[3];      /* tensor names, NULL-terminated */
};

static void sc_key(struct cc_buf *b, const char *k, uint32_t type)
{
	cc_str(b, k);
	cc_u32(b, type);
}

static void sc_u16(struct cc_buf *b, unsigned v)
{
	cc_u8(b, (uint8_t)(v & 0xff));
	cc_u8(b, (uint8_t)(v >> 8));
}

static int sc_file(const char *path, int first, const struct sf *s)
{
	struct cc_buf b = { 0 };
	uint64_t n_t = 0, n_kv = (uint64_t)first;
	int rc;

	while (n_t < 3 && s->names[n_t])
		n_t++;
	n_kv += (s->no >= 0) + (s->count >= 0) + (s->tensors >= 0);
	cc_put(&b, "GGUF", 4);
	cc_u32(&b, 3);
	cc_u64(&b, n_t);
	cc_u64(&b, n_kv);
	if (first) {
		sc_key(&b, "general.architecture", T_STR);
		cc_str(&b, "qwen3");
	}
	if (s->no >= 0) {
		sc_key(&b, "split.no", T_U16);
		sc_u16(&b, (unsigned)s->no);
	}
	if (s->count >= 0) {
		sc_key(&b, "split.count", (uint32_t)(s->count_type ? s->count_type : T_U16));
		if (s->count_type == T_U32)
			cc_u32(&b, (uint32_t)s->count);
		else
			sc_u16(&b, (unsigned)s->count);
	}
	if (s->tensors >= 0) {
		sc_key(&b, "split.tensors.count", T_I32);
		cc_u32(&b, (uint32_t)s->tensors);
	}
	for (uint64_t k = 0; k < n_t; k++) {
		cc_str(&b, s->names[k]);
		cc_u32(&b, 1);
		cc_u64(&b, 4);
		cc_u32(&b, 0);   /* F32 */
		cc_u64(&b, 32 * k);
	}
	cc_zeros(&b, (32 - b.n % 32) % 32);
	for (uint64_t k = 0; k < n_t; k++) {
		for (int j = 0; j < 16; j++)
			cc_u8(&b, (uint8_t)(j * 7 + 3));
		cc_zeros(&b, 16);
	}
	rc = cc_write(path, b.p, b.n);
	cc_free(&b);
	return rc;
}

/* directory `d` with files m-0000K-of-0000<n>.gguf for the given specs;
 * present[k] == 0 leaves file k+1 out */
static int sc_set(const char *d, unsigned n, const struct sf *files, const int *present)
{
	char p[4096];

	if (cc_mkdir(d))
		return -1;
	for (unsigned k = 0; k < n; k++) {
		if (present && !present[k])
			continue;
		snprintf(p, sizeof(p), "%s/m-%05u-of-%05u.gguf", d, k + 1, n);
		if (sc_file(p, k == 0, &files[k]))
			return -1;
	}
	return 0;
}

/* the good set: 3 files, tensors a | b | c */
#define GOOD { { 0, 3, 3, 0, { "a", NULL } }, { 1, 3, 3, 0, { "b", NULL } }, \
	       { 2, 3, 3, 0, { "c", NULL } } }

static int mk_missing(const char *path)
{
	struct sf f[3] = GOOD;
	static const int present[3] = { 1, 0, 1 };
	return sc_set(path, 3, f, present);
}

static int mk_first_missing(const char *path)
{
	struct sf f[3] = GOOD;
	static const int present[3] = { 0, 1, 1 };
	return sc_set(path, 3, f, present);
}

static int mk_count_mismatch(const char *path)
{
	struct sf f[3] = GOOD;
	f[2].count = 4;
	return sc_set(path, 3, f, NULL);
}

static int mk_no_wrong(const char *path)
{
	struct sf f[3] = GOOD;
	f[1].no = 2;      /* the 1-based number in place of the 0-based one */
	return sc_set(path, 3, f, NULL);
}

static int mk_first_no(const char *path)
{
	struct sf f[3] = GOOD;
	f[0].no = 1;
	return sc_set(path, 3, f, NULL);
}

static int mk_dup(const char *path)
{
	struct sf f[3] = GOOD;
	f[2].names[0] = "a";
	return sc_set(path, 3, f, NULL);
}

static int mk_tensors_count(const char *path)
{
	struct sf f[3] = GOOD;
	f[0].tensors = f[1].tensors = f[2].tensors = 5;   /* consistent, but wrong */
	return sc_set(path, 3, f, NULL);
}

static int mk_count_type(const char *path)
{
	struct sf f[3] = GOOD;
	f[0].count_type = T_U32;
	return sc_set(path, 3, f, NULL);
}

static int mk_no_missing(const char *path)
{
	struct sf f[3] = GOOD;
	f[1].no = -1;
	return sc_set(path, 3, f, NULL);
}

static int mk_later_tensors(const char *path)
{
	struct sf f[3] = GOOD;
	f[2].tensors = 4;
	return sc_set(path, 3, f, NULL);
}

/* the first file of a set of 3, renamed: the other names cannot be derived */
static int mk_renamed(const char *path)
{
	struct sf f[3] = GOOD;
	char p[4096];

	if (cc_mkdir(path))
		return -1;
	snprintf(p, sizeof(p), "%s/model.gguf", path);
	return sc_file(p, 1, &f[0]);
}

static const struct cc_case cases[] = {
	{ "split_missing", "", 3, "m-00002-of-00003.gguf: split 2 of 3 is missing", mk_missing,
	  "every file 1..split.count must exist (llama.cpp fails to load the set)" },
	{ "split_first_missing", "", 3, "m-00001-of-00003.gguf: split 1 of 3 is missing",
	  mk_first_missing, "a later member names its first file, which must exist" },
	{ "split_count_mismatch", "", 3, "split.count is 4, expected 3 as in the first split",
	  mk_count_mismatch, "every file's split.count equals the first file's" },
	{ "split_no_wrong", "", 3, "split.no is 2, expected 1", mk_no_wrong,
	  "split.no is the 0-based position (llama.cpp: invalid split file idx)" },
	{ "split_first_no", "", 3, "split.no is 1, expected 0", mk_first_no,
	  "the first file has split.no 0 (llama.cpp: model must be loaded with the first split)" },
	{ "split_dup_tensor", "", 3, "duplicate tensor name 'a'", mk_dup,
	  "tensor names are unique across the set (llama.cpp: tensor is duplicated)" },
	{ "split_tensors_count", "", 3, "split.tensors.count is 5, but the 3 splits hold 3 tensors",
	  mk_tensors_count, "llama.cpp: corrupted model: N tensors expected but M found" },
	{ "split_count_type", "", 3, "key 'split.count' has type u32, expected u16", mk_count_type,
	  "llama.cpp reads split.count as u16 and refuses another type" },
	{ "split_no_missing", "", 3, "key 'split.no' is missing", mk_no_missing,
	  "llama.cpp: missing key split.no in GGUF split" },
	{ "split_later_tensors", "", 3, "split.tensors.count is 4, expected 3 as in the first split",
	  mk_later_tensors, "every file of a set states the same split.tensors.count" },
	{ "split_renamed", "", 3, "does not end in -00001-of-00003.gguf", mk_renamed,
	  "llama.cpp derives the other names from the first (invalid split file name)" },
};

const struct cc_table cc_split_cases = { cases, sizeof(cases) / sizeof(cases[0]) };
