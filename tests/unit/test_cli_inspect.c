/* test_cli_inspect.c - qwen-inspect --json on every golden fixture, through
 * the real binary ($BINDIR/qwen-inspect): the required keys, the architecture
 * each fixture was made as, and the parameter count against the one
 * transformers reported when it made the fixture (expected.safetensors
 * metadata "n_params"). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/container/catalog.h"
#include "../../formats/container/safetensors.h"
#include "fixture_list.h"

static const struct {
	const char *fixture, *arch, *generation_prefix;
	int moe;
} fixtures[] = {
	{ "qwen1", "qwen", "Qwen", 0 },
	{ "qwen1_5", "qwen2", "Qwen2", 0 },
	{ "qwen1_5_moe", "qwen2moe", "Qwen2", 1 },
	{ "qwen2", "qwen2", "Qwen2", 0 },
	{ "qwen2_moe", "qwen2moe", "Qwen2", 1 },
	{ "qwen2_5_yarn", "qwen2", "Qwen2", 0 },
	{ "qwen3", "qwen3", "Qwen3", 0 },
	{ "qwen3_moe", "qwen3moe", "Qwen3", 1 },
	{ "qwen3_next", "qwen3next", "Qwen3", 1 },
	{ "qwen3_realvocab", "qwen3", "Qwen3", 0 },
	{ "qwen2_moe_256", "qwen2moe", "Qwen2", 1 },
	{ "qwen3_256", "qwen3", "Qwen3", 0 },
	{ "qwen3_next_256", "qwen3next", "Qwen3", 1 },
	{ "qwen3_5", "qwen35", "Qwen3.5", 0 },
	{ "qwen3_5_moe", "qwen35moe", "Qwen3.5", 1 },
	{ "qwen3_tiny", "qwen3", "Qwen3", 0 },
	{ "qwen2_5_vl", "qwen2vl", "Qwen2-VL", 0 },
	{ "qwen3_vl", "qwen3vl", "Qwen3-VL", 0 },
	{ "qwen3_vl_moe", "qwen3vlmoe", "Qwen3-VL", 1 },
	{ "qwen2_vl", "qwen2vl", "Qwen2-VL", 0 },
	{ "qwen3_vl_256", "qwen3vl", "Qwen3-VL", 0 },
};
_Static_assert(sizeof(fixtures) / sizeof(fixtures[0]) == QK_FIXTURE_COUNT, "one row per fixture");

static char *run(const char *args)
{
	const char *bindir = getenv("BINDIR");
	char cmd[1024];
	char *buf = NULL;
	size_t n = 0, cap = 0;
	FILE *p;
	int c;

	snprintf(cmd, sizeof(cmd), "%s/qwen-inspect %s", bindir ? bindir : "bin", args);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((c = fgetc(p)) != EOF) {
		if (n + 1 >= cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		buf[n++] = (char)c;
	}
	if (pclose(p) != 0)
		fail_msg("'%s' failed", cmd);
	if (!buf)
		fail_msg("'%s' printed nothing", cmd);
	buf[n] = '\0';
	return buf;
}

static double transformers_n_params(const char *fx)
{
	struct qk_catalog cat;
	char path[256];
	const char *v;
	qk_err err;
	double n;

	qk_catalog_init(&cat);
	snprintf(path, sizeof(path), "testdata/models/%s/expected.safetensors", fx);
	if (st_open(&cat, path, &err))
		fail_msg("%s", err.msg);
	v = qk_catalog_meta(&cat, -1, "n_params");
	if (!v)
		fail_msg("%s: no n_params in the metadata (regenerate the fixtures)", path);
	n = strtod(v, NULL);
	qk_catalog_free(&cat);
	return n;
}

static void test_summary_json(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		char args[256];
		char *out;
		cJSON *j, *it;
		double want = transformers_n_params(fixtures[i].fixture);

		snprintf(args, sizeof(args), "--json testdata/models/%s", fixtures[i].fixture);
		out = run(args);
		j = cJSON_Parse(out);
		if (!j)
			fail_msg("%s: output is not JSON", fixtures[i].fixture);
		static const char *const keys[] = { "format", "architecture", "generation",
						    "n_params", "n_tensors", "hparams" };
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!cJSON_GetObjectItem(j, keys[k]))
				fail_msg("%s: JSON lacks \"%s\"", fixtures[i].fixture, keys[k]);
		it = cJSON_GetObjectItem(j, "format");
		assert_string_equal(it->valuestring, "safetensors");
		it = cJSON_GetObjectItem(j, "architecture");
		if (strcmp(it->valuestring, fixtures[i].arch) != 0)
			fail_msg("%s: architecture %s, expected %s", fixtures[i].fixture, it->valuestring,
				 fixtures[i].arch);
		it = cJSON_GetObjectItem(j, "generation");
		assert_true(strncmp(it->valuestring, fixtures[i].generation_prefix,
				    strlen(fixtures[i].generation_prefix)) == 0);
		it = cJSON_GetObjectItem(j, "n_params");
		if (it->valuedouble != want)
			fail_msg("%s: n_params %.0f, transformers counts %.0f", fixtures[i].fixture,
				 it->valuedouble, want);
		it = cJSON_GetObjectItem(j, "n_params_active");
		if (fixtures[i].moe ? !(it->valuedouble < want) : it->valuedouble != want)
			fail_msg("%s: n_params_active %.0f for %s model of %.0f", fixtures[i].fixture,
				 it->valuedouble, fixtures[i].moe ? "an MoE" : "a dense", want);
		cJSON_Delete(j);
		free(out);
	}
}

static void test_tensors_json_matches_count(void **state)
{
	char *out;
	cJSON *j, *arr, *e;
	int n = 0;

	(void)state;
	out = run("--json --tensors testdata/models/qwen3_next");
	j = cJSON_Parse(out);
	assert_non_null(j);
	arr = cJSON_GetObjectItem(j, "tensors");
	assert_non_null(arr);
	cJSON_ArrayForEach(e, arr) {
		assert_non_null(cJSON_GetObjectItem(e, "name"));
		assert_non_null(cJSON_GetObjectItem(e, "dtype"));
		assert_non_null(cJSON_GetObjectItem(e, "shape"));
		n++;
	}
	assert_int_equal(n, (int)cJSON_GetObjectItem(j, "n_tensors")->valuedouble);
	cJSON_Delete(j);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_json),
		cmocka_unit_test(test_tensors_json_matches_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
