/* qwen-verify.c - the deterministic fp32 reference forward pass, run on one
 * model, checked against stored outputs, or compared across two models.
 * Subcommands from a table, options from one table with the subcommands each
 * applies to; the parts are cli/verify_*.c (verify.h). Options:
 * man/qwen-verify.1. */
#include "common.h"
#include "opts.h"
#include "verify.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { C_RUN = 1, C_GOLDEN = 2, C_COMPARE = 4, C_PPL = 8, C_SWEEP = 16, C_IMATRIX = 32,
       C_VISION = 64, C_ALL = 127 };

typedef int (*cmd_fn)(const struct verify_opts *o, const char **pos, size_t n_pos,
		      qk_err *err);

static const struct cmd {
	const char *name;
	cmd_fn fn;
	unsigned mask;
	const char *synopsis;
	const char *summary;
} cmds[] = {
	{ "run", verify_cmd_run, C_RUN, "run [OPTIONS] MODEL",
	  "top-k tokens and logits at every position" },
	{ "golden", verify_cmd_golden, C_GOLDEN, "golden [OPTIONS] MODEL EXPECTED.safetensors",
	  "check against stored expected logits and residual streams" },
	{ "compare", verify_cmd_compare, C_COMPARE, "compare [OPTIONS] REF CANDIDATE",
	  "KLD, same-top-1, RMS dp, perplexities, per-layer NMSE; thresholds" },
	{ "perplexity", verify_cmd_perplexity, C_PPL, "perplexity [OPTIONS] MODEL",
	  "llama-perplexity's perplexity: chunks of --ctx tokens, PPL +/- error" },
	{ "sweep", verify_cmd_sweep, C_SWEEP, "sweep [OPTIONS] MODEL --types A,B,...",
	  "quantize to each type and compare on text: size, bpw, PPL, KLD, same top p" },
	{ "imatrix", verify_cmd_imatrix, C_IMATRIX, "imatrix [OPTIONS] MODEL --text-file F -o FILE",
	  "llama-imatrix's importance matrix from the reference pass (GGUF or .dat)" },
	{ "vision", verify_cmd_vision, C_VISION, "vision [OPTIONS] MODEL [--pixels FILE] [--grid T,H,W]",
	  "image embeddings of a vision tower (encoder + projector) for pixels" },
};
#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

enum {
	O_THREADS = 1, O_TOKENS, O_TOKENS_FILE, O_TOP_K, O_DUMP, O_LOGIT_RTOL, O_HIDDEN_RTOL,
	O_THRESHOLDS, O_JSON, O_HELP, O_VERSION, O_CTX, O_CHUNKS, O_SAVE_BASE, O_BASE,
	O_SAVE_EXPECTED, O_TEXT, O_TEXT_FILE, O_CHAT, O_ALLOW_NONFINITE, O_MTP, O_QUIET, O_TYPES,
	O_KEEP_DIR, O_OUTPUT, O_PROCESS_OUTPUT, O_OUTPUT_FORMAT, O_AGAINST, O_POSITIONS,
	O_PIXELS, O_GRID, O_VISION, O_EMBD_RTOL, O_WINDOW,
	O_THRESH0 = 100 /* + enum vt_id */
};

struct opt_row {
	struct cli_opt o;
	unsigned mask;  /* subcommands it applies to */
};

static const struct opt_row head_rows[] = {
	{ { O_THREADS, 't', "threads", CLI_ARG_REQUIRED, "N",
	    "threads for the forward pass (default: all cores)" }, C_ALL },
	{ { O_TOKENS, 0, "tokens", CLI_ARG_REQUIRED, "LIST",
	    "one sequence of token ids, e.g. 1,2,3" }, C_RUN | C_COMPARE | C_PPL | C_SWEEP | C_IMATRIX },
	{ { O_TOKENS_FILE, 0, "tokens-file", CLI_ARG_REQUIRED, "FILE",
	    "token ids, one sequence per line" }, C_RUN | C_COMPARE | C_PPL | C_SWEEP | C_IMATRIX },
	{ { O_TEXT, 0, "text", CLI_ARG_REQUIRED, "STRING",
	    "text, tokenized with the model's tokenizer" }, C_RUN | C_COMPARE | C_PPL | C_SWEEP | C_IMATRIX },
	{ { O_TEXT_FILE, 0, "text-file", CLI_ARG_REQUIRED, "FILE",
	    "the text of FILE (compare: llama-perplexity's chunks)" },
	  C_RUN | C_COMPARE | C_PPL | C_SWEEP | C_IMATRIX },
	{ { O_CHAT, 0, "chat", CLI_ARG_REQUIRED, "FILE",
	    "'role: text' turns rendered as Qwen's ChatML" }, C_RUN | C_COMPARE | C_PPL | C_SWEEP | C_IMATRIX },
	{ { O_CTX, 0, "ctx", CLI_ARG_REQUIRED, "N",
	    "llama-perplexity's chunks of N tokens (default 512)" },
	  C_COMPARE | C_PPL | C_SWEEP | C_IMATRIX },
	{ { O_CHUNKS, 0, "chunks", CLI_ARG_REQUIRED, "N",
	    "at most N chunks (default: every whole chunk)" },
	  C_COMPARE | C_PPL | C_SWEEP | C_IMATRIX },
	{ { O_OUTPUT, 'o', "output", CLI_ARG_REQUIRED, "FILE",
	    "the importance matrix to write (imatrix.gguf)" }, C_IMATRIX },
	{ { O_OUTPUT_FORMAT, 0, "output-format", CLI_ARG_REQUIRED, "gguf|dat",
	    "llama-imatrix's GGUF format (default) or its legacy .dat format" }, C_IMATRIX },
	{ { O_PROCESS_OUTPUT, 0, "process-output", CLI_ARG_NONE, NULL,
	    "also collect output.weight (llama-imatrix --process-output)" }, C_IMATRIX },
	{ { O_AGAINST, 0, "against", CLI_ARG_REQUIRED, "FILE",
	    "compare with another imatrix (llama-imatrix's): exit 1 past 1e-2 relative" },
	  C_IMATRIX },
	{ { O_TYPES, 0, "types", CLI_ARG_REQUIRED, "A,B,...",
	    "the qwen-quant types to try, e.g. Q4_K_M,Q5_K_M,Q8_0" }, C_SWEEP },
	{ { O_KEEP_DIR, 0, "keep-dir", CLI_ARG_REQUIRED, "DIR",
	    "write the quantized files into DIR and keep them (default: a temporary directory)" },
	  C_SWEEP },
	{ { O_SAVE_BASE, 0, "save-base", CLI_ARG_REQUIRED, "FILE",
	    "write the (reference's) log-probs as llama-perplexity's KL-divergence base file" },
	  C_COMPARE | C_PPL },
	{ { O_TOP_K, 0, "top-k", CLI_ARG_REQUIRED, "K", "tokens listed per position (default 5)" },
	  C_RUN },
	{ { O_POSITIONS, 0, "positions", CLI_ARG_REQUIRED, "T;H;W",
	    "M-RoPE position streams of the one sequence (Qwen-VL image tokens), as get_rope_index "
	    "gives them" }, C_RUN },
	{ { O_MTP, 0, "mtp", CLI_ARG_NONE, NULL,
	    "also run the multi-token prediction head (Qwen3-Next, Qwen3.5 with MTP tensors)" },
	  C_RUN },
	{ { O_PIXELS, 0, "pixels", CLI_ARG_REQUIRED, "FILE",
	    "pixel_values (and image_grid_thw) from a safetensors file (default: built-in pixels)" },
	  C_VISION | C_COMPARE },
	{ { O_GRID, 0, "grid", CLI_ARG_REQUIRED, "T,H,W",
	    "image_grid_thw in patches, images separated by ';' (default: the file's, or 1,16,16)" },
	  C_VISION | C_COMPARE },
	{ { O_WINDOW, 0, "window-size", CLI_ARG_REQUIRED, "PX",
	    "Qwen2.5-VL window in pixels (default: config.json's; an mmproj has none: 112)" },
	  C_VISION | C_COMPARE | C_GOLDEN },
	{ { O_VISION, 0, "vision", CLI_ARG_NONE, NULL,
	    "compare the vision towers (image embeddings) instead of the text models" }, C_COMPARE },
	{ { O_DUMP, 0, "dump", CLI_ARG_REQUIRED, "FILE.npz",
	    "write the outputs as NumPy arrays (run: tokens, logits, residual streams; vision: "
	    "embeddings)" }, C_RUN | C_VISION },
	{ { O_SAVE_EXPECTED, 0, "save-expected", CLI_ARG_REQUIRED, "FILE.safetensors",
	    "write the expected-outputs file golden reads" }, C_RUN },
	{ { O_LOGIT_RTOL, 0, "logit-rtol", CLI_ARG_REQUIRED, "X",
	    "max |delta logit| budget per position, x max |logit| (default: EXPECTED's)" },
	  C_GOLDEN },
	{ { O_HIDDEN_RTOL, 0, "hidden-rtol", CLI_ARG_REQUIRED, "X",
	    "relative RMS budget for every residual stream (default: EXPECTED's)" },
	  C_GOLDEN },
	{ { O_EMBD_RTOL, 0, "embd-rtol", CLI_ARG_REQUIRED, "X",
	    "vision outputs: max |delta| budget, x max |expected| (default 1e-4)" }, C_GOLDEN },
	{ { O_BASE, 0, "base", CLI_ARG_REQUIRED, "FILE",
	    "the reference from a llama-perplexity base file (then one CANDIDATE)" }, C_COMPARE },
	{ { O_THRESHOLDS, 0, "thresholds", CLI_ARG_REQUIRED, "FILE.yaml",
	    "thresholds from a YAML mapping (options win)" }, C_COMPARE | C_SWEEP },
};

static const struct opt_row tail_rows[] = {
	{ { O_ALLOW_NONFINITE, 0, "allow-nonfinite", CLI_ARG_NONE, NULL, CLI_ALLOW_NONFINITE_HELP },
	  C_ALL },
	{ { O_JSON, 0, "json", CLI_ARG_NONE, NULL, "print one JSON object" }, C_ALL },
	{ { O_QUIET, 'q', "quiet", CLI_ARG_NONE, NULL, "no progress line" }, C_ALL },
	{ { O_HELP, 'h', "help", CLI_ARG_NONE, NULL, "print this help and exit" }, C_ALL },
	{ { O_VERSION, 0, "version", CLI_ARG_NONE, NULL, "print the version and exit" }, C_ALL },
};

#define N_HEAD (sizeof(head_rows) / sizeof(head_rows[0]))
#define N_TAIL (sizeof(tail_rows) / sizeof(tail_rows[0]))
#define N_ROWS (N_HEAD + VT_COUNT + N_TAIL)

static struct opt_row rows[N_ROWS];
static struct cli_opt opts[N_ROWS];

/* head rows, one row per threshold of vt_rows, tail rows */
static void build_rows(void)
{
	size_t n = 0;

	for (size_t i = 0; i < N_HEAD; i++)
		rows[n++] = head_rows[i];
	for (int i = 0; i < VT_COUNT; i++) {
		const bool pct = i == VT_MIN_TOP1 || i == VT_MAX_RMS_DP;

		rows[n].o = (struct cli_opt){ O_THRESH0 + i, 0, vt_rows[i].name, CLI_ARG_REQUIRED,
					      pct ? "PCT" : "X", vt_rows[i].help };
		rows[n++].mask = vt_rows[i].vision ? C_COMPARE : C_COMPARE | C_SWEEP;
	}
	for (size_t i = 0; i < N_TAIL; i++)
		rows[n++] = tail_rows[i];
	for (size_t i = 0; i < N_ROWS; i++)
		opts[i] = rows[i].o;
}

struct ctx {
	struct verify_opts o;
	const struct cmd *cmd;
	bool help, version;
};

static const struct opt_row *row_of(int id)
{
	for (size_t i = 0; i < N_ROWS; i++)
		if (rows[i].o.id == id)
			return &rows[i];
	return NULL;
}

static bool parse_real(const char *opt, const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno == ERANGE || !isfinite(v) || v < 0) {
		cli_usage_error("option '%s': '%s' is not a finite non-negative number", opt, s);
		return false;
	}
	*out = v;
	return true;
}

static bool on_opt(void *p, int id, const char *arg)
{
	struct ctx *c = p;
	const struct opt_row *r = row_of(id);
	uint64_t v;

	if (c->cmd && r && !(r->mask & c->cmd->mask)) {
		cli_usage_error("option '--%s' does not apply to '%s'", r->o.long_name, c->cmd->name);
		return false;
	}
	if (id >= O_THRESH0) {
		qk_err err;
		char where[64];

		snprintf(where, sizeof(where), "option '--%s'", vt_rows[id - O_THRESH0].name);
		if (vt_parse(id - O_THRESH0, arg, where, &c->o.thr.val[id - O_THRESH0], &err)) {
			cli_usage_error("%s", err.msg);
			return false;
		}
		c->o.thr.set[id - O_THRESH0] = true;
		c->o.thr.any = true;
		return true;
	}
	switch (id) {
	case O_THREADS:
		if (!cli_parse_u64("--threads", arg, 1, 256, &v))
			return false;
		c->o.n_threads = (unsigned)v;
		break;
	case O_TOKENS: c->o.tokens = arg; break;
	case O_TOKENS_FILE: c->o.tokens_file = arg; break;
	case O_TEXT: c->o.text = arg; break;
	case O_TEXT_FILE: c->o.text_file = arg; break;
	case O_CHAT: c->o.chat = arg; break;
	case O_TOP_K:
		if (!cli_parse_u64("--top-k", arg, 1, 100, &v))
			return false;
		c->o.top_k = (size_t)v;
		break;
	case O_DUMP: c->o.dump = arg; break;
	case O_SAVE_EXPECTED: c->o.save_expected = arg; break;
	case O_MTP: c->o.mtp = true; break;
	case O_POSITIONS: c->o.positions = arg; break;
	case O_PIXELS: c->o.pixels = arg; break;
	case O_GRID: c->o.grid = arg; break;
	case O_VISION: c->o.vision = true; break;
	case O_WINDOW:
		if (!cli_parse_u64("--window-size", arg, 1, 1u << 20, &v))
			return false;
		c->o.window_px = (uint32_t)v;
		break;
	case O_EMBD_RTOL: return parse_real("--embd-rtol", arg, &c->o.embd_rtol);
	case O_SAVE_BASE: c->o.save_base = arg; break;
	case O_BASE: c->o.base = arg; break;
	case O_CTX:
		if (!cli_parse_u64("--ctx", arg, 3, 1u << 20, &v))
			return false;
		c->o.n_ctx = (uint32_t)v;
		c->o.ctx_set = true;
		break;
	case O_CHUNKS:
		if (!cli_parse_u64("--chunks", arg, 1, 1u << 30, &v))
			return false;
		c->o.n_chunks = (uint32_t)v;
		c->o.ctx_set = true;
		break;
	case O_LOGIT_RTOL: return parse_real("--logit-rtol", arg, &c->o.logit_rtol);
	case O_HIDDEN_RTOL: return parse_real("--hidden-rtol", arg, &c->o.hidden_rtol);
	case O_THRESHOLDS: c->o.thresholds = arg; break;
	case O_TYPES: c->o.types = arg; break;
	case O_KEEP_DIR: c->o.keep_dir = arg; break;
	case O_OUTPUT: c->o.out = arg; break;
	case O_PROCESS_OUTPUT: c->o.process_output = true; break;
	case O_AGAINST: c->o.against = arg; break;
	case O_OUTPUT_FORMAT:
		if (strcmp(arg, "gguf") != 0 && strcmp(arg, "dat") != 0) {
			cli_usage_error("option '--output-format': '%s' is not gguf or dat", arg);
			return false;
		}
		c->o.imat_dat = strcmp(arg, "dat") == 0;
		break;
	case O_JSON: c->o.json = true; break;
	case O_QUIET: verify_quiet = true; break;
	case O_ALLOW_NONFINITE: c->o.allow_nonfinite = true; break;
	case O_HELP: c->help = true; break;
	case O_VERSION: c->version = true; break;
	}
	return true;
}

static void help_section(FILE *f, unsigned mask, bool exact)
{
	struct cli_opt sub[N_ROWS];
	size_t n = 0;

	for (size_t i = 0; i < N_ROWS; i++)
		if (exact ? rows[i].mask == mask : (rows[i].mask & mask) != 0)
			sub[n++] = rows[i].o;
	cli_opts_help(f, sub, n);
}

/* every option once, under the subcommands it applies to: "options of
 * every subcommand", then "run, compare, perplexity and sweep", ... in the
 * order the groups first appear in the table */
static void print_groups(FILE *f)
{
	unsigned seen[N_ROWS];
	size_t n_seen = 0;

	for (size_t i = 0; i < N_ROWS; i++) {
		unsigned m = rows[i].mask;
		bool dup = false;
		size_t k = 0, n_cmd = 0;

		for (size_t j = 0; j < n_seen; j++)
			dup |= seen[j] == m;
		if (dup)
			continue;
		seen[n_seen++] = m;
		if (m == C_ALL) {
			fprintf(f, "\noptions of every subcommand:\n");
		} else {
			for (size_t c = 0; c < N_CMDS; c++)
				n_cmd += (m & cmds[c].mask) != 0;
			fputc('\n', f);
			for (size_t c = 0; c < N_CMDS; c++)
				if (m & cmds[c].mask)
					fprintf(f, "%s%s", k++ ? (k == n_cmd ? " and " : ", ") : "",
						cmds[c].name);
			fprintf(f, ":\n");
		}
		help_section(f, m, true);
	}
}

static void usage(FILE *f, const struct cmd *only)
{
	for (size_t i = 0, n = 0; i < N_CMDS; i++)
		if (!only || only == &cmds[i])
			fprintf(f, "%s qwen-verify %s\n", n++ ? "      " : "usage:", cmds[i].synopsis);
	fprintf(f, "\nMODEL, REF and CANDIDATE are model directories, .safetensors files, shard\n"
		   "indexes or .gguf files (vision, compare: also mmproj .gguf files). Without\n"
		   "--tokens or --tokens-file, run, compare and perplexity use a built-in set of\n"
		   "4 sequences of 32 random token ids (not text); vision and compare --vision\n"
		   "without --pixels, built-in pixels on --grid or 1,16,16.\n\n");
	if (only) {
		fprintf(f, "%s: %s\n\noptions:\n", only->name, only->summary);
		help_section(f, only->mask, false);
	} else {
		for (size_t i = 0; i < N_CMDS; i++)
			fprintf(f, "  %-11s %s\n", cmds[i].name, cmds[i].summary);
		print_groups(f);
	}
	fprintf(f, "\nexit status: 0 ok, 1 outside the thresholds or budgets, 2 usage, "
		   "3 invalid or unsupported input, 4 i/o error\n");
}

int main(int argc, char **argv)
{
	struct ctx c;
	const char *pos[3];
	size_t n_pos;
	int first = 1, rc;
	qk_err err;

	cli_prog = "qwen-verify";
	cli_outputs_init();
	build_rows();
	memset(&c, 0, sizeof(c));
	c.o.n_threads = cli_default_threads();
	c.o.top_k = 5;
	c.o.logit_rtol = NAN;       /* unset: golden takes the expected file's budgets */
	c.o.hidden_rtol = NAN;
	c.o.embd_rtol = NAN;
	qk_err_clear(&err);
	if (argc > 1 && argv[1][0] != '-') {
		for (size_t i = 0; i < N_CMDS; i++)
			if (strcmp(argv[1], cmds[i].name) == 0)
				c.cmd = &cmds[i];
		if (!c.cmd)
			return cli_usage_error("unknown subcommand '%s' (run, golden, compare, "
					       "perplexity, sweep, imatrix or vision)", argv[1]);
		first = 2;
	}
	if (!cli_opts_parse(opts, N_ROWS, argc, argv, first, on_opt, &c, pos, 3, &n_pos))
		return EXIT_USAGE;
	if (c.help) {
		usage(stdout, c.cmd);
		return EXIT_OK;
	}
	if (c.version) {
		cli_print_version("qwen-verify");
		return EXIT_OK;
	}
	if (!c.cmd)
		return cli_usage_error("missing subcommand: run, golden, compare, perplexity, "
				       "sweep, imatrix or vision");
	if (!!c.o.tokens + !!c.o.tokens_file + !!c.o.text + !!c.o.text_file + !!c.o.chat > 1)
		return cli_usage_error("--tokens, --tokens-file, --text, --text-file and --chat "
				       "exclude each other");
	rc = c.cmd->fn(&c.o, pos, n_pos, &err);
	if (rc == QK_E_THRESHOLD)
		return EXIT_THRESHOLD; /* the subcommand named what failed */
	return rc ? cli_fail(&err) : EXIT_OK;
}
