/* gguf_set.c - one GGUF file or a llama.cpp split set from a write plan;
 * see gguf_set.h. */
#include "gguf_set.h"
#include "common.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/outfile.h"
#include "../formats/container/gguf_split.h"
#include "../formats/plan/plan_split.h"

void gguf_set_free(struct gguf_set *s)
{
	free(s->first);
	memset(s, 0, sizeof(*s));
}

int gguf_set_plan(struct gguf_set *s, const struct wp_plan *p, const char *out,
		  uint64_t max_bytes, uint64_t max_tensors, qk_err *err)
{
	uint64_t *sizes = NULL;
	uint32_t *split_of = NULL;
	int rc = QK_OK;

	memset(s, 0, sizeof(*s));
	s->plan = p;
	s->out = out;
	s->n_splits = 1;
	if (!max_bytes && !max_tensors)
		return QK_OK;
	if (out && !sp_prefix(out, s->prefix, sizeof(s->prefix)))
		return qk_err_set(err, QK_E_USAGE, "%s: not a name for a split set (it needs a "
				  "file name before .gguf)", out);
	sizes = malloc((p->n ? p->n : 1) * sizeof(*sizes));
	split_of = malloc((p->n ? p->n : 1) * sizeof(*split_of));
	if (!sizes || !split_of) {
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory planning the split set");
		goto out;
	}
	for (size_t i = 0; i < p->n; i++)
		sizes[i] = p->t[i].nbytes;
	s->n_splits = sp_cut(sizes, p->n, max_bytes, max_tensors, split_of);
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

int gguf_set_name(const struct gguf_set *s, size_t k, char *buf, size_t size, qk_err *err)
{
	int rc;

	if (s->n_splits == 1) {
		if ((size_t)snprintf(buf, size, "%s", s->out) >= size)
			return qk_err_set(err, QK_E_USAGE, "%s: output name too long", s->out);
		return QK_OK;
	}
	if ((rc = gs_split_path(buf, size, s->prefix, (unsigned)k + 1, (unsigned)s->n_splits)))
		return qk_err_set(err, rc, "%s: split file name too long", s->prefix);
	return QK_OK;
}

int gguf_set_check(const struct gguf_set *s, qk_err *err)
{
	char name[sizeof(s->prefix) + 32];
	uint64_t planned = wp_data_bytes(s->plan);
	int rc = QK_OK;

	for (size_t k = 0; k < s->n_splits && !rc; k++)
		if (!(rc = gguf_set_name(s, k, name, sizeof(name), err)))
			rc = qk_out_check(name, k == 0 ? planned : 0, err);
	return rc;
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
static int write_one(const struct gguf_set *s, const char *path, size_t k, size_t first,
		     size_t n, gguf_set_kv_fn kvs, void *kv_ctx, const struct gguf_set_opts *o,
		     struct set_progress *sp, struct wp_stats *st, struct gf_writer **wout,
		     qk_err *err)
{
	const struct wp_write_opts wo = {
		o->n_threads, 0, o->progress ? set_progress_fn : NULL, sp, o->allow_nonfinite,
	};
	struct wp_plan sub = *s->plan;
	struct gf_writer *w = NULL;
	int rc;

	sub.t = s->plan->t + first;
	sub.n = n;
	*wout = NULL;
	if ((rc = gf_writer_open(&w, path, err)))
		return rc;
	*wout = w;
	if (k == 0 && (rc = kvs(kv_ctx, w, err)))
		return rc;
	/* gguf-split's order (it sets split.count last, once the count is known;
	 * gguf-py writes count before tensors.count) */
	if (s->n_splits > 1 &&
	    ((rc = gf_writer_add_u16(w, GS_KEY_NO, (uint16_t)k, err)) ||
	     (rc = gf_writer_add_i32(w, GS_KEY_TENSORS, (int32_t)s->plan->n, err)) ||
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

/* A plain file is committed under its name; the members of a set stay
 * finished temporaries until all are complete, then qk_out_commit_set
 * publishes them together. */
int gguf_set_write(const struct gguf_set *s, gguf_set_kv_fn kvs, void *kv_ctx,
		   const struct gguf_set_opts *o, struct wp_stats *sum, qk_err *err)
{
	struct set_progress sp = { { o->label, -1 }, 0, wp_data_bytes(s->plan) };
	char name[sizeof(s->prefix) + 32];
	struct qk_out **done = NULL;
	size_t n_done = 0;
	int rc = QK_OK;

	sum->f16_overflow = 0;
	sum->f16_first = -1;
	sum->bytes_done = 0;
	if (s->n_splits > QK_OUT_MAX_OPEN)
		return qk_err_set(err, QK_E_USAGE, "the limits make %zu split files; at most %d are "
				  "written at once", s->n_splits, QK_OUT_MAX_OPEN);
	if (s->n_splits > 1 && !(done = calloc(s->n_splits, sizeof(*done))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu split files", s->n_splits);
	for (size_t k = 0; k < s->n_splits && !rc; k++) {
		size_t first = s->n_splits > 1 ? s->first[k] : 0;
		size_t n = s->n_splits > 1 ? s->first[k + 1] - first : s->plan->n;
		struct wp_stats st = { 0, -1, 0 };
		struct gf_writer *w;

		if ((rc = gguf_set_name(s, k, name, sizeof(name), err)))
			break;
		rc = write_one(s, name, k, first, n, kvs, kv_ctx, o, &sp, &st, &w, err);
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

void gguf_set_report(const struct gguf_set *s, uint64_t bytes)
{
	char first[sizeof(s->prefix) + 32], last[sizeof(s->prefix) + 32];

	if (s->n_splits > 1) {
		gs_split_path(first, sizeof(first), s->prefix, 1, (unsigned)s->n_splits);
		gs_split_path(last, sizeof(last), s->prefix, (unsigned)s->n_splits,
			      (unsigned)s->n_splits);
		fprintf(stderr, "%s: wrote %zu split files %s ... %s: %zu tensors, %llu bytes of data, "
			"file type %u\n", cli_prog, s->n_splits, first, last, s->plan->n,
			(unsigned long long)bytes, (unsigned)s->plan->ftype);
	} else {
		fprintf(stderr, "%s: wrote %s: %zu tensors, %llu bytes of data, file type %u\n",
			cli_prog, s->out, s->plan->n, (unsigned long long)bytes,
			(unsigned)s->plan->ftype);
	}
}

static uint64_t split_bytes(const struct gguf_set *s, size_t k)
{
	uint64_t bytes = 0;

	for (size_t i = s->first[k]; i < s->first[k + 1]; i++)
		bytes += s->plan->t[i].nbytes;
	return bytes;
}

/* the name of split k, or "split k of n" when the set has no name yet */
static void split_label(const struct gguf_set *s, size_t k, char *path, size_t size)
{
	if (!s->out || gs_split_path(path, size, s->prefix, (unsigned)k + 1, (unsigned)s->n_splits))
		snprintf(path, size, "split %zu of %zu", k + 1, s->n_splits);
}

void gguf_set_print(FILE *f, const struct gguf_set *s)
{
	char path[sizeof(s->prefix) + 32];

	if (s->n_splits < 2)
		return;
	fprintf(f, "split files (%zu; key/values in the first):\n", s->n_splits);
	for (size_t k = 0; k < s->n_splits; k++) {
		split_label(s, k, path, sizeof(path));
		fprintf(f, "  %-48s %6zu tensors %14" PRIu64 " bytes  first %s\n", path,
			s->first[k + 1] - s->first[k], split_bytes(s, k), s->plan->t[s->first[k]].name);
	}
}

void gguf_set_json(cJSON *o, const struct gguf_set *s)
{
	char path[sizeof(s->prefix) + 32];
	cJSON *arr;

	if (s->n_splits < 2 || !(arr = cJSON_AddArrayToObject(o, "splits")))
		return;
	for (size_t k = 0; k < s->n_splits; k++) {
		cJSON *e = cJSON_CreateObject();

		if (!e)
			return;
		if (s->out && !gs_split_path(path, sizeof(path), s->prefix, (unsigned)k + 1,
					     (unsigned)s->n_splits))
			cJSON_AddStringToObject(e, "path", path);
		else
			cJSON_AddNullToObject(e, "path");
		cJSON_AddNumberToObject(e, "n_tensors", (double)(s->first[k + 1] - s->first[k]));
		cJSON_AddNumberToObject(e, "bytes", (double)split_bytes(s, k));
		cJSON_AddItemToArray(arr, e);
	}
}
