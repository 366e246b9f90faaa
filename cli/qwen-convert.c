/* qwen-convert.c - Hugging Face safetensors checkpoint -> GGUF that llama.cpp
 * loads. Options: man/qwen-convert.1.
 *
 * Flow: open and bind the model (nothing is written for a bad input), build
 * the write plan and the key/values, load the tokenizer, then write the
 * header and tensor infos before reading any tensor data and stream the
 * data (formats/plan.h). The output appears only when complete
 * (formats/outfile.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../formats/catalog.h"
#include "../formats/gguf.h"
#include "../formats/hparams.h"
#include "../formats/model.h"
#include "../formats/open.h"
#include "../formats/outfile.h"
#include "../formats/plan.h"
#include "../formats/tokenizer.h"
#include "../quant/qtype.h"
#include "common.h"
#include "convert.h"
#include "opts.h"

enum { O_OUTPUT = 1, O_OUTTYPE, O_NAME, O_KEEP_MTP, O_THREADS, O_DRY_RUN, O_QUIET, O_HELP,
       O_VERSION };

static const struct cli_opt options[] = {
	{ O_OUTPUT, 'o', "output", CLI_ARG_REQUIRED, "FILE", "the GGUF file to write" },
	{ O_OUTTYPE, 0, "outtype", CLI_ARG_REQUIRED, "TYPE",
	  "auto (keep the source precision), f32, f16, bf16 or q8_0" },
	{ O_NAME, 0, "name", CLI_ARG_REQUIRED, "NAME", "general.name (default: from the model)" },
	{ O_KEEP_MTP, 0, "keep-mtp", CLI_ARG_NONE, NULL,
	  "keep Qwen3-Next MTP tensors (llama.cpp's nextn layout)" },
	{ O_THREADS, 't', "threads", CLI_ARG_REQUIRED, "N", "converter threads (default 1)" },
	{ O_DRY_RUN, 0, "dry-run", CLI_ARG_NONE, NULL, "print the plan, write nothing" },
	{ O_QUIET, 'q', "quiet", CLI_ARG_NONE, NULL, "no progress bar, notes or summary" },
	{ O_HELP, 'h', "help", CLI_ARG_NONE, NULL, "print this help and exit" },
	{ O_VERSION, 0, "version", CLI_ARG_NONE, NULL, "print the version and exit" },
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

struct ctx {
	const char *out, *name;
	int outtype;
	bool keep_mtp, dry_run, quiet, help, version;
	uint64_t threads;
};

static bool on_opt(void *p, int id, const char *arg)
{
	struct ctx *c = p;

	switch (id) {
	case O_OUTPUT: c->out = arg; break;
	case O_OUTTYPE:
		c->outtype = wp_outtype_from_name(arg);
		if (c->outtype < 0)
			return cli_usage_error("option '--outtype': '%s' is not one of auto, f32, "
					       "f16, bf16, q8_0", arg), false;
		break;
	case O_NAME:
		if (!*arg)
			return cli_usage_error("option '--name' needs a non-empty name"), false;
		c->name = arg;
		break;
	case O_KEEP_MTP: c->keep_mtp = true; break;
	case O_THREADS: return cli_parse_u64("--threads", arg, 1, 256, &c->threads);
	case O_DRY_RUN: c->dry_run = true; break;
	case O_QUIET: c->quiet = true; break;
	case O_HELP: c->help = true; break;
	case O_VERSION: c->version = true; break;
	}
	return true;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: qwen-convert [OPTIONS] MODEL_DIR -o OUT.gguf\n\n"
		   "Convert a Hugging Face Qwen checkpoint (safetensors, any generation) to a GGUF\n"
		   "file that llama.cpp loads. MODEL_DIR holds config.json, the safetensors files\n"
		   "and the tokenizer files.\n\noptions:\n");
	cli_opts_help(f, options, N_OPTIONS);
	fprintf(f, "\nexit status: 0 ok, 2 usage, 3 invalid or unsupported input, 4 i/o error\n");
}

static void note(const struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const struct ctx *c, const char *fmt, ...)
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

/* the files a conversion reads may not be its output (an earlier output
 * in the model directory may be overwritten) */
static const char *const side_files[] = {
	"config.json", "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json",
	"qwen.tiktoken", "chat_template.jinja", "chat_template.json", "generation_config.json",
	"README.md",
};

static void forbid_inputs(const char *path, const struct qk_catalog *cat)
{
	char buf[4096];

	qk_out_forbid(path);
	for (size_t i = 0; i < cat->n_files; i++)
		if (cat->files[i].path)
			qk_out_forbid(cat->files[i].path);
	for (size_t i = 0; cat->dir && i < sizeof(side_files) / sizeof(side_files[0]); i++)
		if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", cat->dir, side_files[i]) < sizeof(buf))
			qk_out_forbid(buf);
}

/* notes and warnings that depend on the plan only */
static void plan_warnings(const struct ctx *c, const struct wp_plan *p)
{
	const struct qk_model *m = p->m;
	size_t n_fb = 0, first = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->t[i].why == WP_WHY_FALLBACK && !n_fb++)
			first = i;
	if (n_fb)
		cli_warn("%zu tensor%s written as F16, not Q8_0: rows of %llu elements are not a "
			 "multiple of 32 (first: '%s')", n_fb, n_fb == 1 ? "" : "s",
			 (unsigned long long)p->t[first].cols, p->t[first].name);
	if (m->n_mtp && !p->keep_mtp)
		note(c, "%s: dropping the MTP tensors of %u layer(s) (--keep-mtp keeps them)",
		     m->cat->path, (unsigned)m->n_mtp);
	if (c->keep_mtp && !m->n_mtp)
		cli_warn("--keep-mtp: the checkpoint has no MTP tensors");
	for (uint32_t l = 0; m->hp.n_expert && l < m->hp.n_layer; l++)
		if (!(m->hp.layer_flags[l] & QK_LAYER_MOE)) {
			cli_warn("layer %u is a dense layer of a %s model: llama.cpp cannot load "
				 "this file (every %s layer must be MoE)", (unsigned)l,
				 qk_arch_gguf_name(m->hp.arch), qk_arch_gguf_name(m->hp.arch));
			break;
		}
}

struct state {
	struct qk_input in;
	struct wp_plan plan;
	struct wp_meta md;
	struct tk_vocab vocab;
};

static void state_free(struct state *s)
{
	tk_free(&s->vocab);
	wp_meta_free(&s->md);
	wp_free(&s->plan);
	qk_input_close(&s->in);
}

/* everything up to the first byte written: any input error stops here */
static int prepare(struct state *s, const struct ctx *c, const char *path, qk_err *err)
{
	const struct wp_opts po = { c->outtype, c->keep_mtp };
	struct wp_meta_opts mo;
	int rc;

	if ((rc = qk_input_open(&s->in, path, err)))
		return rc;
	if (s->in.cat.format != QK_FMT_SAFETENSORS)
		return qk_err_set(err, QK_E_UNSUPPORTED,
				  "%s: not a safetensors checkpoint (converting GGUF input is not "
				  "supported)", path);
	if ((rc = wp_build(&s->plan, &s->in.model, &po, err)))
		return rc;
	mo.name = c->name;
	mo.dir = s->in.cat.dir;
	if ((rc = wp_meta_build(&s->md, &s->plan, &mo, err)))
		return rc;
	/* tokenizer.ggml.* and the chat template (formats/tokenizer.h) */
	return tk_load_hf(&s->vocab, s->in.cat.dir, s->in.hp.arch, s->in.hp.n_vocab, &s->in.hp, err);
}

static int write_file(struct state *s, const struct ctx *c, struct wp_stats *st, qk_err *err)
{
	struct convert_progress pr = { -1 };
	const struct wp_write_opts wo = {
		(unsigned)c->threads, 0, !c->quiet && isatty(STDERR_FILENO) ? convert_progress : NULL,
		&pr,
	};
	struct gf_writer *w = NULL;
	int rc;

	if ((rc = gf_writer_open(&w, c->out, err)))
		return rc;
	if ((rc = wp_meta_write(&s->md, w, err)) || (rc = tk_add_to_gguf(&s->vocab, w, err)) ||
	    (rc = wp_declare_tensors(&s->plan, w, err)) ||
	    (rc = gf_writer_write_header(w, err)) ||
	    (rc = wp_write_data(&s->plan, w, &wo, st, err))) {
		convert_progress_end(&pr);
		gf_writer_abort(w);
		return rc;
	}
	convert_progress_end(&pr);
	return gf_writer_commit(w, err);
}

int main(int argc, char **argv)
{
	struct ctx c = { 0 };
	struct state s;
	struct wp_stats st;
	const char *pos[1];
	size_t n_pos;
	qk_err err;
	int rc;

	cli_prog = "qwen-convert";
	c.threads = 1;
	qk_err_clear(&err);
	memset(&s, 0, sizeof(s));
	if (!cli_opts_parse(options, N_OPTIONS, argc, argv, 1, on_opt, &c, pos, 1, &n_pos))
		return EXIT_USAGE;
	if (c.help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (c.version) {
		printf("qwen-convert (qwenkit) 0.1.0\n");
		return EXIT_OK;
	}
	if (n_pos != 1)
		return cli_usage_error("missing MODEL_DIR");
	if (!c.out && !c.dry_run)
		return cli_usage_error("missing the output file (-o OUT.gguf)");
	if ((rc = prepare(&s, &c, pos[0], &err)))
		goto fail;
	plan_warnings(&c, &s.plan);
	if (s.md.note[0])
		cli_warn("%s", s.md.note);
	if (c.dry_run) {
		convert_print_plan(stdout, &s.plan, &s.md, &s.vocab, c.out);
		state_free(&s);
		return EXIT_OK;
	}
	forbid_inputs(pos[0], &s.in.cat);
	if ((rc = write_file(&s, &c, &st, &err)))
		goto fail;
	if (st.f16_overflow)
		cli_warn("%llu finite value%s became infinite in F16 (beyond +-65504; first in "
			 "'%s'): --outtype bf16 or f32 keeps them", (unsigned long long)st.f16_overflow,
			 st.f16_overflow == 1 ? "" : "s", s.plan.t[st.f16_first].name);
	if (!c.quiet)
		fprintf(stderr, "%s: wrote %s: %zu tensors, %llu bytes of data, file type %u\n",
			cli_prog, c.out, s.plan.n, (unsigned long long)st.bytes_done,
			(unsigned)s.plan.ftype);
	state_free(&s);
	return EXIT_OK;
fail:
	state_free(&s);
	return cli_fail(&err);
}
