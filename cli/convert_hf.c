/* convert_hf.c - any input (GGUF or HF safetensors) -> a Hugging Face
 * safetensors directory through formats/hf_out/hf_export.h: config.json, sharded
 * safetensors (+ index) and tokenizer files, every GGUF transform undone.
 *
 * hx_export writes its files one by one; so that a failure midway leaves
 * nothing behind, it writes into a temporary directory beside the target
 * (outfile.h: qk_outdir), which is renamed into place only when the export
 * is complete and removed on failure or interrupt. An existing non-empty
 * target is refused unless --force, which moves the new files over the
 * files of the same name and keeps the rest; shards or an index of another
 * checkpoint in it are refused all the same (a loader would mix them). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../formats/container/gguf.h"
#include "../formats/base/outfile.h"
#include "../formats/base/path.h"
#include "common.h"
#include "convert.h"

static int export_hf(const struct convert_ctx *c, struct qk_input *in, const struct vs_model *vm,
		     qk_err *err);

/* the names hx_export writes besides the shards */
static const char *const text_files[] = {
	"model.safetensors.index.json", "config.json", "tokenizer.json", "tokenizer_config.json",
	"preprocessor_config.json",
};

static bool file_in(const char *dir, const char *name)
{
	char *path = dir ? qk_path_join(dir, name) : NULL;
	struct stat st;
	bool yes = path && stat(path, &st) == 0 && S_ISREG(st.st_mode);

	free(path);
	return yes;
}

/* Does the export write tokenizer files (hf_export.h: from the GGUF
 * vocabulary, or an HF input's own tokenizer files)? With `check`, load the
 * vocabulary the way the export will, so that a dry run reports a bad one. */
static int export_tokenizer(const struct qk_input *in, bool check, bool *have, qk_err *err)
{
	const struct qk_catalog *cat = &in->cat;
	struct tk_vocab v;
	int rc = QK_OK;

	memset(&v, 0, sizeof(v));
	if (in->model.form == QK_FORM_GGUF)
		*have = cat->n_files && gf_find_key(cat->gguf[0], "tokenizer.ggml.model") >= 0;
	else
		*have = file_in(cat->dir, "tokenizer.json") ||
			(in->hp.arch == QK_ARCH_QWEN && file_in(cat->dir, "qwen.tiktoken"));
	if (!*have || !check)
		return QK_OK;
	if (in->model.form == QK_FORM_GGUF)
		rc = tk_from_gguf(&v, cat->gguf[0], err);
	else
		rc = tk_load_hf(&v, cat->dir, in->hp.arch, in->hp.n_vocab, &in->hp, err);
	tk_free(&v);
	return rc;
}

/* is `name` one of the files the export writes? */
static bool ours(const struct hx_plan *p, bool tok, const char *name)
{
	char shard[256];

	for (size_t s = 0; s < p->n_shards; s++) {
		hx_shard_name(p, s, shard, sizeof(shard));
		if (strcmp(name, shard) == 0)
			return true;
	}
	return (p->n_shards > 1 && strcmp(name, text_files[0]) == 0) ||
	       strcmp(name, text_files[1]) == 0 ||
	       (tok && (strcmp(name, text_files[2]) == 0 || strcmp(name, text_files[3]) == 0));
}

/* weights or an index that a loader would read next to ours */
static bool is_checkpoint_file(const char *name)
{
	size_t n = strlen(name), k = strlen(".safetensors");

	return strcmp(name, "model.safetensors.index.json") == 0 ||
	       (strncmp(name, "model", 5) == 0 && n > k && strcmp(name + n - k, ".safetensors") == 0);
}

static int forbidden(const char *dir, const char *name, qk_err *err)
{
	char *path = qk_path_join(dir, name);
	int rc = QK_OK;

	if (!path)
		return qk_err_set(err, QK_E_NOMEM, "%s: out of memory", dir);
	if (qk_out_is_forbidden(path))
		rc = qk_err_set(err, QK_E_USAGE, "%s: output path is one of the inputs; refusing "
				"to overwrite it", path);
	free(path);
	return rc;
}

/* Before anything is written: the target directory may be missing or empty;
 * with --force it may hold other files, but no other checkpoint's shards or
 * index and none of the inputs under a name the export writes. */
static int check_target(const struct convert_ctx *c, const struct hx_plan *p, bool tok,
			qk_err *err)
{
	char shard[256], stale[256] = "";
	struct dirent *de;
	long n = 0;
	DIR *d = opendir(c->out);
	int rc = QK_OK;

	if (!d && errno == ENOENT)
		return QK_OK;
	if (!d && errno == ENOTDIR)
		return qk_err_set(err, QK_E_USAGE, "%s: exists and is not a directory", c->out);
	if (!d)
		return qk_err_set(err, QK_E_IO, "%s: cannot read the directory: %s", c->out,
				  strerror(errno));
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		if (!stale[0] && is_checkpoint_file(de->d_name) && !ours(p, tok, de->d_name))
			snprintf(stale, sizeof(stale), "%s", de->d_name);
	}
	closedir(d);
	if (n && !c->force)
		return qk_err_set(err, QK_E_USAGE, "%s: exists and is not empty (%ld entr%s); --force "
				  "writes into it, replacing files of the same name", c->out, n,
				  n == 1 ? "y" : "ies");
	if (stale[0])
		return qk_err_set(err, QK_E_USAGE, "%s: holds '%s' of another checkpoint, which this "
				  "export (%zu shard%s) would not replace; remove it or choose another "
				  "directory", c->out, stale, p->n_shards, p->n_shards == 1 ? "" : "s");
	for (size_t s = 0; !rc && s < p->n_shards; s++) {
		hx_shard_name(p, s, shard, sizeof(shard));
		rc = forbidden(c->out, shard, err);
	}
	for (size_t i = 0; !rc && i < sizeof(text_files) / sizeof(text_files[0]); i++)
		rc = forbidden(c->out, text_files[i], err);
	return rc;
}

static void on_progress(void *user, const struct hx_progress *pr)
{
	cli_progress(user, pr->bytes_done, pr->bytes_total);
}

static int dry_run(const struct convert_ctx *c, const struct hx_plan *p, bool tok, qk_err *err)
{
	char *cfg = NULL;
	int rc;

	if ((rc = hx_config_json(p, &cfg, err)))
		return rc;
	if (c->json)
		rc = convert_export_json(p, c->out, c->outtype, tok, cfg, err);
	else
		convert_print_export(stdout, p, c->out, c->outtype, tok, cfg);
	free(cfg);
	return rc;
}

static void report(const struct convert_ctx *c, const struct hx_report *r, int outtype)
{
	if (r->n_inexact)
		cli_warn("%llu small-tensor value%s have no exact preimage in the output dtype (the "
			 "GGUF was not made from such a checkpoint): the nearest value is written",
			 (unsigned long long)r->n_inexact, r->n_inexact == 1 ? "" : "s");
	if (r->n_dequant)
		convert_note(c, "dequantized %llu rows of quantized tensors to %s",
			     (unsigned long long)r->n_dequant,
			     outtype == HX_OUT_AUTO ? "bf16" : hx_outtype_name(outtype));
	if (!r->tokenizer)
		convert_note(c, "%s: the input has no tokenizer: no tokenizer files written", c->in);
	if (!c->quiet)
		fprintf(stderr, "%s: wrote %s: %zu tensors in %zu shard%s, %llu bytes of tensor data, "
			"%llu parameters\n", cli_prog, c->out, r->n_tensors, r->n_shards,
			r->n_shards == 1 ? "" : "s", (unsigned long long)r->total_size,
			(unsigned long long)r->n_params);
}

/* --mmproj FILE with a GGUF input: the vision tower to export with the text
 * model, which it must fit (projection width, family of the architecture) */
static int open_vision(const struct convert_ctx *c, const struct qk_input *in,
		       struct vs_input *vin, qk_err *err)
{
	static const int family_arch[VS_FAM_COUNT][2] = {
		[VS_FAM_QWEN2VL] = { QK_ARCH_QWEN2VL, -1 },
		[VS_FAM_QWEN25VL] = { QK_ARCH_QWEN2VL, -1 },
		[VS_FAM_QWEN3VL] = { QK_ARCH_QWEN3VL, QK_ARCH_QWEN3VLMOE },
	};
	const struct vs_hparams *vh;
	int rc;

	if (in->cat.format != QK_FMT_GGUF)
		return qk_err_set(err, QK_E_USAGE, "--mmproj %s: with --to safetensors it reads an "
				  "mmproj GGUF into the export of a GGUF text model; %s is a "
				  "safetensors checkpoint", c->mmproj, c->in);
	if ((rc = vs_open(vin, c->mmproj, err)))
		return rc;
	vh = &vin->vm.vh;
	if (vin->cat.format != QK_FMT_GGUF)
		return qk_err_set(err, QK_E_USAGE, "--mmproj %s is not an mmproj GGUF file",
				  c->mmproj);
	if (in->hp.arch == QK_ARCH_QWEN35 || in->hp.arch == QK_ARCH_QWEN35MOE)
		return qk_err_set(err, QK_E_UNSUPPORTED, "%s: a Qwen3.5 GGUF exports as the text-only "
				  "%s; --mmproj adds a vision tower to the Qwen2-VL, Qwen2.5-VL and "
				  "Qwen3-VL classes only", c->in, in->hp.arch == QK_ARCH_QWEN35 ?
				  "Qwen3_5ForCausalLM" : "Qwen3_5MoeForCausalLM");
	if (in->hp.arch != family_arch[vh->family][0] && in->hp.arch != family_arch[vh->family][1])
		return qk_err_set(err, QK_E_INVALID, "%s: a %s vision tower does not belong to a %s "
				  "text model (%s)", c->mmproj, vs_projector_name(vh->family),
				  qk_arch_gguf_name(in->hp.arch), c->in);
	if (vh->n_embd_text != in->hp.n_embd || vh->n_out != in->hp.n_embd)
		return qk_err_set(err, QK_E_INVALID, "%s: the projector writes %u-wide embeddings "
				  "(clip.vision.projection_dim %u), the text model of %s is %u wide",
				  c->mmproj, vh->n_out, vh->n_embd_text, c->in, in->hp.n_embd);
	return QK_OK;
}

/* a safetensors VL checkpoint: its own vision tower goes with the text model
 * (the Qwen-VL classes); a Qwen3.5 one exports as the text-only CausalLM */
static int export_hf_vision(const struct convert_ctx *c, struct qk_input *in, qk_err *err)
{
	struct vs_hparams vh;
	struct vs_model vm;
	int rc;

	if (in->hp.arch == QK_ARCH_QWEN35 || in->hp.arch == QK_ARCH_QWEN35MOE) {
		convert_note(c, "%s: not exporting the %zu tensors of the vision tower: a Qwen3.5 "
			     "checkpoint exports as the text-only %s", c->in, in->model.n_vision,
			     in->hp.arch == QK_ARCH_QWEN35 ? "Qwen3_5ForCausalLM"
							   : "Qwen3_5MoeForCausalLM");
		return export_hf(c, in, NULL, err);
	}
	if ((rc = vs_hparams_load(&vh, in->cat.dir, err)) ||
	    (rc = vs_bind(&vm, &in->cat, &vh, err)))
		return rc;
	rc = export_hf(c, in, &vm, err);
	vs_free(&vm);
	return rc;
}

int convert_to_safetensors(const struct convert_ctx *c, struct qk_input *in, qk_err *err)
{
	struct vs_input vin;
	int rc;

	memset(&vin, 0, sizeof(vin));
	if (c->mmproj && (rc = open_vision(c, in, &vin, err))) {
		vs_close(&vin);
		return rc;
	}
	if (!c->mmproj && in->cat.format != QK_FMT_GGUF && in->model.n_vision)
		return export_hf_vision(c, in, err);
	rc = export_hf(c, in, c->mmproj ? &vin.vm : NULL, err);
	vs_close(&vin);
	return rc;
}

static int export_hf(const struct convert_ctx *c, struct qk_input *in, const struct vs_model *vm,
		     qk_err *err)
{
	struct cli_progress pr = { NULL, -1 };
	struct hx_report rep;
	struct hx_plan p;
	struct hx_opts o;
	struct qk_outdir *d = NULL;
	bool tok;
	int rc;

	hx_opts_init(&o);
	o.outtype = c->outtype;
	o.vision = vm;
	if (c->shard_size)
		o.shard_size = c->shard_size;
	memset(&rep, 0, sizeof(rep));
	memset(&p, 0, sizeof(p));
	if ((rc = hx_plan_build(&p, &in->model, &o, err)) ||
	    (rc = export_tokenizer(in, c->dry_run, &tok, err)))
		goto out;
	if (c->dry_run) {
		rc = dry_run(c, &p, tok, err);
		goto out;
	}
	if ((rc = cli_forbid_inputs(c->in, &in->cat, err)) || (rc = check_target(c, &p, tok, err)) ||
	    (rc = qk_model_check_values(&in->model, !c->allow_nonfinite, err)) ||
	    (vm && (rc = cli_forbid_inputs(c->mmproj, vm->m.cat, err))) ||
	    (vm && (rc = qk_model_check_values(&vm->m, !c->allow_nonfinite, err))) ||
	    (rc = qk_outdir_check(c->out, true, p.total_size, err)) ||
	    (rc = qk_outdir_open(&d, c->out, err)))
		goto out;
	o.report = &rep;
	if (!c->quiet && isatty(STDERR_FILENO)) {
		o.progress = on_progress;
		o.progress_user = &pr;
	}
	rc = hx_export(&in->model, qk_outdir_temp_path(d), &o, err);
	cli_progress_end(&pr);
	if (rc) {
		qk_outdir_name_target(d, err);
		qk_outdir_abort(d);
		goto out;
	}
	if ((rc = qk_outdir_commit(d, c->force, err)))
		goto out;
	report(c, &rep, c->outtype);
out:
	hx_plan_free(&p);
	return rc;
}
