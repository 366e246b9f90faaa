/* test_fixtures.c - every golden fixture under testdata/models loads with the
 * formats layer: the catalog opens, config.json parses, every tensor is
 * claimed by its architecture table, and expected.safetensors holds, for each
 * sequence s, tokens.s [T] (I32, ids < vocab_size, 16 <= T <= 64),
 * logits.s [T, vocab_size] F32 and hidden.s [n_layer + 1, T, hidden_size] F32. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../formats/container/catalog.h"
#include "../../formats/base/dtype.h"
#include "../../formats/model/hparams.h"
#include "../../formats/model/model.h"
#include "../../formats/container/safetensors.h"
#include "fixture_list.h"

#define MODELS "testdata/models"

/* the fixtures the golden-fixture issue asks for; each must be present */
static const char *const required[] = { QK_FIXTURE_NAMES };
_Static_assert(sizeof(required) / sizeof(required[0]) == QK_FIXTURE_COUNT, "fixture list");

/* inputs each fixture's expected.safetensors must hold: a plain text and a
 * ChatML conversation, except qwen3_realvocab, whose 151936-wide logits fit
 * the testdata budget for its chat-template sequence only */
static const struct {
	const char *fixture;
	int n_inputs;
} fewer_inputs[] = { { "qwen3_realvocab", 1 } };

static int min_inputs(const char *fx)
{
	for (size_t i = 0; i < sizeof(fewer_inputs) / sizeof(fewer_inputs[0]); i++)
		if (strcmp(fewer_inputs[i].fixture, fx) == 0)
			return fewer_inputs[i].n_inputs;
	return 2;
}

static const struct qk_tensor *need(const struct qk_catalog *cat, const char *fx,
				    const char *name, int dtype, int n_dims)
{
	const struct qk_tensor *t = qk_catalog_find(cat, name);

	if (!t)
		fail_msg("%s: expected.safetensors lacks '%s'", fx, name);
	if (t->dtype != dtype || t->n_dims != n_dims)
		fail_msg("%s: '%s' is %s rank %d, expected %s rank %d", fx, name,
			 qk_dtype_name(t->dtype), t->n_dims, qk_dtype_name(dtype), n_dims);
	return t;
}

static void check_fixture(const char *fx)
{
	char dir[512], path[600], name[64];
	struct qk_catalog cat, exp;
	struct qk_hparams hp;
	struct qk_model m;
	qk_err err;
	int n_seq = 0;

	snprintf(dir, sizeof(dir), "%s/%s", MODELS, fx);
	if (qk_catalog_open(&cat, dir, &err))
		fail_msg("%s: %s", fx, err.msg);
	if (qk_hparams_load_config(&hp, dir, &err))
		fail_msg("%s: %s", fx, err.msg);
	if (qk_model_bind(&m, &cat, &hp, &err))
		fail_msg("%s: %s", fx, err.msg);
	/* every tensor claimed by a role (none merely ignored in our fixtures) */
	for (size_t i = 0; i < cat.n_tensors; i++)
		if (m.claims[i].role < 0)
			fail_msg("%s: tensor '%s' not claimed by any role", fx, cat.tensors[i].name);

	qk_catalog_init(&exp);
	snprintf(path, sizeof(path), "%s/expected.safetensors", dir);
	if (st_open(&exp, path, &err))
		fail_msg("%s: %s", fx, err.msg);
	for (int s = 0;; s++) {
		const struct qk_tensor *tok, *lg, *hid;
		uint64_t T;

		snprintf(name, sizeof(name), "tokens.%d", s);
		if (!qk_catalog_find(&exp, name))
			break;
		n_seq++;
		tok = need(&exp, fx, name, QK_DT_I32, 1);
		T = tok->shape[0];
		if (T < 16 || T > 64)
			fail_msg("%s: sequence %d has %llu tokens, expected 16..64", fx, s,
				 (unsigned long long)T);
		for (uint64_t i = 0; i < T; i++) {
			int32_t id;
			memcpy(&id, tok->data + 4 * i, 4);
			if (id < 0 || (uint64_t)id >= hp.n_vocab)
				fail_msg("%s: tokens.%d[%llu] = %d outside [0, %u)", fx, s,
					 (unsigned long long)i, id, hp.n_vocab);
		}
		snprintf(name, sizeof(name), "logits.%d", s);
		lg = need(&exp, fx, name, QK_DT_F32, 2);
		if (lg->shape[0] != T || lg->shape[1] != hp.n_vocab)
			fail_msg("%s: %s is [%llu, %llu], expected [%llu, %u]", fx, name,
				 (unsigned long long)lg->shape[0], (unsigned long long)lg->shape[1],
				 (unsigned long long)T, hp.n_vocab);
		snprintf(name, sizeof(name), "hidden.%d", s);
		hid = need(&exp, fx, name, QK_DT_F32, 3);
		if (hid->shape[0] != hp.n_layer + 1u || hid->shape[1] != T || hid->shape[2] != hp.n_embd)
			fail_msg("%s: %s has the wrong shape, expected [%u, %llu, %u]", fx, name,
				 hp.n_layer + 1u, (unsigned long long)T, hp.n_embd);
	}
	/* the Qwen-VL fixtures hold one text sequence and the same tokens with
	 * image positions (mrope.*) as their second input (testdata budget) */
	if (n_seq + (qk_catalog_find(&exp, "mrope.tokens") != NULL) < min_inputs(fx))
		fail_msg("%s: %d sequences in expected.safetensors, expected at least %d", fx,
			 n_seq, min_inputs(fx));
	qk_catalog_free(&exp);
	qk_model_free(&m);
	qk_catalog_free(&cat);
}

static void test_required_fixtures_present(void **state)
{
	struct stat st;
	char dir[256];

	(void)state;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s/config.json", MODELS, required[i]);
		if (stat(dir, &st) != 0)
			fail_msg("fixture %s is missing (%s)", required[i], dir);
	}
}

static int listed(const char *name)
{
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (strcmp(required[i], name) == 0)
			return 1;
	return 0;
}

static void test_every_fixture_loads(void **state)
{
	DIR *d = opendir(MODELS);
	struct dirent *e;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char cfg[512];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(cfg, sizeof(cfg), "%s/%s/config.json", MODELS, e->d_name);
		if (stat(cfg, &st) != 0)
			continue;
		check_fixture(e->d_name);
		if (!listed(e->d_name))
			fail_msg("fixture %s is not in tests/unit/fixture_list.h, so the per-fixture "
				 "tests skip it", e->d_name);
		n++;
	}
	closedir(d);
	assert_int_equal(n, QK_FIXTURE_COUNT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_required_fixtures_present),
		cmocka_unit_test(test_every_fixture_loads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
