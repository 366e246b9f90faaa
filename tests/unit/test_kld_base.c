/* test_kld_base.c - llama-perplexity's KL-divergence base file
 * (formats/container/kld_base.h): record sizes, the encoding against
 * closed-form log-softmax values, header and token round trips, the
 * validation of kb_parse, and rm_base_pos (ref/metrics.h) on decoded
 * records. llama-perplexity itself reads and writes these files in
 * testdata/gen/ppl_crosscheck.py. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/container/kld_base.h"
#include "../../ref/metrics.h"

static void test_record_bytes(void **state)
{
	(void)state;
	assert_int_equal(kb_record_bytes(3), 2 * (4 + 4));
	assert_int_equal(kb_record_bytes(4), 2 * (4 + 4));
	assert_int_equal(kb_record_bytes(512), 1032);
	assert_int_equal(kb_record_bytes(151936), 2 * (151936 + 4));
}

static double log_softmax(const float *l, size_t n, size_t i)
{
	double m = l[0], s = 0;

	for (size_t k = 1; k < n; k++)
		m = l[k] > m ? l[k] : m;
	for (size_t k = 0; k < n; k++)
		s += exp((double)l[k] - m);
	return (double)l[i] - m - log(s);
}

/* a wide row: every value above max - 16 decodes within half a step of its
 * log-softmax; the one below max - 16 decodes to the floor min - max - lse */
static void test_encode_decode(void **state)
{
	enum { V = 7 };
	const float l[V] = { 0.5f, 1.25f, 2.0f, -20.0f, 3.0f, -12.75f, 3.0f };
	uint8_t rec[2 * (8 + 4)];
	float lp[V], scale, mlp;
	struct kb_file f;
	double nll;
	uint32_t u;

	(void)state;
	assert_int_equal(kb_record_bytes(V), sizeof(rec));
	nll = kb_encode(l, V, 2, rec);
	assert_true(fabs(nll + log_softmax(l, V, 2)) < 1e-5);
	memcpy(&u, rec, 4);
	memcpy(&scale, &u, 4);
	assert_true(scale == (3.0f - (3.0f - 16)) / 65535.f);
	memcpy(&u, rec + 4, 4);
	memcpy(&mlp, &u, 4);
	assert_true(fabs(mlp - (-16 + log_softmax(l, V, 4))) < 1e-5);
	/* the pad value of an odd vocabulary is 0 */
	assert_true(rec[sizeof(rec) - 1] == 0 && rec[sizeof(rec) - 2] == 0);
	memset(&f, 0, sizeof(f));
	f.n_vocab = V;
	f.rec_bytes = sizeof(rec);
	f.records = rec;
	kb_decode(&f, 0, lp);
	for (size_t i = 0; i < V; i++) {
		if (i == 3)
			assert_true(lp[i] == mlp);
		else
			assert_true(fabs(lp[i] - log_softmax(l, V, i)) <= 0.5 * scale + 1e-5);
	}
}

/* equal logits: scale 0, every q 0, every log p = -log V */
static void test_encode_flat(void **state)
{
	const float l[4] = { 2, 2, 2, 2 };
	uint8_t rec[16];
	struct kb_file f;
	float lp[4];

	(void)state;
	kb_encode(l, 4, 0, rec);
	memset(&f, 0, sizeof(f));
	f.n_vocab = 4;
	f.rec_bytes = 16;
	f.records = rec;
	kb_decode(&f, 0, lp);
	for (int i = 0; i < 4; i++)
		assert_true(fabs(lp[i] + log(4.0)) < 1e-6);
	for (int i = 8; i < 16; i++)
		assert_int_equal(rec[i], 0);
}

/* header + tokens + 2 chunks of n_ctx 5 (2 records each) parse back */
static void test_parse_round_trip(void **state)
{
	enum { V = 6, CTX = 5, NCH = 2 };
	const int32_t tok[NCH * CTX] = { 1, 2, 3, 4, 5, 0, 1, 2, 3, 4 };
	const size_t rb = kb_record_bytes(V), n = KB_HEADER_BYTES + 4 * NCH * CTX + NCH * 2 * rb;
	uint8_t *buf = malloc(n);
	struct kb_file f;
	qk_err err;
	float l[V], lp[V];

	(void)state;
	assert_non_null(buf);
	kb_put_header(buf, CTX, V, NCH, tok);
	for (size_t r = 0; r < NCH * 2; r++) {
		for (int i = 0; i < V; i++)
			l[i] = (float)((int)(r * 3 + (size_t)i * 5) % 7) - 3.0f;
		kb_encode(l, V, 0, buf + KB_HEADER_BYTES + 4 * NCH * CTX + r * rb);
	}
	assert_int_equal(kb_parse(&f, buf, n, "mem", &err), QK_OK);
	assert_int_equal(f.n_ctx, CTX);
	assert_int_equal(f.n_vocab, V);
	assert_int_equal(f.n_chunk, NCH);
	assert_int_equal(f.n_scored, 2);
	assert_memory_equal(f.tokens, tok, sizeof(tok));
	kb_decode(&f, 3, lp);
	for (int i = 0; i < V; i++)
		assert_true(fabs(lp[i] - log_softmax(l, V, (size_t)i)) < 16.0 / 65535);
	kb_close(&f);
	/* a size one byte off either way, a token out of range */
	assert_int_equal(kb_parse(&f, buf, n - 1, "mem", &err), QK_E_INVALID);
	assert_non_null(strstr(err.msg, "truncated"));
	buf[KB_HEADER_BYTES + 4 * 7] = V;
	assert_int_equal(kb_parse(&f, buf, n, "mem", &err), QK_E_INVALID);
	assert_non_null(strstr(err.msg, "token 7 (chunk 1 position 2) is 6"));
	assert_null(f.tokens);
	kb_close(&f);
	free(buf);
}

/* rm_base_pos on a decoded record of the candidate's own logits: KLD at the
 * 16-bit floor, the same top token, nll as log-softmax; and against another
 * candidate, the KLD of the exact path within the record's resolution */
static void test_base_pos(void **state)
{
	enum { V = 97 };
	float ref[V], cand[V], lp[V];
	uint8_t rec[2 * (98 + 4)];
	struct kb_file f;
	struct rm_pos p;
	struct rm_row row;

	(void)state;
	for (int i = 0; i < V; i++) {
		ref[i] = (float)((37 * i + 11) % 101 - 50) / 16.0f;
		cand[i] = ref[i] + (float)((53 * i) % 7 - 3) / 64.0f;
	}
	kb_encode(ref, V, 5, rec);
	memset(&f, 0, sizeof(f));
	f.n_vocab = V;
	f.rec_bytes = sizeof(rec);
	f.records = rec;
	kb_decode(&f, 0, lp);
	rm_base_pos(lp, ref, V, 5, &p);
	assert_true(p.same_top && p.finite && p.has_next);
	assert_true(fabs(p.kld) < 1e-6);
	assert_true(fabs(p.nll_cand + log_softmax(ref, V, 5)) < 1e-5);
	assert_true(fabs(p.nll_ref - p.nll_cand) < 2e-4);
	assert_true(isnan(p.max_abs_diff));
	rm_base_pos(lp, cand, V, 5, &p);
	rm_row_compare(ref, cand, V, &row);
	assert_true(fabs(p.kld - row.kld) < 1e-5 + 1e-2 * row.kld);
	assert_true(p.same_top == (row.top_ref == row.top_cand));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_bytes),
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_encode_flat),
		cmocka_unit_test(test_parse_round_trip),
		cmocka_unit_test(test_base_pos),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
