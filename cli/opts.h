/* opts.h - table-driven option parsing that also prints --help.
 *
 * A tool lists its options once (struct cli_opt[]); cli_opts_parse walks argv
 * and calls back with each option's id and argument, collecting positional
 * arguments; cli_opts_help prints the same table. Long options take
 * "--name=value" or "--name value" (required arguments) and only
 * "--name=value" (optional arguments).
 */
#ifndef CLI_OPTS_H
#define CLI_OPTS_H

#include <stdbool.h>
#include <stdio.h>

enum cli_arg { CLI_ARG_NONE = 0, CLI_ARG_REQUIRED, CLI_ARG_OPTIONAL };

struct cli_opt {
	int id;               /* caller's identifier */
	char short_name;      /* 0 if none */
	const char *long_name;/* without the leading "--" */
	int arg;              /* enum cli_arg */
	const char *metavar;  /* "N", "FILE", ... */
	const char *help;     /* one line */
};

/* Called for each option; return false to stop with exit code 2 (the callback
 * prints its own message with cli_usage_error). */
typedef bool (*cli_opt_fn)(void *ctx, int id, const char *arg);

/* Parse argv[first..argc). Positional arguments are stored into pos[] (up to
 * max_pos; more is a usage error). Returns true on success; on error prints
 * a usage message and returns false. "--" ends option parsing. */
bool cli_opts_parse(const struct cli_opt *opts, size_t n_opts, int argc, char **argv,
		    int first, cli_opt_fn fn, void *ctx, const char **pos, size_t max_pos,
		    size_t *n_pos);

/* Print the option list in --help format. */
void cli_opts_help(FILE *f, const struct cli_opt *opts, size_t n_opts);

#endif
