/* qwen-convert.c - Hugging Face safetensors checkpoint -> GGUF that llama.cpp
 * loads (one file or a split set), and any checkpoint -> Hugging Face
 * safetensors. Options: man/qwen-convert.1.
 *
 * Flow: parse and check the options, open and bind the model (nothing is
 * written for a bad input), pick the direction (--to, else from the input's
 * format), then hand over to convert_gguf.c or convert_hf.c. Outputs appear
 * only when complete (formats/base/outfile.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../formats/container/catalog.h"
#include "../formats/hf_out/hf_export.h"
#include "../formats/model/open.h"
#include "../formats/base/outfile.h"
#include "../formats/base/units.h"
#include "../formats/plan/plan.h"
#include "../formats/plan/plan_split.h"
#include "../quant/mix.h"
#include "common.h"
#include "convert.h"
#include "opts.h"

enum { O_OUTPUT = 1, O_TO, O_OUTTYPE, O_NAME, O_KEEP_MTP, O_FP8_AS_Q8, O_SHARD_SIZE, O_SPLIT_SIZE,
       O_SPLIT_TENSORS, O_FORCE, O_ALLOW_NONFINITE, O_THREADS, O_DRY_RUN, O_JSON, O_QUIET, O_HELP,
       O_MMPROJ, O_MMPROJ_ONLY, O_VERSION };

static const struct cli_opt options[] = {
	{ O_OUTPUT, 'o', "output", CLI_ARG_REQUIRED, "PATH",
	  "the GGUF file (or split set name) or the safetensors directory to write" },
	{ O_TO, 0, "to", CLI_ARG_REQUIRED, "FORMAT",
	  "gguf or safetensors (default: gguf from safetensors, safetensors from GGUF)" },
	{ O_OUTTYPE, 0, "outtype", CLI_ARG_REQUIRED, "TYPE",
	  "auto (keep the source precision), f32, f16, bf16, or q8_0 (gguf only)" },
	{ O_OUTTYPE, 0, "type", CLI_ARG_REQUIRED, "TYPE", "the same as --outtype" },
	{ O_NAME, 0, "name", CLI_ARG_REQUIRED, "NAME",
	  "general.name (default: from the model; gguf only)" },
	{ O_KEEP_MTP, 0, "keep-mtp", CLI_ARG_NONE, NULL,
	  "keep Qwen3-Next MTP tensors (llama.cpp's nextn layout; gguf only)" },
	{ O_FP8_AS_Q8, 0, "fp8-as-q8", CLI_ARG_NONE, NULL,
	  "write matrices stored as FP8 as Q8_0 (llama.cpp's --fp8-as-q8; gguf only)" },
	{ O_MMPROJ, 0, "mmproj", CLI_ARG_REQUIRED, "FILE",
	  "VL checkpoints: also write the vision tower to FILE as llama.cpp's mmproj GGUF "
	  "(a GGUF input: read it from FILE into the safetensors export)" },
	{ O_MMPROJ_ONLY, 0, "mmproj-only", CLI_ARG_NONE, NULL,
	  "with --mmproj: write the mmproj only, not the text GGUF" },
	{ O_SHARD_SIZE, 0, "shard-size", CLI_ARG_REQUIRED, "SIZE",
	  "largest safetensors shard, e.g. 5GB, 500MiB (default 5GB; safetensors only)" },
	{ O_SPLIT_SIZE, 0, "split-max-size", CLI_ARG_REQUIRED, "SIZE",
	  "cut the GGUF into llama.cpp split files of at most SIZE tensor bytes (e.g. 4G)" },
	{ O_SPLIT_TENSORS, 0, "split-max-tensors", CLI_ARG_REQUIRED, "N",
	  "cut the GGUF into llama.cpp split files of at most N tensors" },
	{ O_FORCE, 0, "force", CLI_ARG_NONE, NULL,
	  "write into a non-empty output directory (safetensors only)" },
	{ O_ALLOW_NONFINITE, 0, "allow-nonfinite", CLI_ARG_NONE, NULL,
	  CLI_ALLOW_NONFINITE_HELP },
	{ O_THREADS, 't', "threads", CLI_ARG_REQUIRED, "N", "converter threads (default: all cores); the output does not depend on it" },
	{ O_DRY_RUN, 0, "dry-run", CLI_ARG_NONE, NULL, "print the plan, write nothing" },
	{ O_JSON, 0, "json", CLI_ARG_NONE, NULL, "--dry-run: print the plan as one JSON object" },
	{ O_QUIET, 'q', "quiet", CLI_ARG_NONE, NULL, "no progress bar, notes or summary" },
	{ O_HELP, 'h', "help", CLI_ARG_NONE, NULL, "print this help and exit" },
	{ O_VERSION, 0, "version", CLI_ARG_NONE, NULL, "print the version and exit" },
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* what was given, before it is checked against the direction */
struct args {
	struct convert_ctx c;
	const char *outtype;           /* --outtype as given, or NULL */
	bool given[O_VERSION + 1];     /* per option id: was it given */
	bool help, version;
};

static bool on_opt(void *p, int id, const char *arg)
{
	struct args *a = p;
	struct convert_ctx *c = &a->c;

	a->given[id] = true;
	switch (id) {
	case O_OUTPUT: c->out = arg; break;
	case O_TO:
		if (strcmp(arg, "gguf") == 0)
			c->to = CONVERT_TO_GGUF;
		else if (strcmp(arg, "safetensors") == 0)
			c->to = CONVERT_TO_SAFETENSORS;
		else
			return cli_usage_error("option '--to': '%s' is not one of gguf, safetensors",
					       arg), false;
		break;
	case O_OUTTYPE: a->outtype = arg; break;
	case O_NAME:
		if (!*arg)
			return cli_usage_error("option '--name' needs a non-empty name"), false;
		c->name = arg;
		break;
	case O_KEEP_MTP: c->keep_mtp = true; break;
	case O_FP8_AS_Q8: c->fp8_as_q8 = true; break;
	case O_MMPROJ:
		if (!*arg)
			return cli_usage_error("option '--mmproj' needs a file name"), false;
		c->mmproj = arg;
		break;
	case O_MMPROJ_ONLY: c->mmproj_only = true; break;
	case O_SHARD_SIZE:
		if (!qk_parse_size(arg, &c->shard_size))
			return cli_usage_error("option '--shard-size': '%s' is not a size "
					       "(" QK_SIZE_SYNTAX ")", arg), false;
		break;
	case O_SPLIT_SIZE:
		if (!qk_parse_size(arg, &c->split_bytes))
			return cli_usage_error("option '--split-max-size': '%s' is not a size "
					       "(" QK_SIZE_SYNTAX ")", arg), false;
		break;
	case O_SPLIT_TENSORS:
		return cli_parse_u64("--split-max-tensors", arg, 1, UINT32_MAX,
				     &c->split_tensors);
	case O_FORCE: c->force = true; break;
	case O_ALLOW_NONFINITE: c->allow_nonfinite = true; break;
	case O_THREADS: return cli_parse_u64("--threads", arg, 1, 256, &c->threads);
	case O_DRY_RUN: c->dry_run = true; break;
	case O_JSON: c->json = true; break;
	case O_QUIET: c->quiet = true; break;
	case O_HELP: a->help = true; break;
	case O_VERSION: a->version = true; break;
	}
	return true;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: qwen-convert [OPTIONS] MODEL -o OUT.gguf\n"
		   "       qwen-convert [OPTIONS] MODEL --to safetensors -o OUT_DIR\n\n"
		   "Convert a Hugging Face Qwen checkpoint (safetensors, any generation) to a GGUF\n"
		   "file that llama.cpp loads, or any checkpoint (GGUF or safetensors) to a Hugging\n"
		   "Face safetensors directory. MODEL is a model directory (config.json, the\n"
		   "safetensors files and the tokenizer files), a .safetensors file or index, or a\n"
		   "GGUF file or split set. --mmproj FILE also writes the vision tower of a\n"
		   "vision-language checkpoint as llama.cpp's mmproj GGUF.\n\noptions:\n");
	cli_opts_help(f, options, N_OPTIONS);
	fprintf(f, "\nexit status: 0 ok, 2 usage, 3 invalid or unsupported input, 4 i/o error\n");
}

void convert_note(const struct convert_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return;
	fprintf(stderr, "%s: note: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* options that belong to one direction only */
static const struct {
	int id;
	const char *name;
	int to;                        /* the direction it needs */
} one_way[] = {
	{ O_NAME, "--name", CONVERT_TO_GGUF },
	{ O_KEEP_MTP, "--keep-mtp", CONVERT_TO_GGUF },
	{ O_FP8_AS_Q8, "--fp8-as-q8", CONVERT_TO_GGUF },
	{ O_MMPROJ_ONLY, "--mmproj-only", CONVERT_TO_GGUF },
	{ O_SPLIT_SIZE, "--split-max-size", CONVERT_TO_GGUF },
	{ O_SPLIT_TENSORS, "--split-max-tensors", CONVERT_TO_GGUF },
	{ O_SHARD_SIZE, "--shard-size", CONVERT_TO_SAFETENSORS },
	{ O_FORCE, "--force", CONVERT_TO_SAFETENSORS },
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Check the options against the direction `to` (known or default). */
static int check_direction(struct args *a, int to)
{
	static const char *const to_names[] = { "", "gguf", "safetensors" };
	struct convert_ctx *c = &a->c;

	for (size_t i = 0; to && i < sizeof(one_way) / sizeof(one_way[0]); i++)
		if (a->given[one_way[i].id] && one_way[i].to != to)
			return cli_usage_error("option '%s' applies to --to %s only (this conversion "
					       "writes %s)", one_way[i].name,
					       to_names[one_way[i].to], to_names[to]);
	c->outtype = 0;
	if (a->outtype && to == CONVERT_TO_SAFETENSORS &&
	    (c->outtype = hx_outtype_from_name(a->outtype)) < 0)
		return cli_usage_error("option '--outtype': '%s' is not one of auto, f32, f16, bf16 "
				       "(a safetensors output)", a->outtype);
	if (a->outtype && to != CONVERT_TO_SAFETENSORS &&
	    (c->outtype = wp_outtype_from_name(a->outtype)) < 0 && qm_mix_by_name(a->outtype))
		return cli_usage_error("option '--outtype': '%s' is a quantization qwen-convert does "
				       "not make; qwen-quant makes it (qwen-quant MODEL -o OUT.gguf "
				       "--type %s)", a->outtype, qm_mix_by_name(a->outtype)->name);
	if (a->outtype && to != CONVERT_TO_SAFETENSORS && c->outtype < 0)
		return cli_usage_error("option '--outtype': '%s' is not one of auto, f32, f16, bf16, "
				       "q8_0", a->outtype);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct args a;
	struct convert_ctx *c = &a.c;
	struct qk_input in;
	const char *pos[1];
	size_t n_pos;
	qk_err err;
	int rc;

	cli_prog = "qwen-convert";
	cli_outputs_init();
	memset(&a, 0, sizeof(a));
	memset(&in, 0, sizeof(in));
	qk_err_clear(&err);
	if (!cli_opts_parse(options, N_OPTIONS, argc, argv, 1, on_opt, &a, pos, 1, &n_pos))
		return EXIT_USAGE;
	if (a.help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (a.version) {
		cli_print_version("qwen-convert");
		return EXIT_OK;
	}
	if (n_pos != 1)
		return cli_usage_error("missing MODEL_DIR");
	if (c->json && !c->dry_run)
		return cli_usage_error("option '--json' prints the plan of --dry-run: give both");
	if (c->mmproj_only && !c->mmproj)
		return cli_usage_error("option '--mmproj-only' needs --mmproj FILE (the file to "
				       "write)");
	if (c->mmproj_only && c->out)
		return cli_usage_error("option '-o' names the text GGUF, which --mmproj-only does "
				       "not write: give --mmproj FILE only");
	if (c->mmproj_only && (a.given[O_SPLIT_SIZE] || a.given[O_SPLIT_TENSORS]))
		return cli_usage_error("the split options apply to the text GGUF, which "
				       "--mmproj-only does not write");
	if (!c->threads)
		c->threads = cli_default_threads();
	c->in = pos[0];
	if (!c->out && !c->dry_run && c->to == CONVERT_TO_SAFETENSORS)
		return cli_usage_error("missing the output directory (-o OUT_DIR)");
	if ((rc = check_direction(&a, c->to)))
		return rc;
	if ((rc = qk_input_open(&in, c->in, &err)))
		return cli_fail(&err);
	if (c->to == CONVERT_TO_DEFAULT && in.cat.format == QK_FMT_GGUF && c->out &&
	    ends_with(c->out, ".gguf")) {
		qk_input_close(&in);
		return cli_usage_error("'-o %s' names a GGUF file, but a GGUF input converts to a "
				       "Hugging Face directory: name a directory, or change a GGUF's "
				       "type with qwen-quant (qwen-quant %s -o %s --type F16)", c->out,
				       c->in, c->out);
	}
	if (c->to == CONVERT_TO_DEFAULT) {
		c->to = in.cat.format == QK_FMT_GGUF ? CONVERT_TO_SAFETENSORS : CONVERT_TO_GGUF;
		if ((rc = check_direction(&a, c->to))) {
			qk_input_close(&in);
			return rc;
		}
	}
	if (!c->out && !c->dry_run && c->to == CONVERT_TO_SAFETENSORS) {
		qk_input_close(&in);
		return cli_usage_error("missing the output directory (-o OUT_DIR): a GGUF input "
				       "converts to a Hugging Face directory");
	}
	if (c->to == CONVERT_TO_GGUF && in.cat.format == QK_FMT_GGUF)
		rc = qk_err_set(&err, QK_E_UNSUPPORTED,
				"%s: a GGUF input cannot be converted to GGUF (requantize it with "
				"qwen-quant; --to safetensors exports it)", c->in);
	else if (c->to == CONVERT_TO_GGUF)
		rc = convert_to_gguf(c, &in, &err);
	else
		rc = convert_to_safetensors(c, &in, &err);
	qk_input_close(&in);
	return rc ? cli_fail(&err) : EXIT_OK;
}
