/* qwen-quant.c - quantize a Hugging Face safetensors checkpoint (one
 * streaming pass, no intermediate file) or an f32/f16/bf16 GGUF to the GGUF
 * llama-quantize writes, byte for byte; `plan` shows the types without
 * writing. Options: man/qwen-quant.1. The parts are cli/quant_*.c (quant.h).
 *
 * Flow: parse options, open the input and decide every tensor's type (any
 * input, recipe or type error stops here, before a byte is written), then
 * write the header and stream the data (formats/plan/plan.h); the output appears
 * only when complete (formats/base/outfile.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../formats/base/outfile.h"
#include "../formats/base/units.h"
#include "../quant/qtype.h"
#include "common.h"
#include "gguf_set.h"
#include "opts.h"
#include "quant.h"

enum { C_QUANT = 1, C_PLAN = 2, C_ALL = 3 };

enum {
	O_OUTPUT = 1, O_TYPE, O_RECIPE, O_THREADS, O_ALLOW_REQUANT, O_PURE, O_LEAVE_OUTPUT,
	O_OUTPUT_TYPE, O_TOKEN_EMBD_TYPE, O_KEEP_MTP, O_SPLIT_SIZE, O_SPLIT_TENSORS,
	O_ALLOW_NONFINITE, O_IMATRIX, O_QUIET, O_JSON, O_HELP, O_VERSION,
};

struct opt_row {
	struct cli_opt o;
	unsigned mask;  /* subcommands it applies to */
};

static const struct opt_row rows[] = {
	{ { O_OUTPUT, 'o', "output", CLI_ARG_REQUIRED, "FILE", "the GGUF file to write" },
	  C_QUANT },
	{ { O_TYPE, 0, "type", CLI_ARG_REQUIRED, "TYPE",
	    "the llama.cpp mix or type: Q4_K_M, Q8_0, ..., or COPY (required)" }, C_ALL },
	{ { O_TYPE, 0, "outtype", CLI_ARG_REQUIRED, "TYPE", "the same as --type" }, C_ALL },
	{ { O_RECIPE, 0, "recipe", CLI_ARG_REQUIRED, "FILE.yaml",
	    "per-tensor type overrides (man qwen-quant: RECIPES)" }, C_ALL },
	{ { O_THREADS, 't', "threads", CLI_ARG_REQUIRED, "N",
	    "quantizer threads (default: all cores); the output does not depend on it" },
	  C_QUANT },
	{ { O_IMATRIX, 0, "imatrix", CLI_ARG_REQUIRED, "FILE",
	    "importance matrix (llama-imatrix's GGUF or .dat) for the weighted quantizers" },
	  C_ALL },
	{ { O_ALLOW_REQUANT, 0, "allow-requantize", CLI_ARG_NONE, NULL,
	    "quantize tensors that are already quantized" }, C_ALL },
	{ { O_PURE, 0, "pure", CLI_ARG_NONE, NULL,
	    "no mix rules: every quantized tensor gets the default type" }, C_ALL },
	{ { O_LEAVE_OUTPUT, 0, "leave-output-tensor", CLI_ARG_NONE, NULL,
	    "keep output.weight as it is in the input" }, C_ALL },
	{ { O_OUTPUT_TYPE, 0, "output-tensor-type", CLI_ARG_REQUIRED, "TYPE",
	    "the type of output.weight (and of a tied token_embd)" }, C_ALL },
	{ { O_TOKEN_EMBD_TYPE, 0, "token-embedding-type", CLI_ARG_REQUIRED, "TYPE",
	    "the type of token_embd.weight" }, C_ALL },
	{ { O_KEEP_MTP, 0, "keep-mtp", CLI_ARG_NONE, NULL,
	    "keep Qwen3-Next MTP tensors (safetensors input; llama.cpp's nextn layout)" }, C_ALL },
	{ { O_SPLIT_SIZE, 0, "split-max-size", CLI_ARG_REQUIRED, "SIZE",
	    "cut the output into llama.cpp split files of at most SIZE tensor bytes (e.g. 4G)" },
	  C_ALL },
	{ { O_SPLIT_TENSORS, 0, "split-max-tensors", CLI_ARG_REQUIRED, "N",
	    "cut the output into llama.cpp split files of at most N tensors" }, C_ALL },
	{ { O_ALLOW_NONFINITE, 0, "allow-nonfinite", CLI_ARG_NONE, NULL,
	    CLI_ALLOW_NONFINITE_HELP }, C_QUANT },
	{ { O_QUIET, 'q', "quiet", CLI_ARG_NONE, NULL, "no progress bar, notes or summary" },
	  C_QUANT },
	{ { O_JSON, 0, "json", CLI_ARG_NONE, NULL, "plan: print one JSON object" }, C_PLAN },
	{ { O_HELP, 'h', "help", CLI_ARG_NONE, NULL, "print this help and exit" }, C_ALL },
	{ { O_VERSION, 0, "version", CLI_ARG_NONE, NULL, "print the version and exit" }, C_ALL },
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

static struct cli_opt opts[N_ROWS];

struct ctx {
	struct quant_opts o;
	unsigned cmd;       /* C_QUANT or C_PLAN */
	const char *type;
	uint64_t threads;
	bool help, version;
};

static void mix_list(char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < qm_mix_count() && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", qm_mix_at(i)->name);
}

static bool tensor_type(const char *opt, const char *arg, int *out)
{
	const struct qt_type *q = qt_type_by_name(arg);

	if (!q || !rc_type_ok(q->id)) {
		cli_usage_error("option '--%s': '%s' is not a type qwen-quant writes (Q4_0, Q4_1, "
				"Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, F16, BF16, F32)",
				opt, arg);
		return false;
	}
	*out = q->id;
	return true;
}

/* --type (or the type given as llama-quantize's positional argument) */
static bool set_type(struct ctx *c, const char *arg)
{
	const struct qm_mix *m = strcasecmp(arg, quant_copy_mix.name) == 0 ? &quant_copy_mix
									   : qm_mix_by_name(arg);
	const char *names[64], *best;
	char list[256];
	size_t n = 0;

	if (c->o.mix && m != c->o.mix) {
		cli_usage_error("two types given: '%s' and '%s'", c->o.mix->name, arg);
		return false;
	}
	if ((c->o.mix = m))
		return true;
	for (size_t i = 0; i < qm_mix_count() && n < sizeof(names) / sizeof(names[0]); i++)
		names[n++] = qm_mix_at(i)->name;
	best = cli_suggest(arg, strlen(arg), names, n);
	mix_list(list, sizeof(list));
	if (best)
		cli_usage_error("type '%s' is not one of %s; did you mean '%s'?", arg, list, best);
	else
		cli_usage_error("type '%s' is not one of %s", arg, list);
	return false;
}

static bool on_opt(void *p, int id, const char *arg)
{
	struct ctx *c = p;

	for (size_t i = 0; i < N_ROWS; i++)
		if (rows[i].o.id == id && !(rows[i].mask & c->cmd)) {
			cli_usage_error("option '--%s' does not apply to 'plan'", rows[i].o.long_name);
			return false;
		}
	switch (id) {
	case O_OUTPUT: c->o.out = arg; break;
	case O_ALLOW_NONFINITE: c->o.allow_nonfinite = true; break;
	case O_TYPE: return set_type(c, arg);
	case O_RECIPE: c->o.recipe = arg; break;
	case O_IMATRIX:
		c->o.imatrix = arg;
		c->o.qopt.has_imatrix = true;
		break;
	case O_THREADS: return cli_parse_u64("--threads", arg, 1, 256, &c->threads);
	case O_ALLOW_REQUANT: c->o.allow_requantize = true; break;
	case O_PURE: c->o.qopt.pure = true; break;
	case O_LEAVE_OUTPUT: c->o.qopt.keep_output = true; break;
	case O_OUTPUT_TYPE: return tensor_type("output-tensor-type", arg, &c->o.qopt.output_type);
	case O_TOKEN_EMBD_TYPE:
		return tensor_type("token-embedding-type", arg, &c->o.qopt.token_embd_type);
	case O_KEEP_MTP: c->o.keep_mtp = true; break;
	case O_SPLIT_SIZE:
		if (!qk_parse_size(arg, &c->o.split_bytes))
			return cli_usage_error("option '--split-max-size': '%s' is not a size "
					       "(" QK_SIZE_SYNTAX ")", arg), false;
		break;
	case O_SPLIT_TENSORS:
		return cli_parse_u64("--split-max-tensors", arg, 1, UINT32_MAX, &c->o.split_tensors);
	case O_QUIET: c->o.quiet = true; break;
	case O_JSON: c->o.json = true; break;
	case O_HELP: c->help = true; break;
	case O_VERSION: c->version = true; break;
	}
	return true;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: qwen-quant [OPTIONS] MODEL [-o OUT.gguf] --type TYPE\n"
		   "       qwen-quant [OPTIONS] MODEL OUT.gguf TYPE [NTHREADS]   (llama-quantize's form)\n"
		   "       qwen-quant plan [OPTIONS] MODEL --type TYPE\n\n"
		   "Quantize a Qwen checkpoint to the GGUF file llama-quantize makes, byte for byte.\n"
		   "MODEL is a Hugging Face safetensors checkpoint (one streaming pass, no\n"
		   "intermediate file) or an f32/f16/bf16 GGUF file. 'plan' prints every tensor's\n"
		   "type, size and bits per weight and writes nothing.\n\noptions:\n");
	cli_opts_help(f, opts, N_ROWS);
	fprintf(f, "\nexit status: 0 ok, 2 usage or recipe error, 3 invalid or unsupported input "
		   "(or requantizing\nwithout --allow-requantize), 4 i/o error\n");
}

/* the files the job reads may not be its output; then the targets
 * themselves, before any data is read */
static int check_output(const struct gguf_set *set, const struct quant_job *j,
			const char *recipe, qk_err *err)
{
	int rc = cli_forbid_inputs(j->in.cat.path, &j->in.cat, err);

	if (!rc && recipe)
		rc = qk_out_forbid(recipe, err);
	return rc ? rc : gguf_set_check(set, err);
}

static void warnings(const struct quant_job *j, const struct quant_opts *o, bool plan)
{
	for (size_t r = 0; r < j->recipe.n; r++)
		if (!j->rule_hits[r])
			cli_warn("%s:%u: rule decides no tensor (none matches, or llama-quantize never "
				 "quantizes the ones that do)", j->recipe.path, j->recipe.rules[r].line);
	if (j->imat_missing && !o->quiet && !plan) /* plan prints it itself */
		fprintf(stderr, "%s: note: %zu quantized tensor%s without an imatrix entry (quantized "
			"without weights, as llama-quantize does)\n", cli_prog, j->imat_missing,
			j->imat_missing == 1 ? "" : "s");
	if (j->n_fallback && !o->quiet && !plan) /* plan prints it itself */
		cli_warn("%d of %zu tensors required fallback quantization (rows not a multiple of "
			 "the type's block)", j->n_fallback, j->plan.n);
	cli_warn_unloadable(&j->in.model);
}

/* -o given with {ftype}-style templates, or not given: the name llama.cpp's
 * naming convention gives, beside the input. *owned gets what to free. */
static int output_name(struct ctx *c, const struct quant_job *j, char **owned, qk_err *err)
{
	const char *parts[CLI_NAME_N];
	int rc;

	if (j->gguf)
		cli_name_parts_gguf(j->in.cat.gguf[0], parts);
	else
		cli_name_parts_meta(&j->md, parts);
	if ((rc = cli_output_name(c->o.out, &j->in.cat, parts, quant_type_label(j, &c->o), owned,
				  err)))
		return rc;
	if (*owned)
		c->o.out = *owned;
	return QK_OK;
}

static int run(struct ctx *c, const char *model)
{
	char *out_owned = NULL;
	struct gguf_set set = { 0 };
	struct quant_job j;
	struct wp_stats st;
	uint64_t elems = 0;
	qk_err err;
	int rc;

	qk_err_clear(&err);
	if ((rc = quant_prepare(&j, &c->o, model, &err)))
		goto fail;
	warnings(&j, &c->o, c->cmd == C_PLAN);
	if (c->cmd == C_PLAN) {
		if (!(rc = gguf_set_plan(&set, &j.plan, NULL, c->o.split_bytes, c->o.split_tensors,
					 &err))) {
			if (c->o.json)
				rc = quant_plan_json(&j, &c->o, &set, &err);
			else
				quant_print_plan(stdout, &j, &c->o, &set);
		}
		gguf_set_free(&set);
		quant_job_free(&j);
		return rc ? cli_fail(&err) : EXIT_OK;
	}
	if ((rc = output_name(c, &j, &out_owned, &err)) ||
	    (rc = gguf_set_plan(&set, &j.plan, c->o.out, c->o.split_bytes, c->o.split_tensors,
				&err)) ||
	    (rc = check_output(&set, &j, c->o.recipe, &err)) ||
	    (rc = quant_write(&j, &c->o, &set, &st, &err)))
		goto fail;
	if ((c->o.split_bytes || c->o.split_tensors) && set.n_splits == 1 && !c->o.quiet)
		fprintf(stderr, "%s: note: the output fits the split limits in one file: wrote it "
			"without split keys\n", cli_prog);
	if (st.f16_overflow)
		cli_warn("%llu finite value%s became infinite in F16 (beyond +-65504; first in '%s')",
			 (unsigned long long)st.f16_overflow, st.f16_overflow == 1 ? "" : "s",
			 j.plan.t[st.f16_first].name);
	for (size_t i = 0; i < j.plan.n; i++)
		elems += j.plan.t[i].n_elem;
	if (!c->o.quiet)
		fprintf(stderr, "%s: wrote %s%s: %s, %zu tensors, %llu -> %llu bytes of data "
			"(%.2f bits per weight)\n", cli_prog, c->o.out,
			set.n_splits > 1 ? " as a split set" : "", quant_type_label(&j, &c->o), j.plan.n,
			(unsigned long long)j.src_bytes, (unsigned long long)st.bytes_done,
			elems ? (double)st.bytes_done * 8.0 / (double)elems : 0.0);
	gguf_set_free(&set);
	quant_job_free(&j);
	free(out_owned);
	return EXIT_OK;
fail:
	gguf_set_free(&set);
	quant_job_free(&j);
	free(out_owned);
	return cli_fail(&err);
}

/* llama-quantize's form: MODEL [OUT.gguf] TYPE [NTHREADS] */
static bool positional(struct ctx *c, const char **pos, size_t n)
{
	size_t k = 0;

	if (n >= 2 || !qm_mix_by_name(pos[0])) {
		if (c->o.out && strcmp(c->o.out, pos[0]) != 0) {
			cli_usage_error("two outputs given: '%s' and '%s'", c->o.out, pos[0]);
			return false;
		}
		c->o.out = pos[k++];
	}
	if (k < n && !set_type(c, pos[k++]))
		return false;
	if (k < n && !cli_parse_u64("NTHREADS", pos[k++], 1, 256, &c->threads))
		return false;
	if (k < n) {
		cli_usage_error("unexpected argument '%s'", pos[k]);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct ctx c;
	const char *pos[4];
	size_t n_pos;
	int first = 1;

	cli_prog = "qwen-quant";
	cli_outputs_init();
	memset(&c, 0, sizeof(c));
	c.cmd = C_QUANT;
	c.o.qopt = (struct qm_options)QM_OPTIONS_DEFAULT;
	for (size_t i = 0; i < N_ROWS; i++)
		opts[i] = rows[i].o;
	if (argc > 1 && strcmp(argv[1], "plan") == 0) {
		c.cmd = C_PLAN;
		first = 2;
	}
	if (!cli_opts_parse(opts, N_ROWS, argc, argv, first, on_opt, &c, pos,
			    c.cmd == C_PLAN ? 1 : 4, &n_pos))
		return EXIT_USAGE;
	if (c.help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (c.version) {
		cli_print_version("qwen-quant");
		return EXIT_OK;
	}
	if (n_pos == 0)
		return cli_usage_error("missing MODEL");
	if (n_pos > 1 && !positional(&c, pos + 1, n_pos - 1))
		return EXIT_USAGE;
	if (!c.o.mix)
		return cli_usage_error("missing the type (--type Q4_K_M, Q8_0, ...)");
	c.o.threads = c.threads ? (unsigned)c.threads : cli_default_threads();
	return run(&c, pos[0]);
}
