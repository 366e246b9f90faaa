/* test_qwen35.c - Qwen3.5 / Qwen3.6 (qwen35, qwen35moe) against oracles
 * from transformers 5.23 (testdata/gen):
 *  - M-RoPE: which position stream each rotary pair takes, as
 *    Qwen3_5TextRotaryEmbedding computes it (testdata/rope/mrope_streams.txt,
 *    mrope_oracle.py, which also checks text positions are plain NeoX RoPE
 *    there); with text positions the pass's angles are position x inv_freq;
 *  - config.json: the nested (ForConditionalGeneration, text_config) and
 *    flat (ForCausalLM, or model_type only) forms give the same
 *    hyperparameters; class defaults are the released 35B-A3B shape;
 *  - the MTP head of both fixtures against mtp_logits.s (make_fixtures.py
 *    composes it from transformers' own decoder layer, norms and linear);
 *  - parameter counts by part (text, vision, MTP) against the counts the
 *    generator stored, for the fixtures and for the full-size 35B-A3B tensor
 *    list (testdata/fullsize, fullsize_header.py) written here as a sparse
 *    safetensors file: a header and a hole of ~72 GB that takes no disk.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../formats/container/catalog.h"
#include "../../formats/model/hparams.h"
#include "../../formats/model/model.h"
#include "../../ref/forward.h"
#include "testdir.h"

#define MODELS "testdata/models"
#define FULLSIZE "testdata/fullsize/qwen3_5_moe_35b_a3b"
/* MTP logits against the composed transformers head, as the main logits:
 * max |d| <= this x max |expected|, and the same argmax everywhere */
#define MTP_LOGIT_REL_BUDGET 1e-4

/* ---- M-RoPE ---- */

static void test_mrope_streams(void **state)
{
	FILE *f = fopen("testdata/rope/mrope_streams.txt", "r");
	unsigned s[3], n;
	int cases = 0;

	(void)state;
	assert_non_null(f);
	while (fscanf(f, "%u %u %u %u", &s[0], &s[1], &s[2], &n) == 4) {
		struct qk_hparams hp;
		int differs = 0;

		memset(&hp, 0, sizeof(hp));
		hp.has_rope_sections = true;
		hp.mrope_interleaved = true;
		memcpy(hp.rope_sections, s, sizeof(s));
		for (unsigned i = 0; i < n; i++) {
			int want, got;

			assert_int_equal(fscanf(f, "%d", &want), 1);
			got = rf_mrope_stream(&hp, i);
			if (got != want)
				fail_msg("sections [%u %u %u] pair %u: stream %d, transformers %d", s[0],
					 s[1], s[2], i, got, want);
			/* the chunked layout would put pairs elsewhere: the table
			 * can tell the two apart */
			hp.mrope_interleaved = false;
			differs |= rf_mrope_stream(&hp, i) != want;
			hp.mrope_interleaved = true;
		}
		assert_true(differs);
		cases++;
	}
	fclose(f);
	assert_int_equal(cases, 3);
}

/* ---- config.json ---- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The fixture's text_config as a flat ForCausalLM config: the object's
 * text between its braces, with the class name put first. */
static char *flat_config(const char *nested, const char *cls)
{
	const char *p = strstr(nested, "\"text_config\": {"), *q;
	char *out;
	int depth = 0;

	assert_non_null(p);
	p = strchr(p, '{');
	for (q = p; *q; q++) {
		depth += *q == '{' ? 1 : *q == '}' ? -1 : 0;
		if (depth == 0)
			break;
	}
	assert_int_equal(*q, '}');
	out = malloc((size_t)(q - p) + 128);
	assert_non_null(out);
	if (cls)
		sprintf(out, "{\"architectures\": [\"%s\"], %.*s}", cls, (int)(q - p - 1), p + 1);
	else
		sprintf(out, "{%.*s}", (int)(q - p - 1), p + 1);
	return out;
}

static void same_hparams(const struct qk_hparams *a, const struct qk_hparams *b)
{
#define EQ(f) if (a->f != b->f) fail_msg("field " #f ": %g vs %g", (double)a->f, (double)b->f)
	EQ(arch); EQ(n_vocab); EQ(n_embd); EQ(n_layer); EQ(n_head); EQ(n_head_kv); EQ(head_dim);
	EQ(n_ff); EQ(n_rot); EQ(rope_theta); EQ(partial_rotary_factor); EQ(tie_word_embeddings);
	EQ(n_expert); EQ(n_expert_used); EQ(n_ff_exp); EQ(n_ff_shexp); EQ(norm_topk_prob);
	EQ(ssm_n_k_heads); EQ(ssm_n_v_heads); EQ(ssm_head_k_dim); EQ(ssm_head_v_dim);
	EQ(ssm_d_conv); EQ(ssm_v_tiled); EQ(n_mtp_layers); EQ(full_attention_interval);
	EQ(has_rope_sections); EQ(mrope_interleaved); EQ(eos_token_id);
	for (int i = 0; i < 4; i++)
		EQ(rope_sections[i]);
	for (uint32_t i = 0; i < a->n_layer; i++)
		EQ(layer_flags[i]);
#undef EQ
}

static void test_config_forms(void **state)
{
	static const struct {
		const char *fx, *cls;
		int arch;
	} cases[] = {
		{ "qwen3_5", "Qwen3_5ForCausalLM", QK_ARCH_QWEN35 },
		{ "qwen3_5_moe", "Qwen3_5MoeForCausalLM", QK_ARCH_QWEN35MOE },
	};
	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct qk_hparams a, b, c;
		char path[256], *nested, *flat, *typed;
		size_t len;
		qk_err e;

		snprintf(path, sizeof(path), MODELS "/%s/config.json", cases[k].fx);
		nested = slurp(path, &len);
		flat = flat_config(nested, cases[k].cls);
		typed = flat_config(nested, NULL); /* model_type qwen3_5(_moe)_text only */
		if (qk_hparams_from_config(&a, nested, len, path, &e) ||
		    qk_hparams_from_config(&b, flat, strlen(flat), "flat.json", &e) ||
		    qk_hparams_from_config(&c, typed, strlen(typed), "typed.json", &e))
			fail_msg("%s: %s", cases[k].fx, e.msg);
		assert_int_equal(a.arch, cases[k].arch);
		assert_true(a.ssm_v_tiled && a.zero_centred_norm && a.attn_output_gate);
		assert_true(a.has_rope_sections && a.mrope_interleaved);
		assert_int_equal(a.n_mtp_layers, 1);
		same_hparams(&a, &b);
		same_hparams(&a, &c);
		free(nested);
		free(flat);
		free(typed);
	}
}

/* transformers' class defaults: the released 35B-A3B (MoE) and the
 * Qwen3_5TextConfig shape; num_key_value_heads follows heads (llama.cpp) */
static void test_config_defaults(void **state)
{
	static const char moe[] =
		"{\"architectures\": [\"Qwen3_5MoeForConditionalGeneration\"], \"text_config\": "
		"{\"vocab_size\": 248320, \"hidden_size\": 2048, \"num_hidden_layers\": 40, "
		"\"num_attention_heads\": 16, \"num_key_value_heads\": 2}}";
	static const char dense[] =
		"{\"model_type\": \"qwen3_5_text\", \"vocab_size\": 248320, \"hidden_size\": 4096, "
		"\"num_hidden_layers\": 32, \"num_attention_heads\": 16}";
	static const char bad_sections[] =
		"{\"model_type\": \"qwen3_5\", \"text_config\": {\"vocab_size\": 16, "
		"\"hidden_size\": 16, \"num_hidden_layers\": 4, \"num_attention_heads\": 2, "
		"\"rope_parameters\": {\"mrope_section\": [1, \"x\"]}}}";
	struct qk_hparams hp;
	qk_err e;

	(void)state;
	assert_int_equal(qk_hparams_from_config(&hp, moe, sizeof(moe) - 1, "c.json", &e), QK_OK);
	assert_int_equal(hp.arch, QK_ARCH_QWEN35MOE);
	assert_int_equal(hp.n_expert, 256);
	assert_int_equal(hp.n_expert_used, 8);
	assert_int_equal(hp.n_ff_exp, 512);
	assert_int_equal(hp.n_ff_shexp, 512);
	assert_int_equal(hp.n_ff_config, 0); /* Qwen3_5MoeTextConfig has no intermediate_size */
	assert_int_equal(hp.head_dim, 256);
	assert_int_equal(hp.n_rot, 64);
	assert_int_equal(hp.ssm_n_k_heads, 16);
	assert_int_equal(hp.ssm_n_v_heads, 32);
	assert_int_equal(hp.ssm_head_k_dim, 128);
	assert_int_equal(hp.ssm_head_v_dim, 128);
	assert_true(hp.norm_topk_prob);
	assert_false(hp.has_rope_sections);
	for (uint32_t i = 0; i < 40; i++)
		assert_int_equal(hp.layer_flags[i],
				 QK_LAYER_MOE | ((i + 1) % 4 ? QK_LAYER_LINEAR : 0));
	assert_int_equal(qk_hparams_from_config(&hp, dense, sizeof(dense) - 1, "c.json", &e), QK_OK);
	assert_int_equal(hp.arch, QK_ARCH_QWEN35);
	assert_int_equal(hp.n_ff, 12288);
	assert_int_equal(hp.n_expert, 0);
	assert_int_equal(hp.n_head_kv, 16);
	assert_int_equal(qk_hparams_from_config(&hp, bad_sections, sizeof(bad_sections) - 1, "c.json",
						&e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "'text_config.rope_parameters.mrope_section[1]' is \"x\""));
}

/* ---- the fixtures: MTP head and parameter parts ---- */

struct fx {
	struct qk_catalog cat, exp;
	struct qk_hparams hp;
	struct qk_model m;
};

static void fx_open(struct fx *f, const char *name)
{
	char dir[256], path[300];
	qk_err e;

	snprintf(dir, sizeof(dir), MODELS "/%s", name);
	snprintf(path, sizeof(path), "%s/expected.safetensors", dir);
	qk_catalog_init(&f->exp);
	if (qk_catalog_open(&f->cat, dir, &e) || qk_hparams_load_config(&f->hp, dir, &e) ||
	    qk_model_bind(&f->m, &f->cat, &f->hp, &e) || qk_catalog_open(&f->exp, path, &e))
		fail_msg("%s: %s", name, e.msg);
}

static void fx_close(struct fx *f)
{
	qk_model_free(&f->m);
	qk_catalog_free(&f->cat);
	qk_catalog_free(&f->exp);
}

static uint64_t meta_u64(const struct qk_catalog *c, const char *key)
{
	const char *v = qk_catalog_meta(c, -1, key);

	if (!v)
		fail_msg("expected.safetensors has no '%s'", key);
	return strtoull(v, NULL, 10);
}

static float at(const struct qk_tensor *t, size_t i)
{
	float v;

	memcpy(&v, t->data + 4 * i, 4);
	return v;
}

static void mtp_golden(const char *name, unsigned threads)
{
	struct fx f;
	struct rf_opts o;
	double worst = 0;
	int n_seq = 0;
	qk_err e;

	fx_open(&f, name);
	assert_int_equal(f.m.n_mtp, 1);
	rf_opts_init(&o);
	o.mtp = true;
	o.n_threads = threads;
	for (int s = 0;; s++, n_seq++) {
		char key[32];
		const struct qk_tensor *tok, *lg;
		struct rf_out out;
		size_t T, V = f.hp.n_vocab;

		snprintf(key, sizeof(key), "tokens.%d", s);
		if (!(tok = qk_catalog_find(&f.exp, key)))
			break;
		T = (size_t)tok->n_elem;
		snprintf(key, sizeof(key), "mtp_logits.%d", s);
		lg = qk_catalog_find(&f.exp, key);
		assert_non_null(lg);
		assert_int_equal(lg->n_elem, (T - 1) * V);
		if (rf_run(&f.m, (const int32_t *)(const void *)tok->data, T, &o, &out, &e))
			fail_msg("%s: %s", name, e.msg);
		assert_non_null(out.mtp_logits);
		for (size_t p = 0; p + 1 < T; p++) {
			double dmax = 0, rmax = 0;
			size_t ag = 0, ae = 0;

			for (size_t i = 0; i < V; i++) {
				double g = out.mtp_logits[p * V + i], x = at(lg, p * V + i);

				dmax = fabs(g - x) > dmax ? fabs(g - x) : dmax;
				rmax = fabs(x) > rmax ? fabs(x) : rmax;
				ag = g > out.mtp_logits[p * V + ag] ? i : ag;
				ae = x > at(lg, p * V + ae) ? i : ae;
			}
			if (ag != ae)
				fail_msg("%s: sequence %d MTP position %zu: argmax %zu, expected %zu",
					 name, s, p, ag, ae);
			worst = dmax / rmax > worst ? dmax / rmax : worst;
		}
		rf_out_free(&out);
	}
	print_message("%s: MTP head, %d sequences, %u thread(s): worst logit error %.3g of max "
		      "|logit|\n", name, n_seq, threads, worst);
	assert_true(n_seq > 0);
	if (worst > MTP_LOGIT_REL_BUDGET)
		fail_msg("%s: MTP logit error %.3g over the budget %g", name, worst,
			 MTP_LOGIT_REL_BUDGET);
	fx_close(&f);
}

static void test_mtp_golden(void **state)
{
	(void)state;
	mtp_golden("qwen3_5", 1);
	mtp_golden("qwen3_5_moe", 3);
}

static void test_mtp_refused(void **state)
{
	struct fx f;
	struct rf_opts o;
	struct rf_out out;
	const int32_t one[1] = { 1 };
	qk_err e;

	(void)state;
	fx_open(&f, "qwen3_5");
	rf_opts_init(&o);
	o.mtp = true;
	assert_int_equal(rf_run(&f.m, one, 1, &o, &out, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "the MTP head needs at least 2 tokens, got 1"));
	fx_close(&f);
	fx_open(&f, "qwen3");
	assert_int_equal(rf_run(&f.m, one, 1, &o, &out, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "the model has no MTP layers"));
	fx_close(&f);
}

static void test_param_parts(void **state)
{
	static const char *const names[] = { "qwen3_5", "qwen3_5_moe" };

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		struct fx f;
		struct qk_param_counts pc;

		fx_open(&f, names[k]);
		qk_model_param_counts(&f.m, &pc);
		assert_int_equal(pc.text, meta_u64(&f.exp, "n_params"));
		assert_int_equal(pc.vision, meta_u64(&f.exp, "n_params_vision"));
		assert_int_equal(pc.mtp, meta_u64(&f.exp, "n_params_mtp"));
		fx_close(&f);
	}
}

/* ---- the full-size 35B-A3B header ---- */

static uint64_t count_of(const char *key)
{
	FILE *f = fopen(FULLSIZE "/counts.txt", "r");
	char k[64];
	unsigned long long v;

	assert_non_null(f);
	while (fscanf(f, "%63s %llu", k, &v) == 2)
		if (strcmp(k, key) == 0) {
			fclose(f);
			return v;
		}
	fclose(f);
	fail_msg("counts.txt has no '%s'", key);
	return 0;
}

/* header JSON of tensors.txt (BF16, contiguous in listed order) into a
 * growing buffer; returns the data size */
static uint64_t header_of(char **hdr)
{
	FILE *f = fopen(FULLSIZE "/tensors.txt", "r");
	size_t cap = 1 << 20, n = 0;
	uint64_t off = 0;
	char line[512];

	assert_non_null(f);
	*hdr = malloc(cap);
	assert_non_null(*hdr);
	n += (size_t)sprintf(*hdr, "{\"__metadata__\":{\"format\":\"pt\"}");
	while (fgets(line, sizeof(line), f)) {
		char name[256], dt[16], *p;
		uint64_t elems = 1;
		int used;

		assert_int_equal(sscanf(line, "%255s %15s%n", name, dt, &used), 2);
		assert_string_equal(dt, "BF16");
		assert_true(n + 1024 < cap);
		n += (size_t)sprintf(*hdr + n, ",\"%s\":{\"dtype\":\"BF16\",\"shape\":[", name);
		p = line + used;
		for (int d = 0;; d++) {
			char *end;
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			n += (size_t)sprintf(*hdr + n, "%s%llu", d ? "," : "", v);
			elems *= v;
			p = end;
		}
		n += (size_t)sprintf(*hdr + n, "],\"data_offsets\":[%llu,%llu]}",
				     (unsigned long long)off, (unsigned long long)(off + 2 * elems));
		off += 2 * elems;
	}
	fclose(f);
	n += (size_t)sprintf(*hdr + n, "}");
	while (n % 8)
		(*hdr)[n++] = ' ';
	(*hdr)[n] = '\0';
	return off;
}

static void test_fullsize_35b_a3b(void **state)
{
	char dir[64], path[128], cmd[512], *hdr, *cfg, line[256];
	uint64_t data, hlen, experts = count_of("text_experts"), per, active;
	struct qk_catalog cat;
	struct qk_hparams hp;
	struct qk_model m;
	struct qk_param_counts pc;
	size_t len;
	FILE *p;
	int fd, seen = 0;
	qk_err e;

	(void)state;
	assert_int_equal(td_make(dir, sizeof(dir), "q35full"), 0);
	data = header_of(&hdr);
	hlen = strlen(hdr);
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(write(fd, &(uint8_t){ (uint8_t)(hlen >> (8 * i)) }, 1), 1);
	assert_int_equal(write(fd, hdr, hlen), (ssize_t)hlen);
	assert_int_equal(ftruncate(fd, (off_t)(8 + hlen + data)), 0); /* a hole */
	close(fd);
	free(hdr);
	cfg = slurp(FULLSIZE "/config.json", &len);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	assert_int_equal(td_put(path, cfg), 0);
	free(cfg);

	if (qk_catalog_open(&cat, dir, &e) || qk_hparams_load_config(&hp, dir, &e) ||
	    qk_model_bind(&m, &cat, &hp, &e))
		fail_msg("35B-A3B: %s", e.msg);
	qk_model_param_counts(&m, &pc);
	assert_int_equal(m.n_mtp, 1);
	assert_int_equal(pc.text, count_of("text"));
	assert_int_equal(pc.vision, count_of("vision"));
	assert_int_equal(pc.text + pc.vision, count_of("num_parameters"));
	assert_int_equal(pc.mtp, count_of("mtp"));
	per = experts / count_of("experts");
	active = pc.text - experts + per * count_of("experts_per_tok");
	assert_int_equal(pc.active, active);
	print_message("35B-A3B: text %llu, vision %llu, MTP %llu, active/token %llu\n",
		      (unsigned long long)pc.text, (unsigned long long)pc.vision,
		      (unsigned long long)pc.mtp, (unsigned long long)pc.active);
	qk_model_free(&m);
	qk_catalog_free(&cat);

	/* qwen-inspect names every part */
	snprintf(cmd, sizeof(cmd), "%s/qwen-inspect %s", getenv("BINDIR") ? getenv("BINDIR") : "bin",
		 dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		seen |= strstr(line, "parameters:    34.66 B (34660610688) text model") ? 1 : 0;
		seen |= strstr(line, "active/token:  3.45 B (3454988928; 8 of 256 experts)") ? 2 : 0;
		seen |= strstr(line, "mtp:           844.64 M (844640768; 1 layer(s)") ? 4 : 0;
		seen |= strstr(line, "vision:        453.65 M (453650672; ") ? 8 : 0;
		seen |= strstr(line, "all parts:     35.96 B (35958902128)") ? 16 : 0;
	}
	assert_int_equal(pclose(p), 0);
	if (seen != 31)
		fail_msg("qwen-inspect %s: summary lines missing (mask %d)", dir, seen);
	assert_int_equal(td_remove(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mrope_streams),
		cmocka_unit_test(test_config_forms),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_mtp_golden),
		cmocka_unit_test(test_mtp_refused),
		cmocka_unit_test(test_param_parts),
		cmocka_unit_test(test_fullsize_35b_a3b),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
