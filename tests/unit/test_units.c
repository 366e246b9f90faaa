/* test_units.c - byte sizes (formats/base/units.h).
 *
 * The expected values are the ones the peers give for the forms they share:
 * llama.cpp's gguf-split and convert_hf_to_gguf.py (split_str_to_n_bytes:
 * K, M, G = 10^3, 10^6, 10^9) and transformers' convert_file_size_to_int
 * (KB, MB, GB decimal; KiB, MiB, GiB binary); the rest (fractions, T, B)
 * follow the same powers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>

#include "../../formats/base/units.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_sizes(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		/* gguf-split */
		{ "4G", 4000000000ull }, { "500M", 500000000ull }, { "10K", 10000ull },
		{ "123456", 123456ull }, { "1g", 1000000000ull }, { "7m", 7000000ull },
		{ "18446744073709551615", UINT64_MAX }, { "18446744073G", 18446744073000000000ull },
		/* transformers */
		{ "5GB", 5000000000ull }, { "5gb", 5000000000ull }, { "50GB", 50000000000ull },
		{ "500MiB", 500ull << 20 }, { "1KiB", 1024 }, { "3kb", 3000 }, { "2GiB", 2ull << 30 },
		/* fractions, T, B */
		{ "1.5G", 1500000000ull }, { "1.5GB", 1500000000ull }, { "0.5KiB", 512 },
		{ "2.25MiB", 2359296ull }, { "1T", 1000000000000ull }, { "1TiB", 1ull << 40 },
		{ "64B", 64 }, { "0.001K", 1 }, { "007", 7 },
	};
	static const char *const bad[] = {
		"", "0", "0G", "G", "0.0M", "-1", "+1", " 1", "1 ", "5 GB", "1.G", ".5G", "1.5",
		"0.5B", "0.0001K", "1e9", "4Gb ", "4PB", "4GIBB", "18446744073709551616",
		"18446744074G", "18446744073709551615GB", "99999999999999999999", "1..5G", NULL,
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < N(good); i++) {
		v = 0;
		if (!qk_parse_size(good[i].s, &v) || v != good[i].v)
			fail_msg("'%s' -> %llu, expected %llu", good[i].s, (unsigned long long)v,
				 (unsigned long long)good[i].v);
	}
	for (size_t i = 0; i < N(bad); i++) {
		v = 12345;
		if (qk_parse_size(bad[i], &v) || v != 12345)
			fail_msg("'%s' accepted (%llu)", bad[i] ? bad[i] : "(null)",
				 (unsigned long long)v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
