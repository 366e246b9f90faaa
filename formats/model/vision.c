/* vision.c - bind a vision tower (HF or mmproj GGUF) to the QK_R_V_* roles
 * of its family's rows; see vision.h. */
#include "vision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/dtype.h"
#include "../base/io.h"
#include "../container/gguf.h"
#include "../../quant/qtype.h"
#include "model_priv.h"

struct vctx {
	struct vs_model *vm;
	const struct qk_catalog *cat;
	bool gguf;
	qk_err *err;
};

static void where(const struct vctx *c, const struct qk_tensor *t, char *buf, size_t n)
{
	qk_model_where(c->cat, t, buf, n);
}

/* '@' -> num */
static bool expand(const char *prefix, const char *pat, long num, char *buf, size_t n)
{
	const char *at = strchr(pat, '@');
	int k;

	if (at)
		k = snprintf(buf, n, "%s%.*s%ld%s", prefix, (int)(at - pat), pat, num, at + 1);
	else
		k = snprintf(buf, n, "%s%s", prefix, pat);
	return k >= 0 && (size_t)k < n;
}

static bool matrix_dtype_ok(const struct vctx *c, int dt)
{
	const struct qt_type *q;

	if (qk_dtype_is_float(dt))
		return true;
	if (!c->gguf || dt >= QK_DT_EXTRA)
		return false;
	q = qt_type_get(dt);
	return q && q->dequantize;
}

static int check(const struct vctx *c, const struct vs_row *r, const struct qk_tensor *t,
		 const char *what)
{
	const struct vs_hparams *vh = &c->vm->vh;
	const uint8_t *rule = !c->gguf && r->hf_shape[0] ? r->hf_shape : r->shape;
	uint64_t want[5] = { 0 };
	int n = vs_shape_eval(rule, !c->gguf && r->hf_shape[0] ? 5 : QK_SHAPE_MAX, vh, want);
	char w[512], got[160], exp[160];
	bool ok = t->n_dims == n, small = qk_role_kind(r->role) == QK_KIND_SMALL;
	uint64_t nbytes;

	for (int i = 0; ok && i < n; i++)
		ok = t->shape[i] == want[i];
	where(c, t, w, sizeof(w));
	if (!ok) {
		qk_shape_str(t->shape, t->n_dims, got, sizeof(got));
		qk_shape_str(want, n, exp, sizeof(exp));
		return qk_err_set(c->err, QK_E_INVALID,
				  "%stensor '%s' (%s): shape %s, expected %s from the vision config",
				  w, t->name, what, got, exp);
	}
	if (t->pq || (small ? !qk_dtype_is_float(t->dtype) : !matrix_dtype_ok(c, t->dtype)))
		return qk_err_set(c->err, QK_E_INVALID, "%stensor '%s' (%s): dtype %s, expected %s",
				  w, t->name, what, qk_dtype_name(t->dtype),
				  small || !c->gguf ? "F32, F16 or BF16"
						    : "a float or ggml quantized type");
	if (!qk_dtype_nbytes(t->dtype, t->n_elem, &nbytes) || nbytes != t->nbytes ||
	    (nbytes && !t->data))
		return qk_err_set(c->err, QK_E_INVALID, "%stensor '%s': holds %llu bytes, not %s x %llu",
				  w, t->name, (unsigned long long)t->nbytes, qk_dtype_name(t->dtype),
				  (unsigned long long)t->n_elem);
	return QK_OK;
}

/* the source row ranges of the role (the source viewed as [rows, last dim];
 * 1-D as [n, 1]); returns how many, at most cap */
static size_t ranges(const struct vs_row *r, const struct qk_tensor *t, bool gguf,
		     const struct vs_hparams *vh, struct qk_range *out, size_t cap)
{
	uint64_t cols = t->n_dims > 1 ? t->shape[t->n_dims - 1] : 1;
	uint64_t rows = t->n_elem / (cols ? cols : 1), third = rows / 3;
	int sel = gguf ? VS_S_WHOLE : r->sel;
	size_t n = 0;

	switch (sel) {
	case VS_S_THIRD0: case VS_S_THIRD1: case VS_S_THIRD2:
		out[0].row0 = (uint64_t)(sel - VS_S_THIRD0) * third;
		out[0].n = third;
		return 1;
	case VS_S_TIME0: case VS_S_TIME1:
		/* [E, C, T, P, P] as rows of P: (o, c, time, y) */
		for (uint64_t oc = 0; oc < (uint64_t)vh->n_embd * vh->in_chans && n < cap; oc++) {
			out[n].row0 = (oc * vh->temporal_patch + (uint64_t)(sel - VS_S_TIME0)) *
				      vh->patch;
			out[n++].n = vh->patch;
		}
		return n;
	default:
		out[0].row0 = 0;
		out[0].n = rows;
		return 1;
	}
}

static int bind_one(struct vctx *c, const struct vs_row *r, int layer, long hf_num)
{
	struct vs_model *vm = c->vm;
	struct qk_model *m = &vm->m;
	const struct vs_hparams *vh = &vm->vh;
	char name[QK_NAME_BUF], what[96];
	const struct qk_tensor *t;
	struct qk_binding *b;
	struct qk_range *rg;
	size_t n_rg, cap;
	int32_t *slot;
	int rc;

	if (!expand(c->gguf ? "" : vm->prefix, c->gguf ? r->gguf : r->hf,
		    c->gguf ? layer : hf_num, name, sizeof(name)))
		return qk_err_set(c->err, QK_E_INVALID, "vision tensor name too long");
	if (layer >= 0)
		snprintf(what, sizeof(what), "%s of block %d, %s", qk_role_name(r->role), layer,
			 vs_projector_name(vh->family));
	else
		snprintf(what, sizeof(what), "%s, %s", qk_role_name(r->role),
			 vs_projector_name(vh->family));
	if (!(t = qk_catalog_find(c->cat, name))) {
		char w[512];

		where(c, NULL, w, sizeof(w));
		return qk_err_set(c->err, QK_E_INVALID, "%stensor '%s' (%s) is missing", w, name,
				  what);
	}
	if ((rc = check(c, r, t, what)))
		return rc;
	m->claims[t - c->cat->tensors].role = r->role;
	m->claims[t - c->cat->tensors].layer = layer;
	slot = &m->index[(size_t)(layer + 1) * QK_ROLE_COUNT + r->role];
	if (*slot >= 0)
		return qk_err_set(c->err, QK_E_INVALID, "tensor '%s': role %s bound twice", name,
				  qk_role_name(r->role));
	b = &m->bind[m->n_bind];
	memset(b, 0, sizeof(*b));
	b->role = r->role;
	b->layer = layer;
	b->form = m->form;
	b->src = t;
	b->n_dims = vs_shape_eval(r->shape, QK_SHAPE_MAX, vh, b->shape);
	if (!expand("", r->gguf, layer, b->gguf_name, sizeof(b->gguf_name)))
		return qk_err_set(c->err, QK_E_INVALID, "gguf name of '%s' too long", name);
	cap = r->sel >= VS_S_TIME0 && !c->gguf ? (size_t)vh->n_embd * vh->in_chans : 1;
	if (!(rg = malloc(cap * sizeof(*rg))))
		return qk_err_set(c->err, QK_E_NOMEM, "out of memory binding '%s'", name);
	n_rg = ranges(r, t, c->gguf, vh, rg, cap);
	if (qk_role_kind(r->role) == QK_KIND_SMALL) {
		rc = qk_load_small(b, t, rg, n_rg, 1, false, c->err);
	} else {
		struct qk_view *v = &b->view;
		uint64_t cols = t->shape[t->n_dims - 1], row_bytes = 0;

		rc = QK_OK;
		if (!qk_dtype_nbytes(t->dtype, cols, &row_bytes) ||
		    !(v->pieces = calloc(n_rg, sizeof(*v->pieces)))) {
			rc = row_bytes ? qk_err_set(c->err, QK_E_NOMEM, "out of memory") :
				qk_err_set(c->err, QK_E_INVALID, "tensor '%s': rows of %llu "
					   "elements are not whole %s blocks", name,
					   (unsigned long long)cols, qk_dtype_name(t->dtype));
		}
		for (size_t i = 0; !rc && i < n_rg; i++) {
			struct qk_piece *p = &v->pieces[v->n_pieces++];

			p->t = t;
			p->row0 = rg[i].row0;
			p->n_rows = rg[i].n;
			p->start = v->rows;
			p->row_bytes = row_bytes;
			p->dtype = t->dtype;
			v->rows += rg[i].n;
		}
		v->cols = cols;
	}
	free(rg);
	if (rc)
		return rc;
	*slot = (int32_t)m->n_bind++;
	return QK_OK;
}

/* is the tensor part of the vision tower? */
static bool in_tower(const struct vctx *c, const char *name)
{
	return c->gguf || strncmp(name, c->vm->prefix, strlen(c->vm->prefix)) == 0;
}

static int bind_rows(struct vctx *c)
{
	const struct vs_hparams *vh = &c->vm->vh;
	size_t n;
	const struct vs_row *rows = vs_rows(&n);
	int rc;

	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < n; i++) {
			const struct vs_row *r = &rows[i];

			if (!(r->families & (1u << vh->family)) || r->when != pass)
				continue;
			if (r->when == VS_W_GLOBAL)
				rc = bind_one(c, r, -1, -1);
			else
				rc = QK_OK;
			for (uint32_t b = 0; !rc && r->when == VS_W_BLOCK && b < vh->depth; b++)
				rc = bind_one(c, r, (int)b, (long)b);
			for (uint32_t k = 0; !rc && r->when == VS_W_DEEPSTACK && k < vh->n_deepstack;
			     k++)
				rc = bind_one(c, r, (int)vh->deepstack[k], (long)k);
			if (rc)
				return rc;
		}
	}
	return QK_OK;
}

static const char *hf_prefix(const struct qk_catalog *cat)
{
	static const char *const prefixes[] = { "model.visual.", "visual." };

	for (size_t p = 0; p < 2; p++)
		for (size_t i = 0; i < cat->n_tensors; i++)
			if (strncmp(cat->tensors[i].name, prefixes[p], strlen(prefixes[p])) == 0)
				return prefixes[p];
	return NULL;
}

int vs_bind(struct vs_model *vm, const struct qk_catalog *cat, const struct vs_hparams *vh,
	    qk_err *err)
{
	struct vctx c = { vm, cat, cat->format == QK_FMT_GGUF, err };
	struct qk_model *m = &vm->m;
	size_t n_rows, cap = 0, n_index;
	const struct vs_row *rows = vs_rows(&n_rows);
	char w[512];
	int rc;

	memset(vm, 0, sizeof(*vm));
	vm->vh = *vh;
	qk_model_where(cat, NULL, w, sizeof(w));
	if (vh->family < 0 || vh->family >= VS_FAM_COUNT || !vh->depth ||
	    vh->depth > VS_MAX_BLOCKS || vh->n_deepstack > VS_MAX_LIST)
		return qk_err_set(err, QK_E_INVALID, "%svision hyperparameters out of range", w);
	vm->prefix = c.gguf ? "" : hf_prefix(cat);
	if (!vm->prefix)
		return qk_err_set(err, QK_E_UNSUPPORTED,
				  "%sno vision tensors (none named model.visual.* or visual.*)", w);
	for (size_t i = 0; i < n_rows; i++)
		if (rows[i].families & (1u << vh->family))
			cap += rows[i].when == VS_W_GLOBAL ? 1 :
			       rows[i].when == VS_W_BLOCK ? vh->depth : vh->n_deepstack;
	m->hp.n_layer = vh->depth;
	m->n_layer_all = vh->depth;
	m->cat = cat;
	m->form = c.gguf ? QK_FORM_GGUF : QK_FORM_HF;
	n_index = (size_t)(vh->depth + 1) * QK_ROLE_COUNT;
	m->bind = calloc(cap ? cap : 1, sizeof(*m->bind));
	m->cap_bind = cap;
	m->index = malloc(n_index * sizeof(*m->index));
	m->claims = malloc((cat->n_tensors ? cat->n_tensors : 1) * sizeof(*m->claims));
	if (!m->bind || !m->index || !m->claims) {
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory binding the vision tower");
		goto fail;
	}
	for (size_t i = 0; i < n_index; i++)
		m->index[i] = -1;
	for (size_t i = 0; i < cat->n_tensors; i++) {
		m->claims[i].role = -1;
		m->claims[i].layer = -1;
		m->claims[i].expert = -1;
		m->claims[i].mtp = false;
	}
	if ((rc = bind_rows(&c)))
		goto fail;
	m->n_vision = 0;
	for (size_t i = 0; i < cat->n_tensors; i++) {
		const struct qk_tensor *t = &cat->tensors[i];

		if (m->claims[i].role >= 0) {
			m->n_vision++;
			continue;
		}
		if (in_tower(&c, t->name)) {
			qk_model_where(cat, t, w, sizeof(w));
			rc = qk_err_set(err, QK_E_INVALID,
					"%stensor '%s' is not part of a %s vision tower of %u blocks%s "
					"(no role claims it)", w, t->name,
					vs_projector_name(vh->family), vh->depth,
					vh->family == VS_FAM_QWEN3VL ? " and the config's deepstack "
					"mergers" : "");
			goto fail;
		}
	}
	return QK_OK;
fail:
	vs_free(vm);
	return rc;
}

void vs_free(struct vs_model *vm)
{
	if (!vm)
		return;
	qk_model_free(&vm->m);
	memset(vm, 0, sizeof(*vm));
}

const struct qk_binding *vs_get(const struct vs_model *vm, int role, int block)
{
	return qk_model_get(&vm->m, role, block);
}

void vs_param_counts(const struct vs_model *vm, uint64_t *encoder, uint64_t *projector)
{
	*encoder = *projector = 0;
	for (size_t i = 0; i < vm->m.n_bind; i++) {
		const struct qk_binding *b = &vm->m.bind[i];
		uint64_t n = 1;

		for (int d = 0; d < b->n_dims; d++)
			n *= b->shape[d];
		if (b->role >= QK_R_V_POST_LN)
			*projector += n;
		else
			*encoder += n;
	}
}

int vs_open(struct vs_input *in, const char *path, qk_err *err)
{
	struct vs_hparams vh;
	int rc;

	memset(in, 0, sizeof(*in));
	if ((rc = qk_catalog_open(&in->cat, path, err)))
		return rc;
	if (in->cat.format == QK_FMT_GGUF)
		rc = vs_hparams_from_gguf(&vh, in->cat.gguf[0], err);
	else if (!in->cat.dir)
		rc = qk_err_set(err, QK_E_USAGE, "%s: no directory to read config.json from", path);
	else
		rc = vs_hparams_load(&vh, in->cat.dir, err);
	if (!rc)
		rc = vs_bind(&in->vm, &in->cat, &vh, err);
	if (rc)
		vs_close(in);
	return rc;
}

void vs_close(struct vs_input *in)
{
	if (!in)
		return;
	vs_free(&in->vm);
	qk_catalog_free(&in->cat);
	memset(in, 0, sizeof(*in));
}
