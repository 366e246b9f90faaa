/* verify_imatrix.c - qwen-verify imatrix: llama-imatrix's importance matrix
 * from the reference pass (ref/imat.h), written in llama-imatrix's GGUF
 * format or its legacy .dat format (formats/imatrix/imatrix.h).
 *
 * The text is cut as llama-imatrix cuts it, which is llama-perplexity's
 * rule (verify_chunks.c): the whole input tokenized once, at least 2 x
 * n_ctx tokens, n_chunk = min(--chunks, n / n_ctx) chunks of n_ctx tokens,
 * each run on its own from position 0 with its first token replaced by BOS
 * when the vocabulary adds one. Every token of a chunk goes through every
 * multiply; the output head runs on every position only with
 * --process-output (llama-imatrix computes all logits but keeps
 * output.weight only then). The file records chunk_count = chunks run,
 * chunk_size = n_ctx and the text file as its dataset. */
#include "common.h"
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/outfile.h"
#include "../ref/imat.h"

static int collect(struct verify_model *m, const struct verify_opts *o,
		   const struct verify_stream *st, struct ri_collect *rc_out, double *secs,
		   qk_err *err)
{
	struct verify_opts oo = *o;
	int32_t *buf = malloc(st->n_ctx * sizeof(*buf));
	int rc = QK_OK;

	if (!buf)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %u tokens", st->n_ctx);
	oo.on_matmul = ri_on_matmul;
	oo.on_matmul_user = rc_out;
	for (size_t c = 0; !rc && c < st->n_chunk; c++) {
		/* logits of the last position only, unless output.weight is wanted */
		const struct verify_seq seq = { buf, st->n_ctx,
						o->process_output ? 0 : st->n_ctx - 1 };
		struct rf_out r;

		verify_chunk_tokens(st, c, buf);
		rc = verify_forward(m, &oo, false, "imatrix", c, st->n_chunk, &seq, &r, secs, err);
		rf_out_free(&r);
		if (!rc && rc_out->rc) {
			*err = rc_out->err;
			rc = rc_out->rc;
		}
	}
	verify_progress_end();
	free(buf);
	return rc;
}

/* --against FILE: every entry of both, counts equal, sums within
 * IMAT_MAX_REL of theirs (relative to |theirs|, over columns whose sum is
 * not 0); per entry the largest and the mean relative difference */
#define IMAT_MAX_REL 1e-2

static int against(const struct im_file *ours, const char *path, bool json, qk_err *err)
{
	struct im_file th;
	double worst = 0;
	size_t bad = 0;
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	int rc = im_load(&th, path, err);

	if (rc)
		return rc;
	if (!json)
		printf("against %s (%zu entries): relative difference of the sums per entry\n", path,
		       th.n);
	for (size_t i = 0; i < th.n; i++) {
		const struct im_entry *t = &th.e[i], *u = im_find(ours, t->name);
		double mx = 0, sum = 0;
		uint64_t n = 0;
		bool counts_ok = u && u->n_mat * u->n_cols == t->n_mat * t->n_cols;
		const char *why = !u ? "missing from ours" : !counts_ok ? "other size" : NULL;

		for (uint64_t m = 0; counts_ok && !th.legacy && m < t->n_mat; m++)
			counts_ok = u->n_mat == t->n_mat && u->counts[m] == t->counts[m];
		if (!why && !counts_ok)
			why = "other counts";
		for (uint64_t k = 0; !why && k < t->n_mat * t->n_cols; k++) {
			/* a .dat holds sum / count * ncall: compare means then */
			const double a = th.legacy ? (double)u->sums[k] / (double)u->counts[k / u->n_cols]
						   : (double)u->sums[k];
			const double b = th.legacy ? (double)t->sums[k] / (double)t->counts[0]
						   : (double)t->sums[k];
			if (b == 0)
				continue;
			const double r = (a > b ? a - b : b - a) / (b < 0 ? -b : b);

			mx = r > mx ? r : mx;
			sum += r;
			n++;
		}
		if (why || mx > IMAT_MAX_REL)
			bad++;
		worst = mx > worst ? mx : worst;
		if (arr) {
			cJSON *e = cJSON_CreateObject();

			cJSON_AddStringToObject(e, "name", t->name);
			cJSON_AddNumberToObject(e, "max_rel", mx);
			cJSON_AddNumberToObject(e, "mean_rel", n ? sum / (double)n : 0);
			if (why)
				cJSON_AddStringToObject(e, "problem", why);
			cJSON_AddItemToArray(arr, e);
		} else {
			printf("  %-36s max %.3e  mean %.3e%s%s\n", t->name, mx, n ? sum / (double)n : 0,
			       why ? "  " : "", why ? why : "");
		}
	}
	if (arr) {
		cJSON *root = cJSON_CreateObject();

		cJSON_AddStringToObject(root, "against", path);
		cJSON_AddItemToObject(root, "entries", arr);
		cJSON_AddNumberToObject(root, "max_rel", worst);
		cJSON_AddNumberToObject(root, "limit", IMAT_MAX_REL);
		cJSON_AddNumberToObject(root, "n_bad", (double)bad);
		rc = cli_emit_json(root, err);
	} else {
		printf("  largest %.3e (limit %.0e), %zu entr%s outside or not comparable; %zu of ours "
		       "not in theirs\n", worst, IMAT_MAX_REL, bad, bad == 1 ? "y" : "ies",
		       ours->n > th.n ? ours->n - th.n : 0);
	}
	if (!rc && (bad || ours->n != th.n)) {
		/* exit 1: main prints nothing for it, so name what failed here */
		fprintf(stderr, "%s: imatrix differs from %s: %zu entries outside %.0e or not "
			"comparable, %zu against %zu entries\n", cli_prog, path, bad, IMAT_MAX_REL,
			ours->n, th.n);
		rc = qk_err_set(err, QK_E_THRESHOLD, "imatrix differs from %s", path);
	}
	im_free(&th);
	return rc;
}

static void report(const struct verify_opts *o, const struct verify_model *m,
		   const struct verify_stream *st, const struct im_file *f, double secs)
{
	char sdesc[256];
	uint64_t values = 0;

	verify_stream_describe(st, sdesc, sizeof(sdesc));
	for (size_t i = 0; i < f->n; i++)
		values += f->e[i].n_cols * f->e[i].n_mat;
	if (o->json) {
		cJSON *root = cJSON_CreateObject();
		qk_err err;

		if (!root)
			return;
		cJSON_AddStringToObject(root, "model", m->path);
		cJSON_AddItemToObject(root, "chunks", verify_stream_json(st));
		cJSON_AddStringToObject(root, "output", o->out);
		cJSON_AddStringToObject(root, "format", o->imat_dat ? "dat" : "gguf");
		cJSON_AddNumberToObject(root, "entries", (double)f->n);
		cJSON_AddNumberToObject(root, "values", (double)values);
		cJSON_AddBoolToObject(root, "process_output", o->process_output);
		cJSON_AddNumberToObject(root, "seconds", secs);
		if (cli_emit_json(root, &err))
			cli_fail(&err);
		return;
	}
	printf("imatrix of %s\n  %s\n  %zu entries, %llu values -> %s (%s), %.2f s\n", m->path,
	       sdesc, f->n, (unsigned long long)values, o->out, o->imat_dat ? "legacy .dat" : "GGUF",
	       secs);
}

int verify_cmd_imatrix(const struct verify_opts *o, const char **pos, size_t n_pos,
		       qk_err *err)
{
	struct verify_model m;
	struct verify_stream st;
	struct ri_collect col;
	double secs = 0;
	int rc;

	if (n_pos != 1)
		return qk_err_set(err, QK_E_USAGE, "imatrix needs one MODEL, got %zu arguments",
				  n_pos);
	if (!o->out)
		return qk_err_set(err, QK_E_USAGE, "imatrix needs -o FILE (imatrix.gguf, or "
				  "FILE.dat with --output-format dat)");
	if ((rc = verify_open(&m, pos[0], o, err)))
		return rc;
	ri_init(&col, &m.in.model, o->process_output);
	if ((rc = verify_stream_load(&st, o, &m, err))) {
		verify_close(&m);
		return rc;
	}
	if (!(rc = verify_forbid_inputs(&m, o, err)) && !(rc = qk_out_check(o->out, 0, err)))
		rc = collect(&m, o, &st, &col, &secs, err);
	if (!rc) {
		col.f.chunk_count = st.n_chunk;
		col.f.chunk_size = st.n_ctx;
		if (o->text_file)
			rc = im_add_dataset(&col.f, o->text_file, err);
	}
	if (!rc && col.f.n == 0)
		rc = qk_err_set(err, QK_E_UNSUPPORTED, "%s: no multiply of a blk.* weight was seen",
				m.path);
	if (!rc)
		rc = o->imat_dat ? im_write_dat(&col.f, o->out, err)
				 : im_write_gguf(&col.f, o->out, err);
	if (!rc && !(o->json && o->against))
		report(o, &m, &st, &col.f, secs);
	if (!rc && o->against)
		rc = against(&col.f, o->against, o->json, err);
	ri_free(&col);
	verify_stream_free(&st);
	verify_close(&m);
	return rc;
}
