/* test_split_plan.c - where a GGUF output is cut into a split set.
 *
 * Expected cuts are worked by hand from llama.cpp's gguf-split
 * (tools/gguf-split/gguf-split.cpp, split_strategy): sizes padded to 32 bytes
 * (GGML_PAD(ggml_nbytes(t), GGUF_DEFAULT_ALIGNMENT)), a new split when the
 * running sum plus the next tensor's padded size is above the limit, or every
 * n tensors (i % n_split_tensors == 0). Sizes as convert_hf_to_gguf.py's
 * split_str_to_n_bytes reads them (K, M, G = 10^3, 10^6, 10^9).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../formats/plan/plan_split.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void expect_cut(const uint64_t *sizes, size_t n, uint64_t max_bytes, uint64_t max_tensors,
		       const uint32_t *want, size_t want_splits)
{
	uint32_t got[16];

	assert_true(n <= N(got));
	assert_int_equal(sp_cut(sizes, n, max_bytes, max_tensors, got), want_splits);
	for (size_t i = 0; i < n; i++) {
		if (got[i] != want[i])
			print_error("tensor %zu: split %u, expected %u\n", i, got[i], want[i]);
		assert_int_equal(got[i], want[i]);
	}
}

static void test_cut_by_size_counts_padding(void **state)
{
	/* padded 32, 64, 32, 64, 32: 32+64 = 96 fits, +32 does not; an unpadded
	 * sum (10+40+22 = 72, +64 > 96) would cut before tensor 3 instead */
	static const uint64_t s[] = { 10, 40, 22, 64, 1 };
	static const uint32_t want[] = { 0, 0, 1, 1, 2 };
	/* exactly at the limit stays together */
	static const uint64_t s2[] = { 32, 32 };
	static const uint32_t want2[] = { 0, 0 };
	static const uint32_t want2b[] = { 0, 1 };

	(void)state;
	expect_cut(s, N(s), 96, 0, want, 3);
	expect_cut(s2, N(s2), 64, 0, want2, 1);
	expect_cut(s2, N(s2), 63, 0, want2b, 2);
}

static void test_cut_large_tensors(void **state)
{
	/* a tensor above the limit gets a split of its own, wherever it is */
	static const uint64_t first[] = { 200, 10, 10 };
	static const uint32_t want_first[] = { 0, 1, 1 };
	static const uint64_t mid[] = { 10, 200, 10 };
	static const uint32_t want_mid[] = { 0, 1, 2 };
	static const uint64_t huge[] = { UINT64_MAX - 3, UINT64_MAX, 1 };
	static const uint32_t want_huge[] = { 0, 1, 2 };
	static const uint32_t want_huge_nolimit[] = { 0, 0, 0 };

	(void)state;
	expect_cut(first, N(first), 96, 0, want_first, 2);
	expect_cut(mid, N(mid), 96, 0, want_mid, 3);
	expect_cut(huge, N(huge), UINT64_MAX / 2, 0, want_huge, 3);
	expect_cut(huge, N(huge), 0, 0, want_huge_nolimit, 1);
}

static void test_cut_by_count_and_both(void **state)
{
	static const uint64_t s[] = { 1, 1, 1, 1, 1 };
	static const uint32_t by2[] = { 0, 0, 1, 1, 2 };
	static const uint32_t by5[] = { 0, 0, 0, 0, 0 };
	static const uint32_t by1[] = { 0, 1, 2, 3, 4 };
	/* 2 tensors or 64 bytes (two padded tensors): the size cuts first here */
	static const uint64_t t[] = { 33, 1, 1, 1 };
	static const uint32_t both[] = { 0, 1, 1, 2 };

	(void)state;
	expect_cut(s, N(s), 0, 2, by2, 3);
	expect_cut(s, N(s), 0, 5, by5, 1);
	expect_cut(s, N(s), 0, 1, by1, 5);
	expect_cut(t, N(t), 64, 2, both, 3);
	assert_int_equal(sp_cut(s, 0, 10, 1, NULL), 0);
}

static void test_prefix(void **state)
{
	char p[16];

	(void)state;
	assert_true(sp_prefix("out.gguf", p, sizeof(p)));
	assert_string_equal(p, "out");
	assert_true(sp_prefix("dir/Model.GGUF", p, sizeof(p)));
	assert_string_equal(p, "dir/Model");
	assert_true(sp_prefix("out", p, sizeof(p)));
	assert_string_equal(p, "out");
	assert_true(sp_prefix("a.b.gguf", p, sizeof(p)));
	assert_string_equal(p, "a.b");
	assert_true(sp_prefix(".gguf", p, sizeof(p)));      /* no stem to strip from */
	assert_string_equal(p, ".gguf");
	assert_false(sp_prefix("dir/.gguf", p, sizeof(p))); /* would end in '/' */
	assert_false(sp_prefix("", p, sizeof(p)));
	assert_false(sp_prefix("a-very-long-name.gguf", p, sizeof(p)));
	assert_true(sp_prefix("fifteen-chars-x.gguf", p, sizeof(p)));
	assert_string_equal(p, "fifteen-chars-x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cut_by_size_counts_padding),
		cmocka_unit_test(test_cut_large_tensors),
		cmocka_unit_test(test_cut_by_count_and_both),
		cmocka_unit_test(test_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
