/* test_recipe.c - qwen-quant recipes (formats/plan/recipe.h): what a good recipe
 * holds and matches, and for each kind of mistake the line and the words of
 * its error. Expected lines are counted by hand in the texts below (the
 * first line of each text is line 1). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/model/hparams.h"
#include "../../formats/plan/recipe.h"
#include "../../quant/qtype.h"

static int parse(struct rc_recipe *r, const char *text, qk_err *err)
{
	return rc_parse(r, text, strlen(text), "r.yaml", err);
}

/* ---- a good recipe ---- */

static const char *const good =
	"# the issue's example, and more\n"                    /* 1 */
	"description: keep the edges\n"                        /* 2 */
	"rules:\n"                                             /* 3 */
	"  - role: ffn_down\n"                                 /* 4 */
	"    layers: [0..1, -2..-1]\n"                         /* 5 */
	"    type: Q8_0\n"                                     /* 6 */
	"  - layer_kind: linear\n"                             /* 7 */
	"    type: q6_k\n"                                     /* 8 */
	"  - name: [\"blk.*.attn_v.weight\", output.weight]\n" /* 9 */
	"    type: bf16\n"                                     /* 10 */
	"  - layers: 3\n"                                      /* 11 */
	"    role: [attn_q, attn_k]\n"                         /* 12 */
	"    layer_kind: [moe]\n"                              /* 13 */
	"    type: Q4_0\n";                                    /* 14 */

static void test_good_fields(void **state)
{
	struct rc_recipe r;
	qk_err err;

	(void)state;
	assert_int_equal(parse(&r, good, &err), QK_OK);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.rules[0].line, 4);
	assert_int_equal(r.rules[0].n_roles, 1);
	assert_string_equal(r.rules[0].roles[0], "ffn_down");
	assert_int_equal(r.rules[0].n_layers, 2);
	assert_int_equal(r.rules[0].layers[0].lo, 0);
	assert_int_equal(r.rules[0].layers[0].hi, 1);
	assert_int_equal(r.rules[0].layers[1].lo, -2);
	assert_int_equal(r.rules[0].layers[1].hi, -1);
	assert_int_equal(r.rules[0].type, QT_Q8_0);
	assert_int_equal(r.rules[1].line, 7);
	assert_int_equal(r.rules[1].kinds, RC_KIND_LINEAR);
	assert_int_equal(r.rules[1].type, QT_Q6_K);
	assert_int_equal(r.rules[2].n_names, 2);
	assert_string_equal(r.rules[2].names[1], "output.weight");
	assert_int_equal(r.rules[2].type, QT_BF16);
	assert_int_equal(r.rules[3].line, 11);
	assert_int_equal(r.rules[3].n_layers, 1);
	assert_int_equal(r.rules[3].layers[0].lo, 3);
	assert_int_equal(r.rules[3].layers[0].hi, 3);
	assert_int_equal(r.rules[3].kinds, RC_KIND_MOE);
	assert_int_equal(r.rules[3].type, QT_Q4_0);
	rc_free(&r);
	rc_free(&r); /* twice is harmless */
}

static long match(const struct rc_recipe *r, const char *name, const char *role, long layer,
		  unsigned flags)
{
	const struct rc_subject s = { name, role, layer, flags };

	return rc_match(r, &s, 24); /* a 24-layer model: -2..-1 is 22..23 */
}

static void test_good_matching(void **state)
{
	struct rc_recipe r;
	qk_err err;

	(void)state;
	assert_int_equal(parse(&r, good, &err), QK_OK);
	/* rule 0: ffn_down in layers 0, 1, 22, 23 only */
	assert_int_equal(match(&r, "blk.0.ffn_down.weight", "ffn_down", 0, 0), 0);
	assert_int_equal(match(&r, "blk.1.ffn_down.weight", "ffn_down", 1, 0), 0);
	assert_int_equal(match(&r, "blk.2.ffn_down.weight", "ffn_down", 2, 0), -1);
	assert_int_equal(match(&r, "blk.21.ffn_down.weight", "ffn_down", 21, 0), -1);
	assert_int_equal(match(&r, "blk.22.ffn_down.weight", "ffn_down", 22, 0), 0);
	assert_int_equal(match(&r, "blk.23.ffn_down.weight", "ffn_down", 23, 0), 0);
	/* an MTP block after the last layer is not "the last layer" */
	assert_int_equal(match(&r, "blk.24.ffn_down.weight", "ffn_down", 24, 0), -1);
	/* rule 1: anything in a linear-attention layer; the first rule still wins */
	assert_int_equal(match(&r, "blk.5.ssm_out.weight", "ssm_out", 5, QK_LAYER_LINEAR), 1);
	assert_int_equal(match(&r, "blk.0.ffn_down.weight", "ffn_down", 0, QK_LAYER_LINEAR), 0);
	assert_int_equal(match(&r, "blk.5.ssm_out.weight", "ssm_out", 5, 0), -1);
	/* rule 2: globs; '*' crosses dots; a global tensor matches by name */
	assert_int_equal(match(&r, "blk.7.attn_v.weight", "attn_v", 7, 0), 2);
	assert_int_equal(match(&r, "output.weight", "output", -1, 0), 2);
	assert_int_equal(match(&r, "blk.7.attn_v.bias", "attn_v.bias", 7, 0), -1);
	/* rule 3: all of layers, role and kind must hold */
	assert_int_equal(match(&r, "blk.3.attn_q.weight", "attn_q", 3, QK_LAYER_MOE), 3);
	assert_int_equal(match(&r, "blk.3.attn_q.weight", "attn_q", 3, 0), -1);
	assert_int_equal(match(&r, "blk.4.attn_k.weight", "attn_k", 4, QK_LAYER_MOE), -1);
	assert_int_equal(match(&r, "blk.3.attn_v.weight", "attn_v", 3, QK_LAYER_MOE), 2);
	/* a layer condition never matches a tensor outside the blocks */
	assert_int_equal(match(&r, "token_embd.weight", "token_embd", -1, QK_LAYER_LINEAR), -1);
	rc_free(&r);
}

static void test_kinds_full_dense(void **state)
{
	struct rc_recipe r;
	qk_err err;

	(void)state;
	assert_int_equal(parse(&r, "rules:\n- layer_kind: full\n  type: q5_k\n"
				   "- layer_kind: dense\n  type: q4_1\n", &err), QK_OK);
	assert_int_equal(match(&r, "blk.3.attn_q.weight", "attn_q", 3, QK_LAYER_MOE), 0);
	assert_int_equal(match(&r, "blk.3.attn_qkv.weight", "attn_qkv", 3, QK_LAYER_LINEAR), 1);
	assert_int_equal(match(&r, "blk.3.x.weight", "x", 3, QK_LAYER_LINEAR | QK_LAYER_MOE), -1);
	rc_free(&r);
}

static void test_every_written_type(void **state)
{
	static const char *const names[] = { "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K",
					     "Q3_K", "Q4_K", "Q5_K", "Q6_K", "F16", "BF16", "F32" };
	static const int ids[] = { QT_Q4_0, QT_Q4_1, QT_Q5_0, QT_Q5_1, QT_Q8_0, QT_Q2_K, QT_Q3_K,
				   QT_Q4_K, QT_Q5_K, QT_Q6_K, QT_F16, QT_BF16, QT_F32 };
	char text[128];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct rc_recipe r;
		qk_err err;

		snprintf(text, sizeof(text), "rules:\n  - role: ffn_up\n    type: %s\n", names[i]);
		assert_int_equal(parse(&r, text, &err), QK_OK);
		assert_int_equal(r.rules[0].type, ids[i]);
		rc_free(&r);
	}
	assert_false(rc_type_ok(QT_Q8_K));
	assert_false(rc_type_ok(QT_NVFP4));
	assert_false(rc_type_ok(-1));
}

/* ---- bad recipes: the line and the words ---- */

static const struct bad {
	const char *text;
	const char *want;   /* the whole prefix "r.yaml:N:" plus a fragment */
	const char *frag;
} bad[] = {
	/* not YAML: libyaml's own mark */
	{ "rules:\n  - role: ffn_down\n    type: [Q8_0\n", "r.yaml:4:", "not valid YAML" },
	{ "- just\n- a list\n", "r.yaml:1:", "expected a mapping with 'rules', found a sequence" },
	{ "rules:\n  - role: ffn_down\n    type: Q8_0\nrule: x\n", "r.yaml:4:",
	  "unknown key 'rule' (known: rules, description)" },
	{ "description: x\n", "r.yaml:1:", "no 'rules'" },
	{ "description: x\nrules: []\n", "r.yaml:2:", "expected a non-empty list of rules" },
	{ "rules:\n  - role: ffn_down\n    type: Q8_0\n  - Q4_0\n", "r.yaml:4:",
	  "a rule must be a mapping" },
	{ "rules:\n  - role: ffn_down\n    typo: Q8_0\n", "r.yaml:3:", "unknown key 'typo'" },
	{ "rules:\n  - role: ffn_down\n    layers: 1\n", "r.yaml:2:", "rule has no 'type'" },
	{ "rules:\n  - type: Q8_0\n", "r.yaml:2:", "rule has no condition" },
	{ "rules:\n  - role: ffn_down\n\n    type: Q4_K_Q\n", "r.yaml:4:", "unknown type 'Q4_K_Q'" },
	{ "rules:\n  - role: ffn_down\n    type: Q4_K_M\n", "r.yaml:3:",
	  "'Q4_K_M' is a mix, not a tensor type" },
	{ "rules:\n  - role: ffn_down\n    type: Q8_K\n", "r.yaml:3:", "unknown type 'Q8_K'" },
	{ "rules:\n  - role: ffn_dwon\n    type: Q8_0\n", "r.yaml:2:", "unknown role 'ffn_dwon'" },
	{ "rules:\n  - role: [ffn_up,\n      ffn_dwn]\n    type: Q8_0\n", "r.yaml:3:",
	  "unknown role 'ffn_dwn'" },
	{ "rules:\n  - layers: [0..1, 1..x]\n    type: Q8_0\n", "r.yaml:2:",
	  "layer '1..x' is not a block number or a range" },
	{ "rules:\n  - layers: 5..2\n    type: Q8_0\n", "r.yaml:2:", "layer range '5..2' is reversed" },
	{ "rules:\n  - layers: -1..-3\n    type: Q8_0\n", "r.yaml:2:", "is reversed" },
	{ "rules:\n  - layers: 512\n    type: Q8_0\n", "r.yaml:2:", "layer '512' is not" },
	{ "rules:\n  - layers: 1.5\n    type: Q8_0\n", "r.yaml:2:", "layer '1.5' is not" },
	{ "rules:\n  - layer_kind: hybrid\n    type: Q8_0\n", "r.yaml:2:",
	  "unknown layer_kind 'hybrid' (known: linear, full, moe, dense)" },
	{ "rules:\n  - name: \"\"\n    type: Q8_0\n", "r.yaml:2:", "'name': empty glob" },
	{ "rules:\n  - name: []\n    type: Q8_0\n", "r.yaml:2:",
	  "'name': expected a value or a non-empty list of values" },
	{ "rules:\n  - role: {a: b}\n    type: Q8_0\n", "r.yaml:2:", "found a mapping" },
	{ "rules:\n  - role: ffn_up\n    role: ffn_down\n    type: Q8_0\n", "r.yaml:3:",
	  "key 'role' given twice" },
	{ "rules:\n  - role: ffn_up\n    type:\n", "r.yaml:3:", "'type': expected a type name, found null" },
	{ "rules:\n  - role: ffn_up\n    type: Q8_0\n---\nrules: []\n", "r.yaml:5:",
	  "more than one YAML document" },
};

static void test_bad_recipes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rc_recipe r;
		qk_err err;
		int rc = parse(&r, bad[i].text, &err);

		if (rc != QK_E_USAGE || strncmp(err.msg, bad[i].want, strlen(bad[i].want)) != 0 ||
		    !strstr(err.msg, bad[i].frag))
			fail_msg("bad recipe %zu: rc %d, message '%s', expected '%s ... %s'", i, rc,
				 err.msg, bad[i].want, bad[i].frag);
		assert_int_equal(r.n, 0); /* nothing left behind */
		assert_null(r.rules);
	}
}

static void test_empty_and_files(void **state)
{
	struct rc_recipe r;
	qk_err err;
	char path[] = "/tmp/qk_recipe_XXXXXX";
	int fd;
	FILE *f;

	(void)state;
	assert_int_equal(parse(&r, "", &err), QK_E_USAGE);
	assert_string_equal(err.msg, "r.yaml: empty recipe: expected a mapping with 'rules'");
	assert_int_equal(parse(&r, "# only a comment\n", &err), QK_E_USAGE);
	assert_int_equal(rc_load(&r, "/nonexistent/recipe.yaml", &err), QK_E_IO);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("rules:\n  - role: attn_v\n    type: Q6_K\n  - role: attn_k\n    type: Q2_X\n", f);
	fclose(f);
	assert_int_equal(rc_load(&r, path, &err), QK_E_USAGE);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, ":5: unknown type 'Q2_X'"));
	remove(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_fields),
		cmocka_unit_test(test_good_matching),
		cmocka_unit_test(test_kinds_full_dense),
		cmocka_unit_test(test_every_written_type),
		cmocka_unit_test(test_bad_recipes),
		cmocka_unit_test(test_empty_and_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
