/* convert_print.c - what qwen-convert shows: the --dry-run plans (GGUF, split
 * set, safetensors export) and the progress bar; see convert.h. */
#include "convert.h"

#include <inttypes.h>
#include <string.h>

#include "../formats/base/dtype.h"
#include "../formats/container/gguf_split.h"
#include "../quant/mix.h"
#include "../quant/qtype.h"
#include "common.h"
#include "gguf_set.h"

static const char *const why_names[] = {
	[WP_WHY_OUTTYPE] = "outtype", [WP_WHY_SOURCE] = "source precision",
	[WP_WHY_F32_RULE] = "F32 rule", [WP_WHY_FALLBACK] = "Q8_0 fallback (row % 32)",
	[WP_WHY_CALLER] = "override", [WP_WHY_FP8] = "--fp8-as-q8",
};

static void print_kv(FILE *f, const struct wp_kv *kv)
{
	switch (kv->kind) {
	case WP_KV_U32: fprintf(f, "  %-48s u32    %" PRIu32 "\n", kv->key, kv->u32); break;
	case WP_KV_I32: fprintf(f, "  %-48s i32    %" PRId32 "\n", kv->key, kv->i32); break;
	case WP_KV_F32: fprintf(f, "  %-48s f32    %.9g\n", kv->key, (double)kv->f32); break;
	case WP_KV_BOOL: fprintf(f, "  %-48s bool   %s\n", kv->key, kv->b ? "true" : "false"); break;
	case WP_KV_ARR_F32:
		fprintf(f, "  %-48s [f32] ", kv->key);
		for (uint64_t i = 0; i < kv->n; i++)
			fprintf(f, "%s%.9g", i ? "," : "", (double)kv->floats[i]);
		fputc('\n', f);
		break;
	case WP_KV_STR: fprintf(f, "  %-48s string %s\n", kv->key, kv->str); break;
	case WP_KV_ARR_BOOL:
		fprintf(f, "  %-48s [bool] ", kv->key);
		for (uint64_t i = 0; i < kv->n; i++)
			fprintf(f, "%s%s", i ? "," : "", kv->bools[i] ? "true" : "false");
		fputc('\n', f);
		break;
	case WP_KV_ARR_STR:
		fprintf(f, "  %-48s [string] ", kv->key);
		for (uint64_t i = 0; i < kv->n; i++)
			fprintf(f, "%s%s", i ? ", " : "", kv->strs[i]);
		fputc('\n', f);
		break;
	}
}

static void print_tokenizer(FILE *f, const struct tk_vocab *v)
{
	static const char *const ids[] = { "bos_token_id", "eos_token_id", "unknown_token_id",
					    "seperator_token_id", "padding_token_id",
					    "mask_token_id" };
	const int64_t vals[] = { v->bos, v->eos, v->unk, v->sep, v->pad, v->mask };

	fprintf(f, "  %-48s string %s\n", "tokenizer.ggml.model", v->model);
	fprintf(f, "  %-48s string %s\n", "tokenizer.ggml.pre", v->pre);
	fprintf(f, "  %-48s [string] %" PRIu32 " tokens\n", "tokenizer.ggml.tokens", v->n_tokens);
	fprintf(f, "  %-48s [i32] %" PRIu32 " types\n", "tokenizer.ggml.token_type", v->n_tokens);
	fprintf(f, "  %-48s [string] %" PRIu32 " merges\n", "tokenizer.ggml.merges", v->n_merges);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (vals[i] >= 0)
			fprintf(f, "  tokenizer.ggml.%-33s u32    %" PRId64 "\n", ids[i], vals[i]);
	if (v->chat_template)
		fprintf(f, "  %-48s string (%zu bytes)\n", "tokenizer.chat_template",
			strlen(v->chat_template));
}

void convert_print_plan(FILE *f, const struct wp_plan *p, const struct wp_meta *md,
			const struct tk_vocab *v, const char *out)
{
	uint64_t total, shared, expert, n_expert, data = 0;

	fprintf(f, "plan for %s (%s, outtype %s)\n", out ? out : "(no output)",
		p->vision ? "clip" : qk_arch_gguf_name(p->m->hp.arch), wp_outtype_name(p->outtype));
	fprintf(f, "key/values:\n");
	for (size_t i = 0; i < md->n; i++)
		print_kv(f, &md->kv[i]);
	if (v)
		print_tokenizer(f, v);
	fprintf(f, "tensors:\n");
	for (size_t i = 0; i < p->n; i++) {
		const struct wp_tensor *t = &p->t[i];
		const struct qt_type *q = qt_type_get(t->type);
		char ne[96];

		cli_ne_str(t->ne, t->n_dims, ne, sizeof(ne));
		fprintf(f, "  %-36s %-5s %-22s %12" PRIu64 "  %-16s %s %s (%s)\n", t->name,
			q ? q->name : "?", ne, t->nbytes, why_names[t->why],
			t->b->f32 && t->b->src ? qk_dtype_name(t->b->src->dtype)
			: t->src_type >= 0 ? qk_dtype_name(t->src_type) : "mixed",
			t->b->src ? t->b->src->name : "?", qk_xform_name(t->b->xform));
		data += t->nbytes;
	}
	wp_param_counts(p, &total, &shared, &expert, &n_expert);
	fprintf(f, "%zu tensors, %" PRIu64 " parameters, %" PRIu64 " data bytes, file type %" PRIu32
		   "\n", p->n, total, data, p->ftype);
}

/* where an exported tensor comes from: "token_embd.weight", "rows 0-15 of
 * blk.0.ffn_up_exps.weight", "blk.0.attn_norm.weight (1+w undone)" */
static void print_source(FILE *f, const struct hx_tensor *t)
{
	const char *name = t->b && t->b->src ? t->b->src->name : "?";

	switch (t->src) {
	case HX_SRC_VIEW:
		if (t->b && (t->row0 || t->rows != t->b->view.rows))
			fprintf(f, "rows %" PRIu64 "-%" PRIu64 " of ", t->row0,
				t->row0 + t->rows - 1);
		fprintf(f, "%s", name);
		break;
	case HX_SRC_QKVZ:
		fprintf(f, "%s + %s regrouped", name,
			t->b2 && t->b2->src ? t->b2->src->name : "?");
		break;
	case HX_SRC_SMALL:
		fprintf(f, "%s", name);
		if (t->xform != QK_X_NONE)
			fprintf(f, " (%s undone)", qk_xform_name(t->xform));
		break;
	default:
		fprintf(f, "zeros (a bias the input lacks)");
		break;
	}
}

void convert_print_export(FILE *f, const struct hx_plan *p, const char *out, int outtype,
			  bool tokenizer, const char *config_json)
{
	char file[256];

	fprintf(f, "plan for %s (%s, safetensors, outtype %s)\n", out ? out : "(no output)",
		qk_arch_gguf_name(p->m->hp.arch), hx_outtype_name(outtype));
	fprintf(f, "files:\n");
	for (size_t s = 0; s < p->n_shards; s++) {
		uint64_t bytes = 0;
		size_t n = 0;

		for (size_t i = 0; i < p->n; i++)
			if (p->t[i].shard == s) {
				n++;
				bytes += p->t[i].nbytes;
			}
		hx_shard_name(p, s, file, sizeof(file));
		fprintf(f, "  %-40s %6zu tensors %14" PRIu64 " bytes\n", file, n, bytes);
	}
	if (p->n_shards > 1)
		fprintf(f, "  model.safetensors.index.json\n");
	fprintf(f, "  config.json\n");
	if (tokenizer)
		fprintf(f, "  tokenizer.json\n  tokenizer_config.json\n");
	else
		fprintf(f, "  (no tokenizer files: the input has no tokenizer)\n");
	fprintf(f, "tensors:\n");
	for (size_t i = 0; i < p->n; i++) {
		const struct hx_tensor *t = &p->t[i];
		char shape[96];
		int k = 0;

		for (int d = 0; d < t->n_dims; d++)
			k += snprintf(shape + k, sizeof(shape) - (size_t)k, "%s%" PRIu64,
				      d ? ", " : "[", t->shape[d]);
		snprintf(shape + k, sizeof(shape) - (size_t)k, "]");
		fprintf(f, "  %-52s %-4s %-20s %12" PRIu64 "  shard %zu  ", t->name,
			qk_dtype_name(t->dtype), shape, t->nbytes, t->shard + 1);
		print_source(f, t);
		fputc('\n', f);
	}
	fprintf(f, "%zu tensors, %" PRIu64 " parameters, %" PRIu64 " bytes in %zu shard%s\n", p->n,
		p->n_params, p->total_size, p->n_shards, p->n_shards == 1 ? "" : "s");
	fprintf(f, "config.json:\n%s", config_json);
}

static const char *const why_keys[] = {
	[WP_WHY_OUTTYPE] = "outtype", [WP_WHY_SOURCE] = "source", [WP_WHY_F32_RULE] = "f32_rule",
	[WP_WHY_FALLBACK] = "fallback", [WP_WHY_CALLER] = "override",
};

static cJSON *kv_json(const struct wp_kv *kv)
{
	cJSON *a;

	switch (kv->kind) {
	case WP_KV_U32: return cJSON_CreateNumber(kv->u32);
	case WP_KV_I32: return cJSON_CreateNumber(kv->i32);
	case WP_KV_F32: return cJSON_CreateNumber((double)kv->f32);
	case WP_KV_BOOL: return cJSON_CreateBool(kv->b);
	case WP_KV_ARR_F32:
		a = cJSON_CreateArray();
		for (uint64_t i = 0; a && i < kv->n; i++)
			cJSON_AddItemToArray(a, cJSON_CreateNumber((double)kv->floats[i]));
		return a;
	case WP_KV_STR: return cJSON_CreateString(kv->str);
	case WP_KV_ARR_BOOL:
		a = cJSON_CreateArray();
		for (uint64_t i = 0; a && i < kv->n; i++)
			cJSON_AddItemToArray(a, cJSON_CreateBool(kv->bools[i]));
		return a;
	case WP_KV_ARR_STR:
		a = cJSON_CreateArray();
		for (uint64_t i = 0; a && i < kv->n; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(kv->strs[i]));
		return a;
	}
	return cJSON_CreateNull();
}

static void tokenizer_json(cJSON *root, const struct tk_vocab *v)
{
	static const char *const ids[] = { "bos_token_id", "eos_token_id", "unknown_token_id",
					    "seperator_token_id", "padding_token_id",
					    "mask_token_id" };
	const int64_t vals[] = { v->bos, v->eos, v->unk, v->sep, v->pad, v->mask };
	cJSON *t = cJSON_AddObjectToObject(root, "tokenizer");

	if (!t)
		return;
	cJSON_AddStringToObject(t, "model", v->model);
	cJSON_AddStringToObject(t, "pre", v->pre);
	cJSON_AddNumberToObject(t, "n_tokens", v->n_tokens);
	cJSON_AddNumberToObject(t, "n_merges", v->n_merges);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (vals[i] >= 0)
			cJSON_AddNumberToObject(t, ids[i], (double)vals[i]);
	if (v->chat_template)
		cJSON_AddNumberToObject(t, "chat_template_bytes", (double)strlen(v->chat_template));
}

int convert_plan_json(const struct wp_plan *p, const struct wp_meta *md, const struct tk_vocab *v,
		      const struct gguf_set *set, qk_err *err)
{
	return cli_emit_json(convert_plan_json_obj(p, md, v, set), err);
}

cJSON *convert_plan_json_obj(const struct wp_plan *p, const struct wp_meta *md,
			     const struct tk_vocab *v, const struct gguf_set *set)
{
	const char *out = set->out;
	const struct qm_mix *mix = qm_mix_by_ftype((int)p->ftype);
	cJSON *root = cJSON_CreateObject(), *kvs, *arr;
	uint64_t total, shared, expert, n_expert, bytes = 0, elems = 0;
	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "path", p->m->cat->path);
	if (out)
		cJSON_AddStringToObject(root, "output", out);
	else
		cJSON_AddNullToObject(root, "output");
	cJSON_AddStringToObject(root, "architecture",
				p->vision ? "clip" : qk_arch_gguf_name(p->m->hp.arch));
	cJSON_AddStringToObject(root, "outtype", wp_outtype_name(p->outtype));
	if (mix)
		cJSON_AddStringToObject(root, "file_type", mix->name);
	cJSON_AddNumberToObject(root, "file_type_id", p->ftype);
	kvs = cJSON_AddObjectToObject(root, "kv");
	for (size_t i = 0; kvs && i < md->n; i++)
		cJSON_AddItemToObject(kvs, md->kv[i].key, kv_json(&md->kv[i]));
	if (v)
		tokenizer_json(root, v);
	arr = cJSON_AddArrayToObject(root, "tensors");
	for (size_t i = 0; arr && i < p->n; i++) {
		const struct wp_tensor *t = &p->t[i];
		const struct qt_type *q = qt_type_get(t->type);
		cJSON *e = cJSON_CreateObject();

		if (!e)
			break;
		cJSON_AddStringToObject(e, "name", t->name);
		cJSON_AddStringToObject(e, "type", q ? q->name : "?");
		cJSON_AddItemToObject(e, "ne", cli_ne_json(t->ne, t->n_dims));
		cJSON_AddNumberToObject(e, "bytes", (double)t->nbytes);
		cJSON_AddNumberToObject(e, "bpw", t->n_elem ? 8.0 * (double)t->nbytes /
							      (double)t->n_elem : 0.0);
		cJSON_AddStringToObject(e, "from", t->b->f32 && t->b->src
				       ? qk_dtype_name(t->b->src->dtype)
				       : t->src_type >= 0 ? qk_dtype_name(t->src_type) : "mixed");
		cJSON_AddStringToObject(e, "why", why_keys[t->why]);
		cJSON_AddStringToObject(e, "source", t->b->src ? t->b->src->name : "?");
		cJSON_AddStringToObject(e, "transform", qk_xform_name(t->b->xform));
		cJSON_AddItemToArray(arr, e);
		bytes += t->nbytes;
		elems += t->n_elem;
	}
	gguf_set_json(root, set);
	wp_param_counts(p, &total, &shared, &expert, &n_expert);
	cJSON_AddNumberToObject(root, "n_tensors", (double)p->n);
	cJSON_AddNumberToObject(root, "n_params", (double)total);
	cJSON_AddNumberToObject(root, "n_weights", (double)elems);
	cJSON_AddNumberToObject(root, "bytes", (double)bytes);
	cJSON_AddNumberToObject(root, "bpw", elems ? 8.0 * (double)bytes / (double)elems : 0.0);
	return root;
}

int convert_export_json(const struct hx_plan *p, const char *out, int outtype, bool tokenizer,
			const char *config_json, qk_err *err)
{
	cJSON *root = cJSON_CreateObject(), *files, *arr, *cfg;
	char file[256];

	if (!root)
		return qk_err_set(err, QK_E_NOMEM, "out of memory building JSON");
	cJSON_AddStringToObject(root, "path", p->m->cat->path);
	if (out)
		cJSON_AddStringToObject(root, "output", out);
	else
		cJSON_AddNullToObject(root, "output");
	cJSON_AddStringToObject(root, "architecture", qk_arch_gguf_name(p->m->hp.arch));
	cJSON_AddStringToObject(root, "outtype", hx_outtype_name(outtype));
	files = cJSON_AddArrayToObject(root, "files");
	for (size_t s = 0; files && s < p->n_shards; s++) {
		cJSON *e = cJSON_CreateObject();
		uint64_t bytes = 0;
		size_t n = 0;

		if (!e)
			break;
		for (size_t i = 0; i < p->n; i++)
			if (p->t[i].shard == s) {
				n++;
				bytes += p->t[i].nbytes;
			}
		hx_shard_name(p, s, file, sizeof(file));
		cJSON_AddStringToObject(e, "name", file);
		cJSON_AddNumberToObject(e, "n_tensors", (double)n);
		cJSON_AddNumberToObject(e, "bytes", (double)bytes);
		cJSON_AddItemToArray(files, e);
	}
	if (files && p->n_shards > 1)
		cJSON_AddItemToArray(files, cJSON_CreateString("model.safetensors.index.json"));
	if (files)
		cJSON_AddItemToArray(files, cJSON_CreateString("config.json"));
	if (files && tokenizer) {
		cJSON_AddItemToArray(files, cJSON_CreateString("tokenizer.json"));
		cJSON_AddItemToArray(files, cJSON_CreateString("tokenizer_config.json"));
	}
	arr = cJSON_AddArrayToObject(root, "tensors");
	for (size_t i = 0; arr && i < p->n; i++) {
		const struct hx_tensor *t = &p->t[i];
		cJSON *e = cJSON_CreateObject(), *sh;

		if (!e)
			break;
		cJSON_AddStringToObject(e, "name", t->name);
		cJSON_AddStringToObject(e, "dtype", qk_dtype_name(t->dtype));
		sh = cJSON_AddArrayToObject(e, "shape");
		for (int d = 0; sh && d < t->n_dims; d++)
			cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t->shape[d]));
		cJSON_AddNumberToObject(e, "bytes", (double)t->nbytes);
		cJSON_AddNumberToObject(e, "shard", (double)(t->shard + 1));
		cJSON_AddStringToObject(e, "source", t->b && t->b->src ? t->b->src->name : "?");
		cJSON_AddItemToArray(arr, e);
	}
	cJSON_AddNumberToObject(root, "n_tensors", (double)p->n);
	cJSON_AddNumberToObject(root, "n_params", (double)p->n_params);
	cJSON_AddNumberToObject(root, "bytes", (double)p->total_size);
	if ((cfg = cJSON_Parse(config_json)))
		cJSON_AddItemToObject(root, "config", cfg);
	return cli_emit_json(root, err);
}
