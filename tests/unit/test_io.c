/* test_io.c - cursor bounds, checked arithmetic, UTF-8, mappings, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../formats/base/io.h"
#include "../../formats/base/path.h"

static void test_cursor_reads_le_and_stops_at_end(void **state)
{
	static const uint8_t buf[] = { 1, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12,
				       8, 7, 6, 5, 4, 3, 2, 1 };
	qk_cur c;
	qk_err e;
	uint8_t a;
	uint16_t b;
	uint32_t d;
	uint64_t q;

	(void)state;
	qk_cur_init(&c, buf, sizeof(buf), "f.bin", 100);
	assert_int_equal(qk_cur_u8(&c, &a, "a", &e), QK_OK);
	assert_int_equal(a, 1);
	assert_int_equal(qk_cur_u16(&c, &b, "b", &e), QK_OK);
	assert_int_equal(b, 0x1234);
	assert_int_equal(qk_cur_u32(&c, &d, "d", &e), QK_OK);
	assert_int_equal(d, 0x12345678u);
	assert_int_equal(qk_cur_u64(&c, &q, "q", &e), QK_OK);
	assert_true(q == 0x0102030405060708ull);
	assert_int_equal(qk_cur_left(&c), 0);
	/* one byte too many: error with the file offset, nothing consumed */
	assert_int_equal(qk_cur_u8(&c, &a, "tensor count", &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "f.bin: unexpected end of file at byte 115 reading tensor count"));
	assert_int_equal(c.pos, sizeof(buf));
}

static void test_cursor_huge_request_does_not_wrap(void **state)
{
	static const uint8_t buf[16];
	qk_cur c;
	qk_err e;
	const uint8_t *p = NULL;

	(void)state;
	qk_cur_init(&c, buf, sizeof(buf), "x", 0);
	assert_int_equal(qk_cur_skip(&c, 4, "pad", &e), QK_OK);
	assert_int_equal(qk_cur_bytes(&c, SIZE_MAX, &p, "string", &e), QK_E_INVALID);
	assert_null(p);
	assert_int_equal(qk_cur_bytes(&c, SIZE_MAX - 3, &p, "string", &e), QK_E_INVALID);
	assert_int_equal(c.pos, 4);
}

static void test_checked_arithmetic(void **state)
{
	uint64_t r;
	size_t s;

	(void)state;
	assert_true(qk_mul_u64(1ull << 32, 1ull << 31, &r));
	assert_true(r == 1ull << 63);
	assert_false(qk_mul_u64(1ull << 32, 1ull << 32, &r));
	assert_true(qk_mul_u64(0, UINT64_MAX, &r) && r == 0);
	assert_false(qk_add_u64(UINT64_MAX, 1, &r));
	assert_false(qk_add_size(SIZE_MAX, 1, &s));
	assert_false(qk_mul_size(SIZE_MAX / 2 + 1, 2, &s));
	assert_true(qk_align_up_u64(33, 32, &r) && r == 64);
	assert_true(qk_align_up_u64(64, 32, &r) && r == 64);
	assert_false(qk_align_up_u64(UINT64_MAX - 3, 32, &r));
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(qk_utf8_valid("abc", 3));
	assert_true(qk_utf8_valid("\xe4\xb8\xad\xf0\x9f\x98\x80", 7)); /* 中 😀 */
	assert_false(qk_utf8_valid("\xc0\xaf", 2));          /* overlong '/' */
	assert_false(qk_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
	assert_false(qk_utf8_valid("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
	assert_false(qk_utf8_valid("\xe4\xb8", 2));          /* truncated */
	assert_false(qk_utf8_valid("\xff", 1));
	assert_false(qk_utf8_valid("a\x80", 2));             /* stray continuation */
}

static void test_map_and_read_file(void **state)
{
	char dir[] = "/tmp/qk_io_XXXXXX";
	char path[256];
	qk_map m;
	qk_err e;
	char *txt;
	size_t len;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.txt", dir);
	f = fopen(path, "w");
	fputs("hello", f);
	fclose(f);
	assert_int_equal(qk_map_open(&m, path, &e), QK_OK);
	assert_int_equal(m.size, 5);
	assert_memory_equal(m.data, "hello", 5);
	qk_map_close(&m);
	qk_map_close(NULL);
	assert_int_equal(qk_read_file(path, 100, &txt, &len, &e), QK_OK);
	assert_string_equal(txt, "hello");
	free(txt);
	assert_int_equal(qk_read_file(path, 4, &txt, &len, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "more than the limit of 4"));
	assert_int_equal(qk_map_open(&m, dir, &e), QK_E_IO);
	assert_non_null(strstr(e.msg, "is a directory"));
	unlink(path);
	assert_int_equal(qk_map_open(&m, path, &e), QK_E_IO);
	assert_non_null(strstr(e.msg, "cannot open"));
	rmdir(dir);
}

static void test_err_prefix_and_exit_codes(void **state)
{
	qk_err e;

	(void)state;
	qk_err_set(&e, QK_E_INVALID, "tensor '%s': bad", "x");
	qk_err_prefix(&e, "%s", "model.safetensors");
	assert_string_equal(e.msg, "model.safetensors: tensor 'x': bad");
	assert_int_equal(qk_err_exit_code(QK_E_INVALID), 3);
	assert_int_equal(qk_err_exit_code(QK_E_UNSUPPORTED), 3);
	assert_int_equal(qk_err_exit_code(QK_E_IO), 4);
	assert_int_equal(qk_err_exit_code(QK_E_NOMEM), 4);
	assert_int_equal(qk_err_exit_code(QK_E_USAGE), 2);
	assert_int_equal(qk_err_exit_code(QK_E_THRESHOLD), 1);
	assert_int_equal(qk_err_exit_code(QK_OK), 0);
	assert_int_equal(qk_err_set(NULL, QK_E_IO, "x"), QK_E_IO);
}

static void test_path_join(void **state)
{
	static const struct {
		const char *dir;
		size_t dir_len; /* (size_t)-1: qk_path_join */
		const char *name, *want;
	} cases[] = {
		{ "d", (size_t)-1, "f.json", "d/f.json" },
		{ "a/b", (size_t)-1, "c", "a/b/c" },
		{ NULL, (size_t)-1, "c", "c" },
		{ "", (size_t)-1, "c", "c" },
		{ "/x/m.json", 2, "s.safetensors", "/x/s.safetensors" },
		{ "/m.json", 0, "s", "/s" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = cases[i].dir_len == (size_t)-1 ? qk_path_join(cases[i].dir, cases[i].name)
			: qk_path_join_n(cases[i].dir, cases[i].dir_len, cases[i].name);

		assert_non_null(p);
		assert_string_equal(p, cases[i].want);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cursor_reads_le_and_stops_at_end),
		cmocka_unit_test(test_cursor_huge_request_does_not_wrap),
		cmocka_unit_test(test_checked_arithmetic),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_map_and_read_file),
		cmocka_unit_test(test_err_prefix_and_exit_codes),
		cmocka_unit_test(test_path_join),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
