/* test_err.c - error formatting at every boundary length of the message
 * buffer (QK_ERR_MSG_MAX): 0, 1, and MAX-3 .. MAX+1 bytes of prefix, of
 * message and of the message being prefixed. The expected text is built
 * independently with a buffer large enough for everything, then cut to
 * MAX-1 bytes: the rule err.h states. Each qk_err is a heap block of exactly
 * sizeof(qk_err), so a write past `msg` is caught by ASan
 * (make check SANITIZE=address,undefined). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/err.h"

#define MAX QK_ERR_MSG_MAX

/* the boundary lengths: 0, 1, MAX-3 .. MAX+1 */
static const size_t lens[] = { 0, 1, MAX - 3, MAX - 2, MAX - 1, MAX, MAX + 1 };
#define N_LENS (sizeof(lens) / sizeof(lens[0]))

/* n bytes of a pattern that shows where a cut happened ("abc...z0123...") */
static char *text(size_t n, char first)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)(first + (char)(i % 26));
	s[n] = '\0';
	return s;
}

/* the first MAX-1 bytes of s: what a qk_err can hold */
static void expect_cut(const qk_err *e, const char *s)
{
	size_t want = strlen(s) < MAX - 1 ? strlen(s) : MAX - 1;

	assert_int_equal(strnlen(e->msg, MAX), want);
	assert_memory_equal(e->msg, s, want);
}

static void test_set_at_every_boundary_length(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_LENS; i++) {
		qk_err *e = malloc(sizeof(*e));
		char *m = text(lens[i], 'a');

		assert_non_null(e);
		assert_int_equal(qk_err_set(e, QK_E_INVALID, "%s", m), QK_E_INVALID);
		assert_int_equal(e->code, QK_E_INVALID);
		expect_cut(e, m);
		free(m);
		free(e);
	}
}

/* every prefix length against every message length: "prefix: message" */
static void test_prefix_at_every_boundary_length(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_LENS; i++) {
		for (size_t j = 0; j < N_LENS; j++) {
			qk_err *e = malloc(sizeof(*e));
			char *p = text(lens[i], 'A');
			char *m = text(lens[j], 'a');
			size_t full = lens[i] + 2 + lens[j];
			char *want = malloc(full + 1);
			char *held = malloc(MAX);

			assert_non_null(e);
			assert_non_null(want);
			assert_non_null(held);
			qk_err_set(e, QK_E_IO, "%s", m);
			memcpy(held, e->msg, MAX); /* the message as the error holds it */
			snprintf(want, full + 1, "%s: %s", p, held);
			assert_int_equal(qk_err_prefix(e, "%s", p), QK_E_IO);
			assert_int_equal(e->code, QK_E_IO);
			expect_cut(e, want);
			free(held);
			free(want);
			free(m);
			free(p);
			free(e);
		}
	}
}

/* a prefix made of several arguments, cut at the boundary like a plain one */
static void test_prefix_formatted_near_the_end(void **state)
{
	qk_err *e = malloc(sizeof(*e));
	char *dir = text(MAX - 3 - 4, 'A');
	char want[MAX + 16];

	(void)state;
	assert_non_null(e);
	qk_err_set(e, QK_E_INVALID, "bad");
	qk_err_prefix(e, "%s/%s", dir, "abc"); /* exactly MAX-3 bytes */
	snprintf(want, sizeof(want), "%s/abc: bad", dir);
	expect_cut(e, want);
	free(dir);
	free(e);
}

/* the one prefix helper: "<file>: message" and "<file>:<line>: message" */
static void test_set_in_and_at(void **state)
{
	qk_err e;
	char *file = text(MAX + 1, 'A');

	(void)state;
	assert_int_equal(qk_err_set_in(&e, QK_E_INVALID, "config.json", "key '%s' is %d", "x", 3),
			 QK_E_INVALID);
	assert_string_equal(e.msg, "config.json: key 'x' is 3");
	assert_int_equal(qk_err_set_at(&e, QK_E_USAGE, "r.yaml", 12, "bad"), QK_E_USAGE);
	assert_int_equal(e.code, QK_E_USAGE);
	assert_string_equal(e.msg, "r.yaml:12: bad");
	qk_err_set_in(&e, QK_E_IO, NULL, "plain");
	assert_string_equal(e.msg, "plain");
	qk_err_set_in(&e, QK_E_IO, file, "cut");
	expect_cut(&e, file);
	assert_int_equal(qk_err_set_in(NULL, QK_E_IO, "f", "x"), QK_E_IO);
	free(file);
}

static void test_null_err(void **state)
{
	(void)state;
	assert_int_equal(qk_err_set(NULL, QK_E_IO, "x"), QK_E_IO);
	assert_int_equal(qk_err_prefix(NULL, "x"), QK_E_INVALID);
	qk_err_clear(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_at_every_boundary_length),
		cmocka_unit_test(test_prefix_at_every_boundary_length),
		cmocka_unit_test(test_prefix_formatted_near_the_end),
		cmocka_unit_test(test_set_in_and_at),
		cmocka_unit_test(test_null_err),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
