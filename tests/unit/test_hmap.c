/* test_hmap.c - the string-keyed hash map (formats/base/hmap.h): insert,
 * find, duplicates, growth, and deletion in any order against a plain array
 * searched linearly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/err.h"
#include "../../formats/base/hmap.h"

#define N 3000

static char keys[N][16];

static void make_keys(void)
{
	for (int i = 0; i < N; i++)
		snprintf(keys[i], sizeof(keys[i]), "k%d", i * 7919 % 100003);
}

static void test_put_get_and_duplicates(void **state)
{
	struct qk_hmap m;

	(void)state;
	make_keys();
	assert_int_equal(qk_hmap_init(&m, 4), QK_OK);
	for (int i = 0; i < N; i++)
		assert_int_equal(qk_hmap_put(&m, keys[i], strlen(keys[i]), i), -1);
	assert_int_equal(m.n, N);
	assert_true(m.cap >= 2 * m.n); /* load <= 1/2 after growing */
	for (int i = 0; i < N; i++) {
		assert_int_equal(qk_hmap_gets(&m, keys[i]), i);
		/* a second put keeps the first value and says so */
		assert_int_equal(qk_hmap_put(&m, keys[i], strlen(keys[i]), 99), i);
	}
	assert_int_equal(qk_hmap_gets(&m, "absent"), -1);
	/* keys are byte strings: a prefix is another key, NUL bytes count */
	assert_int_equal(qk_hmap_get(&m, keys[5], 1), -1);
	assert_int_equal(qk_hmap_put(&m, "a\0b", 3, 7), -1);
	assert_int_equal(qk_hmap_get(&m, "a\0b", 3), 7);
	assert_int_equal(qk_hmap_get(&m, "a", 1), -1);
	assert_int_equal(qk_hmap_put(&m, "", 0, 8), -1);
	assert_int_equal(qk_hmap_get(&m, "", 0), 8);
	qk_hmap_free(&m);
	assert_int_equal(m.cap, 0);
	qk_hmap_free(NULL);
}

static void test_zeroed_map_is_empty(void **state)
{
	struct qk_hmap m = { 0 };

	(void)state;
	assert_int_equal(qk_hmap_gets(&m, "x"), -1);
	assert_false(qk_hmap_del(&m, "x", 1));
	assert_int_equal(qk_hmap_put(&m, "x", 1, 3), -1);
	assert_int_equal(qk_hmap_gets(&m, "x"), 3);
	qk_hmap_free(&m);
}

/* delete in a scrambled order; after every step each key left must still be
 * found (probe runs are kept whole) and each deleted one not */
static void test_delete_any_order(void **state)
{
	struct qk_hmap m = { 0 };
	static char gone[N];
	int order[N];

	(void)state;
	make_keys();
	memset(gone, 0, sizeof(gone));
	for (int i = 0; i < N; i++) {
		assert_int_equal(qk_hmap_put(&m, keys[i], strlen(keys[i]), i), -1);
		order[i] = (int)((unsigned)i * 2654435761u % N);
	}
	/* order is a permutation: N is not a multiple of the multiplier's factors */
	for (int s = 0; s < N; s++) {
		int k = order[s];

		if (gone[k])
			continue;
		assert_true(qk_hmap_del(&m, keys[k], strlen(keys[k])));
		assert_false(qk_hmap_del(&m, keys[k], strlen(keys[k])));
		gone[k] = 1;
		if (s % 97 == 0 || s > N - 50)
			for (int i = 0; i < N; i++)
				assert_int_equal(qk_hmap_gets(&m, keys[i]), gone[i] ? -1 : i);
	}
	for (int i = 0; i < N; i++)
		if (!gone[i])
			assert_true(qk_hmap_del(&m, keys[i], strlen(keys[i])));
	assert_int_equal(m.n, 0);
	qk_hmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_and_duplicates),
		cmocka_unit_test(test_zeroed_map_is_empty),
		cmocka_unit_test(test_delete_any_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
