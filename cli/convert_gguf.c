/* convert_gguf.c - HF safetensors -> GGUF: build the write plan and the
 * key/values, load the tokenizer, then write the header and tensor infos
 * before reading any tensor data and stream the data (formats/plan/plan.h).
 *
 * Split output (--split-max-size / --split-max-tensors) is gguf_set.h's:
 * the cuts decided before anything is written, the splits published
 * together. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../formats/container/gguf.h"
#include "../formats/container/gguf_split.h"
#include "../formats/base/outfile.h"
#include "../quant/mix.h"
#include "common.h"
#include "convert.h"
#include "gguf_set.h"

struct convert_mmproj;
static int convert_text(const struct convert_ctx *c, struct qk_input *in,
			const struct convert_mmproj *mm, qk_err *err);

struct gstate {
	struct wp_plan plan;
	struct wp_meta md;
	struct tk_vocab vocab;
	struct gguf_set set;           /* the file or split set */
	const char *out;               /* -o, or the default name / filled template */
	char *out_owned;               /* what to free of out, or NULL */
};

static void gstate_free(struct gstate *s)
{
	gguf_set_free(&s->set);
	free(s->out_owned);
	tk_free(&s->vocab);
	wp_meta_free(&s->md);
	wp_free(&s->plan);
}

/* notes and warnings that depend on the plan only */
static void plan_warnings(const struct convert_ctx *c, const struct wp_plan *p)
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
		convert_note(c, "%s: dropping the MTP tensors of %u layer(s) (--keep-mtp keeps them)",
			     m->cat->path, (unsigned)m->n_mtp);
	if (m->n_vision && !c->mmproj)
		convert_note(c, "%s: not converting the %zu tensors of the vision tower: llama.cpp "
			     "keeps them in a separate mmproj file (--mmproj FILE writes it)",
			     m->cat->path, m->n_vision);
	if (c->keep_mtp && !m->n_mtp)
		cli_warn("--keep-mtp: the checkpoint has no MTP tensors");
	cli_warn_unloadable(m);
}

/* -o as given; else the name llama.cpp's converter gives (beside the
 * input, from the model's name parts and the file type), or -o's {ftype}
 * templates filled in (a dry run shows the name it would write). */
static int output_name(struct gstate *s, const struct convert_ctx *c, const struct qk_input *in,
		       qk_err *err)
{
	const struct qm_mix *mix = qm_mix_by_ftype((int)s->plan.ftype);
	const char *parts[CLI_NAME_N];
	int rc;

	s->out = c->out;
	cli_name_parts_meta(&s->md, parts);
	if ((rc = cli_output_name(c->out, &in->cat, parts, mix ? mix->name : "unknown",
				  &s->out_owned, err)))
		return rc;
	if (s->out_owned)
		s->out = s->out_owned;
	return QK_OK;
}

/* everything up to the first byte written: any input error stops here */
static int prepare(struct gstate *s, const struct convert_ctx *c, struct qk_input *in,
		   qk_err *err)
{
	const struct wp_opts po = { c->outtype, c->keep_mtp, c->fp8_as_q8 };
	struct wp_meta_opts mo;
	int rc;

	if ((rc = wp_build(&s->plan, &in->model, &po, err)))
		return rc;
	mo.name = c->name;
	mo.dir = in->cat.dir;
	if ((rc = wp_meta_build(&s->md, &s->plan, &mo, err)))
		return rc;
	/* tokenizer.ggml.* and the chat template (formats/tokenizer/tokenizer.h) */
	if ((rc = tk_load_hf(&s->vocab, in->cat.dir, in->hp.arch, in->hp.n_vocab, &in->hp, err)))
		return rc;
	if ((rc = output_name(s, c, in, err)))
		return rc;
	return gguf_set_plan(&s->set, &s->plan, s->out, c->split_bytes, c->split_tensors, err);
}

/* the first file's key/values: the model's, then the tokenizer's */
static int write_kvs(void *ctx, struct gf_writer *w, qk_err *err)
{
	struct gstate *s = ctx;
	int rc = wp_meta_write(&s->md, w, err);

	return rc ? rc : tk_add_to_gguf(&s->vocab, w, err);
}

/* --dry-run --json: the text plan, with the mmproj's as its "mmproj" member
 * (--mmproj-only: the mmproj's alone) */
static int plans_json(const struct gstate *s, const struct convert_ctx *c,
		      const struct convert_mmproj *mm, qk_err *err)
{
	cJSON *root = NULL, *mj = NULL;

	if (!c->mmproj_only && !(root = convert_plan_json_obj(&s->plan, &s->md, &s->vocab, &s->set)))
		return cli_emit_json(NULL, err);
	if (c->mmproj && !(mj = convert_plan_json_obj(&mm->plan, &mm->md, NULL, &mm->set))) {
		cJSON_Delete(root);
		return cli_emit_json(NULL, err);
	}
	if (root && mj)
		cJSON_AddItemToObject(root, "mmproj", mj);
	return cli_emit_json(root ? root : mj, err);
}

/* the text GGUF (unless --mmproj-only) and the mmproj (with --mmproj) */
int convert_to_gguf(const struct convert_ctx *c, struct qk_input *in, qk_err *err)
{
	struct convert_mmproj mm;
	int rc;

	memset(&mm, 0, sizeof(mm));
	if (c->mmproj && (rc = convert_mmproj_prepare(&mm, c, in, err)))
		goto out;
	rc = convert_text(c, in, c->mmproj ? &mm : NULL, err);
	if (!rc && c->mmproj && !c->dry_run) {
		convert_mmproj_warnings(&mm);
		if (!c->mmproj_only || !(rc = cli_forbid_inputs(c->in, &in->cat, err)))
			rc = convert_mmproj_write(&mm, c, err);
	} else if (!rc && c->mmproj && !c->json) {
		convert_mmproj_warnings(&mm);
		convert_print_plan(stdout, &mm.plan, &mm.md, NULL, mm.out);
	}
out:
	convert_mmproj_free(&mm);
	return rc;
}

/* the text GGUF; with --dry-run its plan (and, --json, the mmproj's) */
static int convert_text(const struct convert_ctx *c, struct qk_input *in,
			const struct convert_mmproj *mm, qk_err *err)
{
	const struct gguf_set_opts wo = { (unsigned)c->threads, !c->quiet && isatty(STDERR_FILENO),
					  NULL, c->allow_nonfinite };
	struct gstate s;
	struct wp_stats st = { 0, -1, 0 };
	int rc;

	memset(&s, 0, sizeof(s));
	if (c->mmproj_only) {
		rc = c->dry_run && c->json ? plans_json(&s, c, mm, err) : QK_OK;
		goto out;
	}
	if ((rc = prepare(&s, c, in, err)))
		goto out;
	if (mm && s.out && mm->out && strcmp(s.out, mm->out) == 0) {
		rc = qk_err_set(err, QK_E_USAGE, "--mmproj %s names the text GGUF's file too: give "
				"the mmproj its own name", mm->out);
		goto out;
	}
	plan_warnings(c, &s.plan);
	if (s.md.note[0])
		cli_warn("%s", s.md.note);
	if ((c->split_bytes || c->split_tensors) && s.set.n_splits == 1)
		convert_note(c, "the model fits the split limits in one file: writing %s without "
			     "split keys", s.out ? s.out : "it");
	if (c->dry_run && c->json) {
		rc = mm ? plans_json(&s, c, mm, err)
			: convert_plan_json(&s.plan, &s.md, &s.vocab, &s.set, err);
		goto out;
	}
	if (c->dry_run) {
		convert_print_plan(stdout, &s.plan, &s.md, &s.vocab, s.out);
		gguf_set_print(stdout, &s.set);
		goto out;
	}
	if ((rc = cli_forbid_inputs(c->in, &in->cat, err)) || (rc = gguf_set_check(&s.set, err)) ||
	    (rc = gguf_set_write(&s.set, write_kvs, &s, &wo, &st, err)))
		goto out;
	if (st.f16_overflow)
		cli_warn("%llu finite value%s became infinite in F16 (beyond +-65504; first in "
			 "'%s'): --outtype bf16 or f32 keeps them", (unsigned long long)st.f16_overflow,
			 st.f16_overflow == 1 ? "" : "s", s.plan.t[st.f16_first].name);
	if (!c->quiet)
		gguf_set_report(&s.set, st.bytes_done);
out:
	gstate_free(&s);
	return rc;
}
