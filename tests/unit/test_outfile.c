/* test_outfile.c - atomic writer: complete-or-nothing, signals, refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../formats/outfile.h"
#include "../../formats/io.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/qk_out_XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

static int count_entries(void)
{
	char cmd[128];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
	f = popen(cmd, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

static void test_commit_writes_everything(void **state)
{
	char target[128];
	struct qk_out *o;
	qk_err e;
	qk_map m;
	static uint8_t big[3 << 20]; /* more than the 1 MiB buffer */

	(void)state;
	snprintf(target, sizeof(target), "%s/out.bin", dir);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31);
	assert_int_equal(qk_out_open(&o, target, &e), QK_OK);
	assert_false(exists(target));
	assert_true(exists(qk_out_temp_path(o)));
	assert_int_equal(qk_out_write(o, big, sizeof(big), &e), QK_OK);
	assert_int_equal(qk_out_zeros(o, 10, &e), QK_OK);
	assert_true(qk_out_tell(o) == sizeof(big) + 10);
	assert_int_equal(qk_out_commit(o, &e), QK_OK);
	assert_int_equal(qk_map_open(&m, target, &e), QK_OK);
	assert_int_equal(m.size, sizeof(big) + 10);
	assert_memory_equal(m.data, big, sizeof(big));
	assert_int_equal(m.data[sizeof(big) + 9], 0);
	qk_map_close(&m);
	assert_int_equal(count_entries(), 1); /* no temp left behind */
	unlink(target);
}

static void test_abort_leaves_target_untouched(void **state)
{
	char target[128];
	struct qk_out *o;
	qk_err e;
	qk_map m;
	FILE *f;

	(void)state;
	snprintf(target, sizeof(target), "%s/keep.bin", dir);
	f = fopen(target, "w");
	fputs("original", f);
	fclose(f);
	assert_int_equal(qk_out_open(&o, target, &e), QK_OK);
	assert_int_equal(qk_out_write(o, "partial", 7, &e), QK_OK);
	qk_out_abort(o);
	qk_out_abort(NULL);
	assert_int_equal(qk_map_open(&m, target, &e), QK_OK);
	assert_memory_equal(m.data, "original", 8);
	qk_map_close(&m);
	assert_int_equal(count_entries(), 1);
	unlink(target);
}

static void test_sigint_removes_temp(void **state)
{
	char target[128];
	pid_t pid;
	int status;

	(void)state;
	snprintf(target, sizeof(target), "%s/sig.bin", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct qk_out *o;
		qk_err e;
		if (qk_out_open(&o, target, &e) != QK_OK)
			_exit(10);
		if (qk_out_write(o, "data", 4, &e) != QK_OK)
			_exit(11);
		raise(SIGINT);
		_exit(12); /* not reached: SIGINT re-raised with the default action */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGINT);
	assert_false(exists(target));
	assert_int_equal(count_entries(), 0);
}

static void test_refuses_input_as_output(void **state)
{
	char target[128];
	struct qk_out *o = NULL;
	qk_err e;
	FILE *f;

	(void)state;
	snprintf(target, sizeof(target), "%s/in.safetensors", dir);
	f = fopen(target, "w");
	fputs("x", f);
	fclose(f);
	qk_out_forbid(target);
	assert_int_equal(qk_out_open(&o, target, &e), QK_E_USAGE);
	assert_null(o);
	assert_non_null(strstr(e.msg, "output path is one of the inputs"));
	qk_out_forbid_clear();
	unlink(target);
}

static void test_missing_directory_is_io_error(void **state)
{
	struct qk_out *o = NULL;
	qk_err e;
	char target[160];

	(void)state;
	snprintf(target, sizeof(target), "%s/no/such/dir/out.gguf", dir);
	assert_int_equal(qk_out_open(&o, target, &e), QK_E_IO);
	assert_null(o);
	assert_non_null(strstr(e.msg, "cannot create output"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_writes_everything),
		cmocka_unit_test(test_abort_leaves_target_untouched),
		cmocka_unit_test(test_sigint_removes_temp),
		cmocka_unit_test(test_refuses_input_as_output),
		cmocka_unit_test(test_missing_directory_is_io_error),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
