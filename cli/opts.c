/* opts.c - see opts.h. */
#include "opts.h"
#include "common.h"

#include <string.h>

static const struct cli_opt *find_long(const struct cli_opt *opts, size_t n, const char *name,
				       size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (opts[i].long_name && strlen(opts[i].long_name) == len &&
		    strncmp(opts[i].long_name, name, len) == 0)
			return &opts[i];
	return NULL;
}

/* Options of the peer tools (llama.cpp's converter and quantizer,
 * transformers) that people type out of habit, with what to use here. Used
 * only when the running tool has no option of that name. */
static const struct {
	const char *name, *hint;
} foreign[] = {
	{ "outfile", "write the output with -o/--output" },
	{ "include-weights", "--imatrix uses every entry of the file (no name filters)" },
	{ "exclude-weights", "--imatrix uses every entry of the file (no name filters)" },
	{ "vocab-only", "qwenkit writes whole models only" },
	{ "tensor-type", "per-tensor types come from a YAML recipe: --recipe FILE.yaml" },
	{ "kl-divergence", "use qwen-verify compare BASE CANDIDATE" },
};

/* "unknown option '--X'" with a hint: a peer tool's option, or the closest
 * of this tool's options */
static void unknown_long(const struct cli_opt *opts, size_t n, const char *a, size_t len)
{
	const char *names[128];
	const char *best;
	size_t k = 0;

	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		if (strlen(foreign[i].name) == len && strncmp(foreign[i].name, a + 2, len) == 0) {
			cli_usage_error("unknown option '%.*s': %s", (int)(len + 2), a,
					foreign[i].hint);
			return;
		}
	for (size_t i = 0; i < n && k < sizeof(names) / sizeof(names[0]); i++)
		if (opts[i].long_name)
			names[k++] = opts[i].long_name;
	best = cli_suggest(a + 2, len, names, k);
	if (best)
		cli_usage_error("unknown option '%.*s'; did you mean '--%s'?", (int)(len + 2), a,
				best);
	else
		cli_usage_error("unknown option '%.*s'", (int)(len + 2), a);
}

static const struct cli_opt *find_short(const struct cli_opt *opts, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (opts[i].short_name && opts[i].short_name == c)
			return &opts[i];
	return NULL;
}

bool cli_opts_parse(const struct cli_opt *opts, size_t n_opts, int argc, char **argv,
		    int first, cli_opt_fn fn, void *ctx, const char **pos, size_t max_pos,
		    size_t *n_pos)
{
	bool only_pos = false;

	*n_pos = 0;
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];
		const struct cli_opt *o = NULL;
		const char *val = NULL;

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (*n_pos >= max_pos) {
				cli_usage_error("unexpected argument '%s'", a);
				return false;
			}
			pos[(*n_pos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
			o = find_long(opts, n_opts, a + 2, len);
			if (!o) {
				unknown_long(opts, n_opts, a, len);
				return false;
			}
			if (eq) {
				if (o->arg == CLI_ARG_NONE) {
					cli_usage_error("option '--%s' takes no value", o->long_name);
					return false;
				}
				val = eq + 1;
			}
		} else {
			o = find_short(opts, n_opts, a[1]);
			if (!o) {
				cli_usage_error("unknown option '-%c'", a[1]);
				return false;
			}
			if (a[2] != '\0') {
				if (o->arg == CLI_ARG_NONE) {
					cli_usage_error("option '-%c' takes no value", a[1]);
					return false;
				}
				val = a + 2;
			}
		}
		if (!val && o->arg == CLI_ARG_REQUIRED) {
			if (i + 1 >= argc) {
				if (o->long_name)
					cli_usage_error("option '--%s' needs a value (%s)", o->long_name,
							o->metavar ? o->metavar : "VALUE");
				else
					cli_usage_error("option '-%c' needs a value", o->short_name);
				return false;
			}
			val = argv[++i];
		}
		if (!fn(ctx, o->id, val))
			return false;
	}
	return true;
}

void cli_opts_help(FILE *f, const struct cli_opt *opts, size_t n_opts)
{
	for (size_t i = 0; i < n_opts; i++) {
		const struct cli_opt *o = &opts[i];
		char head[96];
		int n = 0;

		if (o->short_name)
			n += snprintf(head + n, sizeof(head) - (size_t)n, "-%c%s", o->short_name,
				      o->long_name ? ", " : "");
		else
			n += snprintf(head + n, sizeof(head) - (size_t)n, "    ");
		if (o->long_name)
			n += snprintf(head + n, sizeof(head) - (size_t)n, "--%s", o->long_name);
		if (o->arg == CLI_ARG_REQUIRED)
			snprintf(head + n, sizeof(head) - (size_t)n, " %s", o->metavar);
		else if (o->arg == CLI_ARG_OPTIONAL)
			snprintf(head + n, sizeof(head) - (size_t)n, "[=%s]", o->metavar);
		fprintf(f, "  %-28s %s\n", head, o->help);
	}
}
