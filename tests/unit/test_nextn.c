/* test_nextn.c - reading GGUF files in llama.cpp's nextn (MTP) layout, as
 * qwen-convert --keep-mtp writes them and llama.cpp's converter does for
 * Qwen3-Next: block_count counts the MTP blocks, {arch}.nextn_predict_layers
 * says how many of the last blocks they are (llama-arch.cpp
 * LLM_KV_NEXTN_PREDICT_LAYERS; llama-model.cpp reads it as n_layer_nextn),
 * MTP layer i is block n_layer + i with the ordinary block names, and the
 * MTP head is blk.<n_layer>.nextn.{eh_proj, enorm, hnorm,
 * shared_head_norm}.weight (llama-arch.cpp LLM_TENSOR_NEXTN_*).
 *
 * The round trip compares against the HF checkpoint's own tensors
 * (testdata/models/qwen3_next, written by transformers), read through its
 * HF binding: the GGUF side must give the same role, layer and values.
 */
#include "plan_fixture.h"

#include "../../formats/model/open.h"

/* ---- key/values ---- */

static char g_path[64];

static struct gf_writer *begin(const char *arch)
{
	struct gf_writer *w = NULL;
	qk_err e;
	int fd;

	strcpy(g_path, "/tmp/qk_nextn_XXXXXX");
	fd = mkstemp(g_path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(gf_writer_open(&w, g_path, &e), QK_OK);
	assert_int_equal(gf_writer_add_str(w, "general.architecture", arch, &e), QK_OK);
	return w;
}

static void u32(struct gf_writer *w, const char *arch, const char *key, uint32_t v)
{
	char k[128];

	snprintf(k, sizeof(k), "%s.%s", arch, key);
	assert_int_equal(gf_writer_add_u32(w, k, v, NULL), QK_OK);
}

/* the qwen3next keys of Qwen3-Next-80B-A3B (48 layers, one MTP layer),
 * block_count `blocks`, head_count as a per-block array of `n_heads`
 * entries when n_heads != 0 */
static void next_keys(struct gf_writer *w, uint32_t blocks, uint32_t nextn, uint32_t n_heads)
{
	static const struct {
		const char *key;
		uint32_t v;
	} keys[] = {
		{ "context_length", 262144 }, { "embedding_length", 2048 },
		{ "attention.head_count_kv", 2 }, { "expert_count", 512 },
		{ "expert_used_count", 10 }, { "attention.key_length", 256 },
		{ "attention.value_length", 256 }, { "expert_feed_forward_length", 512 },
		{ "expert_shared_feed_forward_length", 512 }, { "ssm.conv_kernel", 4 },
		{ "ssm.state_size", 128 }, { "ssm.group_count", 16 }, { "ssm.time_step_rank", 32 },
		{ "ssm.inner_size", 4096 }, { "full_attention_interval", 4 },
		{ "rope.dimension_count", 64 },
	};
	uint32_t heads[64];

	u32(w, "qwen3next", "block_count", blocks);
	if (nextn != UINT32_MAX)
		u32(w, "qwen3next", "nextn_predict_layers", nextn);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		u32(w, "qwen3next", keys[i].key, keys[i].v);
	assert_int_equal(gf_writer_add_f32(w, "qwen3next.attention.layer_norm_rms_epsilon", 1e-6f,
					   NULL), QK_OK);
	if (!n_heads) {
		u32(w, "qwen3next", "attention.head_count", 16);
		return;
	}
	assert_true(n_heads <= 64);
	for (uint32_t i = 0; i < n_heads; i++)
		heads[i] = 16;
	assert_int_equal(gf_writer_add_arr(w, "qwen3next.attention.head_count", GF_U32, heads,
					   n_heads, NULL), QK_OK);
}

static int read_back(struct gf_writer *w, struct qk_hparams *hp, qk_err *e)
{
	struct gf_file *f = NULL;
	int rc;

	assert_int_equal(gf_writer_commit(w, e), QK_OK);
	assert_int_equal(gf_open(&f, g_path, e), QK_OK);
	rc = qk_hparams_from_gguf(hp, f, e);
	gf_close(f);
	unlink(g_path);
	return rc;
}

static void test_nextn_keys(void **state)
{
	struct gf_writer *w;
	struct qk_hparams hp;
	qk_err e;
	unsigned linear = 0;

	(void)state;
	/* 48 layers + 1 MTP block, head_count per block (49 entries) */
	w = begin("qwen3next");
	next_keys(w, 49, 1, 49);
	assert_int_equal(read_back(w, &hp, &e), QK_OK);
	assert_int_equal(hp.n_layer, 48);
	assert_int_equal(hp.n_mtp_layers, 1);
	assert_int_equal(hp.n_head, 16);
	for (uint32_t l = 0; l < hp.n_layer; l++)
		linear += (hp.layer_flags[l] & QK_LAYER_LINEAR) != 0;
	assert_int_equal(linear, 36); /* layers 3, 7, ..., 47 full attention */
	/* no key: no MTP layers */
	w = begin("qwen3next");
	next_keys(w, 48, UINT32_MAX, 0);
	assert_int_equal(read_back(w, &hp, &e), QK_OK);
	assert_int_equal(hp.n_layer, 48);
	assert_int_equal(hp.n_mtp_layers, 0);
	/* every block an MTP block: nothing left */
	w = begin("qwen3next");
	next_keys(w, 2, 2, 0);
	assert_int_equal(read_back(w, &hp, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "key 'qwen3next.nextn_predict_layers' is 2, expected an "
				      "integer in 0..1"));
	/* an array of n_layer entries where block_count are needed */
	w = begin("qwen3next");
	next_keys(w, 49, 1, 48);
	assert_int_equal(read_back(w, &hp, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "has 48 per-layer values, expected 49 (block_count)"));
	/* another arch: its tables have no MTP rows */
	w = begin("qwen3");
	u32(w, "qwen3", "block_count", 3);
	u32(w, "qwen3", "nextn_predict_layers", 1);
	assert_int_equal(read_back(w, &hp, &e), QK_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "key 'qwen3.nextn_predict_layers' is 1: MTP layers are "
				      "supported for qwen3next, qwen35 and qwen35moe only"));
}

/* ---- a --keep-mtp file read back ---- */

/* the two bindings hold the same values */
static void same_values(const struct qk_binding *a, const struct qk_binding *b)
{
	if (a->f32 || b->f32) {
		assert_non_null(a->f32);
		assert_non_null(b->f32);
		assert_int_equal(a->n_f32, b->n_f32);
		assert_memory_equal(a->f32, b->f32, (size_t)a->n_f32 * sizeof(float));
		return;
	}
	assert_int_equal(a->view.rows, b->view.rows);
	assert_int_equal(a->view.cols, b->view.cols);
	for (uint64_t r = 0; r < a->view.rows; r++) {
		float ra[256], rb[256];
		qk_err e;

		assert_true(a->view.cols <= 256);
		assert_int_equal(qk_view_read_row(&a->view, r, ra, &e), QK_OK);
		assert_int_equal(qk_view_read_row(&b->view, r, rb, &e), QK_OK);
		assert_memory_equal(ra, rb, (size_t)a->view.cols * sizeof(float));
	}
}

static void test_keep_mtp_file(void **state)
{
	static const struct {
		int role;
		const char *name;
	} head[] = {
		{ QK_R_MTP_FC, "blk.4.nextn.eh_proj.weight" },
		{ QK_R_MTP_NORM_EMB, "blk.4.nextn.enorm.weight" },
		{ QK_R_MTP_NORM_HID, "blk.4.nextn.hnorm.weight" },
		{ QK_R_MTP_NORM, "blk.4.nextn.shared_head_norm.weight" },
	};
	struct fixture x;
	struct qk_input in;
	char path[300];
	size_t n_mtp = 0;
	qk_err e;

	(void)state;
	open_fixture(&x, "qwen3_next");
	plan_fixture(&x, WP_OUT_AUTO, true);
	make_tmpdir();
	snprintf(path, sizeof(path), "%s/mtp.gguf", tmpdir);
	write_plan(&x.p, &x.md, path, 1, 0, x.hp.n_vocab, NULL);
	if (qk_input_open(&in, path, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(in.hp.n_layer, x.hp.n_layer);
	assert_int_equal(in.hp.n_mtp_layers, 1);
	assert_int_equal(in.model.n_mtp, 1);
	assert_int_equal(in.model.n_layer_all, x.hp.n_layer + 1);
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
		const struct qk_binding *b = qk_model_get(&in.model, head[i].role, -1);

		assert_non_null(b);
		assert_true(b->mtp);
		assert_string_equal(b->src->name, head[i].name);
	}
	assert_string_equal(qk_model_get(&in.model, QK_R_ATTN_Q, 4)->src->name,
			    "blk.4.attn_q.weight");
	assert_string_equal(qk_model_get(&in.model, QK_R_FFN_UP_EXPS, 4)->src->name,
			    "blk.4.ffn_up_exps.weight");
	/* every HF binding has its GGUF twin with the same values, MTP included */
	for (size_t i = 0; i < x.m.n_bind; i++) {
		const struct qk_binding *a = &x.m.bind[i], *b;

		if (a->derived)
			continue;
		b = qk_model_get(&in.model, a->role, a->layer);
		if (!b)
			fail_msg("%s (%s, layer %d) not bound from the GGUF file", a->src->name,
				 qk_role_name(a->role), a->layer);
		assert_int_equal(a->mtp, b->mtp);
		n_mtp += a->mtp;
		same_values(a, b);
	}
	assert_int_equal(n_mtp, 20); /* 16 in the MTP layer, the 4-tensor head */
	assert_int_equal(in.model.n_bind, x.m.n_bind);
	qk_input_close(&in);
	/* the nextn head is required once the keys declare MTP blocks */
	for (size_t i = 0; i < x.p.n; i++)
		if (strcmp(x.p.t[i].name, "blk.4.nextn.eh_proj.weight") == 0) {
			memmove(&x.p.t[i], &x.p.t[i + 1], (x.p.n - i - 1) * sizeof(x.p.t[0]));
			x.p.n--;
			break;
		}
	write_plan(&x.p, &x.md, path, 1, 0, x.hp.n_vocab, NULL);
	assert_int_equal(qk_input_open(&in, path, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "missing tensor 'blk.4.nextn.eh_proj.weight' (mtp_fc"));
	/* without --keep-mtp: a plain 4-layer file */
	wp_meta_free(&x.md);
	wp_free(&x.p);
	plan_fixture(&x, WP_OUT_AUTO, false);
	write_plan(&x.p, &x.md, path, 1, 0, x.hp.n_vocab, NULL);
	if (qk_input_open(&in, path, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(in.hp.n_mtp_layers, 0);
	assert_int_equal(in.model.n_mtp, 0);
	assert_null(qk_model_get(&in.model, QK_R_MTP_FC, -1));
	qk_input_close(&in);
	remove_tree(tmpdir);
	close_fixture(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nextn_keys),
		cmocka_unit_test(test_keep_mtp_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
