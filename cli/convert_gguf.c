/* convert_gguf.c - HF safetensors -> GGUF: build the write plan and the
 * key/values, load the tokenizer, then write the header and tensor infos
 * before reading any tensor data and stream the data (formats/plan/plan.h).
 *
 * Split output (--split-max-size / --split-max-tensors): the cuts are decided
 * from the plan's sizes before anything is written (formats/plan/plan_split.h,
 * gguf-split's rule); each split is a complete GGUF written through its own
 * gf_writer (atomic per file), the first holding every key/value, each
 * holding split.no / split.tensors.count / split.count after them: the
 * bytes gguf-split writes when it splits the unsplit file (but for the
 * trailing dimensions of size 1 that gguf-split drops from tensor infos).
 * Committed splits wait under part names in an outfile group and are renamed
 * into place together: a failure or an interrupt before that removes them
 * all and leaves an older set of the same name as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../formats/container/gguf.h"
#include "../formats/container/gguf_split.h"
#include "../formats/base/outfile.h"
#include "../formats/plan/plan_split.h"
#include "../quant/mix.h"
#include "common.h"
#include "convert.h"

struct gstate {
	struct wp_plan plan;
	struct wp_meta md;
	struct tk_vocab vocab;
	/* the split set: split k holds plan tensors first[k] .. first[k + 1] - 1 */
	size_t n_splits;               /* 1: a plain file */
	size_t *first;                 /* [n_splits + 1] */
	char prefix[4096];
	const char *out;               /* -o, or the default name / filled template */
	char *out_owned;               /* what to free of out, or NULL */
};

static void gstate_free(struct gstate *s)
{
	free(s->first);
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
	if (m->n_vision)
		convert_note(c, "%s: not converting the %zu tensors of the vision tower "
			     "(model.visual.*): llama.cpp keeps them in a separate mmproj file",
			     m->cat->path, m->n_vision);
	if (c->keep_mtp && !m->n_mtp)
		cli_warn("--keep-mtp: the checkpoint has no MTP tensors");
	cli_warn_unloadable(m);
}

/* the cuts of a split set; n_splits 1 when no limit cuts (or none given) */
static int plan_splits(struct gstate *s, const struct convert_ctx *c, qk_err *err)
{
	const struct wp_plan *p = &s->plan;
	uint64_t *sizes = NULL;
	uint32_t *split_of = NULL;
	int rc = QK_OK;

	s->n_splits = 1;
	if (!c->split_bytes && !c->split_tensors)
		return QK_OK;
	if (s->out && !sp_prefix(s->out, s->prefix, sizeof(s->prefix)))
		return qk_err_set(err, QK_E_USAGE, "%s: not a name for a split set (it needs a "
				  "file name before .gguf)", s->out);
	sizes = malloc((p->n ? p->n : 1) * sizeof(*sizes));
	split_of = malloc((p->n ? p->n : 1) * sizeof(*split_of));
	if (!sizes || !split_of) {
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory planning the split set");
		goto out;
	}
	for (size_t i = 0; i < p->n; i++)
		sizes[i] = p->t[i].nbytes;
	s->n_splits = sp_cut(sizes, p->n, c->split_bytes, c->split_tensors, split_of);
	if (s->n_splits > GS_MAX_COUNT) {
		rc = qk_err_set(err, QK_E_USAGE, "the limits make %zu split files, more than a "
				"split set can hold (%u)", s->n_splits, GS_MAX_COUNT);
		goto out;
	}
	if (s->n_splits < 1)
		s->n_splits = 1;
	if (!(s->first = calloc(s->n_splits + 1, sizeof(*s->first)))) {
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory planning the split set");
		goto out;
	}
	/* splits are contiguous runs of the plan */
	for (size_t i = p->n; i-- > 0;)
		s->first[split_of[i]] = i;
	s->first[s->n_splits] = p->n;
out:
	free(sizes);
	free(split_of);
	return rc;
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
	const struct wp_opts po = { c->outtype, c->keep_mtp };
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
	return plan_splits(s, c, err);
}

/* progress over the whole set: a split's bytes on top of the earlier ones */
struct set_progress {
	struct cli_progress pr;
	uint64_t base, total;
};

static void set_progress_fn(void *ctx, uint64_t done, uint64_t total)
{
	struct set_progress *sp = ctx;

	(void)total;
	cli_progress(&sp->pr, sp->base + done, sp->total);
}

/* one GGUF file: the key/values (split k > 0: the split keys only), then
 * plan tensors [first, first + n) */
static int write_gguf(struct gstate *s, const struct convert_ctx *c, const char *path,
		      size_t k, size_t first, size_t n, struct set_progress *sp,
		      struct wp_stats *st, struct gf_writer **wout, qk_err *err)
{
	const struct wp_write_opts wo = {
		(unsigned)c->threads, 0, !c->quiet && isatty(STDERR_FILENO) ? set_progress_fn : NULL,
		sp, c->allow_nonfinite,
	};
	struct wp_plan sub = s->plan;
	struct gf_writer *w = NULL;
	int rc;

	sub.t = s->plan.t + first;
	sub.n = n;
	*wout = NULL;
	if ((rc = gf_writer_open(&w, path, err)))
		return rc;
	*wout = w;
	if (k == 0 && ((rc = wp_meta_write(&s->md, w, err)) ||
		       (rc = tk_add_to_gguf(&s->vocab, w, err))))
		return rc;
	/* gguf-split's order (it sets split.count last, once the count is known;
	 * gguf-py writes count before tensors.count) */
	if (s->n_splits > 1 &&
	    ((rc = gf_writer_add_u16(w, GS_KEY_NO, (uint16_t)k, err)) ||
	     (rc = gf_writer_add_i32(w, GS_KEY_TENSORS, (int32_t)s->plan.n, err)) ||
	     (rc = gf_writer_add_u16(w, GS_KEY_COUNT, (uint16_t)s->n_splits, err))))
		return rc;
	if ((rc = wp_declare_tensors(&sub, w, err)) || (rc = gf_writer_write_header(w, err)) ||
	    (rc = wp_write_data(&sub, w, &wo, st, err)))
		return rc;
	if (st->f16_first >= 0)
		st->f16_first += (long)first;
	return QK_OK;
}

static void add_stats(struct wp_stats *sum, const struct wp_stats *st)
{
	if (sum->f16_first < 0 && st->f16_first >= 0)
		sum->f16_first = st->f16_first;
	sum->f16_overflow += st->f16_overflow;
	sum->bytes_done += st->bytes_done;
}

static int split_name(const struct gstate *s, size_t k, char *buf,
		      size_t n, qk_err *err)
{
	int rc;

	if (s->n_splits == 1) {
		if ((size_t)snprintf(buf, n, "%s", s->out) >= n)
			return qk_err_set(err, QK_E_USAGE, "%s: output name too long", s->out);
		return QK_OK;
	}
	if ((rc = gs_split_path(buf, n, s->prefix, (unsigned)k + 1, (unsigned)s->n_splits)))
		return qk_err_set(err, rc, "%s: split file name too long", s->prefix);
	return QK_OK;
}

/* Before any work: every file the run will write may be written, and the
 * filesystem has room for the whole plan. */
static int check_targets(const struct gstate *s, qk_err *err)
{
	char name[sizeof(s->prefix) + 32];
	uint64_t planned = wp_data_bytes(&s->plan);
	int rc = QK_OK;

	for (size_t k = 0; k < s->n_splits && !rc; k++)
		if (!(rc = split_name(s, k, name, sizeof(name), err)))
			rc = qk_out_check(name, k == 0 ? planned : 0, err);
	return rc;
}

/* Every split in turn: a plain file is committed under its name; the
 * members of a set stay finished temporaries until all are complete, then
 * qk_out_commit_set publishes them together, so an older set of the same name
 * is replaced only by a complete one, and stays as it was on any failure. */
static int write_all(struct gstate *s, const struct convert_ctx *c, struct wp_stats *sum,
		     qk_err *err)
{
	struct set_progress sp = { { NULL, -1 }, 0, wp_data_bytes(&s->plan) };
	char name[sizeof(s->prefix) + 32];
	struct qk_out **done = NULL;
	size_t n_done = 0;
	int rc = QK_OK;

	if (s->n_splits > QK_OUT_MAX_OPEN)
		return qk_err_set(err, QK_E_USAGE, "the limits make %zu split files; at most %d are "
				  "written at once", s->n_splits, QK_OUT_MAX_OPEN);
	if (s->n_splits > 1 && !(done = calloc(s->n_splits, sizeof(*done))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu split files", s->n_splits);
	for (size_t k = 0; k < s->n_splits && !rc; k++) {
		size_t first = s->n_splits > 1 ? s->first[k] : 0;
		size_t n = s->n_splits > 1 ? s->first[k + 1] - first : s->plan.n;
		struct wp_stats st = { 0, -1, 0 };
		struct gf_writer *w;

		if ((rc = split_name(s, k, name, sizeof(name), err)))
			break;
		rc = write_gguf(s, c, name, k, first, n, &sp, &st, &w, err);
		add_stats(sum, &st);
		sp.base += st.bytes_done;
		if (rc) {
			gf_writer_abort(w);
			break;
		}
		if (s->n_splits == 1)
			rc = gf_writer_commit(w, err);
		else if (!(rc = gf_writer_finish(w, &done[n_done], err)))
			n_done++;
	}
	cli_progress_end(&sp.pr);
	if (!rc && s->n_splits > 1)
		rc = qk_out_commit_set(done, n_done, err);
	else
		for (size_t k = 0; k < n_done; k++)
			qk_out_abort(done[k]);
	free(done);
	return rc;
}

int convert_to_gguf(const struct convert_ctx *c, struct qk_input *in, qk_err *err)
{
	struct gstate s;
	struct wp_stats st = { 0, -1, 0 };
	char first[sizeof(s.prefix) + 32], last[sizeof(s.prefix) + 32];
	int rc;

	memset(&s, 0, sizeof(s));
	if ((rc = prepare(&s, c, in, err)))
		goto out;
	plan_warnings(c, &s.plan);
	if (s.md.note[0])
		cli_warn("%s", s.md.note);
	if ((c->split_bytes || c->split_tensors) && s.n_splits == 1)
		convert_note(c, "the model fits the split limits in one file: writing %s without "
			     "split keys", s.out ? s.out : "it");
	if (c->dry_run && c->json) {
		rc = convert_plan_json(&s.plan, &s.md, &s.vocab, s.out, s.out ? s.prefix : NULL,
				       s.first, s.n_splits, err);
		goto out;
	}
	if (c->dry_run) {
		convert_print_plan(stdout, &s.plan, &s.md, &s.vocab, s.out);
		if (s.n_splits > 1)
			convert_print_splits(stdout, &s.plan, s.out ? s.prefix : NULL, s.first,
					     s.n_splits);
		goto out;
	}
	if ((rc = cli_forbid_inputs(c->in, &in->cat, err)) || (rc = check_targets(&s, err)) ||
	    (rc = write_all(&s, c, &st, err)))
		goto out;
	if (st.f16_overflow)
		cli_warn("%llu finite value%s became infinite in F16 (beyond +-65504; first in "
			 "'%s'): --outtype bf16 or f32 keeps them", (unsigned long long)st.f16_overflow,
			 st.f16_overflow == 1 ? "" : "s", s.plan.t[st.f16_first].name);
	if (!c->quiet && s.n_splits > 1) {
		gs_split_path(first, sizeof(first), s.prefix, 1, (unsigned)s.n_splits);
		gs_split_path(last, sizeof(last), s.prefix, (unsigned)s.n_splits,
			      (unsigned)s.n_splits);
		fprintf(stderr, "%s: wrote %zu split files %s ... %s: %zu tensors, %llu bytes of data, "
			"file type %u\n", cli_prog, s.n_splits, first, last, s.plan.n,
			(unsigned long long)st.bytes_done, (unsigned)s.plan.ftype);
	} else if (!c->quiet) {
		fprintf(stderr, "%s: wrote %s: %zu tensors, %llu bytes of data, file type %u\n",
			cli_prog, s.out, s.plan.n, (unsigned long long)st.bytes_done,
			(unsigned)s.plan.ftype);
	}
out:
	gstate_free(&s);
	return rc;
}
