/* test_plan_write.c - the data path of the write plan (formats/plan/plan.h):
 * bytes written for each outtype against the source bytes converted with
 * quant/fp16.h (itself checked against ggml), independence from thread count
 * and chunk size, the F16 overflow count, and the refusal of GGUF input. */
#include "plan_fixture.h"

/* ---- the data path ---- */

/* bf16 source: auto copies the bytes; f16 holds fp16(widened bf16) */
static void test_write_roundtrip(void **state)
{
	static const int outtypes[] = { WP_OUT_AUTO, WP_OUT_F16 };
	struct fixture x;
	char path[300];
	qk_err err;

	(void)state;
	make_tmpdir();
	snprintf(path, sizeof(path), "%s/out.gguf", tmpdir);
	open_fixture(&x, "qwen2");
	for (size_t o = 0; o < 2; o++) {
		struct gf_file *g;

		plan_fixture(&x, outtypes[o], false);
		write_plan(&x.p, &x.md, path, 1, 0, 0, NULL);
		if (gf_open(&g, path, &err))
			fail_msg("%s", err.msg);
		assert_int_equal(gf_n_kv(g), (int64_t)x.md.n);
		assert_int_equal(gf_n_tensors(g), (int64_t)x.p.n);
		for (size_t i = 0; i < x.p.n; i++) {
			const struct wp_tensor *t = &x.p.t[i];
			const struct qk_tensor *src = t->b->src; /* qwen2: no transform */
			int64_t gi = gf_find_tensor(g, t->name);
			const uint8_t *d;

			assert_true(gi >= 0);
			assert_int_equal(gf_tensor_type(g, gi), t->type);
			assert_int_equal(src->dtype, QK_DT_BF16);
			d = gf_tensor_data(g, gi);
			for (uint64_t e = 0; e < t->n_elem; e++) {
				uint16_t b = qk_ld16(src->data + 2 * e);
				float v = qt_bf16_to_fp32(b);

				if (t->type == QT_BF16)
					assert_int_equal(qk_ld16(d + 2 * e), b);
				else if (t->type == QT_F16)
					assert_int_equal(qk_ld16(d + 2 * e), qt_fp32_to_fp16(v));
				else
					assert_int_equal(qk_ld32(d + 4 * e), qt_f32_bits(v));
			}
		}
		gf_close(g);
		wp_meta_free(&x.md);
		wp_free(&x.p);
	}
	close_fixture(&x);
	remove_tree(tmpdir);
}

/* the bytes do not depend on thread count or chunk size */
static void test_threads_and_chunks(void **state)
{
	static const struct {
		unsigned threads;
		size_t chunk;
	} runs[] = { { 1, 0 }, { 3, 100 }, { 2, 1 }, { 7, 4096 } };
	struct fixture x;
	uint8_t *first = NULL;
	size_t n_first = 0;
	char path[300];

	(void)state;
	make_tmpdir();
	snprintf(path, sizeof(path), "%s/out.gguf", tmpdir);
	open_fixture(&x, "qwen3_next");
	plan_fixture(&x, WP_OUT_Q8_0, true);
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		struct wp_stats st;
		uint8_t *bytes;
		size_t n;

		write_plan(&x.p, &x.md, path, runs[r].threads, runs[r].chunk, 0, &st);
		assert_int_equal(st.bytes_done, wp_data_bytes(&x.p));
		bytes = slurp(path, &n);
		if (!first) {
			first = bytes;
			n_first = n;
			continue;
		}
		assert_int_equal(n, n_first);
		if (memcmp(bytes, first, n))
			fail_msg("%u threads, %zu-byte chunks: file differs", runs[r].threads,
				 runs[r].chunk);
		free(bytes);
	}
	free(first);
	close_fixture(&x);
	remove_tree(tmpdir);
}

/* model_fixture.h's F32 pattern puts every tensor but the first (tag 0)
 * above 65536: all those values overflow F16 */
static void test_f16_overflow(void **state)
{
	const struct wp_opts o = { WP_OUT_F16, false, false };
	struct fx f;
	struct wp_plan p;
	struct wp_meta md;
	struct wp_stats st;
	uint64_t want = 0;
	char path[300];
	qk_err err;

	(void)state;
	make_tmpdir();
	snprintf(path, sizeof(path), "%s/out.gguf", tmpdir);
	qwen2_model(&f, true);
	fx_ok(&f);
	for (size_t i = 0; i < f.cat.n_tensors; i++)
		if (f.cat.tensors[i].n_dims == 2 && i > 0)
			want += f.cat.tensors[i].n_elem;
	assert_true(want > 0);
	assert_int_equal(wp_build(&p, &f.m, &o, &err), QK_OK);
	assert_int_equal(wp_meta_build(&md, &p, NULL, &err), QK_OK);
	write_plan(&p, &md, path, 2, 64, 0, &st);
	assert_int_equal(st.f16_overflow, want);
	assert_true(st.f16_first >= 0);
	assert_string_not_equal(p.t[st.f16_first].name, "token_embd.weight");
	assert_int_equal(p.t[st.f16_first].type, QT_F16);
	wp_meta_free(&md);
	wp_free(&p);
	fx_free(&f);
	remove_tree(tmpdir);
}

static void test_gguf_input_refused(void **state)
{
	struct fixture x, y;
	char path[300];
	qk_err err;

	(void)state;
	make_tmpdir();
	snprintf(path, sizeof(path), "%s/out.gguf", tmpdir);
	open_fixture(&x, "qwen3");
	plan_fixture(&x, WP_OUT_AUTO, false);
	write_plan(&x.p, &x.md, path, 1, 0, x.hp.n_vocab, NULL);
	memset(&y, 0, sizeof(y));
	if (qk_catalog_open(&y.cat, path, &err) ||
	    qk_hparams_from_gguf(&y.hp, y.cat.gguf[0], &err) ||
	    qk_model_bind(&y.m, &y.cat, &y.hp, &err))
		fail_msg("reading our own file back: %s", err.msg);
	{
		const struct wp_opts o = { WP_OUT_AUTO, false, false };

		assert_int_equal(wp_build(&y.p, &y.m, &o, &err), QK_E_UNSUPPORTED);
		assert_non_null(strstr(err.msg, "GGUF input is not supported"));
		assert_int_equal(y.p.n, 0);
	}
	close_fixture(&y);
	close_fixture(&x);
	remove_tree(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_roundtrip),
		cmocka_unit_test(test_threads_and_chunks),
		cmocka_unit_test(test_f16_overflow),
		cmocka_unit_test(test_gguf_input_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
