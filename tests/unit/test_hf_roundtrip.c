/* test_hf_roundtrip.c - every golden fixture through the export, compared
 * byte for byte with the original (hx_fixture.h):
 *  - HF -> bound model -> hx_export (an HF-form model: dtype-preserving
 *    re-export, MTP kept);
 *  - HF -> GGUF built here from the bound model -> hx_export;
 *  - HF -> bin/qwen-convert --outtype auto -> hx_export, and
 *    --outtype q8_0 -> hx_export as bf16 ($BINDIR/qwen-convert must be
 *    built: make check builds it first; a missing tool fails the test).
 * QK_HX_KEEP=DIR keeps the qwen-convert path's exports as DIR/<fixture> for
 * testdata/gen/hf_export_check.py.
 */
#include "hx_fixture.h"
#include "../../formats/model/open.h"
#include "fixture_list.h"

/* ---- the round trips ---- */

static void roundtrip_hf(void **state)
{
	const char *fixture = *state;
	struct hx_opts o;
	struct hx_report r;
	struct in x;
	char *dir = tmpdir();
	qk_err e;

	open_hf(&x, fixture);
	hx_opts_init(&o);
	o.report = &r;
	if (hx_export(&x.m, dir, &o, &e))
		fail_msg("%s: %s", fixture, e.msg);
	check_export(fixture, dir, &r, NULL);
	close_in(&x);
	rmtree(dir);
}

/* Open the GGUF at gpath (formats/model/open.h: dense layers of MoE models are
 * recognised) and export it to out. */
static void export_gguf(const char *fixture, const struct in *x, const char *gpath,
			const char *out, int outtype)
{
	struct hx_opts o;
	struct hx_report r;
	struct qk_input g;
	qk_err e;

	(void)x;
	if (qk_input_open(&g, gpath, &e))
		fail_msg("%s: %s", fixture, e.msg);
	hx_opts_init(&o);
	o.report = &r;
	o.outtype = outtype;
	if (hx_export(&g.model, out, &o, &e))
		fail_msg("%s: %s", fixture, e.msg);
	if (outtype == HX_OUT_AUTO)
		check_export(fixture, out, &r, &g.hp);
	qk_input_close(&g);
}

static void roundtrip_gguf(void **state)
{
	const char *fixture = *state;
	struct in x;
	char *dir = tmpdir(), gpath[600], out[600];

	open_hf(&x, fixture);
	snprintf(gpath, sizeof(gpath), "%s/model.gguf", dir);
	snprintf(out, sizeof(out), "%s/hf", dir);
	write_gguf(&x, fixture, gpath, -1, NULL);
	export_gguf(fixture, &x, gpath, out, HX_OUT_AUTO);
	close_in(&x);
	unlink(gpath);
	rmtree(strdup(out));
	rmtree(dir);
}

/* $BINDIR/qwen-convert DIR -o OUT --outtype T; fails the test when the tool
 * is not built (make check builds the tools before the tests) */
static void convert(const char *fixture, const char *out, const char *outtype)
{
	const char *bindir = getenv("BINDIR");
	char cmd[1024], exe[512];

	snprintf(exe, sizeof(exe), "%s/qwen-convert", bindir ? bindir : "bin");
	if (access(exe, X_OK) != 0)
		fail_msg("%s is not built (run make first)", exe);
	snprintf(cmd, sizeof(cmd), "%s " MODELS "/%s -o %s --outtype %s -q", exe, fixture, out,
		 outtype);
	if (system(cmd) != 0)
		fail_msg("'%s' failed", cmd);
}

static void roundtrip_cli(void **state)
{
	const char *fixture = *state;
	const char *keep = getenv("QK_HX_KEEP");
	struct in x;
	char *dir = tmpdir(), gpath[600], out[600];

	snprintf(gpath, sizeof(gpath), "%s/model.gguf", dir);
	convert(fixture, gpath, "auto");
	if (keep)
		mkdir(keep, 0777);
	snprintf(out, sizeof(out), "%s/%s", keep ? keep : dir, keep ? fixture : "hf");
	open_hf(&x, fixture);
	export_gguf(fixture, &x, gpath, out, HX_OUT_AUTO);
	close_in(&x);
	unlink(gpath);
	if (!keep)
		rmtree(strdup(out));
	rmtree(dir);
}

/* qwen-convert --outtype q8_0, exported (auto) as bf16 */
static void cli_q8_0(void **state)
{
	struct in x, g;
	struct qk_catalog out;
	struct hx_opts o;
	struct hx_report r;
	char *dir = tmpdir(), gpath[600], odir[600];
	qk_err e;

	(void)state;
	snprintf(gpath, sizeof(gpath), "%s/q8.gguf", dir);
	snprintf(odir, sizeof(odir), "%s/hf", dir);
	convert("qwen2", gpath, "q8_0");
	open_hf(&x, "qwen2");
	open_gguf(&g, gpath);
	hx_opts_init(&o);
	o.report = &r;
	if (hx_export(&g.m, odir, &o, &e))
		fail_msg("%s", e.msg);
	assert_true(r.n_dequant > 0);
	qk_catalog_init(&out);
	assert_int_equal(qk_catalog_open(&out, odir, &e), 0);
	assert_int_equal(check_q8_as_bf16(&out, &g.cat), 8);
	/* norms and biases: F32 in the GGUF, bf16 again (the original bytes) */
	for (size_t i = 0; i < x.cat.n_tensors; i++) {
		const struct qk_tensor *t = &x.cat.tensors[i];

		if (t->n_dims == 1)
			same_bytes(qk_catalog_find(&out, t->name), t->dtype, t->shape, 1, t->data,
				   t->nbytes, t->name);
	}
	qk_catalog_free(&out);
	close_in(&g);
	close_in(&x);
	unlink(gpath);
	rmtree(strdup(odir));
	rmtree(dir);
}

static char fixtures[][24] = { QK_FIXTURE_NAMES };

#define RT(i) cmocka_unit_test_prestate(roundtrip_hf, fixtures[i]), \
	      cmocka_unit_test_prestate(roundtrip_gguf, fixtures[i]), \
	      cmocka_unit_test_prestate(roundtrip_cli, fixtures[i])

int main(void)
{
	const struct CMUnitTest tests[] = {
		RT(0), RT(1), RT(2), RT(3), RT(4), RT(5), RT(6), RT(7), RT(8), RT(9),
		RT(10), RT(11), RT(12), RT(13), RT(14), RT(15), RT(16), RT(17), RT(18), RT(19), RT(20),
		cmocka_unit_test(cli_q8_0),
	};

	_Static_assert(sizeof(fixtures) / sizeof(fixtures[0]) == QK_FIXTURE_COUNT, "fixture list");
	_Static_assert(sizeof(tests) / sizeof(tests[0]) == 3 * QK_FIXTURE_COUNT + 1,
		       "three round trips per fixture");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
