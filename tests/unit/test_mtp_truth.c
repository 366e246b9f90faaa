/* test_mtp_truth.c - qwen-convert --keep-mtp writes the MTP (nextn) block of
 * Qwen3-Next, Qwen3.5 (dense MTP layer) and Qwen3.5-MoE (MoE MTP layer) with
 * the bytes llama.cpp's own converter writes.
 *
 * transformers ignores mtp.*, so no expected output covers these tensors,
 * and qwen-convert's round trips use one table both ways: only llama.cpp
 * can say whether the zero-centred MTP norms (pre_fc_norm_hidden ->
 * nextn.hnorm, pre_fc_norm_embedding -> nextn.enorm, norm ->
 * nextn.shared_head_norm, and the MTP layer's own norms) are stored as
 * 1 + w. testdata/gguf/mtp_truth.tsv holds what llama.cpp 0.3.36's
 * convert_hf_to_gguf.py writes for every tensor of that block (ggml type,
 * ne, byte count, zlib crc32; the bytes themselves for 1-D tensors);
 * testdata/gen/mtp_truth.py made it and checked that each norm there is
 * float32(1 + w) (the +1 is llama.cpp's: conversion/qwen.py adds 1 to every
 * "norm.weight" but linear_attn.norm, for Qwen3.5 too, whose converter
 * classes derive from Qwen3NextModel; src/models/qwen3next.cpp and
 * qwen35.cpp apply hnorm/enorm as plain RMSNorm weights), and that
 * llama.cpp's loader takes the converter's file with its nextn block
 * (n_layer_nextn 1).
 *
 * The test runs $BINDIR/qwen-convert -q --keep-mtp on each fixture of the
 * file (--outtype auto: bf16, the fixture's storage and the truth's
 * --outtype), then compares tensor by tensor, and checks that our MTP block
 * holds no tensor the truth lacks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../../formats/base/dtype.h"
#include "../../formats/base/io.h"
#include "../../formats/container/catalog.h"
#include "testdir.h"

#define TRUTH "testdata/gguf/mtp_truth.tsv"
#define MODELS "testdata/models"
#define MAX_TRUTH_BYTES (1u << 20)
#define MIN_ROWS 55 /* 20 (qwen3_next) + 15 (qwen3_5, dense) + 20 (qwen3_5_moe) */
/* the fixtures with mtp.* whose truth must be there */
static const char *const need_fx[] = { "qwen3_next", "qwen3_5", "qwen3_5_moe" };

struct row {
	char *fx, *name, *type, *ne, *nbytes, *crc, *data;
};

/* split a TSV line in place into 7 fields */
static void fields(char *line, struct row *r)
{
	char **f[] = { &r->fx, &r->name, &r->type, &r->ne, &r->nbytes, &r->crc, &r->data };

	for (size_t i = 0; i < 7; i++) {
		char *tab = strchr(line, '\t');

		*f[i] = line;
		if (i < 6) {
			if (!tab)
				fail_msg(TRUTH ": line '%s' has fewer than 7 fields", *f[0]);
			*tab = '\0';
			line = tab + 1;
		} else if (tab) {
			fail_msg(TRUTH ": line of '%s' has more than 7 fields", r->name);
		}
	}
}

/* qwen-convert --keep-mtp of one fixture into gguf, opened into cat */
static void convert(const char *fx, const char *gguf, struct qk_catalog *cat)
{
	const char *bindir = getenv("BINDIR");
	char exe[512], cmd[2048];
	qk_err err;

	snprintf(exe, sizeof(exe), "%s/qwen-convert", bindir ? bindir : "bin");
	if (access(exe, X_OK) != 0)
		fail_msg("%s is not built (make check builds it first)", exe);
	snprintf(cmd, sizeof(cmd), "%s -q --keep-mtp %s/%s -o %s", exe, MODELS, fx, gguf);
	if (system(cmd) != 0)
		fail_msg("'%s' failed", cmd);
	if (qk_catalog_open(cat, gguf, &err))
		fail_msg("%s: %s", gguf, err.msg);
}

static void hex_of(const uint8_t *p, uint64_t n, char *out)
{
	for (uint64_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* one truth row against our tensor of the same name */
static void check_row(const struct qk_catalog *cat, const struct row *r)
{
	const struct qk_tensor *t = qk_catalog_find(cat, r->name);
	char ne[128] = "", crc[16], *hex;
	size_t len = 0;

	if (!t)
		fail_msg("%s: our --keep-mtp GGUF has no '%s' (llama.cpp writes it)", r->fx, r->name);
	if (strcmp(qk_dtype_name(t->dtype), r->type) != 0)
		fail_msg("%s: '%s' is %s, llama.cpp writes %s", r->fx, r->name,
			 qk_dtype_name(t->dtype), r->type);
	for (int d = t->n_dims - 1; d >= 0; d--) /* ggml's ne: fastest first */
		len += (size_t)snprintf(ne + len, sizeof(ne) - len, "%s%llu", len ? "," : "",
					(unsigned long long)t->shape[d]);
	if (strcmp(ne, r->ne) != 0)
		fail_msg("%s: '%s' has ne %s, llama.cpp writes %s", r->fx, r->name, ne, r->ne);
	if (t->nbytes != strtoull(r->nbytes, NULL, 10))
		fail_msg("%s: '%s' has %llu bytes, llama.cpp writes %s", r->fx, r->name,
			 (unsigned long long)t->nbytes, r->nbytes);
	snprintf(crc, sizeof(crc), "%08lx", crc32(0L, t->data, (uInt)t->nbytes));
	if (strcmp(r->data, "-") != 0) {
		hex = malloc(2 * t->nbytes + 1);
		assert_non_null(hex);
		hex_of(t->data, t->nbytes, hex);
		if (strcmp(hex, r->data) != 0) {
			size_t i = 0;

			while (hex[i] == r->data[i])
				i++;
			fail_msg("%s: '%s' differs from llama.cpp's bytes from byte %zu (value %zu): "
				 "ours %.8s, llama.cpp %.8s (an MTP norm must be stored as 1 + w)",
				 r->fx, r->name, i / 2, i / 8, hex + i / 8 * 8, r->data + i / 8 * 8);
		}
		free(hex);
	}
	if (strcmp(crc, r->crc) != 0)
		fail_msg("%s: '%s' has crc32 %s, llama.cpp's bytes have %s", r->fx, r->name, crc,
			 r->crc);
}

static void test_mtp_truth(void **state)
{
	char *buf, *line, *next, dir[64], gguf[600], cur[64] = "", prefix[64] = "";
	struct qk_catalog cat;
	size_t len, n_rows = 0, n_fx = 0, n_ours = 0, n_fx_rows = 0, n_need = 0;
	qk_err err;

	(void)state;
	assert_int_equal(td_make(dir, sizeof(dir), "mtp"), 0);
	if (qk_read_file(TRUTH, MAX_TRUTH_BYTES, &buf, &len, &err))
		fail_msg("%s (run from the repository root)", err.msg);
	qk_catalog_init(&cat);
	snprintf(gguf, sizeof(gguf), "%s/mtp.gguf", dir);
	for (line = buf; line && *line; line = next) {
		struct row r;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		fields(line, &r);
		if (strcmp(r.fx, cur) != 0) {
			/* a new fixture: our MTP block has no tensor the truth lacks */
			if (n_fx && n_ours != n_fx_rows)
				fail_msg("%s: our MTP block has %zu tensors, llama.cpp's %zu", cur, n_ours,
					 n_fx_rows);
			qk_catalog_free(&cat);
			qk_catalog_init(&cat);
			snprintf(cur, sizeof(cur), "%s", r.fx);
			for (size_t i = 0; i < sizeof(need_fx) / sizeof(need_fx[0]); i++)
				n_need += strcmp(cur, need_fx[i]) == 0;
			convert(cur, gguf, &cat);
			n_fx++;
			n_fx_rows = 0;
			n_ours = 0;
			snprintf(prefix, sizeof(prefix), "%.*s", (int)(strchr(r.name + 4, '.') -
								   r.name + 1), r.name);
			for (size_t i = 0; i < cat.n_tensors; i++)
				n_ours += strncmp(cat.tensors[i].name, prefix, strlen(prefix)) == 0;
		}
		check_row(&cat, &r);
		n_rows++;
		n_fx_rows++;
	}
	if (n_fx && n_ours != n_fx_rows)
		fail_msg("%s: our MTP block (%s*) has %zu tensors, llama.cpp's %zu", cur, prefix,
			 n_ours, n_fx_rows);
	print_message("%zu MTP tensors of %zu fixtures as llama.cpp writes them\n", n_rows, n_fx);
	if (n_need != sizeof(need_fx) / sizeof(need_fx[0]))
		fail_msg(TRUTH ": %zu of the %zu fixtures qwen3_next, qwen3_5, qwen3_5_moe "
			 "(testdata/gen/mtp_truth.py)", n_need, sizeof(need_fx) / sizeof(need_fx[0]));
	if (n_rows < MIN_ROWS)
		fail_msg(TRUTH ": %zu rows, expected at least %d", n_rows, MIN_ROWS);
	qk_catalog_free(&cat);
	free(buf);
	td_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mtp_truth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
