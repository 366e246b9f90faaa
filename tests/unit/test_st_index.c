/* test_st_index.c - sharded checkpoints: model.safetensors.index.json and
 * choosing what to open in a directory. Shards are written byte by byte from
 * the format description. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testdir.h"
#include "../../formats/container/catalog.h"
#include "../../formats/base/dtype.h"
#include "../../formats/container/safetensors_index.h"

static char root[64];
static int n_sub;

static int setup(void **state)
{
	(void)state;
	return td_make(root, sizeof(root), "sti");
}

static int teardown(void **state)
{
	(void)state;
	return td_remove(root);
}

/* a fresh directory under root */
static void new_dir(char *buf, size_t size)
{
	snprintf(buf, size, "%s/d%d", root, n_sub++);
	assert_int_equal(mkdir(buf, 0755), 0);
}

static void write_file(const char *d, const char *name, const void *p, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", d, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void write_text(const char *d, const char *name, const char *text)
{
	write_file(d, name, text, strlen(text));
}

/* u64 header length, header padded with spaces to 8, data bytes i+k */
static void write_shard(const char *d, const char *name, const char *header, size_t data_len,
			uint8_t k)
{
	size_t hl = strlen(header), padded = (hl + 7) / 8 * 8, n = 8 + padded + data_len;
	uint8_t *buf = malloc(n);

	assert_non_null(buf);
	for (int i = 0; i < 8; i++)
		buf[i] = (uint8_t)((uint64_t)padded >> (8 * i));
	memcpy(buf + 8, header, hl);
	memset(buf + 8 + hl, ' ', padded - hl);
	for (size_t i = 0; i < data_len; i++)
		buf[8 + padded + i] = (uint8_t)(i + k);
	write_file(d, name, buf, n);
	free(buf);
}

#define S1 "model-00001-of-00002.safetensors"
#define S2 "model-00002-of-00002.safetensors"
#define SH1 "{\"__metadata__\":{\"format\":\"pt\"}," \
	"\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}," \
	"\"b\":{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[8,11]}}"
#define SH2 "{\"c\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}"

/* two shards and a valid index; total_size is deliberately wrong (advisory) */
static void make_model(const char *d)
{
	write_shard(d, S1, SH1, 11, 0);
	write_shard(d, S2, SH2, 4, 100);
	write_text(d, "model.safetensors.index.json",
		   "{\"metadata\":{\"total_size\":999,\"format\":\"pt\"},\"weight_map\":{"
		   "\"c\":\"" S2 "\",\"a\":\"" S1 "\",\"b\":\"" S1 "\"},\"extra\":[1]}");
}

static void index_path(char *buf, size_t size, const char *d)
{
	snprintf(buf, size, "%s/model.safetensors.index.json", d);
}

static void test_valid_index(void **state)
{
	char d[128], ip[256];
	struct qk_catalog cat;
	const struct qk_tensor *t;
	qk_err e;

	(void)state;
	new_dir(d, sizeof(d));
	make_model(d);
	index_path(ip, sizeof(ip), d);
	qk_catalog_init(&cat);
	if (st_index_open(&cat, ip, &e) != QK_OK)
		fail_msg("%s", e.msg);
	assert_int_equal(cat.n_files, 2);
	assert_int_equal(cat.n_tensors, 3);
	assert_non_null(strstr(cat.files[0].path, S1)); /* shards in name order */
	assert_non_null(strstr(cat.files[1].path, S2));
	t = qk_catalog_find(&cat, "a");
	assert_non_null(t);
	assert_int_equal(t->file, 0);
	assert_int_equal(t->dtype, QK_DT_F32);
	assert_int_equal(t->data[0], 0);
	t = qk_catalog_find(&cat, "b");
	assert_int_equal(t->file, 0);
	assert_int_equal(t->nbytes, 3);
	assert_int_equal(t->data[0], 8);
	t = qk_catalog_find(&cat, "c");
	assert_int_equal(t->file, 1);
	assert_int_equal(t->dtype, QK_DT_BF16);
	assert_int_equal(t->data[0], 100);
	assert_ptr_equal(t->data, cat.files[1].data + cat.files[1].size - 4);
	assert_string_equal(qk_catalog_meta(&cat, 0, "format"), "pt");
	qk_catalog_free(&cat);
}

static void test_parse_memory(void **state)
{
	static const char j[] =
		"  {\"weight_map\":{\"z\":\"s2\",\"y\":\"s1\",\"x\":\"s2\"},"
		"\"metadata\":{\"total_size\":12345}}\n";
	struct st_index idx;
	qk_err e;

	(void)state;
	assert_int_equal(st_index_parse(&idx, j, strlen(j), "idx", &e), QK_OK);
	assert_int_equal(idx.n_shards, 2);
	assert_string_equal(idx.shards[0], "s1");
	assert_string_equal(idx.shards[1], "s2");
	assert_int_equal(idx.n_entries, 3);
	assert_string_equal(idx.entries[0].name, "x");
	assert_int_equal(idx.entries[0].shard, 1);
	assert_int_equal(st_index_find(&idx, "y")->shard, 0);
	assert_null(st_index_find(&idx, "w"));
	assert_true(idx.has_total_size);
	assert_int_equal(idx.total_size, 12345);
	st_index_free(&idx);
	/* total_size of another type is ignored, not an error */
	{
		static const char j2[] = "{\"metadata\":{\"total_size\":\"9\"},\"weight_map\":{\"a\":\"s\"}}";
		assert_int_equal(st_index_parse(&idx, j2, strlen(j2), "idx", &e), QK_OK);
	}
	assert_false(idx.has_total_size);
	st_index_free(&idx);
}

/* one broken model directory: what it holds and the error it must give */
struct bad_index {
	const char *index;        /* text of model.safetensors.index.json */
	const char *shard1;       /* header of S1, or NULL for the valid SH1 */
	int with_s2;              /* write S2 (SH2) */
	int code;
	const char *frag;
};

static const struct bad_index bad[] = {
	{ "{\"weight_map\":", NULL, 1, QK_E_INVALID, "index.json: invalid JSON at byte 14 (line 1, column 15): the text ends" },
	{ "[]", NULL, 1, QK_E_INVALID, "is an array, expected an object with a weight_map" },
	{ "{\"metadata\":{}}", NULL, 1, QK_E_INVALID, "index.json: no weight_map" },
	{ "{\"weight_map\":[\"" S1 "\"]}", NULL, 1, QK_E_INVALID, "weight_map is an array, expected an object" },
	{ "{\"weight_map\":{}}", NULL, 1, QK_E_INVALID, "weight_map is empty" },
	{ "{\"weight_map\":{\"a\":{\"file\":\"" S1 "\"}}}", NULL, 1, QK_E_INVALID,
	  "tensor 'a': weight_map value is an object, expected a shard file name" },
	{ "{\"weight_map\":{\"a\":\"../" S1 "\"}}", NULL, 1, QK_E_INVALID,
	  "tensor 'a': shard '../" S1 "' is not a plain file name" },
	{ "{\"weight_map\":{\"a\":\"/etc/passwd\"}}", NULL, 1, QK_E_INVALID, "shard '/etc/passwd' is not a plain file name" },
	{ "{\"weight_map\":{\"a\":\"..\"}}", NULL, 1, QK_E_INVALID, "shard '..' is not a plain file name" },
	{ "{\"weight_map\":{\"a\":\"\"}}", NULL, 1, QK_E_INVALID, "shard '' is not a plain file name" },
	{ "{\"weight_map\":{\"a\":\"sub\\\\x.safetensors\"}}", NULL, 1, QK_E_INVALID, "is not a plain file name" },
	{ "{\"weight_map\":{\"a\":\"" S1 "\",\"b\":\"" S1 "\",\"c\":\"" S2 "\",\"a\":\"" S1 "\"}}",
	  NULL, 1, QK_E_INVALID, "key 'a' appears twice in object 'weight_map'" },
	{ "{\"weight_map\":{\"a\":\"" S1 "\"},\"weight_map\":{\"a\":\"" S1 "\"}}", NULL, 1,
	  QK_E_INVALID, "key 'weight_map' appears twice in the top-level object" },
	{ "{\"weight_map\":{\"a\":\"" S1 "\",\"b\":\"" S1 "\",\"c\":\"" S2 "\"}}", NULL, 0,
	  QK_E_INVALID, "shard '" S2 "' (holding tensor 'c') does not exist" },
	{ "{\"weight_map\":{\"a\":\"" S1 "\",\"c\":\"" S2 "\"}}", NULL, 1, QK_E_INVALID,
	  "tensor 'b' in shard '" S1 "' is not listed in weight_map" },
	{ "{\"weight_map\":{\"a\":\"" S1 "\",\"b\":\"" S2 "\",\"c\":\"" S2 "\"}}", NULL, 1,
	  QK_E_INVALID, "tensor 'b' is in shard '" S1 "' but weight_map puts it in shard '" S2 "'" },
	{ "{\"weight_map\":{\"a\":\"" S1 "\",\"b\":\"" S1 "\",\"c\":\"" S2 "\",\"d\":\"" S2 "\"}}",
	  NULL, 1, QK_E_INVALID, "weight_map puts tensor 'd' in shard '" S2 "', which does not hold it" },
	/* a broken shard: the message names the index, the shard and the rule */
	{ "{\"weight_map\":{\"a\":\"" S1 "\",\"b\":\"" S1 "\",\"c\":\"" S2 "\"}}",
	  "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
	  "\"b\":{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[8,12]}}", 1, QK_E_INVALID,
	  "index.json: shard '" S1 "': " },
	/* the same tensor in two shards */
	{ "{\"weight_map\":{\"a\":\"" S1 "\",\"b\":\"" S1 "\",\"c\":\"" S1 "\",\"x\":\"" S2 "\"}}",
	  "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
	  "\"b\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[8,9]},"
	  "\"c\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[9,11]}}", 1, QK_E_INVALID,
	  "duplicate tensor name 'c'" },
};

static void test_rejections(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char d[128], ip[256];
		struct qk_catalog cat;
		qk_err e;
		int rc;

		new_dir(d, sizeof(d));
		write_text(d, "model.safetensors.index.json", bad[i].index);
		write_shard(d, S1, bad[i].shard1 ? bad[i].shard1 : SH1, 11, 0);
		if (bad[i].with_s2)
			write_shard(d, S2, SH2, 4, 100);
		index_path(ip, sizeof(ip), d);
		qk_catalog_init(&cat);
		rc = st_index_open(&cat, ip, &e);
		if (rc != bad[i].code || !strstr(e.msg, bad[i].frag) || !strstr(e.msg, ip))
			fail_msg("case %zu: expected %d with '%s', got %d: %s", i, bad[i].code,
				 bad[i].frag, rc, e.msg);
		/* rolled back, even when the first shard had been opened */
		assert_int_equal(cat.n_files, 0);
		assert_int_equal(cat.n_tensors, 0);
		assert_int_equal(cat.n_meta, 0);
		qk_catalog_free(&cat);
	}
}

static void test_index_relative_path(void **state)
{
	char d[128], cwd[512], ip[256];
	struct qk_catalog cat;
	qk_err e;

	(void)state;
	new_dir(d, sizeof(d));
	make_model(d);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(d), 0);
	qk_catalog_init(&cat);
	snprintf(ip, sizeof(ip), "model.safetensors.index.json");
	assert_int_equal(st_index_open(&cat, ip, &e), QK_OK);
	assert_int_equal(cat.n_tensors, 3);
	qk_catalog_free(&cat);
	assert_int_equal(chdir(cwd), 0);
	/* a missing index is an I/O error */
	qk_catalog_init(&cat);
	snprintf(ip, sizeof(ip), "%s/none.json", d);
	assert_int_equal(st_index_open(&cat, ip, &e), QK_E_IO);
	qk_catalog_free(&cat);
}

static void expect_found(const char *d, const char *name, int is_index)
{
	char want[256], *p = NULL;
	int ix = -1;
	qk_err e;

	snprintf(want, sizeof(want), "%s/%s", d, name);
	if (st_find_in_dir(d, &p, &ix, &e) != QK_OK)
		fail_msg("%s", e.msg);
	assert_string_equal(p, want);
	assert_int_equal(ix, is_index);
	free(p);
}

static void expect_not_found(const char *d, int code, const char *frag)
{
	char *p = (char *)1;
	int ix;
	qk_err e;

	assert_int_equal(st_find_in_dir(d, &p, &ix, &e), code);
	assert_null(p);
	if (!strstr(e.msg, frag))
		fail_msg("expected '%s' in: %s", frag, e.msg);
}

static void test_find_in_dir(void **state)
{
	char d[128], sub[160];

	(void)state;
	new_dir(d, sizeof(d));
	expect_not_found(d, QK_E_INVALID, "no model.safetensors.index.json, model.safetensors or other *.safetensors file");
	write_text(d, "notes.txt", "x");
	write_text(d, ".hidden.safetensors", "x");
	snprintf(sub, sizeof(sub), "%s/dir.safetensors", d); /* a directory is not a file */
	assert_int_equal(mkdir(sub, 0755), 0);
	expect_not_found(d, QK_E_INVALID, "no model.safetensors.index.json");
	write_shard(d, "b.safetensors", SH2, 4, 0);
	expect_found(d, "b.safetensors", 0);
	write_shard(d, "a.safetensors", SH2, 4, 0);
	expect_not_found(d, QK_E_INVALID,
			 "2 *.safetensors files and no model.safetensors.index.json to tell how they fit together: a.safetensors, b.safetensors");
	write_shard(d, "model.safetensors", SH2, 4, 0);
	expect_found(d, "model.safetensors", 0);
	write_text(d, "model.safetensors.index.json", "{}");
	expect_found(d, "model.safetensors.index.json", 1);
	snprintf(sub, sizeof(sub), "%s/", d); /* trailing slash */
	{
		char *p = NULL;
		int ix;
		qk_err e;
		assert_int_equal(st_find_in_dir(sub, &p, &ix, &e), QK_OK);
		assert_non_null(strstr(p, "d"));
		assert_null(strstr(p, "//"));
		free(p);
	}
	snprintf(sub, sizeof(sub), "%s/missing", d);
	expect_not_found(sub, QK_E_IO, "cannot read directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_index),
		cmocka_unit_test(test_parse_memory),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_index_relative_path),
		cmocka_unit_test(test_find_in_dir),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
