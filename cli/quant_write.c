/* quant_write.c - write a quant job's file: key/values in llama-quantize's
 * order, tensor infos, then the data streamed by wp_write_data, as one file
 * or a split set (gguf_set.h); a progress bar on a terminal. See quant.h. */
#include "quant.h"
#include "common.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../formats/container/gguf.h"
#include "gguf_set.h"

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
	return rc ? rc : quant_imatrix_kvs(j, w, err);
}

static int kv_fn(void *ctx, struct gf_writer *w, qk_err *err)
{
	return write_kvs(ctx, w, err);
}

int quant_write(struct quant_job *j, const struct quant_opts *o, const struct gguf_set *set,
		struct wp_stats *st, qk_err *err)
{
	const struct gguf_set_opts so = { o->threads, !o->quiet && isatty(STDERR_FILENO),
					  "quantizing", o->allow_nonfinite };

	return gguf_set_write(set, kv_fn, j, &so, st, err);
}
