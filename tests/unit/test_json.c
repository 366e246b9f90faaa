/* test_json.c - the one JSON reader (formats/base/json.h): each rule, its
 * message (the byte offset, the limit, the key), and out of memory told
 * apart from bad JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../formats/base/json.h"

static const struct {
	const char *text;
	int code;           /* QK_OK or the error */
	const char *frag;   /* in the message */
} cases[] = {
	{ " {\"a\": [1, -0.5e+3, true, null, \"x\\u00e9\\ud83d\\ude00\"]} \n", QK_OK, NULL },
	/* duplicates: named, with where they are; compared after unescaping */
	{ "{\"a\":1,\"a\":2}", QK_E_INVALID,
	  "key 'a' appears twice in the top-level object" },
	{ "{\"m\":{\"v\":{\"x\":0,\"\\u0078\":1}}}", QK_E_INVALID,
	  "key 'x' appears twice in object 'm.v'" },
	{ "{\"l\":[{},{\"k\":1,\"k\":1}]}", QK_E_INVALID, "key 'k' appears twice in object 'l[1]'" },
	{ "[{\"a\":1},{\"a\":1}]", QK_OK, NULL }, /* the same key in two objects */
	/* \u0000 */
	{ "{\"a\\u0000b\":1}", QK_E_INVALID,
	  "escaped NUL (\\u0000) at byte 3 (line 1, column 4): keys and text may not contain NUL" },
	{ "[\"\\\\u0000\"]", QK_OK, NULL }, /* a backslash, then text */
	/* grammar, with offsets */
	{ "{\"a\": 1,\n  ,}", QK_E_INVALID,
	  "invalid JSON at byte 11 (line 2, column 3): ',' where a key in quotes was expected" },
	{ "{\"t\":", QK_E_INVALID,
	  "invalid JSON at byte 5 (line 1, column 6): the text ends where a value was expected" },
	{ "[1,]", QK_E_INVALID, "at byte 3 (line 1, column 4): ']' where a value was expected" },
	{ "{} x", QK_E_INVALID, "unexpected text after the JSON value at byte 3 (line 1, column 4)" },
	{ "[01]", QK_E_INVALID, "at byte 2" },
	{ "[1.]", QK_E_INVALID, "a digit after the decimal point" },
	{ "[NaN]", QK_E_INVALID, "'N' where a value was expected" },
	{ "[\"\\x\"]", QK_E_INVALID, "unknown escape" },
	{ "[\"\\ud800\"]", QK_E_INVALID, "a high surrogate escape without a low one" },
	{ "[\"\\udc00\"]", QK_E_INVALID, "a low surrogate escape without a high one" },
	{ "[\"abc", QK_E_INVALID, "at byte 1 (line 1, column 2): the string starting here has no" },
	{ "[\"a\tb\"]", QK_E_INVALID, "raw control byte 0x09 inside a JSON string at byte 3" },
	{ "{}\x01", QK_E_INVALID, "control byte 0x01 at byte 2 (line 1, column 3): outside any" },
	{ "\xef\xbb\xbf{}", QK_E_INVALID, "byte order mark" },
	{ "[\"\xff\"]", QK_E_INVALID, "not valid UTF-8" },
	{ "[\"ab\xe9\"]", QK_E_INVALID, "not valid UTF-8 (byte 0xe9) at byte 4 (line 1, column 5)" },
	{ "", QK_E_INVALID, "file is empty" },
	/* an empty container closed, then more (found by fuzz_json) */
	{ "[[[[]\x01]]]", QK_E_INVALID, "control byte 0x01 at byte 5" },
	{ "[[],{},[{}]]", QK_OK, NULL },
	/* columns count characters */
	{ "[\"\xc3\xa9\xc3\xa9\" x]", QK_E_INVALID, "at byte 8 (line 1, column 7)" },
};

static void test_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *root = (cJSON *)1;
		qk_err e;
		int rc;

		qk_err_clear(&e);
		rc = qk_json_parse(cases[i].text, strlen(cases[i].text), "f.json", 0, &root, &e);
		if (rc != cases[i].code || (cases[i].frag && !strstr(e.msg, cases[i].frag)) ||
		    (rc == QK_OK) != (root != NULL)) {
			print_error("case %zu '%s': rc %d '%s', expected %d '%s'\n", i, cases[i].text,
				    rc, e.msg, cases[i].code, cases[i].frag ? cases[i].frag : "");
			fail();
		}
		if (rc == QK_OK)
			assert_string_equal(e.msg, "");
		else
			assert_memory_equal(e.msg, "f.json: ", 8);
		cJSON_Delete(root);
	}
}

/* offsets are file offsets: a safetensors header starts at byte 8 */
static void test_origin(void **state)
{
	cJSON *root;
	qk_err e;

	(void)state;
	assert_int_equal(qk_json_parse("{\"a\":1,\"a\":2}", 13, "m.safetensors", 8, &root, &e),
			 QK_E_INVALID);
	assert_null(root);
	assert_int_equal(qk_json_parse("{\"a\":[}", 7, "m.safetensors", 8, &root, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "m.safetensors: invalid JSON at byte 14 (line 1, column 7)"));
	/* not NUL-terminated: only len bytes are read */
	assert_int_equal(qk_json_parse("[1]]]]", 3, "x", 0, &root, &e), QK_OK);
	cJSON_Delete(root);
}

/* QK_JSON_MAX_DEPTH arrays deep is fine, one more is refused at its byte */
static void test_depth_limit(void **state)
{
	char text[2 * QK_JSON_MAX_DEPTH + 4], want[128];
	cJSON *root;
	qk_err e;

	(void)state;
	for (int d = QK_JSON_MAX_DEPTH; d <= QK_JSON_MAX_DEPTH + 1; d++) {
		memset(text, '[', (size_t)d);
		memset(text + d, ']', (size_t)d);
		assert_int_equal(qk_json_parse(text, 2 * (size_t)d, "d.json", 0, &root, &e),
				 d == QK_JSON_MAX_DEPTH ? QK_OK : QK_E_INVALID);
		cJSON_Delete(root);
	}
	snprintf(want, sizeof(want), "d.json: nesting deeper than the limit of %d arrays and objects"
		 " at byte %d", QK_JSON_MAX_DEPTH, QK_JSON_MAX_DEPTH);
	assert_non_null(strstr(e.msg, want));
}

/* the size limit is checked before a byte is read: the buffer is reserved
 * but never touched */
static void test_size_limit(void **state)
{
	char *big = malloc((size_t)QK_JSON_MAX_BYTES + 1);
	char want[128];
	cJSON *root;
	qk_err e;

	(void)state;
	assert_non_null(big);
	assert_int_equal(qk_json_parse(big, (size_t)QK_JSON_MAX_BYTES + 1, "t.json", 0, &root, &e),
			 QK_E_INVALID);
	snprintf(want, sizeof(want), "t.json: %u bytes of JSON, more than the limit of %u bytes",
		 QK_JSON_MAX_BYTES + 1, QK_JSON_MAX_BYTES);
	assert_string_equal(e.msg, want);
	free(big);
}

/* the value limit: counted by the scan, refused before any tree is built,
 * so a text of QK_JSON_MAX_VALUES + 1 zeros costs no tree memory */
static void test_value_limit(void **state)
{
	const size_t n = (size_t)QK_JSON_MAX_VALUES; /* array + n - 1 zeros: the limit */
	char *text = malloc(2 * n + 2);
	cJSON *root;
	qk_err e;
	size_t len;

	(void)state;
	assert_non_null(text);
	text[0] = '[';
	for (size_t i = 0; i < n - 1; i++) {
		text[1 + 2 * i] = '0';
		text[2 + 2 * i] = ',';
	}
	len = 2 * (n - 1);
	text[len] = ']'; /* replaces the last comma: n - 1 zeros, n values */
	assert_int_equal(qk_json_parse(text, len + 1, "t.json", 0, &root, &e), QK_OK);
	assert_int_equal(cJSON_GetArraySize(root), (int)(n - 1));
	cJSON_Delete(root);
	text[len] = ',';
	text[len + 1] = '0';
	text[len + 2] = ']';
	assert_int_equal(qk_json_parse(text, len + 3, "t.json", 0, &root, &e), QK_E_INVALID);
	assert_null(root);
	assert_non_null(strstr(e.msg, "t.json: more than the limit of 4194304 values"));
	free(text);
}

static void test_load_and_kind(void **state)
{
	cJSON *root;
	qk_err e;

	(void)state;
	assert_int_equal(qk_json_load("/nonexistent/x.json", &root, &e), QK_E_IO);
	assert_null(root);
	assert_string_equal(qk_json_kind(NULL), "nothing");
	assert_int_equal(qk_json_parse("[{},[],\"s\",1,true,null]", 23, "k", 0, &root, &e), QK_OK);
	{
		static const char *const want[] = { "an object", "an array", "a string", "a number",
						    "a boolean", "null" };
		const cJSON *c = root->child;
		for (size_t i = 0; i < 6; i++, c = c->next)
			assert_string_equal(qk_json_kind(c), want[i]);
	}
	cJSON_Delete(root);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* A document too large for the memory left: QK_E_NOMEM (exit 4), never
 * "invalid JSON". A child process with an address-space limit parses 2M
 * empty objects (~130 MB of cJSON nodes from 6 MB of text). Not under ASan,
 * which reserves terabytes of address space. */
static void test_out_of_memory_is_not_invalid(void **state)
{
#ifdef UNDER_ASAN
	(void)state;
	skip();
#else
	const size_t n = 2000000;
	char *text = malloc(3 * n + 2);
	pid_t pid;
	int status;

	(void)state;
	assert_non_null(text);
	text[0] = '[';
	for (size_t i = 0; i < n; i++)
		memcpy(text + 1 + 3 * i, "{},", 3);
	text[3 * n] = ']';
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl;
		unsigned long pages = 0;
		FILE *f = fopen("/proc/self/statm", "r");
		cJSON *root;
		qk_err e;
		int rc;

		if (!f || fscanf(f, "%lu", &pages) != 1)
			_exit(10);
		fclose(f);
		rl.rlim_cur = rl.rlim_max = pages * (unsigned long)sysconf(_SC_PAGESIZE) + (48u << 20);
		if (setrlimit(RLIMIT_AS, &rl))
			_exit(11);
		rc = qk_json_parse(text, 3 * n + 1, "big.json", 0, &root, &e);
		_exit(rc == QK_E_NOMEM && strstr(e.msg, "big.json: out of memory") ? 0 : 12);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(text);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_load_and_kind),
		cmocka_unit_test(test_out_of_memory_is_not_invalid),
		cmocka_unit_test(test_value_limit), /* last: its freed tree stays in the heap */
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
