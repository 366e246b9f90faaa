/* common.c - shared CLI helpers; see common.h. */
#include "common.h"

#include "../formats/base/outfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "version.h" /* QK_COMMIT, made by the Makefile in build/gen/ */

#include "../formats/base/outfile.h"
#include "../formats/base/path.h"
#include "../formats/container/catalog.h"
#include "../formats/model/model.h"

const char *cli_prog = "qwenkit";

int cli_fail(const qk_err *err)
{
	const char *msg = err && err->msg[0] ? err->msg : "unknown error";
	size_t n = strlen(msg), k = strlen(QK_NONFINITE_REFUSED);
	bool hint = err && err->code == QK_E_INVALID && n >= k &&
		    !strcmp(msg + n - k, QK_NONFINITE_REFUSED);

	fprintf(stderr, "%s: error: %s%s\n", cli_prog, msg,
		hint ? " (--allow-nonfinite accepts them)" : "");
	return qk_err_exit_code(err ? err->code : QK_E_IO);
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ntry '%s --help'\n", cli_prog);
	return EXIT_USAGE;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: warning: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void out_note(const char *msg)
{
	fprintf(stderr, "%s: note: %s\n", cli_prog, msg);
}

void cli_outputs_init(void)
{
	qk_out_set_notice(out_note);
}

bool cli_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+') {
		cli_usage_error("option '%s' needs a non-negative integer, got '%s'", opt, s ? s : "");
		return false;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max) {
		cli_usage_error("option '%s': '%s' is not an integer in [%llu, %llu]", opt, s,
				(unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = v;
	return true;
}

void cli_print_version(const char *tool)
{
	printf("%s (qwenkit) %s, commit %s\n", tool, QK_VERSION, QK_COMMIT);
}

unsigned cli_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1u : n > 256 ? 256u : (unsigned)n;
}

int cli_not_implemented(const char *tool, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: %s [OPTIONS]\n\n%s is not yet implemented in this build.\n\n"
			       "options:\n  -h, --help     print this note and exit\n"
			       "  --version      print the version and exit\n", tool, tool);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--version") == 0) {
			cli_print_version(tool);
			return EXIT_OK;
		}
	}
	fprintf(stderr, "%s: not yet implemented\n", tool);
	return EXIT_USAGE;
}

/* The one list of side files: what any tool reads, or a Hugging Face
 * checkpoint directory holds, next to the weights. */
static const char *const side_files[] = {
	"config.json", "generation_config.json", "model.safetensors.index.json",
	"tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
	"special_tokens_map.json", "added_tokens.json", "qwen.tiktoken",
	"chat_template.jinja", "chat_template.json", "README.md",
};

int cli_forbid_inputs(const char *path, const struct qk_catalog *cat, qk_err *err)
{
	int rc = qk_out_forbid(path, err);

	if (!rc && cat->path)
		rc = qk_out_forbid(cat->path, err);
	for (size_t i = 0; !rc && i < cat->n_files; i++)
		if (cat->files[i].path)
			rc = qk_out_forbid(cat->files[i].path, err);
	for (size_t i = 0; !rc && cat->dir && i < sizeof(side_files) / sizeof(side_files[0]); i++) {
		char *p = qk_path_join(cat->dir, side_files[i]);

		if (!p)
			return qk_err_set(err, QK_E_NOMEM, "out of memory");
		rc = qk_out_forbid(p, err);
		free(p);
	}
	return rc;
}
