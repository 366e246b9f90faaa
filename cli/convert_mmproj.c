/* convert_mmproj.c - qwen-convert --mmproj FILE with a safetensors input:
 * the vision tower of a VL checkpoint (formats/model/vision.h) written as
 * the mmproj GGUF llama.cpp's convert_hf_to_gguf.py --mmproj writes, byte
 * for byte (formats/plan/plan.h: wp_build_mmproj, wp_meta_build_mmproj).
 * convert_gguf.c prepares it with the text GGUF, before anything is
 * written, and writes it after. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../formats/container/gguf.h"
#include "../quant/mix.h"
#include "common.h"
#include "convert.h"
#include "gguf_set.h"

void convert_mmproj_free(struct convert_mmproj *mm)
{
	if (!mm)
		return;
	gguf_set_free(&mm->set);
	free(mm->out_owned);
	wp_meta_free(&mm->md);
	wp_free(&mm->plan);
	vs_free(&mm->vm);
	memset(mm, 0, sizeof(*mm));
}

int convert_mmproj_prepare(struct convert_mmproj *mm, const struct convert_ctx *c,
			   const struct qk_input *in, qk_err *err)
{
	const struct wp_opts po = { c->outtype, false, false };
	struct wp_meta_opts mo = { c->name, in->cat.dir };
	struct vs_hparams vh;
	struct stat st;
	int rc;

	memset(mm, 0, sizeof(*mm));
	if (!in->cat.dir)
		return qk_err_set(err, QK_E_USAGE, "%s: --mmproj needs the model directory "
				  "(config.json, preprocessor_config.json)", c->in);
	if ((rc = vs_hparams_load(&vh, in->cat.dir, err)) ||
	    (rc = vs_bind(&mm->vm, &in->cat, &vh, err)) ||
	    (rc = wp_build_mmproj(&mm->plan, &mm->vm, &po, err)) ||
	    (rc = wp_meta_build_mmproj(&mm->md, &mm->plan, &mo, err)))
		return rc;
	if (c->mmproj && stat(c->mmproj, &st) == 0 && S_ISDIR(st.st_mode))
		return qk_err_set(err, QK_E_USAGE, "--mmproj %s is a directory: name the mmproj "
				  "file to write (e.g. %s/mmproj-model-f16.gguf)", c->mmproj,
				  c->mmproj);
	mm->out = c->mmproj;
	if (c->mmproj && strchr(c->mmproj, '{')) {
		const struct qm_mix *mix = qm_mix_by_ftype((int)mm->plan.ftype);

		if (!(mm->out_owned = cli_fill_template(c->mmproj, mix ? mix->name : "unknown")))
			return qk_err_set(err, QK_E_NOMEM, "out of memory");
		mm->out = mm->out_owned;
	}
	return gguf_set_plan(&mm->set, &mm->plan, mm->out, 0, 0, err);
}

/* what the user should hear about the mmproj (the library never prints) */
void convert_mmproj_warnings(const struct convert_mmproj *mm)
{
	const struct vs_hparams *vh = &mm->vm.vh;
	size_t n_fb = 0;

	if (vh->family == VS_FAM_QWEN25VL && vh->window_size != 112)
		cli_warn("%s: vision_config.window_size is %u pixels; the mmproj cannot store it and "
			 "llama.cpp assumes 112, so llama.cpp will compute this model's image "
			 "embeddings with the wrong attention windows",
			 mm->vm.m.cat->dir ? mm->vm.m.cat->dir : mm->vm.m.cat->path, vh->window_size);
	for (size_t i = 0; i < mm->plan.n; i++)
		n_fb += mm->plan.t[i].why == WP_WHY_FALLBACK;
	if (n_fb)
		cli_warn("mmproj: %zu tensor%s written as F16, not Q8_0: rows are not a multiple "
			 "of 32", n_fb, n_fb == 1 ? "" : "s");
}

static int write_kvs(void *ctx, struct gf_writer *w, qk_err *err)
{
	const struct convert_mmproj *mm = ctx;

	return wp_meta_write(&mm->md, w, err);
}

int convert_mmproj_write(struct convert_mmproj *mm, const struct convert_ctx *c, qk_err *err)
{
	const struct gguf_set_opts wo = { (unsigned)c->threads, !c->quiet && isatty(STDERR_FILENO),
					  "mmproj", c->allow_nonfinite };
	struct wp_stats st = { 0, -1, 0 };
	int rc;

	if ((rc = gguf_set_check(&mm->set, err)) ||
	    (rc = gguf_set_write(&mm->set, write_kvs, mm, &wo, &st, err)))
		return rc;
	if (st.f16_overflow)
		cli_warn("mmproj: %llu finite value%s became infinite in F16 (first in '%s')",
			 (unsigned long long)st.f16_overflow, st.f16_overflow == 1 ? "" : "s",
			 mm->plan.t[st.f16_first].name);
	if (!c->quiet)
		gguf_set_report(&mm->set, st.bytes_done);
	return QK_OK;
}
