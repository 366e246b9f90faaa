/* qwen-inspect.c - what a Qwen checkpoint holds. Options: man/qwen-inspect.1. */
#include "common.h"
#include "inspect.h"
#include "opts.h"

#include <stdio.h>
#include <string.h>

enum { O_TENSORS = 1, O_STATS, O_KV, O_TOKENIZE, O_NO_SPECIAL, O_JSON, O_QUIET, O_HELP, O_VERSION };

static const struct cli_opt options[] = {
	{ O_TENSORS, 0, "tensors", CLI_ARG_NONE, NULL, "list every tensor: name, role, layer, dtype, shape, bytes" },
	{ O_STATS, 0, "stats", CLI_ARG_OPTIONAL, "PATTERN", "min, max, mean, std, NaN/Inf per tensor (glob on names)" },
	{ O_KV, 0, "kv", CLI_ARG_NONE, NULL, "every key/value (GGUF) or __metadata__ entry (safetensors)" },
	{ O_TOKENIZE, 0, "tokenize", CLI_ARG_REQUIRED, "TEXT", "encode TEXT with the model's tokenizer: ids and token texts" },
	{ O_NO_SPECIAL, 0, "no-special", CLI_ARG_NONE, NULL, "with --tokenize: special tokens in TEXT are plain text" },
	{ O_JSON, 0, "json", CLI_ARG_NONE, NULL, "print one JSON object" },
	{ O_QUIET, 'q', "quiet", CLI_ARG_NONE, NULL,
	  "accepted as by every tool (qwen-inspect prints no progress or notes)" },
	{ O_HELP, 'h', "help", CLI_ARG_NONE, NULL, "print this help and exit" },
	{ O_VERSION, 0, "version", CLI_ARG_NONE, NULL, "print the version and exit" },
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

struct ctx {
	struct inspect_opts o;
	bool help, version;
};

static bool on_opt(void *p, int id, const char *arg)
{
	struct ctx *c = p;

	switch (id) {
	case O_TENSORS: c->o.tensors = true; break;
	case O_STATS:
		c->o.stats = true;
		if (arg && !*arg)
			return cli_usage_error("option '--stats=' needs a pattern after '='"), false;
		c->o.pattern = arg;
		break;
	case O_KV: c->o.kv = true; break;
	case O_TOKENIZE: c->o.tokenize = arg; break;
	case O_NO_SPECIAL: c->o.no_special = true; break;
	case O_JSON: c->o.json = true; break;
	case O_QUIET: break;
	case O_HELP: c->help = true; break;
	case O_VERSION: c->version = true; break;
	}
	return true;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: qwen-inspect [OPTIONS] PATH\n"
		   "       qwen-inspect diff [OPTIONS] A B\n\n"
		   "PATH is a model directory, a .safetensors file, a shard index or a .gguf file.\n"
		   "diff pairs the tensors of A and B by role and prints max|d|, RMSE, NMSE, cosine.\n"
		   "A valid file that is not a Qwen model is listed generically (--kv, --tensors).\n\n"
		   "options:\n");
	cli_opts_help(f, options, N_OPTIONS);
	fprintf(f, "\nexit status: 0 ok (diff: the same), 1 diff: the models differ, 2 usage,\n"
		   "3 invalid or unsupported input, 4 i/o error\n");
}

int main(int argc, char **argv)
{
	struct ctx c = { 0 };
	const char *pos[2];
	size_t n_pos;
	bool diff = argc > 1 && strcmp(argv[1], "diff") == 0;
	struct qk_input a, b;
	qk_err err;
	bool same = false;
	int rc;

	cli_prog = "qwen-inspect";
	qk_err_clear(&err);
	if (!cli_opts_parse(options, N_OPTIONS, argc, argv, diff ? 2 : 1, on_opt, &c, pos,
			    diff ? 2 : 1, &n_pos))
		return EXIT_USAGE;
	if (c.help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (c.version) {
		cli_print_version("qwen-inspect");
		return EXIT_OK;
	}
	if (n_pos != (diff ? 2u : 1u))
		return cli_usage_error(diff ? "diff needs two inputs, A and B" : "missing PATH");
	if (c.o.no_special && !c.o.tokenize)
		return cli_usage_error("--no-special needs --tokenize");
	if (c.o.tokenize && (diff || c.o.tensors || c.o.stats || c.o.kv))
		return cli_usage_error("--tokenize goes alone (with --json, --no-special), not with "
				       "diff, --tensors, --stats or --kv");
	if (!diff) {
		qk_err why;
		rc = qk_input_open_any(&a, pos[0], &why, &err);
		if (rc)
			return cli_fail(&err);
		if (c.o.tokenize)
			rc = inspect_tokenize(&a, c.o.tokenize, !c.o.no_special, c.o.json, &err);
		else
			rc = inspect_summary(&a, &c.o, why.msg, &err);
		qk_input_close(&a);
		return rc ? cli_fail(&err) : EXIT_OK;
	}
	rc = qk_input_open(&a, pos[0], &err);
	if (rc)
		return cli_fail(&err);
	rc = qk_input_open(&b, pos[1], &err);
	if (rc) {
		qk_input_close(&a);
		return cli_fail(&err);
	}
	rc = inspect_diff(&a, &b, &c.o, &same, &err);
	qk_input_close(&a);
	qk_input_close(&b);
	if (rc)
		return cli_fail(&err);
	return same ? EXIT_OK : EXIT_THRESHOLD;
}
