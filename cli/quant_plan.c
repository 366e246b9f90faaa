/* quant_plan.c - open the input, build the plan, put it in llama-quantize's
 * order and give every tensor its type; see quant.h. */
#include "quant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/container/catalog.h"
#include "../formats/base/dtype.h"
#include "../formats/model/hparams.h"
#include "../formats/base/io.h"
#include "../formats/container/gguf.h"
#include "../formats/model/vision.h"
#include "../quant/qtype.h"

const struct qm_mix quant_copy_mix = { "COPY", -1, -1 };

void quant_job_free(struct quant_job *j)
{
	if (!j)
		return;
	free(j->rule_hits);
	rc_free(&j->recipe);
	tk_free(&j->vocab);
	wp_meta_free(&j->md);
	wp_free(&j->plan);
	free(j->info);
	free(j->gbind);
	free(j->gpiece);
	quant_imatrix_free(j);
	if (j->opened)
		qk_input_close(&j->in);
	memset(j, 0, sizeof(*j));
}

/* safetensors: qwen-convert's plan (auto keeps each tensor's source
 * precision), key/values and tokenizer */
static int hf_plan(struct quant_job *j, const struct quant_opts *o, qk_err *err)
{
	const struct wp_opts po = { WP_OUT_AUTO, o->keep_mtp, false };
	struct wp_meta_opts mo = { NULL, j->in.cat.dir };
	const struct qk_hparams *hp = &j->in.model.hp;
	int rc;

	if ((rc = wp_build(&j->plan, &j->in.model, &po, err)))
		return rc;
	j->plan.ftype = j->ftype;
	if ((rc = wp_meta_build(&j->md, &j->plan, &mo, err)))
		return rc;
	return tk_load_hf(&j->vocab, j->in.cat.dir, hp->arch, hp->n_vocab, hp, err);
}

static int cmp_tensor(const void *a, const void *b)
{
	return qm_name_cmp(((const struct wp_tensor *)a)->name, ((const struct wp_tensor *)b)->name);
}

static bool is_clip(const struct gf_file *f)
{
	int64_t i = gf_find_key(f, "general.architecture");

	return i >= 0 && gf_kv_type(f, i) == GF_STRING && strcmp(gf_kv_str(f, i, NULL), "clip") == 0;
}

/* what llama-quantize reads from the model's key/values */
static int model_info(const struct quant_job *j, struct qm_model_info *mi, qk_err *err)
{
	char key[96];
	const char *arch = quant_meta_arch(j);

	memset(mi, 0, sizeof(*mi));
	if (!arch)
		return qk_err_set(err, QK_E_INVALID, "%s: no general.architecture", j->in.cat.path);
	mi->arch = arch;
	if (j->mmproj)
		return QK_OK; /* llama.cpp loads no hparams for clip: n_layer 0 */
	snprintf(key, sizeof(key), "%s.block_count", arch);
	if (!quant_meta_u32(j, key, &mi->n_layer))
		return qk_err_set(err, QK_E_INVALID, "%s: no integer key '%s'", j->in.cat.path, key);
	snprintf(key, sizeof(key), "%s.nextn_predict_layers", arch);
	(void)quant_meta_u32(j, key, &mi->n_layer_nextn);
	snprintf(key, sizeof(key), "%s.expert_count", arch);
	(void)quant_meta_u32(j, key, &mi->n_expert);
	snprintf(key, sizeof(key), "%s.attention.head_count", arch);
	(void)quant_meta_u32(j, key, &mi->n_head);
	snprintf(key, sizeof(key), "%s.attention.head_count_kv", arch);
	if (!quant_meta_u32(j, key, &mi->n_head_kv))
		mi->n_head_kv = mi->n_head;
	return QK_OK;
}

static bool is_float(int type)
{
	return type == QT_F32 || type == QT_F16 || type == QT_BF16;
}

/* can quant/ read this input type back as fp32? */
static bool readable(int type)
{
	const struct qt_type *q = type >= 0 && type < QT_COUNT ? qt_type_get(type) : NULL;

	return q && q->dequantize && type != QT_Q8_K;
}

static int why_of(const struct quant_opts *o, const struct wp_tensor *t, bool tied, int type,
		  long rule, int fb_before, int fb_after)
{
	if (!qm_is_quantizable(t->name, t->ne, o->qopt.keep_output))
		return QW_KEPT;
	if (o->qopt.token_embd_type >= 0 && strcmp(t->name, "token_embd.weight") == 0)
		return QW_OPTION;
	if (o->qopt.output_type >= 0 && (strcmp(t->name, "output.weight") == 0 ||
					 (tied && strcmp(t->name, "token_embd.weight") == 0)))
		return QW_OPTION;
	if (fb_after != fb_before)
		return QW_FALLBACK;
	if (rule >= 0)
		return QW_RECIPE;
	return type == o->mix->default_type ? QW_DEFAULT : QW_MIX;
}

static int type_error(const struct wp_tensor *t, int type, const struct qm_model_info *mi,
		      qk_err *err)
{
	if (type == QM_ERR_LAYER)
		return qk_err_set(err, QK_E_UNSUPPORTED,
				  "tensor '%s': cannot tell its layer (an FFN tensor of a MoE model "
				  "needs a 'blk.N.' prefix with N below block_count %u); "
				  "llama-quantize refuses such a model too", t->name,
				  (unsigned)mi->n_layer);
	return qk_err_set(err, QK_E_USAGE,
			  "tensor '%s': rows of %lld elements fit no type llama-quantize would "
			  "fall back to", t->name, (long long)t->ne[0]);
}

/* the type one tensor gets; checks requantizing and readability */
static int decide(struct quant_job *j, const struct quant_opts *o, struct qm_state *st,
		  const struct qm_model_info *mi, size_t i, qk_err *err)
{
	struct wp_tensor *t = &j->plan.t[i];
	struct quant_info *in = &j->info[i];
	const struct qk_binding *b = t->b;
	struct rc_subject s = { t->name, b->role >= 0 ? qk_role_name(b->role) : NULL, b->layer,
				b->layer >= 0 ? qk_model_layer_flags(&j->in.model, (uint32_t)b->layer)
					      : 0 };
	long rule = j->recipe.n ? rc_match(&j->recipe, &s, j->in.model.hp.n_layer) : -1;
	int fb = st->n_fallback, type;

	in->src_type = t->type;
	type = qm_tensor_type(st, t->name, t->ne, t->type,
			      rule >= 0 ? j->recipe.rules[rule].type : -1);
	if (type < 0)
		return type_error(t, type, mi, err);
	in->why = why_of(o, t, st->tied, type, rule, fb, st->n_fallback);
	in->rule = in->why == QW_RECIPE || (in->why == QW_FALLBACK && rule >= 0) ? rule : -1;
	if (in->rule >= 0)
		j->rule_hits[in->rule]++;
	if (!o->qopt.has_imatrix && qm_is_quantizable(t->name, t->ne, o->qopt.keep_output) &&
	    qm_requires_imatrix(st, t->name, type))
		return qk_err_set(err, QK_E_USAGE, "tensor '%s': %s makes it %s, which needs an "
				  "importance matrix (--imatrix FILE): llama-quantize refuses it "
				  "without one, as the result would be unusable", t->name, o->mix->name,
				  qt_type_get(type)->name);
	if (type == t->type)
		return QK_OK;
	if (!o->qopt.has_imatrix && qt_type_get(type) && !qt_type_get(type)->quantize &&
	    qt_type_get(type)->quantize_w)  /* e.g. a recipe's IQ2_XXS output head */
		return qk_err_set(err, QK_E_USAGE, "tensor '%s': %s is made only with an importance "
				  "matrix (--imatrix FILE; ggml aborts without one)", t->name, qt_type_get(type)->name);
	if (!qt_has_quantizer(qt_type_get(type)) || type == QT_Q8_K)
		return qk_err_set(err, QK_E_UNSUPPORTED, "tensor '%s': llama-quantize would make it "
				  "%s, which qwen-quant cannot write", t->name,
				  qt_type_get(type) ? qt_type_get(type)->name : "?");
	if (!is_float(t->type) && qt_type_get(t->type) && qt_type_get(t->type)->is_quant &&
	    !o->allow_requantize)
		return qk_err_set(err, QK_E_UNSUPPORTED,
				  "%s: tensor '%s' is already %s: requantizing it to %s loses more "
				  "than quantizing the original (--allow-requantize does it anyway)",
				  j->in.cat.path, t->name, qt_type_get(t->type)->name,
				  qt_type_get(type)->name);
	if (!readable(t->type))
		return qk_err_set(err, QK_E_UNSUPPORTED, "%s: tensor '%s': cannot read %s data",
				  j->in.cat.path, t->name, qk_dtype_name(t->type));
	return wp_set_type(&j->plan, i, type, err);
}

const char *quant_type_label(const struct quant_job *j, const struct quant_opts *o)
{
	const struct qm_mix *m = o->mix == &quant_copy_mix ? qm_mix_by_ftype((int)j->ftype) : o->mix;

	return m ? m->name : o->mix->name;
}

/* COPY: every tensor keeps the input's type and bytes (a raw copy) */
static void copy_all(struct quant_job *j)
{
	for (size_t i = 0; i < j->plan.n; i++) {
		j->info[i].src_type = j->plan.t[i].type;
		j->info[i].why = QW_COPY;
		j->info[i].rule = -1;
	}
}

/* COPY keeps general.file_type; llama-quantize takes it from the input's key */
static int copy_ftype(struct quant_job *j, qk_err *err)
{
	const struct gf_file *f = j->in.cat.gguf[0];
	int64_t i = gf_find_key(f, "general.file_type"), v;

	if (i < 0 || !gf_kv_int(f, i, 0, INT32_MAX, &v))
		return qk_err_set(err, QK_E_UNSUPPORTED, "%s: no integer general.file_type to keep "
				  "(--type COPY copies it)", j->in.cat.path);
	j->ftype = (uint32_t)v;
	return QK_OK;
}

static int decide_all(struct quant_job *j, const struct quant_opts *o, qk_err *err)
{
	const size_t n = j->plan.n;
	const char **names = malloc((n ? n : 1) * sizeof(*names));
	struct qm_model_info mi;
	struct qm_state st;
	int rc;

	if (!names)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu tensor names", n);
	if ((rc = model_info(j, &mi, err)))
		goto out;
	for (size_t i = 0; i < n; i++)
		names[i] = j->plan.t[i].name;
	rc = qm_state_init(&st, &mi, o->mix, &o->qopt, names, n);
	if (rc) {
		rc = qk_err_set(err, QK_E_UNSUPPORTED, "%s: architecture '%s' has no quantization "
				"rules here", j->in.cat.path, mi.arch);
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = decide(j, o, &st, &mi, i, err);
	j->n_fallback = st.n_fallback;
out:
	free(names);
	return rc;
}

/* llama-quantize writes each tensor info with ggml_n_dims: trailing ne of 1
 * are dropped (a [1, n_embd] shared-expert gate becomes {n_embd}); the
 * leading shape entries they are go with them */
static void squeeze(struct wp_tensor *t)
{
	int drop = 0;

	while (t->n_dims - drop > 1 && t->ne[t->n_dims - 1 - drop] == 1)
		drop++;
	if (!drop)
		return;
	memmove(t->shape, t->shape + drop, (size_t)(t->n_dims - drop) * sizeof(t->shape[0]));
	t->n_dims -= drop;
}

/* a model, or an mmproj GGUF whose vision tower (formats/model/vision.h)
 * stands in for the model: its bindings give the tensors roles and layers
 * (recipes match them), its catalog is the input */
static int open_input(struct quant_job *j, const char *path, qk_err *err)
{
	struct vs_hparams vh;
	struct vs_model vm;
	int rc;

	if ((rc = qk_catalog_open(&j->in.cat, path, err)))
		return rc;
	j->opened = true;
	if (j->in.cat.format != QK_FMT_GGUF || !is_clip(j->in.cat.gguf[0])) {
		qk_catalog_free(&j->in.cat);
		j->opened = false;
		if ((rc = qk_input_open(&j->in, path, err)))
			return rc;
		j->opened = true;
		return QK_OK;
	}
	if ((rc = vs_hparams_from_gguf(&vh, j->in.cat.gguf[0], err)) ||
	    (rc = vs_bind(&vm, &j->in.cat, &vh, err)))
		return rc;
	j->in.model = vm.m; /* the input owns it now (qk_input_close frees it) */
	j->in.bound = true;
	j->mmproj = true;
	return QK_OK;
}

/* the mixes whose mmproj files are held to llama-quantize's bytes
 * (testdata/llamacpp/mmproj.tsv); Q2_K makes llama-quantize abort on any
 * mmproj (its rules ask the head counts a clip file has none of), the IQ
 * and ternary mixes are not checked */
static const char *const mmproj_mixes[] = {
	"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q3_K_S", "Q3_K_M",
	"Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "COPY",
};

static int mmproj_mix(const struct quant_job *j, const struct qm_mix *mix, qk_err *err)
{
	for (size_t i = 0; i < sizeof(mmproj_mixes) / sizeof(mmproj_mixes[0]); i++)
		if (strcmp(mix->name, mmproj_mixes[i]) == 0)
			return QK_OK;
	if (strcmp(mix->name, "Q2_K") == 0)
		return qk_err_set(err, QK_E_UNSUPPORTED, "%s: an mmproj file cannot be made Q2_K: "
				  "llama-quantize aborts on it (src/llama-hparams.cpp:55: its Q2_K "
				  "rules ask for the model's head counts, which a clip file does not "
				  "have); Q3_K_S and up work", j->in.cat.path);
	return qk_err_set(err, QK_E_UNSUPPORTED, "%s: an mmproj file is quantized to F32, F16, "
			  "BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q3_K_S/M/L, Q4_K_S/M, Q5_K_S/M or "
			  "Q6_K, the types checked against llama-quantize; not %s", j->in.cat.path,
			  mix->name);
}

int quant_prepare(struct quant_job *j, const struct quant_opts *o, const char *path,
		  qk_err *err)
{
	int rc;

	memset(j, 0, sizeof(*j));
	j->ftype = (uint32_t)o->mix->ftype;
	if (o->recipe && (rc = rc_load(&j->recipe, o->recipe, err)))
		return rc;
	if ((rc = open_input(j, path, err)) || (j->mmproj && (rc = mmproj_mix(j, o->mix, err))))
		return rc;
	j->gguf = j->in.cat.format == QK_FMT_GGUF;
	if (o->mix == &quant_copy_mix && !j->gguf)
		return qk_err_set(err, QK_E_USAGE, "%s: --type COPY copies the tensors of a GGUF "
				  "file; a safetensors checkpoint becomes a GGUF with qwen-convert",
				  path);
	if (o->mix == &quant_copy_mix && (rc = copy_ftype(j, err)))
		return rc;
	if (j->gguf && o->keep_mtp)
		return qk_err_set(err, QK_E_USAGE, "--keep-mtp applies to safetensors inputs: a "
				  "GGUF input's tensors are all kept");
	rc = j->gguf ? quant_gguf_plan(j, err) : hf_plan(j, o, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < j->plan.n; i++) {
		j->src_bytes += j->plan.t[i].nbytes;
		squeeze(&j->plan.t[i]);
	}
	qsort(j->plan.t, j->plan.n, sizeof(*j->plan.t), cmp_tensor);
	j->info = calloc(j->plan.n ? j->plan.n : 1, sizeof(*j->info));
	j->rule_hits = calloc(j->recipe.n ? j->recipe.n : 1, sizeof(*j->rule_hits));
	if (!j->info || !j->rule_hits)
		return qk_err_set(err, QK_E_NOMEM, "out of memory planning %zu tensors", j->plan.n);
	if (o->mix == &quant_copy_mix)
		copy_all(j);
	else if ((rc = decide_all(j, o, err)))
		return rc;
	if (o->imatrix && (rc = quant_imatrix_attach(j, o->imatrix, err)))
		return rc;
	/* binding read the small tensors (norms, biases) scattered through the
	 * input; drop the pages it touched so that the resident set stays the
	 * chunk buffers whatever the number of layers */
	for (size_t i = 0; i < j->in.cat.n_files; i++)
		qk_map_evict(&j->in.cat.files[i], 0, j->in.cat.files[i].size);
	return QK_OK;
}
