/* quant_write.c - write a quant job's file: key/values in llama-quantize's
 * order, tensor infos, then the data streamed by wp_write_data; a progress
 * bar on a terminal. See quant.h. */
#include "quant.h"
#include "common.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../formats/container/gguf.h"

#define QNT_VERSION 2u /* general.quantization_version (ggml's GGML_QNT_VERSION) */

/* ---- key/values ---- */

static bool moved_last(const char *key)
{
	return strcmp(key, "general.quantization_version") == 0 ||
	       strcmp(key, "general.file_type") == 0;
}

/* qwen-convert's key/values and tokenizer keys, less the two that go last */
static int hf_kvs(const struct quant_job *j, struct gf_writer *w, qk_err *err)
{
	struct wp_meta view = { 0 };
	int rc;

	view.kv = malloc((j->md.n ? j->md.n : 1) * sizeof(*view.kv));
	if (!view.kv)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu keys", j->md.n);
	for (size_t i = 0; i < j->md.n; i++)
		if (!moved_last(j->md.kv[i].key))
			view.kv[view.n++] = j->md.kv[i]; /* shallow: md keeps ownership */
	rc = wp_meta_write(&view, w, err);
	free(view.kv);
	return rc ? rc : tk_add_to_gguf(&j->vocab, w, err);
}

static int write_kvs(const struct quant_job *j, struct gf_writer *w, qk_err *err)
{
	int rc = j->gguf ? quant_gguf_copy_kv(j, w, err) : hf_kvs(j, w, err);

	if (!rc)
		rc = gf_writer_add_u32(w, "general.quantization_version", QNT_VERSION, err);
	if (!rc)
		rc = gf_writer_add_u32(w, "general.file_type", j->ftype, err);
	return rc;
}

int quant_write(struct quant_job *j, const struct quant_opts *o, struct wp_stats *st,
		qk_err *err)
{
	struct cli_progress pr = { "quantizing", -1 };
	const struct wp_write_opts wo = {
		o->threads, 0, !o->quiet && isatty(STDERR_FILENO) ? cli_progress : NULL, &pr,
		o->allow_nonfinite,
	};
	struct gf_writer *w = NULL;
	int rc;

	if ((rc = gf_writer_open(&w, o->out, err)))
		return rc;
	if ((rc = write_kvs(j, w, err)) || (rc = wp_declare_tensors(&j->plan, w, err)) ||
	    (rc = gf_writer_write_header(w, err)) ||
	    (rc = wp_write_data(&j->plan, w, &wo, st, err))) {
		cli_progress_end(&pr);
		gf_writer_abort(w);
		return rc;
	}
	cli_progress_end(&pr);
	return gf_writer_commit(w, err);
}
