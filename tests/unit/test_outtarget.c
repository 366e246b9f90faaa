/* test_outtarget.c - what an output target may be (non-regular, symlinks,
 * permission bits, preflight refusals), the temp namespace (unguessable
 * names, stale temporaries of killed runs, a live concurrent writer) and sets
 * published all together or not at all. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testdir.h"
#include "../../formats/base/outfile.h"

static char dir[64];
static char notes[2048];

static void on_note(const char *msg)
{
	size_t n = strlen(notes);

	snprintf(notes + n, sizeof(notes) - n, "%s\n", msg);
}

static int setup(void **state)
{
	(void)state;
	qk_out_set_notice(on_note);
	return td_make(dir, sizeof(dir), "outt");
}

static int teardown(void **state)
{
	(void)state;
	chmod(dir, 0700);
	return td_remove(dir);
}

static void put_file(const char *path, const char *text)
{
	assert_int_equal(td_put(path, text), 0);
}



/* entries of the scratch directory, "." and ".." aside */
static int count_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

static int write_output(const char *target, const char *text, qk_err *e)
{
	struct qk_out *o;
	int rc = qk_out_open(&o, target, e);

	if (rc)
		return rc;
	if ((rc = qk_out_write(o, text, strlen(text), e))) {
		qk_out_abort(o);
		return rc;
	}
	return qk_out_commit(o, e);
}

static void test_non_regular_targets_refused(void **state)
{
	char fifo[128], link[128], msg[QK_ERR_MSG_MAX];
	struct qk_out *o = NULL;
	qk_err e;

	(void)state;
	/* a device node: refused before anything is created beside it */
	assert_int_equal(qk_out_check("/dev/null", 0, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "/dev/null: exists and is not a regular file"));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(qk_out_open(&o, fifo, &e), QK_E_USAGE);
	assert_null(o);
	snprintf(msg, sizeof(msg), "%s: exists and is not a regular file", fifo);
	assert_non_null(strstr(e.msg, msg));
	/* a symlink to one */
	snprintf(link, sizeof(link), "%s/tofifo", dir);
	assert_int_equal(symlink(fifo, link), 0);
	assert_int_equal(qk_out_open(&o, link, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "is not a regular file"));
	struct stat st;
	assert_int_equal(stat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(count_entries(), 2);
	unlink(link);
	unlink(fifo);
}

static void test_symlink_written_through(void **state)
{
	char real[128], link[128], dangling[128];
	struct stat st;
	qk_err e;

	(void)state;
	snprintf(real, sizeof(real), "%s/real.gguf", dir);
	snprintf(link, sizeof(link), "%s/link.gguf", dir);
	put_file(real, "old");
	assert_int_equal(symlink("real.gguf", link), 0);
	assert_int_equal(write_output(link, "new", &e), QK_OK);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode)); /* the link stays a link */
	assert_string_equal(td_slurp(real), "new");
	assert_int_equal(count_entries(), 2);
	/* a dangling link: refused */
	snprintf(dangling, sizeof(dangling), "%s/dangling.gguf", dir);
	assert_int_equal(symlink("nowhere.gguf", dangling), 0);
	assert_int_equal(write_output(dangling, "x", &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "dangling"));
	assert_int_equal(count_entries(), 3);
	unlink(dangling);
	unlink(link);
	unlink(real);
}

static void test_permission_bits_kept(void **state)
{
	char t[128];
	struct stat st;
	mode_t um = umask(022);
	qk_err e;

	(void)state;
	snprintf(t, sizeof(t), "%s/ro.gguf", dir);
	put_file(t, "old");
	assert_int_equal(chmod(t, 0444), 0);
	assert_int_equal(write_output(t, "new", &e), QK_OK);
	assert_int_equal(stat(t, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	assert_int_equal(chmod(t, 0640), 0);
	assert_int_equal(write_output(t, "newer", &e), QK_OK);
	assert_int_equal(stat(t, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	unlink(t);
	/* a new file: 0666 less the umask */
	assert_int_equal(write_output(t, "fresh", &e), QK_OK);
	assert_int_equal(stat(t, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	unlink(t);
	umask(um);
}

static void test_check_refuses_before_work(void **state)
{
	char t[160];
	qk_err e;

	(void)state;
	assert_int_equal(qk_out_check("", 0, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "the output path is empty"));
	assert_int_equal(qk_out_check(dir, 0, &e), QK_E_USAGE);
	assert_non_null(strstr(e.msg, "is a directory"));
	assert_non_null(strstr(e.msg, dir));
	snprintf(t, sizeof(t), "%s/", dir);
	assert_int_equal(qk_out_check(t, 0, &e), QK_E_USAGE);
	snprintf(t, sizeof(t), "%s/missing/out.gguf", dir);
	assert_int_equal(qk_out_check(t, 0, &e), QK_E_IO);
	assert_non_null(strstr(e.msg, t));
	assert_non_null(strstr(e.msg, "No such file or directory"));
	snprintf(t, sizeof(t), "%s/out.gguf", dir);
	assert_int_equal(qk_out_check(t, 1000, &e), QK_OK);
	assert_int_equal(qk_out_check(t, UINT64_MAX / 2, &e), QK_E_IO);
	assert_non_null(strstr(e.msg, "needs 9223372036854775807 bytes"));
	assert_int_equal(qk_outdir_check("", false, 0, &e), QK_E_USAGE);
	assert_int_equal(count_entries(), 0); /* a check creates nothing */
}

/* an unwritable directory, seen by a user the permission bits apply to */
static void test_check_unwritable_directory(void **state)
{
	char sub[128], t[160];
	pid_t pid;
	int status;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/ro", dir);
	assert_int_equal(mkdir(sub, 0555), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(t, sizeof(t), "%s/out.gguf", sub);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		qk_err e;

		if (geteuid() == 0 && setuid(65534) != 0)
			_exit(10);
		if (qk_out_check(t, 0, &e) != QK_E_IO || !strstr(e.msg, "cannot write in directory"))
			_exit(11);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	chmod(dir, 0700);
	rmdir(sub);
}

static void test_stale_temporary_removed(void **state)
{
	char t[128], stale[192], other[192];
	pid_t pid;
	int status;
	qk_err e;

	(void)state;
	snprintf(t, sizeof(t), "%s/m.gguf", dir);
	put_file(t, "old");
	/* a run killed with SIGKILL leaves its temporary */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct qk_out *o;

		if (qk_out_open(&o, t, &e) != QK_OK || qk_out_write(o, "partial", 7, &e) != QK_OK)
			_exit(10);
		qk_out_finish(o, &e);
		raise(SIGKILL);
		_exit(11);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(count_entries(), 2);
	/* one of the old pid-based form stays: not ours to judge */
	snprintf(stale, sizeof(stale), "%s.tmp-qwenkit-0123456789ab", t);
	snprintf(other, sizeof(other), "%s.tmp-1-1", t);
	put_file(stale, "x");
	put_file(other, "y");
	notes[0] = '\0';
	assert_int_equal(qk_out_check(t, 0, &e), QK_OK); /* a check removes nothing */
	assert_int_equal(count_entries(), 4);
	assert_int_equal(write_output(t, "new", &e), QK_OK);
	assert_string_equal(td_slurp(t), "new");
	assert_int_equal(count_entries(), 2); /* target + the foreign-looking file */
	assert_non_null(strstr(notes, "left behind by an earlier run that was killed"));
	assert_non_null(strstr(notes, "m.gguf.tmp-qwenkit-0123456789ab"));
	unlink(other);
	unlink(t);
}

static void test_live_writer_refused(void **state)
{
	char t[128];
	int go[2], done[2];
	pid_t pid;
	int status;
	char c;
	qk_err e;

	(void)state;
	snprintf(t, sizeof(t), "%s/busy.gguf", dir);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(done), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct qk_out *o;

		close(go[0]);
		close(done[1]);
		if (qk_out_open(&o, t, &e) != QK_OK)
			_exit(10);
		if (write(go[1], "g", 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(11);
		_exit(qk_out_commit(o, &e) == QK_OK ? 0 : 12);
	}
	close(go[1]);
	close(done[0]);
	assert_int_equal(read(go[0], &c, 1), 1);
	assert_int_equal(qk_out_check(t, 0, &e), QK_E_IO);
	assert_non_null(strstr(e.msg, "another process is writing it"));
	assert_int_equal(write_output(t, "second", &e), QK_E_IO);
	assert_non_null(strstr(e.msg, "another process is writing it"));
	assert_int_equal(write(done[1], "d", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(go[0]);
	close(done[1]);
	assert_int_equal(write_output(t, "third", &e), QK_OK); /* free again */
	unlink(t);
}

/* temporaries of one target never collide, whatever the pid */
static void test_temp_names_unique(void **state)
{
	struct qk_out *o[8];
	char t[128];
	qk_err e;

	(void)state;
	snprintf(t, sizeof(t), "%s/u.gguf", dir);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(qk_out_open(&o[i], t, &e), QK_E_IO * (i > 0));
		if (i > 0) /* the first one's lock: even this process is refused */
			assert_non_null(strstr(e.msg, "another process is writing it"));
	}
	assert_non_null(strstr(qk_out_temp_path(o[0]), "u.gguf.tmp-qwenkit-"));
	assert_int_equal(strlen(strstr(qk_out_temp_path(o[0]), ".tmp-qwenkit-")),
			 strlen(".tmp-qwenkit-") + 12);
	qk_out_abort(o[0]);
	assert_int_equal(count_entries(), 0);
}

static void set_files(char (*names)[128], int n, const char *tag)
{
	for (int i = 0; i < n; i++)
		snprintf(names[i], sizeof(names[i]), "%s/%s-%05d-of-%05d.gguf", dir, tag, i + 1, n);
}

static void test_set_all_or_nothing(void **state)
{
	char names[3][128], text[16];
	struct qk_out *m[3];
	qk_err e;

	(void)state;
	set_files(names, 3, "s");
	put_file(names[0], "old1"); /* an older set of two of the three names */
	put_file(names[2], "old3");
	for (int i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "new%d", i + 1);
		assert_int_equal(qk_out_open(&m[i], names[i], &e), QK_OK);
		assert_int_equal(qk_out_write(m[i], text, strlen(text), &e), QK_OK);
		assert_int_equal(qk_out_finish(m[i], &e), QK_OK);
	}
	/* the third rename fails after two members moved */
	unlink(qk_out_temp_path(m[2]));
	assert_int_equal(qk_out_commit_set(m, 3, &e), QK_E_IO);
	assert_non_null(strstr(e.msg, names[2]));
	assert_string_equal(td_slurp(names[0]), "old1");
	assert_int_equal(access(names[1], F_OK), -1);
	assert_string_equal(td_slurp(names[2]), "old3");
	assert_int_equal(count_entries(), 2); /* no temporary, no backup */
	/* and when all goes well, the new set */
	for (int i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "new%d", i + 1);
		assert_int_equal(qk_out_open(&m[i], names[i], &e), QK_OK);
		assert_int_equal(qk_out_write(m[i], text, strlen(text), &e), QK_OK);
		assert_int_equal(qk_out_finish(m[i], &e), QK_OK);
	}
	assert_int_equal(qk_out_commit_set(m, 3, &e), QK_OK);
	for (int i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "new%d", i + 1);
		assert_string_equal(td_slurp(names[i]), text);
		unlink(names[i]);
	}
	assert_int_equal(count_entries(), 0);
}

static void test_set_signal_keeps_older_set(void **state)
{
	char names[2][128];
	pid_t pid;
	int status;

	(void)state;
	set_files(names, 2, "k");
	put_file(names[0], "old1");
	put_file(names[1], "old2");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct qk_out *m[2];
		qk_err e;

		for (int i = 0; i < 2; i++)
			if (qk_out_open(&m[i], names[i], &e) || qk_out_write(m[i], "new", 3, &e) ||
			    qk_out_finish(m[i], &e))
				_exit(10);
		raise(SIGTERM);
		_exit(11);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_string_equal(td_slurp(names[0]), "old1");
	assert_string_equal(td_slurp(names[1]), "old2");
	assert_int_equal(count_entries(), 2);
	unlink(names[0]);
	unlink(names[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_non_regular_targets_refused),
		cmocka_unit_test(test_symlink_written_through),
		cmocka_unit_test(test_permission_bits_kept),
		cmocka_unit_test(test_check_refuses_before_work),
		cmocka_unit_test(test_check_unwritable_directory),
		cmocka_unit_test(test_stale_temporary_removed),
		cmocka_unit_test(test_live_writer_refused),
		cmocka_unit_test(test_temp_names_unique),
		cmocka_unit_test(test_set_all_or_nothing),
		cmocka_unit_test(test_set_signal_keeps_older_set),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
