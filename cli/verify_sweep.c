/* verify_sweep.c - `qwen-verify sweep MODEL --types A,B,...`: which type to
 * ship. The reference runs once (qwen-verify perplexity --save-base, a
 * llama-perplexity KL-divergence base file); each type is then made by
 * qwen-quant and measured against that base (qwen-verify compare --base),
 * each step a child process of the installed tools, so a sweep computes
 * exactly what the three commands a user would type compute. One table:
 * type, bytes, bits per weight, PPL, KLD, same top p, RMS dp, and with
 * thresholds, pass or fail per type. See man/qwen-verify.1. */
#include "verify.h"
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../formats/base/path.h"
#include "../quant/mix.h"

extern char **environ;

#define SWEEP_MAX_TYPES 32
#define SWEEP_MAX_ARGS 64
#define SWEEP_MAX_OUT (64u << 20)  /* bytes of a child's JSON */

struct sweep_row {
	const struct qm_mix *mix;
	char *path;                 /* the quantized file */
	cJSON *rep;                 /* compare --json, or NULL */
	int rc;                     /* compare's exit status */
};

/* ---- child processes ---- */

struct argv_b {
	char *v[SWEEP_MAX_ARGS + 1];  /* execve's type; the strings are never written */
	char num[24][32];           /* storage for formatted numbers */
	size_t n, n_num;
};

static void arg(struct argv_b *a, const char *s)
{
	if (a->n < SWEEP_MAX_ARGS)
		a->v[a->n++] = (char *)(uintptr_t)s;
	a->v[a->n] = NULL;
}

static void arg_num(struct argv_b *a, const char *opt, double v)
{
	if (a->n_num >= sizeof(a->num) / sizeof(a->num[0]))
		return;
	snprintf(a->num[a->n_num], sizeof(a->num[0]), "%.17g", v);
	arg(a, opt);
	arg(a, a->num[a->n_num++]);
}

/* Run argv; its stdout into *out (NUL-terminated, malloc'd) when out is not
 * NULL, else to /dev/null; stderr passes through. *status: its exit status. */
static int spawn_capture(char *const *argv, char **out, int *status, qk_err *err)
{
	posix_spawn_file_actions_t fa;
	int fd[2] = { -1, -1 }, rc = QK_OK, ws;
	size_t n = 0, cap = 0;
	char *buf = NULL;
	pid_t pid;

	if (out && pipe(fd))
		return qk_err_set(err, QK_E_IO, "cannot make a pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	if (out) {
		posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
		posix_spawn_file_actions_addclose(&fa, fd[0]);
		posix_spawn_file_actions_addclose(&fa, fd[1]);
	} else {
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	}
	errno = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (errno) {
		rc = qk_err_set(err, QK_E_IO, "cannot run %s: %s", argv[0], strerror(errno));
		if (out) {
			close(fd[0]);
			close(fd[1]);
		}
		return rc;
	}
	if (out) {
		close(fd[1]);
		for (;;) {
			ssize_t k;

			if (n + 4096 + 1 > cap) {
				char *nb = cap < SWEEP_MAX_OUT ? realloc(buf, cap ? 2 * cap : 65536) : NULL;
				if (!nb) {
					rc = qk_err_set(err, QK_E_NOMEM, "%s: output too large", argv[0]);
					break;
				}
				buf = nb;
				cap = cap ? 2 * cap : 65536;
			}
			k = read(fd[0], buf + n, cap - n - 1);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			n += (size_t)k;
		}
		close(fd[0]);
	}
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR) {
			rc = rc ? rc : qk_err_set(err, QK_E_IO, "waiting for %s: %s", argv[0],
						  strerror(errno));
			break;
		}
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
	if (rc || !out) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	return QK_OK;
}

/* the qwen-quant beside this qwen-verify (as installed or built), else PATH's */
static char *tool_path(const char *self, const char *tool)
{
	char exe[PATH_MAX];
	ssize_t k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash, *p;

	if (k > 0) {
		exe[k] = '\0';
		if ((slash = strrchr(exe, '/'))) {
			*slash = '\0';
			if ((p = qk_path_join(exe, tool)) && access(p, X_OK) == 0)
				return p;
			free(p);
			if (strcmp(tool, self) == 0) {
				*slash = '/';
				return strdup(exe);
			}
		}
	}
	return strdup(tool);
}

/* the options every child shares: threads, -q, --allow-nonfinite */
static void common_args(struct argv_b *a, const struct verify_opts *o)
{
	arg_num(a, "-t", o->n_threads);
	arg(a, "-q");
	if (o->allow_nonfinite)
		arg(a, "--allow-nonfinite");
}

/* ---- the steps ---- */

static int reference(const struct verify_opts *o, const char *self, const char *model,
		     const char *base, cJSON **rep, qk_err *err)
{
	struct argv_b a = { 0 };
	char *out = NULL;
	int st, rc;

	arg(&a, self);
	arg(&a, "perplexity");
	arg(&a, model);
	if (o->text) { arg(&a, "--text"); arg(&a, o->text); }
	if (o->text_file) { arg(&a, "--text-file"); arg(&a, o->text_file); }
	if (o->chat) { arg(&a, "--chat"); arg(&a, o->chat); }
	if (o->tokens) { arg(&a, "--tokens"); arg(&a, o->tokens); }
	if (o->tokens_file) { arg(&a, "--tokens-file"); arg(&a, o->tokens_file); }
	if (o->n_ctx)
		arg_num(&a, "--ctx", o->n_ctx);
	if (o->n_chunks)
		arg_num(&a, "--chunks", o->n_chunks);
	arg(&a, "--save-base");
	arg(&a, base);
	arg(&a, "--json");
	common_args(&a, o);
	if ((rc = spawn_capture(a.v, &out, &st, err)))
		return rc;
	if (st) {
		free(out);
		return qk_err_set(err, st == 2 ? QK_E_USAGE : st == 3 ? QK_E_INVALID : QK_E_IO,
				  "the reference pass failed (qwen-verify perplexity %s: exit %d)",
				  model, st);
	}
	*rep = cJSON_Parse(out);
	free(out);
	return *rep ? QK_OK : qk_err_set(err, QK_E_IO, "qwen-verify perplexity: unreadable JSON");
}

static int quantize(const struct verify_opts *o, const char *quant, const char *model,
		    const struct sweep_row *r, qk_err *err)
{
	struct argv_b a = { 0 };
	int st, rc;

	arg(&a, quant);
	arg(&a, model);
	arg(&a, "-o");
	arg(&a, r->path);
	arg(&a, "--type");
	arg(&a, r->mix->name);
	common_args(&a, o);
	if ((rc = spawn_capture(a.v, NULL, &st, err)))
		return rc;
	if (st)
		return qk_err_set(err, st == 2 ? QK_E_USAGE : st == 3 ? QK_E_INVALID : QK_E_IO,
				  "qwen-quant %s --type %s failed (exit %d)", model, r->mix->name, st);
	return QK_OK;
}

static int measure(const struct verify_opts *o, const char *self, const char *base,
		   struct sweep_row *r, qk_err *err)
{
	struct argv_b a = { 0 };
	char opt[VT_COUNT][48];
	char *out = NULL;
	int rc;

	arg(&a, self);
	arg(&a, "compare");
	arg(&a, "--base");
	arg(&a, base);
	arg(&a, r->path);
	for (int i = 0; i < VT_COUNT; i++)
		if (o->thr.set[i]) {
			snprintf(opt[i], sizeof(opt[i]), "--%s", vt_rows[i].name);
			arg_num(&a, opt[i], o->thr.val[i]);
		}
	if (o->thresholds) {
		arg(&a, "--thresholds");
		arg(&a, o->thresholds);
	}
	arg(&a, "--json");
	common_args(&a, o);
	if ((rc = spawn_capture(a.v, &out, &r->rc, err)))
		return rc;
	if (r->rc > 1) {
		free(out);
		return qk_err_set(err, QK_E_IO, "qwen-verify compare of %s failed (exit %d)", r->path,
				  r->rc);
	}
	r->rep = cJSON_Parse(out);
	free(out);
	return r->rep ? QK_OK : qk_err_set(err, QK_E_IO, "qwen-verify compare: unreadable JSON");
}

/* ---- the table ---- */

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static bool judged(const struct verify_opts *o)
{
	return o->thr.any || o->thresholds;
}

static void print_table(const struct verify_opts *o, const char *model, const cJSON *ref,
			const struct sweep_row *rows, size_t n)
{
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(ref, "input");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(ref, "model");

	printf("sweep of %s: %.0f chunks of %.0f tokens, %.0f predictions\n", model,
	       num(in, "n_chunk"), num(in, "n_ctx"), num(ref, "n_predictions"));
	printf("%-8s %12s %6s  %-23s  %-23s %10s  %-17s %8s%s\n", "type", "bytes", "bpw", "PPL",
	       "mean KLD", "KLD p99", "same top p %", "RMS dp %", judged(o) ? "  result" : "");
	printf("%-8s %12.0f %6.2f  %11.5g +/- %-7.3g\n", "(ref)", num(m, "bytes"), num(m, "bpw"),
	       num(ref, "ppl"), num(ref, "ppl_err"));
	for (size_t i = 0; i < n; i++) {
		const cJSON *c = rows[i].rep, *cand = cJSON_GetObjectItemCaseSensitive(c, "candidate");

		printf("%-8s %12.0f %6.2f  %11.5g +/- %-7.3g  %9.6f +/- %-9.6f %10.6f  %7.3f +/- %-6.3f "
		       "%8.4f%s\n", rows[i].mix->name, num(cand, "bytes"), num(cand, "bpw"),
		       num(c, "ppl_candidate"), num(c, "ppl_candidate_err"), num(c, "kld_mean"),
		       num(c, "kld_mean_err"), num(c, "kld_p99"), num(c, "top1_agreement"),
		       num(c, "top1_agreement_err"), num(c, "rms_dp"),
		       !judged(o) ? "" : rows[i].rc ? "  FAIL" : "  pass");
	}
}

static int emit_json(const struct verify_opts *o, const char *model, cJSON *ref,
		     struct sweep_row *rows, size_t n, bool kept, qk_err *err)
{
	static const char *const keys[] = {
		"ppl_candidate", "ppl_candidate_err", "ln_ppl_ratio", "ln_ppl_ratio_err", "kld_mean",
		"kld_mean_err", "kld_p99", "kld_max", "top1_agreement", "top1_agreement_err",
		"rms_dp", "rms_dp_err",
	};
	cJSON *root = cJSON_CreateObject(), *arr, *r;

	if (!root)
		return qk_err_set(err, QK_E_NOMEM, "out of memory building JSON");
	cJSON_AddStringToObject(root, "model", model);
	r = cJSON_AddObjectToObject(root, "reference");
	if (r) {
		cJSON_AddItemReferenceToObject(r, "model", cJSON_GetObjectItemCaseSensitive(ref, "model"));
		cJSON_AddItemReferenceToObject(r, "input", cJSON_GetObjectItemCaseSensitive(ref, "input"));
		cJSON_AddNumberToObject(r, "ppl", num(ref, "ppl"));
		cJSON_AddNumberToObject(r, "ppl_err", num(ref, "ppl_err"));
	}
	arr = cJSON_AddArrayToObject(root, "types");
	for (size_t i = 0; arr && i < n; i++) {
		const cJSON *c = rows[i].rep, *cand = cJSON_GetObjectItemCaseSensitive(c, "candidate");
		cJSON *e = cJSON_CreateObject();

		if (!e)
			break;
		cJSON_AddStringToObject(e, "type", rows[i].mix->name);
		if (kept)
			cJSON_AddStringToObject(e, "path", rows[i].path);
		cJSON_AddNumberToObject(e, "bytes", num(cand, "bytes"));
		cJSON_AddNumberToObject(e, "bpw", num(cand, "bpw"));
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			cJSON_AddNumberToObject(e, keys[k], num(c, keys[k]));
		if (judged(o))
			cJSON_AddBoolToObject(e, "pass", rows[i].rc == 0);
		cJSON_AddItemToArray(arr, e);
	}
	return cli_emit_json(root, err);
}

/* --types: mix names, checked before anything runs */
static int parse_types(const char *list, struct sweep_row *rows, size_t *n, qk_err *err)
{
	const char *p = list;

	*n = 0;
	while (*p) {
		size_t len = strcspn(p, ",");
		char name[32];

		if (!len || len >= sizeof(name))
			return qk_err_set(err, QK_E_USAGE, "option '--types': '%.*s' is not a type",
					  (int)len, p);
		memcpy(name, p, len);
		name[len] = '\0';
		if (*n >= SWEEP_MAX_TYPES)
			return qk_err_set(err, QK_E_USAGE, "option '--types': more than %d types",
					  SWEEP_MAX_TYPES);
		if (!(rows[*n].mix = qm_mix_by_name(name))) {
			const char *names[64], *best;
			size_t k = 0;

			for (size_t i = 0; i < qm_mix_count() && k < 64; i++)
				names[k++] = qm_mix_at(i)->name;
			best = cli_suggest(name, strlen(name), names, k);
			return qk_err_set(err, QK_E_USAGE, "option '--types': '%s' is not a type "
					  "qwen-quant makes%s%s%s", name, best ? "; did you mean '" : "",
					  best ? best : " (qwen-quant --help lists them)", best ? "'?" : "");
		}
		for (size_t i = 0; i < *n; i++)
			if (rows[i].mix == rows[*n].mix)
				return qk_err_set(err, QK_E_USAGE, "option '--types': %s given twice",
						  rows[*n].mix->name);
		(*n)++;
		p += len;
		if (*p == ',')
			p++;
	}
	return *n ? QK_OK : qk_err_set(err, QK_E_USAGE, "option '--types' names no type");
}

static void remove_tree(const char *dir, struct sweep_row *rows, size_t n, const char *base)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].path)
			unlink(rows[i].path);
	unlink(base);
	rmdir(dir);
}

int verify_cmd_sweep(const struct verify_opts *o, const char **pos, size_t n_pos, qk_err *err)
{
	struct sweep_row rows[SWEEP_MAX_TYPES];
	char tmpl[PATH_MAX], *dir = NULL, *base = NULL, *self = NULL, *quant = NULL;
	const char *tmp = getenv("TMPDIR");
	bool fail = false;
	cJSON *ref = NULL;
	size_t n = 0;
	int rc;

	memset(rows, 0, sizeof(rows));
	if (n_pos != 1)
		return qk_err_set(err, QK_E_USAGE, "sweep needs one MODEL, got %zu arguments", n_pos);
	if (!o->types)
		return qk_err_set(err, QK_E_USAGE, "sweep needs --types, e.g. --types "
				  "Q4_K_M,Q5_K_M,Q8_0");
	if (!verify_is_text(o) && !o->tokens_file)
		return qk_err_set(err, QK_E_USAGE, "sweep measures on text: give --text-file (or "
				  "--text, --chat, --tokens-file)");
	if ((rc = parse_types(o->types, rows, &n, err)))
		return rc;
	if (o->keep_dir) {
		if (mkdir(o->keep_dir, 0777) && errno != EEXIST)
			return qk_err_set(err, QK_E_IO, "%s: cannot make the directory: %s", o->keep_dir,
					  strerror(errno));
		dir = strdup(o->keep_dir);
	} else {
		snprintf(tmpl, sizeof(tmpl), "%s/qwen-verify-sweep-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		dir = mkdtemp(tmpl) ? strdup(tmpl) : NULL;
		if (!dir)
			return qk_err_set(err, QK_E_IO, "%s: cannot make a temporary directory: %s", tmpl,
					  strerror(errno));
	}
	self = tool_path("qwen-verify", "qwen-verify");
	quant = tool_path("qwen-verify", "qwen-quant");
	base = dir ? qk_path_join(dir, "reference.kld") : NULL;
	if (!dir || !self || !quant || !base) {
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char file[48];

		snprintf(file, sizeof(file), "%s.gguf", rows[i].mix->name);
		if (!(rows[i].path = qk_path_join(dir, file))) {
			rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((rc = reference(o, self, pos[0], base, &ref, err)))
		goto out;
	for (size_t i = 0; i < n && !rc; i++) {
		if (!verify_quiet)
			fprintf(stderr, "%s: sweep: %s (%zu of %zu)\n", cli_prog, rows[i].mix->name, i + 1,
				n);
		if (!(rc = quantize(o, quant, pos[0], &rows[i], err)))
			rc = measure(o, self, base, &rows[i], err);
		if (!rc && !o->keep_dir)
			unlink(rows[i].path); /* one quantized file on disk at a time */
		fail |= !rc && rows[i].rc != 0;
	}
	if (rc)
		goto out;
	if (o->json)
		rc = emit_json(o, pos[0], ref, rows, n, o->keep_dir != NULL, err);
	else
		print_table(o, pos[0], ref, rows, n);
	if (!rc && judged(o) && fail) {
		for (size_t i = 0; i < n; i++)
			if (rows[i].rc)
				fprintf(stderr, "%s: sweep: %s is outside the thresholds\n", cli_prog,
					rows[i].mix->name);
		rc = QK_E_THRESHOLD;
	}
out:
	if (dir && !o->keep_dir)
		remove_tree(dir, rows, n, base ? base : "");
	for (size_t i = 0; i < n; i++) {
		free(rows[i].path);
		cJSON_Delete(rows[i].rep);
	}
	cJSON_Delete(ref);
	free(base);
	free(dir);
	free(self);
	free(quant);
	return rc;
}
