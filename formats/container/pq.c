/* pq.c - pre-quantized storages: the method table, reading rows, the
 * helpers the methods share; see pq.h. */
#include "pq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../quant/fp16.h"
#include "../base/dtype.h"
#include "../base/io.h"
#include "pq_priv.h"

/* quant_method -> its attach step (config.json "quantization_config") */
static const struct {
	const char *method;
	int (*attach)(struct pq_ctx *);
} methods[] = {
	{ "fp8", pq_attach_fp8 },
	{ "gptq", pq_attach_gptq },
	{ "awq", pq_attach_awq },
	{ "compressed-tensors", pq_attach_ct },
};

/* kind -> name and row reader */
static const struct {
	const char *name;
	int (*read)(const struct pq_store *, uint64_t, float *);
} kinds[PQ_KIND_END] = {
	[PQ_SCALED] = { "scaled", pq_read_scaled },
	[PQ_GPTQ] = { "gptq", pq_read_gptq },
	[PQ_AWQ] = { "awq", pq_read_awq },
	[PQ_PACKED] = { "pack-quantized", pq_read_packed },
};

const char *pq_kind_name(int kind)
{
	return kind > 0 && kind < PQ_KIND_END ? kinds[kind].name : "?";
}

bool pq_renamed(const struct pq_store *s)
{
	return s->kind != PQ_SCALED;
}

int pq_attach(struct qk_catalog *cat, const cJSON *qcfg, const char *file, qk_err *err)
{
	struct pq_ctx c = { cat, qcfg, file, "", err };
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(qcfg, "quant_method");
	char list[128] = "";

	if (!cJSON_IsObject(qcfg))
		return qk_err_set_in(err, QK_E_INVALID, file,
				     "quantization_config is not an object");
	if (!cJSON_IsString(m))
		return qk_err_set_in(err, QK_E_INVALID, file,
				     "quantization_config has no quant_method string");
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcmp(m->valuestring, methods[i].method) == 0) {
			size_t first = cat->n_pq;
			int rc = methods[i].attach(&c);

			for (size_t k = first; k < cat->n_pq; k++)
				cat->pq[k]->method = methods[i].method;
			return rc;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 methods[i].method);
	}
	return qk_err_set_in(err, QK_E_UNSUPPORTED, file,
			     "quantization_config.quant_method '%.64s' is not read (known: %s)",
			     m->valuestring, list);
}

int pq_read_row(const struct pq_store *s, uint64_t row, float *out, qk_err *err)
{
	if (row >= s->rows)
		return qk_err_set(err, QK_E_USAGE, "row %llu of a %llu-row matrix",
				  (unsigned long long)row, (unsigned long long)s->rows);
	return kinds[s->kind].read(s, row, out);
}

int pq_auto_dtype(const struct pq_store *s)
{
	return s->scale.dtype == QK_DT_F16 || s->scale.dtype == QK_DT_BF16 ? s->scale.dtype
									     : QK_DT_F32;
}

void pq_describe(const struct pq_store *s, char *buf, size_t n)
{
	const char *sd = qk_dtype_name(s->scale.dtype);

	switch (s->kind) {
	case PQ_SCALED:
		if (s->blk_r == s->rows && s->blk_c == s->cols)
			snprintf(buf, n, "%s x scale per tensor, %s scale", qk_dtype_name(s->w.dtype), sd);
		else if (s->blk_r == 1 && s->blk_c == s->cols)
			snprintf(buf, n, "%s x scale per row, %s scales", qk_dtype_name(s->w.dtype), sd);
		else
			snprintf(buf, n, "%s x scale per %llux%llu block, %s scales",
				 qk_dtype_name(s->w.dtype), (unsigned long long)s->blk_r,
				 (unsigned long long)s->blk_c, sd);
		break;
	default:
		snprintf(buf, n, "%s %u-bit, groups of %u, %s scales%s%s", pq_kind_name(s->kind),
			 (unsigned)s->bits, (unsigned)s->group, sd,
			 s->zero.data ? ", zero points" : "", s->gidx.data ? ", g_idx" : "");
		break;
	}
}

/* ---- helpers ---- */

int pq_part_of(struct pq_ctx *c, struct qk_tensor *t, struct pq_part *p)
{
	char w[300];

	if (t->n_dims > 2) {
		qk_catalog_where(c->cat, t, w, sizeof(w));
		return qk_err_set(c->err, QK_E_UNSUPPORTED,
				  "%stensor '%s': %d dimensions, a quantized matrix part has 1 or 2",
				  w, t->name, t->n_dims);
	}
	p->name = t->name;
	p->data = t->data;
	p->dtype = t->dtype;
	p->d0 = t->n_dims >= 1 ? t->shape[0] : 1;
	p->d1 = t->n_dims == 2 ? t->shape[1] : 1;
	t->pq_part = true;
	return QK_OK;
}

int pq_new(struct pq_ctx *c, int kind, uint64_t rows, uint64_t cols, struct pq_store **out)
{
	struct qk_catalog *cat = c->cat;
	struct pq_store **np = realloc(cat->pq, (cat->n_pq + 1) * sizeof(*np));
	struct pq_store *s;

	if (!np)
		return qk_err_set(c->err, QK_E_NOMEM, "out of memory");
	cat->pq = np;
	s = calloc(1, sizeof(*s));
	if (!s)
		return qk_err_set(c->err, QK_E_NOMEM, "out of memory");
	cat->pq[cat->n_pq++] = s;
	s->kind = kind;
	s->rows = rows;
	s->cols = cols;
	*out = s;
	return QK_OK;
}

int pq_cfg_int(struct pq_ctx *c, const cJSON *o, const char *key, long def, long lo, long hi,
	       long *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	*v = def;
	if (!x || cJSON_IsNull(x))
		return QK_OK;
	if (!cJSON_IsNumber(x) || x->valuedouble != (double)(long)x->valuedouble ||
	    x->valuedouble < (double)lo || x->valuedouble > (double)hi)
		return qk_err_set_in(c->err, QK_E_INVALID, c->file,
				     "quantization_config: %s is not an integer in [%ld, %ld]", key,
				     lo, hi);
	*v = (long)x->valuedouble;
	return QK_OK;
}

int pq_cfg_bool(struct pq_ctx *c, const cJSON *o, const char *key, bool def, bool *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	*v = def;
	if (!x || cJSON_IsNull(x))
		return QK_OK;
	if (!cJSON_IsBool(x))
		return qk_err_set_in(c->err, QK_E_INVALID, c->file,
				     "quantization_config: %s is not true or false", key);
	*v = cJSON_IsTrue(x);
	return QK_OK;
}

int pq_cfg_str(struct pq_ctx *c, const cJSON *o, const char *key, const char **v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	*v = NULL;
	if (!x || cJSON_IsNull(x))
		return QK_OK;
	if (!cJSON_IsString(x))
		return qk_err_set_in(c->err, QK_E_INVALID, c->file,
				     "quantization_config: %s is not a string", key);
	*v = x->valuestring;
	return QK_OK;
}

bool pq_is_float(int dt)
{
	return dt == QK_DT_F32 || dt == QK_DT_F16 || dt == QK_DT_BF16;
}

float pq_ld_float(const struct pq_part *p, uint64_t i)
{
	switch (p->dtype) {
	case QK_DT_F16: return qt_fp16_to_fp32(qk_ld16(p->data + 2 * i));
	case QK_DT_BF16: return qt_bf16_to_fp32(qk_ld16(p->data + 2 * i));
	default: return qt_f32_from_bits(qk_ld32(p->data + 4 * i));
	}
}

int32_t pq_ld_i32(const struct pq_part *p, uint64_t i)
{
	return (int32_t)qk_ld32(p->data + 4 * i);
}
