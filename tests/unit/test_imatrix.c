/* test_imatrix.c - formats/imatrix against files llama-imatrix wrote
 * (testdata/imatrix/, testdata/gen/imatrix_oracle.py): a dense fixture and
 * a MoE fixture, each in GGUF and in llama.cpp's own .dat conversion.
 *
 * - reading: every entry's name, shape, counts and the hash of its sums
 *   (ncall and values for .dat), chunk count and size, datasets, as
 *   gguf-py and a plain struct parse saw them (expected.tsv);
 * - writing: our GGUF of the GGUF we read is llama-imatrix's file byte for
 *   byte, and our .dat of it is llama-imatrix's .dat conversion byte for byte;
 * - llama-quantize's weights: per-expert sums over counts, 1 where a count
 *   is 0, legacy values over ncall; a non-finite weight is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/io.h"
#include "../../formats/imatrix/imatrix.h"
#include "fnv.h"
#include "testdir.h"

#define DIR "testdata/imatrix/"

static const char *const stems[] = { "qwen3_256.imatrix", "qwen2_moe_256.imatrix" };

/* every expected.tsv row of kind `kind` (gguf/dat) for the file, checked
 * against f; rows are in entry order */
static void check_rows(const struct im_file *f, const char *file, const char *kind)
{
	FILE *fp = fopen(DIR "expected.tsv", "r");
	char line[8192];
	size_t seen = 0, n_meta = 0;
	bool mine = false;

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		char *fields[8] = { 0 };
		int nf = 0;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#')
			continue;
		for (char *p = line; p && nf < 8; nf++) {
			fields[nf] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		if (strcmp(fields[0], "meta") == 0) {
			mine = strcmp(fields[1], file) == 0;
			if (!mine)
				continue;
			n_meta++;
			if (strcmp(fields[2], "chunk_count") == 0)
				assert_int_equal(f->chunk_count, strtoul(fields[3], NULL, 10));
			else if (strcmp(fields[2], "chunk_size") == 0)
				assert_int_equal(f->chunk_size, strtoul(fields[3], NULL, 10));
			else if (strcmp(fields[2], "entries") == 0)
				assert_int_equal(f->n, strtoul(fields[3], NULL, 10));
			else if (strcmp(fields[2], "datasets") == 0) {
				assert_int_equal(f->n_datasets, 1);
				assert_string_equal(f->datasets[0], fields[3]);
			}
			continue;
		}
		if (!mine || strcmp(fields[0], kind) != 0)
			continue;
		assert_true(seen < f->n);
		const struct im_entry *e = &f->e[seen++];
		char hash[32], counts[512] = "";
		size_t at = 0;

		assert_string_equal(e->name, fields[1]);
		assert_ptr_equal(im_find(f, fields[1]), e);
		snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)fnv1a64(
			 FNV1A64_INIT, e->sums, (size_t)(e->n_cols * e->n_mat) * sizeof(float)));
		if (strcmp(kind, "gguf") == 0) {
			assert_int_equal(e->n_cols, strtoull(fields[2], NULL, 10));
			assert_int_equal(e->n_mat, strtoull(fields[3], NULL, 10));
			for (uint64_t m = 0; m < e->n_mat; m++)
				at += (size_t)snprintf(counts + at, sizeof(counts) - at, "%s%lld",
						       m ? "," : "", (long long)e->counts[m]);
			assert_string_equal(counts, fields[4]);
			assert_string_equal(hash, fields[5]);
		} else {
			assert_int_equal(e->counts[0], strtoll(fields[2], NULL, 10));
			assert_int_equal(e->n_cols * e->n_mat, strtoull(fields[3], NULL, 10));
			assert_int_equal(e->n_mat, 1);
			assert_string_equal(hash, fields[4]);
		}
	}
	fclose(fp);
	assert_int_equal(seen, f->n);
	assert_true(n_meta >= 3);
}

static void test_read(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(stems) / sizeof(stems[0]); i++) {
		char path[256], file[128];
		struct im_file f;
		qk_err err;

		snprintf(file, sizeof(file), "%s.gguf", stems[i]);
		snprintf(path, sizeof(path), DIR "%s", file);
		assert_int_equal(im_load(&f, path, &err), QK_OK);
		assert_false(f.legacy);
		assert_true(f.has_metadata);
		check_rows(&f, file, "gguf");
		im_free(&f);
		snprintf(file, sizeof(file), "%s.dat", stems[i]);
		snprintf(path, sizeof(path), DIR "%s", file);
		assert_int_equal(im_load(&f, path, &err), QK_OK);
		assert_true(f.legacy);
		check_rows(&f, file, "dat");
		im_free(&f);
	}
}

static void assert_same_file(const char *ours, const char *theirs)
{
	qk_map a, b;
	qk_err err;

	assert_int_equal(qk_map_open(&a, ours, &err), QK_OK);
	assert_int_equal(qk_map_open(&b, theirs, &err), QK_OK);
	if (a.size != b.size || memcmp(a.data, b.data, a.size) != 0) {
		size_t k = 0;

		while (k < a.size && k < b.size && a.data[k] == b.data[k])
			k++;
		fail_msg("%s (%zu bytes) differs from llama-imatrix's %s (%zu bytes) at byte %zu",
			 ours, a.size, theirs, b.size, k);
	}
	qk_map_close(&a);
	qk_map_close(&b);
}

static void test_write_like_llama(void **state)
{
	char dir[64], out[128], src[256], ref[256];

	(void)state;
	assert_int_equal(td_make(dir, sizeof(dir), "imatrix"), 0);
	for (size_t i = 0; i < sizeof(stems) / sizeof(stems[0]); i++) {
		struct im_file f;
		qk_err err;

		snprintf(src, sizeof(src), DIR "%s.gguf", stems[i]);
		assert_int_equal(im_load(&f, src, &err), QK_OK);
		snprintf(out, sizeof(out), "%s/o.gguf", dir);
		assert_int_equal(im_write_gguf(&f, out, &err), QK_OK);
		assert_same_file(out, src);
		snprintf(out, sizeof(out), "%s/o.dat", dir);
		snprintf(ref, sizeof(ref), DIR "%s.dat", stems[i]);
		assert_int_equal(im_write_dat(&f, out, &err), QK_OK);
		assert_same_file(out, ref);
		im_free(&f);
	}
	td_remove(dir);
}

static void test_weights(void **state)
{
	struct im_file f;
	const struct im_entry *e;
	qk_err err;
	float *w;

	(void)state;
	assert_int_equal(im_load(&f, DIR "qwen2_moe_256.imatrix.gguf", &err), QK_OK);
	e = im_find(&f, "blk.0.ffn_down_exps.weight");
	assert_non_null(e);
	assert_int_equal(e->n_mat, 4);
	w = malloc(e->n_cols * e->n_mat * sizeof(float));
	assert_non_null(w);
	assert_int_equal(im_weights(&f, e, w, &err), QK_OK);
	for (uint64_t m = 0; m < e->n_mat; m++)
		for (uint64_t c = 0; c < e->n_cols; c += 37)
			assert_memory_equal(&w[m * e->n_cols + c],
					    &(float){ e->sums[m * e->n_cols + c] / (float)e->counts[m] },
					    sizeof(float));
	/* an expert nobody was routed to: weight 1 everywhere */
	f.e[e - f.e].counts[2] = 0;
	assert_int_equal(im_weights(&f, e, w, &err), QK_OK);
	for (uint64_t c = 0; c < e->n_cols; c++)
		assert_true(w[2 * e->n_cols + c] == 1.0f);
	/* non-finite: refused with the entry and the column */
	f.e[e - f.e].sums[5] = INFINITY;
	assert_int_equal(im_weights(&f, e, w, &err), QK_E_INVALID);
	assert_non_null(strstr(err.msg, "blk.0.ffn_down_exps.weight"));
	assert_non_null(strstr(err.msg, "weight 5 of matrix 0"));
	free(w);
	im_free(&f);
	/* legacy: values over ncall */
	assert_int_equal(im_load(&f, DIR "qwen3_256.imatrix.dat", &err), QK_OK);
	e = &f.e[0];
	w = malloc(e->n_cols * sizeof(float));
	assert_non_null(w);
	assert_int_equal(im_weights(&f, e, w, &err), QK_OK);
	assert_true(w[7] == e->sums[7] / (float)e->counts[0]);
	free(w);
	im_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_write_like_llama),
		cmocka_unit_test(test_weights),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
