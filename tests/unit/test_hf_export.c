/* test_hf_export.c - the export's parts: the inverse of the small-tensor
 * transforms over every BF16 and F16 value, output dtypes, dequantized
 * Q8_0, bias filling, dtype escalation, shards, config.json text, progress
 * and refusals. Whole round trips of every fixture are in
 * test_hf_roundtrip.c; helpers and oracles in hx_fixture.h.
 *
 * Oracles: fp32 arithmetic facts for the inverse of 1 + w and -exp(A);
 * qwen2_moe/config.json, which transformers 5.23 save_pretrained wrote (our
 * config.json for it must be the same text); the fixtures' own bytes.
 */
#include "hx_fixture.h"

/* ---- the inverse transforms over every BF16 / F16 value ---- */

static void invert_all(int dtype, int xform, float pos_min, float neg_max, float lo, float hi)
{
	uint64_t exact = 0, n = 0;

	for (uint32_t b = 0; b < 65536; b++) {
		uint8_t p[2] = { (uint8_t)b, (uint8_t)(b >> 8) };
		float x = widen(dtype, p), c = xform == QK_X_PLUS_ONE ? 1.0f + x
					     : xform == QK_X_NEG_EXP ? -expf(x) : x;
		uint32_t out;
		bool in_range = x >= lo && x <= hi && (x >= pos_min || x <= neg_max) &&
				(xform == QK_X_NONE || !(x == 0 && signbit(x)));
		bool ok;

		if (!isfinite(x))
			continue;
		n++;
		ok = hx_invert(xform, c, dtype, &out);
		/* always: the value written reproduces the canonical one */
		if (!ok)
			fail_msg("%s xform %d: no preimage for %a (c %a)", qk_dtype_name(dtype), xform,
				 x, c);
		p[0] = (uint8_t)out;
		p[1] = (uint8_t)(out >> 8);
		if (qt_f32_bits(xform == QK_X_PLUS_ONE ? 1.0f + widen(dtype, p)
				: xform == QK_X_NEG_EXP ? -expf(widen(dtype, p)) : widen(dtype, p)) !=
		    qt_f32_bits(c))
			fail_msg("%a: written %a does not reproduce %a", x, widen(dtype, p), c);
		/* in the documented range: the original value itself */
		if (in_range && out != b)
			fail_msg("%s xform %d: %a (0x%04x) came back as 0x%04x", qk_dtype_name(dtype),
				 xform, x, b, out);
		/* -0: 1 + -0 and -exp(-0) are those of +0, which is written */
		if (xform != QK_X_NONE && x == 0 && signbit(x))
			assert_int_equal(out, 0);
		exact += out == b;
	}
	print_message("%s xform %d: %llu of %llu finite values exact\n", qk_dtype_name(dtype),
		      xform, (unsigned long long)exact, (unsigned long long)n);
}

static void test_invert_exhaustive(void **state)
{
	(void)state;
	invert_all(QK_DT_BF16, QK_X_NONE, 0, -0.0f, -INFINITY, INFINITY);
	invert_all(QK_DT_F16, QK_X_NONE, 0, -0.0f, -INFINITY, INFINITY);
	/* 1 + w is exact in fp32 when w's last bit is at or above 2^-23
	 * (w > 0) / 2^-24 (w < 0): bf16 |w| from 2^-16 / 2^-17 */
	invert_all(QK_DT_BF16, QK_X_PLUS_ONE, 0x1p-16f, -0x1p-17f, -INFINITY, INFINITY);
	invert_all(QK_DT_F16, QK_X_PLUS_ONE, 0x1p-13f, -0.0f, -INFINITY, INFINITY);
	/* -exp: distinct results from |A| >= 2^-16 / 2^-17 up to overflow
	 * (88.7) and down to where the result loses precision (about -100) */
	invert_all(QK_DT_BF16, QK_X_NEG_EXP, 0x1p-16f, -0x1p-17f, -102.5f, 88.5f);
	invert_all(QK_DT_F16, QK_X_NEG_EXP, 0x1p-13f, -0.0f, -100.6875f, 88.6875f);
}

static void test_invert_special(void **state)
{
	uint32_t out;

	(void)state;
	/* -0 comes back as +0 through 1 + w (1 + -0 = 1) */
	assert_true(hx_invert(QK_X_PLUS_ONE, 1.0f, QK_DT_BF16, &out));
	assert_int_equal(out, 0x0000);
	/* a canonical value no bf16 reaches: false, nearest value */
	assert_false(hx_invert(QK_X_PLUS_ONE, 0x1.800002p0f, QK_DT_BF16, &out));
	assert_int_equal(out, 0x3f00); /* 0.5 */
	assert_false(hx_invert(QK_X_NEG_EXP, 2.0f, QK_DT_F32, &out)); /* -exp > 0 */
	/* f32: the written value reproduces c, even where several share it */
	for (int i = 0; i < 100000; i++) {
		float x = (float)((double)rand() / RAND_MAX * 6.0 - 3.0), c = -expf(x);

		assert_true(hx_invert(QK_X_NEG_EXP, c, QK_DT_F32, &out));
		assert_true(qt_f32_bits(-expf(qt_f32_from_bits(out))) == qt_f32_bits(c));
		if (fabsf(x) >= 1)
			assert_true(out == qt_f32_bits(x));
		c = 1.0f + x;
		assert_true(hx_invert(QK_X_PLUS_ONE, c, QK_DT_F32, &out));
		assert_true(qt_f32_bits(1.0f + qt_f32_from_bits(out)) == qt_f32_bits(c));
	}
}

/* ---- dtypes ---- */

static void test_outtype(void **state)
{
	static const struct {
		const char *fixture;
		int outtype, dtype;
	} cases[] = {
		{ "qwen3", HX_OUT_F32, QK_DT_F32 },
		{ "qwen2_5_yarn", HX_OUT_BF16, QK_DT_BF16 },
		{ "qwen1_5", HX_OUT_F16, QK_DT_F16 },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct in x;
		struct qk_catalog out;
		struct hx_opts o;
		char *dir = tmpdir();
		qk_err e;

		open_hf(&x, cases[c].fixture);
		hx_opts_init(&o);
		o.outtype = cases[c].outtype;
		o.no_tokenizer = true;
		if (hx_export(&x.m, dir, &o, &e))
			fail_msg("%s", e.msg);
		qk_catalog_init(&out);
		assert_int_equal(qk_catalog_open(&out, dir, &e), 0);
		assert_int_equal(out.n_tensors, x.cat.n_tensors);
		for (size_t i = 0; i < x.cat.n_tensors; i++) {
			const struct qk_tensor *t = &x.cat.tensors[i];
			const struct qk_tensor *u = qk_catalog_find(&out, t->name);
			size_t es = t->dtype == QK_DT_F32 ? 4 : 2, eo = u->dtype == QK_DT_F32 ? 4 : 2;

			assert_int_equal(u->dtype, cases[c].dtype);
			for (uint64_t k = 0; k < t->n_elem; k++) {
				float v = widen(t->dtype, t->data + k * es);
				uint32_t want = cases[c].dtype == QK_DT_F32 ? qt_f32_bits(v)
						: cases[c].dtype == QK_DT_BF16 ? rne_bf16(v)
						: qt_fp32_to_fp16(v);
				uint32_t got = eo == 4 ? qk_ld32(u->data + 4 * k) : qk_ld16(u->data + 2 * k);

				if (got != want)
					fail_msg("%s %s[%llu]: 0x%x, expected 0x%x", cases[c].fixture,
						 t->name, (unsigned long long)k, got, want);
			}
		}
		qk_catalog_free(&out);
		close_in(&x);
		rmtree(dir);
	}
}

/* Q8_0 matrices come out as BF16: each value fp16(d) * q rounded */
static void test_q8_0_dequant(void **state)
{
	struct in x, g;
	struct qk_catalog out;
	struct hx_opts o;
	struct hx_report r;
	char *dir = tmpdir(), gpath[600], odir[600];
	qk_err e;

	(void)state;
	open_hf(&x, "qwen2");
	snprintf(gpath, sizeof(gpath), "%s/q8.gguf", dir);
	snprintf(odir, sizeof(odir), "%s/hf", dir);
	write_gguf(&x, "qwen2", gpath, QT_Q8_0, NULL);
	open_gguf(&g, gpath);
	hx_opts_init(&o);
	o.report = &r;
	o.no_tokenizer = true;
	if (hx_export(&g.m, odir, &o, &e))
		fail_msg("%s", e.msg);
	assert_true(r.n_dequant > 0);
	qk_catalog_init(&out);
	assert_int_equal(qk_catalog_open(&out, odir, &e), 0);
	assert_int_equal(check_q8_as_bf16(&out, &g.cat), 8);
	/* the norms, F32 in the GGUF, keep the matrices' dtype: BF16 */
	assert_int_equal(qk_catalog_find(&out, "model.norm.weight")->dtype, QK_DT_BF16);
	qk_catalog_free(&out);
	close_in(&g);
	close_in(&x);
	unlink(gpath);
	rmtree(strdup(odir));
	rmtree(dir);
}

/* An f32 checkpoint converted with bf16 matrices: its F32 norms and
 * biases do not fit in bf16, so auto keeps them F32 (the original bytes);
 * asking for bf16 rounds them and counts them inexact. */
static void test_small_escalation(void **state)
{
	struct in x, g;
	struct qk_catalog out;
	struct hx_opts o;
	struct hx_report r;
	char *dir = tmpdir(), gpath[600], odir[600];
	qk_err e;

	(void)state;
	open_hf(&x, "qwen1_5");
	snprintf(gpath, sizeof(gpath), "%s/mixed.gguf", dir);
	write_gguf(&x, "qwen1_5", gpath, QT_BF16, NULL);
	open_gguf(&g, gpath);
	for (int pass = 0; pass < 2; pass++) {
		snprintf(odir, sizeof(odir), "%s/hf%d", dir, pass);
		hx_opts_init(&o);
		o.no_tokenizer = true;
		o.report = &r;
		o.outtype = pass ? HX_OUT_BF16 : HX_OUT_AUTO;
		if (hx_export(&g.m, odir, &o, &e))
			fail_msg("%s", e.msg);
		qk_catalog_init(&out);
		assert_int_equal(qk_catalog_open(&out, odir, &e), 0);
		for (size_t i = 0; i < x.cat.n_tensors; i++) {
			const struct qk_tensor *t = &x.cat.tensors[i];
			const struct qk_tensor *u = qk_catalog_find(&out, t->name);

			assert_non_null(u);
			if (t->n_dims == 2) {
				assert_int_equal(u->dtype, QK_DT_BF16);
				continue;
			}
			assert_int_equal(u->dtype, pass ? QK_DT_BF16 : QK_DT_F32);
			if (!pass)
				assert_memory_equal(u->data, t->data, t->nbytes);
		}
		if (pass)
			assert_true(r.n_inexact > 0);
		else
			assert_int_equal(r.n_inexact, 0);
		qk_catalog_free(&out);
		rmtree(strdup(odir));
	}
	close_in(&g);
	close_in(&x);
	unlink(gpath);
	rmtree(dir);
}

/* A GGUF without attention biases: Qwen2 (whose class always has them)
 * gets zero biases, Qwen2-MoE qkv_bias false and none. */
static void test_missing_biases(void **state)
{
	static const char *const fx[2] = { "qwen2", "qwen2_moe" };

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct in x, g;
		struct qk_catalog out;
		struct qk_hparams hp;
		struct hx_opts o;
		char *dir = tmpdir(), gpath[600], odir[600];
		size_t n_bias = 0;
		qk_err e;

		open_hf(&x, fx[k]);
		snprintf(gpath, sizeof(gpath), "%s/nobias.gguf", dir);
		snprintf(odir, sizeof(odir), "%s/hf", dir);
		write_gguf(&x, fx[k], gpath, -1, ".bias");
		open_gguf(&g, gpath);
		hx_opts_init(&o);
		o.no_tokenizer = true;
		if (hx_export(&g.m, odir, &o, &e))
			fail_msg("%s", e.msg);
		qk_catalog_init(&out);
		assert_int_equal(qk_catalog_open(&out, odir, &e), 0);
		for (size_t i = 0; i < out.n_tensors; i++) {
			const struct qk_tensor *t = &out.tensors[i];

			if (!ends_with(t->name, "_proj.bias"))
				continue;
			n_bias++;
			assert_int_equal(t->dtype, QK_DT_BF16);
			for (uint64_t b = 0; b < t->nbytes; b++)
				assert_int_equal(t->data[b], 0);
		}
		/* q, k and v of each layer, or none */
		assert_int_equal(n_bias, k == 0 ? 3 * x.hp.n_layer : 0);
		assert_int_equal(qk_hparams_load_config(&hp, odir, &e), 0);
		assert_int_equal(hp.attn_bias, k == 0);
		qk_catalog_free(&out);
		close_in(&g);
		close_in(&x);
		unlink(gpath);
		rmtree(strdup(odir));
		rmtree(dir);
	}
}

/* ---- shards, config text, progress, refusals ---- */

static int n_progress;
static uint64_t last_bytes;

static void on_progress(void *user, const struct hx_progress *p)
{
	(void)user;
	n_progress++;
	assert_int_equal(p->done, (size_t)n_progress);
	assert_true(p->bytes_done > last_bytes || p->bytes_done == last_bytes);
	last_bytes = p->bytes_done;
}

static void test_shards(void **state)
{
	const uint64_t limit = 600000; /* qwen3_moe: 256x256 bf16 = 131072 bytes */
	struct in x;
	struct hx_plan p;
	struct hx_opts o;
	struct hx_report r;
	struct qk_catalog out;
	char *dir = tmpdir();
	qk_err e;

	(void)state;
	open_hf(&x, "qwen3_moe");
	hx_opts_init(&o);
	o.shard_size = limit;
	o.report = &r;
	o.no_tokenizer = true;
	o.progress = on_progress;
	assert_int_equal(hx_plan_build(&p, &x.m, &o, &e), 0);
	assert_true(p.n_shards > 2);
	/* huggingface_hub's rule in model order: a shard is closed only when
	 * the next tensor would pass the limit */
	for (size_t i = 1; i < p.n; i++) {
		uint64_t sum = 0;

		if (p.t[i].shard == p.t[i - 1].shard)
			continue;
		assert_int_equal(p.t[i].shard, p.t[i - 1].shard + 1);
		for (size_t k = 0; k < i; k++)
			if (p.t[k].shard == p.t[i - 1].shard)
				sum += p.t[k].nbytes;
		assert_true(sum <= limit);
		assert_true(sum + p.t[i].nbytes > limit);
	}
	assert_string_equal(p.t[0].name, "model.embed_tokens.weight");
	assert_string_equal(p.t[p.n - 1].name, "model.norm.weight");
	n_progress = 0;
	last_bytes = 0;
	if (hx_export(&x.m, dir, &o, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(n_progress, p.n);
	assert_int_equal(last_bytes, r.total_size);
	assert_int_equal(r.n_shards, p.n_shards);
	/* the index is cross-checked against the shards when opened */
	qk_catalog_init(&out);
	if (qk_catalog_open(&out, dir, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(out.n_files, p.n_shards);
	compare_tensors("qwen3_moe", &out, false);
	qk_catalog_free(&out);

	/* a tensor that fills the shard exactly stays in it */
	o.shard_size = p.t[0].nbytes + p.t[1].nbytes;
	hx_plan_free(&p);
	assert_int_equal(hx_plan_build(&p, &x.m, &o, &e), 0);
	assert_int_equal(p.t[1].shard, 0);
	assert_int_equal(p.t[2].shard, 1);
	hx_plan_free(&p);

	/* a tensor over the limit: a shard of its own */
	o.shard_size = 100000;
	assert_int_equal(hx_plan_build(&p, &x.m, &o, &e), 0);
	assert_true(p.t[0].nbytes > o.shard_size);
	assert_int_equal(p.t[0].shard, 0);
	assert_int_equal(p.t[1].shard, 1);
	hx_plan_free(&p);
	close_in(&x);
	rmtree(dir);
}

/* qwen2_moe/config.json is transformers 5.23's own save_pretrained output */
static void test_config_text(void **state)
{
	struct in x;
	struct hx_plan p;
	char *json, *want;
	size_t len;
	qk_err e;

	(void)state;
	open_hf(&x, "qwen2_moe");
	assert_int_equal(hx_plan_build(&p, &x.m, NULL, &e), 0);
	assert_int_equal(hx_config_json(&p, &json, &e), 0);
	assert_int_equal(qk_read_file(MODELS "/qwen2_moe/config.json", 1 << 20, &want, &len, &e), 0);
	/* the fixture file has no final newline; json.dumps output has none */
	if (len && want[len - 1] != '\n')
		assert_true(strlen(json) == len + 1 && json[len] == '\n');
	assert_memory_equal(json, want, len);
	free(json);
	free(want);
	hx_plan_free(&p);
	close_in(&x);
}

static void test_refusals(void **state)
{
	struct in x;
	struct hx_opts o;
	char *dir = tmpdir(), path[600];
	FILE *f;
	qk_err e;

	(void)state;
	open_hf(&x, "qwen3");
	hx_opts_init(&o);
	o.outtype = HX_OUT_COUNT;
	assert_int_equal(hx_export(&x.m, dir, &o, &e), QK_E_USAGE);
	hx_opts_init(&o);
	/* shards of another export would be mixed with ours */
	snprintf(path, sizeof(path), "%s/model-00001-of-00002.safetensors", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(hx_export(&x.m, dir, &o, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "model-00001-of-00002.safetensors"));
	unlink(path);
	assert_int_equal(hx_export(&x.m, dir, &o, &e), QK_OK);
	/* a second export over our own files is fine */
	assert_int_equal(hx_export(&x.m, dir, &o, &e), QK_OK);
	close_in(&x);
	rmtree(dir);
	assert_int_equal(hx_outtype_from_name("BF16"), HX_OUT_BF16);
	assert_int_equal(hx_outtype_from_name("q8_0"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invert_exhaustive),
		cmocka_unit_test(test_invert_special),
		cmocka_unit_test(test_outtype),
		cmocka_unit_test(test_q8_0_dequant),
		cmocka_unit_test(test_missing_biases),
		cmocka_unit_test(test_small_escalation),
		cmocka_unit_test(test_shards),
		cmocka_unit_test(test_config_text),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
