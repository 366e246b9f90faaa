/* test_outfile.c - atomic writer: complete-or-nothing, signals, refusals;
 * the same bytes with and without O_DIRECT and its writer threads. */
#include <stdarg.h>
#include <stdbool.h>
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

#include "testdir.h"
#include "../../formats/base/outfile.h"
#include "../../formats/base/io.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	return td_make(dir, sizeof(dir), "out");
}

static int teardown(void **state)
{
	(void)state;
	return td_remove(dir);
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

/* The same bytes through the page cache and around it (O_DIRECT, where /tmp
 * allows it): writes of odd sizes that straddle the 1 MiB buffer, zeros, and
 * a last partial buffer. */
static void write_pattern(const char *target, const uint8_t *src, size_t n, bool direct)
{
	static const size_t steps[] = { 1, 4095, 70001, 1048576, 3, 1500000 };
	struct qk_out *o;
	qk_err e;
	size_t off = 0;

	if (direct)
		unsetenv("QWENKIT_DIRECT_IO");
	else
		setenv("QWENKIT_DIRECT_IO", "off", 1);
	assert_int_equal(qk_out_open(&o, target, &e), QK_OK);
	if (!direct)
		assert_false(qk_out_is_direct(o));
	for (size_t k = 0; off < n; k++) {
		size_t s = steps[k % 6] < n - off ? steps[k % 6] : n - off;

		assert_int_equal(qk_out_write(o, src + off, s, &e), QK_OK);
		off += s;
		if (k == 2)
			assert_int_equal(qk_out_zeros(o, 12345, &e), QK_OK);
	}
	assert_true(qk_out_tell(o) == n + 12345);
	if (direct && !qk_out_is_direct(o))
		print_message("note: /tmp refuses O_DIRECT: only buffered writes were checked\n");
	assert_int_equal(qk_out_commit(o, &e), QK_OK);
	unsetenv("QWENKIT_DIRECT_IO");
}

static void test_direct_and_buffered_same_bytes(void **state)
{
	char a[128], b[128];
	static uint8_t src[(5 << 20) + 777];
	qk_map ma, mb;
	qk_err e;
	struct qk_out *o;

	(void)state;
	snprintf(a, sizeof(a), "%s/direct.bin", dir);
	snprintf(b, sizeof(b), "%s/buffered.bin", dir);
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 131 + (i >> 12));
	write_pattern(a, src, sizeof(src), true);
	write_pattern(b, src, sizeof(src), false);
	assert_int_equal(qk_map_open(&ma, a, &e), QK_OK);
	assert_int_equal(qk_map_open(&mb, b, &e), QK_OK);
	assert_int_equal(ma.size, sizeof(src) + 12345);
	assert_int_equal(mb.size, sizeof(src) + 12345);
	assert_memory_equal(ma.data, mb.data, ma.size);
	/* the pattern, the zeros after the third write, the rest of the pattern */
	assert_memory_equal(ma.data, src, 1 + 4095 + 70001);
	for (size_t i = 0; i < 12345; i++)
		assert_int_equal(ma.data[1 + 4095 + 70001 + i], 0);
	assert_memory_equal(ma.data + 1 + 4095 + 70001 + 12345, src + 1 + 4095 + 70001,
			    sizeof(src) - (1 + 4095 + 70001));
	qk_map_close(&ma);
	qk_map_close(&mb);
	unlink(a);
	unlink(b);
	/* the default, on this filesystem: ext4 and xfs take O_DIRECT, tmpfs not */
	assert_int_equal(qk_out_open(&o, a, &e), QK_OK);
	print_message("/tmp %s O_DIRECT\n", qk_out_is_direct(o) ? "takes" : "refuses");
	qk_out_abort(o);
}

/* More outputs open at once than writer threads (16): the others write in
 * the caller; each file gets its own bytes, interleaved writes or not */
static void test_many_outputs_at_once(void **state)
{
	enum { N = 20, PIECE = 700000, PIECES = 4 };
	static uint8_t piece[PIECE];
	struct qk_out *o[N];
	char target[N][128];
	qk_err e;

	(void)state;
	for (int k = 0; k < N; k++) {
		snprintf(target[k], sizeof(target[k]), "%s/many%02d.bin", dir, k);
		assert_int_equal(qk_out_open(&o[k], target[k], &e), QK_OK);
	}
	for (int p = 0; p < PIECES; p++)
		for (int k = 0; k < N; k++) {
			memset(piece, k * 16 + p, sizeof(piece));
			assert_int_equal(qk_out_write(o[k], piece, sizeof(piece), &e), QK_OK);
		}
	for (int k = 0; k < N; k++) {
		qk_map m;

		assert_int_equal(qk_out_commit(o[k], &e), QK_OK);
		assert_int_equal(qk_map_open(&m, target[k], &e), QK_OK);
		assert_int_equal(m.size, (size_t)PIECE * PIECES);
		for (size_t i = 0; i < m.size; i += 4093)
			if (m.data[i] != (uint8_t)(k * 16 + i / PIECE))
				fail_msg("output %d, byte %zu: %d", k, i, m.data[i]);
		qk_map_close(&m);
		unlink(target[k]);
	}
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
	qk_out_forbid(target, NULL);
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
	assert_non_null(strstr(e.msg, "cannot write there: directory"));
	assert_non_null(strstr(e.msg, target)); /* the path given, not a temporary */
}


/* ---- directories ---- */

static void put_file(const char *path, const char *text)
{
	assert_int_equal(td_put(path, text), 0);
}



/* a committed output holding `text` */
static void write_output(const char *target, const char *text)
{
	struct qk_out *o;
	qk_err e;

	assert_int_equal(qk_out_open(&o, target, &e), QK_OK);
	assert_int_equal(qk_out_write(o, text, strlen(text), &e), QK_OK);
	assert_int_equal(qk_out_commit(o, &e), QK_OK);
}

static void test_outdir_new_and_empty_target(void **state)
{
	char target[128], file[192];
	struct qk_outdir *d;
	qk_err e;

	(void)state;
	snprintf(target, sizeof(target), "%s/out/", dir); /* trailing slash ignored */
	assert_int_equal(qk_outdir_open(&d, target, &e), QK_OK);
	assert_non_null(strstr(qk_outdir_temp_path(d), "/out.tmp-qwenkit-"));
	snprintf(file, sizeof(file), "%s/config.json", qk_outdir_temp_path(d));
	write_output(file, "{}");
	assert_false(exists(target));
	assert_int_equal(qk_outdir_commit(d, false, &e), QK_OK);
	snprintf(file, sizeof(file), "%s/out/config.json", dir);
	assert_string_equal(td_slurp(file), "{}");
	assert_int_equal(count_entries(), 1); /* out, no temporary */
	/* an existing empty directory is replaced */
	unlink(file);
	assert_int_equal(qk_outdir_open(&d, target, &e), QK_OK);
	snprintf(file, sizeof(file), "%s/model.safetensors", qk_outdir_temp_path(d));
	write_output(file, "w");
	assert_int_equal(qk_outdir_commit(d, false, &e), QK_OK);
	snprintf(file, sizeof(file), "%s/out/model.safetensors", dir);
	assert_string_equal(td_slurp(file), "w");
	assert_int_equal(count_entries(), 1);
	unlink(file);
	snprintf(file, sizeof(file), "%s/out", dir);
	rmdir(file);
}

static void test_outdir_nonempty_and_merge(void **state)
{
	char target[128], keep[192], old[192], file[192];
	struct qk_outdir *d;
	qk_err e;

	(void)state;
	snprintf(target, sizeof(target), "%s/hf", dir);
	assert_int_equal(mkdir(target, 0777), 0);
	snprintf(keep, sizeof(keep), "%s/README.md", target);
	snprintf(old, sizeof(old), "%s/config.json", target);
	put_file(keep, "readme");
	put_file(old, "old");
	/* without merge: refused, target untouched, temporary removed */
	assert_int_equal(qk_outdir_open(&d, target, &e), QK_OK);
	snprintf(file, sizeof(file), "%s/config.json", qk_outdir_temp_path(d));
	write_output(file, "new");
	assert_int_equal(qk_outdir_commit(d, false, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "exists and is not empty"));
	assert_string_equal(td_slurp(old), "old");
	assert_int_equal(count_entries(), 1);
	/* an input in the way: refused before anything moves */
	qk_out_forbid(old, NULL);
	assert_int_equal(qk_outdir_open(&d, target, &e), QK_OK);
	snprintf(file, sizeof(file), "%s/a.json", qk_outdir_temp_path(d));
	write_output(file, "a");
	snprintf(file, sizeof(file), "%s/config.json", qk_outdir_temp_path(d));
	write_output(file, "new");
	assert_int_equal(qk_outdir_commit(d, true, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "output path is one of the inputs"));
	assert_string_equal(td_slurp(old), "old");
	snprintf(file, sizeof(file), "%s/a.json", target);
	assert_false(exists(file));
	assert_int_equal(count_entries(), 1);
	qk_out_forbid_clear();
	/* merge: same names replaced, others kept */
	assert_int_equal(qk_outdir_open(&d, target, &e), QK_OK);
	snprintf(file, sizeof(file), "%s/config.json", qk_outdir_temp_path(d));
	write_output(file, "new");
	assert_int_equal(qk_outdir_commit(d, true, &e), QK_OK);
	assert_string_equal(td_slurp(old), "new");
	assert_string_equal(td_slurp(keep), "readme");
	assert_int_equal(count_entries(), 1);
	unlink(old);
	unlink(keep);
	rmdir(target);
}

static void test_outdir_refusals(void **state)
{
	char target[128];
	struct qk_outdir *d = NULL;
	qk_err e;

	(void)state;
	snprintf(target, sizeof(target), "%s/file", dir);
	put_file(target, "x");
	assert_int_equal(qk_outdir_open(&d, target, &e), QK_E_USAGE);
	assert_null(d);
	assert_non_null(strstr(e.msg, "exists and is not a directory"));
	unlink(target);
	snprintf(target, sizeof(target), "%s/no/such/out", dir);
	assert_int_equal(qk_outdir_open(&d, target, &e), QK_E_IO);
	assert_non_null(strstr(e.msg, "cannot write there: directory"));
	assert_int_equal(count_entries(), 0);
	qk_outdir_abort(NULL);
}

static void test_outdir_abort_and_signal(void **state)
{
	char target[128], file[192];
	struct qk_outdir *d;
	qk_err e;
	pid_t pid;
	int status;

	(void)state;
	snprintf(target, sizeof(target), "%s/ab", dir);
	assert_int_equal(qk_outdir_open(&d, target, &e), QK_OK);
	snprintf(file, sizeof(file), "%s/model-00001-of-00002.safetensors", qk_outdir_temp_path(d));
	write_output(file, "shard");
	qk_outdir_abort(d);
	assert_int_equal(count_entries(), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct qk_out *o;
		char f2[192];

		if (qk_outdir_open(&d, target, &e) != QK_OK)
			_exit(10);
		for (int i = 0; i < 40; i++) { /* more than one getdents64 buffer */
			snprintf(f2, sizeof(f2), "%s/model-%05d-of-00040.safetensors-with-a-long-name",
				 qk_outdir_temp_path(d), i + 1);
			write_output(f2, "done");
		}
		snprintf(f2, sizeof(f2), "%s/config.json", qk_outdir_temp_path(d));
		if (qk_out_open(&o, f2, &e) != QK_OK) /* one still being written */
			_exit(11);
		raise(SIGINT);
		_exit(12);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGINT);
	assert_int_equal(count_entries(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_writes_everything),
		cmocka_unit_test(test_direct_and_buffered_same_bytes),
		cmocka_unit_test(test_many_outputs_at_once),
		cmocka_unit_test(test_abort_leaves_target_untouched),
		cmocka_unit_test(test_sigint_removes_temp),
		cmocka_unit_test(test_refuses_input_as_output),
		cmocka_unit_test(test_missing_directory_is_io_error),
		cmocka_unit_test(test_outdir_new_and_empty_target),
		cmocka_unit_test(test_outdir_nonempty_and_merge),
		cmocka_unit_test(test_outdir_refusals),
		cmocka_unit_test(test_outdir_abort_and_signal),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
