/* quant_gguf.c - a GGUF input: its tensors as a write plan (one-piece
 * views, so wp_write_data copies a tensor whose type stays byte for byte
 * and dequantizes + quantizes the others, as llama-quantize does) and its
 * key/values copied through; see quant.h. */
#include "quant.h"

#include <stdlib.h>
#include <string.h>

#include "../formats/container/gguf.h"
#include "../formats/container/gguf_split.h"
#include "../quant/qtype.h"

static const struct gf_file *meta_file(const struct quant_job *j)
{
	return j->in.cat.gguf && j->in.cat.n_files ? j->in.cat.gguf[0] : NULL;
}

/* the bound role of catalog tensor ct (recipes match roles and layers) */
static void bind_role(const struct qk_model *m, const struct qk_tensor *ct, struct qk_binding *b)
{
	b->role = -1;
	b->layer = -1;
	for (size_t k = 0; k < m->n_bind; k++)
		if (!m->bind[k].derived && m->bind[k].src == ct) {
			b->role = m->bind[k].role;
			b->layer = m->bind[k].layer;
			b->mtp = m->bind[k].mtp;
			return;
		}
}

int quant_gguf_plan(struct quant_job *j, qk_err *err)
{
	const struct qk_catalog *cat = &j->in.cat;
	const size_t n = cat->n_tensors;
	struct wp_plan *p = &j->plan;

	memset(p, 0, sizeof(*p));
	p->t = calloc(n ? n : 1, sizeof(*p->t));
	j->gbind = calloc(n ? n : 1, sizeof(*j->gbind));
	j->gpiece = calloc(n ? n : 1, sizeof(*j->gpiece));
	if (!p->t || !j->gbind || !j->gpiece)
		return qk_err_set(err, QK_E_NOMEM, "out of memory planning %zu tensors", n);
	p->m = &j->in.model;
	p->outtype = WP_OUT_AUTO;
	p->ftype = j->ftype;
	for (size_t i = 0; i < n; i++) {
		const struct qk_tensor *ct = &cat->tensors[i];
		struct wp_tensor *t = &p->t[i];
		struct qk_binding *b = &j->gbind[i];
		struct qk_piece *pc = &j->gpiece[i];

		/* the GGUF reader guarantees 1..4 dims, each >= 1, names < 64 bytes */
		if (ct->n_dims < 1 || ct->n_dims > GF_MAX_DIMS || strlen(ct->name) >= GF_MAX_NAME)
			return qk_err_set(err, QK_E_INVALID, "%s: tensor '%s' has %d dims",
					  cat->path, ct->name, ct->n_dims);
		snprintf(t->name, sizeof(t->name), "%s", ct->name);
		t->n_dims = ct->n_dims;
		t->n_elem = ct->n_elem;
		for (int d = 0; d < GF_MAX_DIMS; d++)
			t->ne[d] = 1;
		for (int d = 0; d < ct->n_dims; d++) {
			t->shape[d] = ct->shape[d];
			t->ne[ct->n_dims - 1 - d] = (int64_t)ct->shape[d];
		}
		t->cols = ct->shape[ct->n_dims - 1];
		t->rows = ct->n_elem / t->cols;
		t->src_type = ct->dtype;
		t->type = ct->dtype;
		t->why = WP_WHY_SOURCE;
		t->nbytes = ct->nbytes;
		t->b = b;
		*pc = (struct qk_piece){ ct, 0, t->rows, 0, ct->nbytes / t->rows, ct->dtype, 0 };
		b->form = QK_FORM_GGUF;
		b->src = ct;
		snprintf(b->gguf_name, sizeof(b->gguf_name), "%s", ct->name);
		b->n_dims = ct->n_dims;
		memcpy(b->shape, t->shape, sizeof(b->shape));
		b->view = (struct qk_view){ t->rows, t->cols, 1, pc, 0, 0, false };
		bind_role(&j->in.model, ct, b);
	}
	p->n = n;
	return QK_OK;
}

/* ---- key/values ---- */

/* keys llama-quantize drops from the input (it writes the first two anew,
 * last, and never writes a split set) */
static const char *const dropped[] = {
	"general.quantization_version", "general.file_type", GS_KEY_NO, GS_KEY_COUNT,
	GS_KEY_TENSORS,
};

static bool is_dropped(const char *key)
{
	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (strcmp(key, dropped[i]) == 0)
			return true;
	return false;
}

/* a numeric or bool array, element by element into host values */
static int copy_arr(const struct gf_file *f, int64_t i, struct gf_writer *w, qk_err *err)
{
	const enum gf_type et = gf_arr_type(f, i);
	const uint64_t n = gf_arr_n(f, i);
	const size_t es = et == GF_BOOL ? sizeof(bool) : gf_type_size(et);
	uint8_t *buf = n ? malloc(n * es) : NULL;
	int rc;

	if (n && !buf)
		return qk_err_set(err, QK_E_NOMEM, "out of memory copying key '%s'", gf_key(f, i));
	/* the stored bits of each element, as a host value of its width (floats
	 * too: bit for bit, NaN payloads included) */
	for (uint64_t k = 0; k < n; k++) {
		uint8_t *d = buf + k * es;
		uint64_t u = gf_arr_u64(f, i, k);

		switch (es) {
		case 1:
			if (et == GF_BOOL) {
				bool v = u != 0;
				memcpy(d, &v, sizeof(v));
			} else {
				*d = (uint8_t)u;
			}
			break;
		case 2: { uint16_t v = (uint16_t)u; memcpy(d, &v, 2); break; }
		case 4: { uint32_t v = (uint32_t)u; memcpy(d, &v, 4); break; }
		default: memcpy(d, &u, 8); break;
		}
	}
	rc = gf_writer_add_arr(w, gf_key(f, i), et, buf, n, err);
	free(buf);
	return rc;
}

static int copy_arr_str(const struct gf_file *f, int64_t i, struct gf_writer *w, qk_err *err)
{
	const uint64_t n = gf_arr_n(f, i);
	const char **v = malloc((n ? n : 1) * sizeof(*v));
	size_t *lens = malloc((n ? n : 1) * sizeof(*lens));
	int rc;

	if (!v || !lens) {
		free(v);
		free(lens);
		return qk_err_set(err, QK_E_NOMEM, "out of memory copying key '%s'", gf_key(f, i));
	}
	for (uint64_t k = 0; k < n; k++)
		v[k] = gf_arr_str(f, i, k, &lens[k]);
	rc = gf_writer_add_arr_str(w, gf_key(f, i), v, lens, n, err);
	free(v);
	free(lens);
	return rc;
}

static int copy_one(const struct gf_file *f, int64_t i, struct gf_writer *w, qk_err *err)
{
	const char *k = gf_key(f, i);
	size_t len;

	switch (gf_kv_type(f, i)) {
	case GF_U8: return gf_writer_add_u8(w, k, gf_kv_u8(f, i), err);
	case GF_I8: return gf_writer_add_i8(w, k, gf_kv_i8(f, i), err);
	case GF_U16: return gf_writer_add_u16(w, k, gf_kv_u16(f, i), err);
	case GF_I16: return gf_writer_add_i16(w, k, gf_kv_i16(f, i), err);
	case GF_U32: return gf_writer_add_u32(w, k, gf_kv_u32(f, i), err);
	case GF_I32: return gf_writer_add_i32(w, k, gf_kv_i32(f, i), err);
	case GF_F32: return gf_writer_add_f32(w, k, gf_kv_f32(f, i), err);
	case GF_BOOL: return gf_writer_add_bool(w, k, gf_kv_bool(f, i), err);
	case GF_U64: return gf_writer_add_u64(w, k, gf_kv_u64(f, i), err);
	case GF_I64: return gf_writer_add_i64(w, k, gf_kv_i64(f, i), err);
	case GF_F64: return gf_writer_add_f64(w, k, gf_kv_f64(f, i), err);
	case GF_STRING: {
		const char *s = gf_kv_str(f, i, &len);

		return gf_writer_add_strn(w, k, s, len, err);
	}
	case GF_ARRAY:
		return gf_arr_type(f, i) == GF_STRING ? copy_arr_str(f, i, w, err)
						      : copy_arr(f, i, w, err);
	default:
		return qk_err_set(err, QK_E_INVALID, "%s: key '%s' has an unknown type", gf_name(f), k);
	}
}

int quant_gguf_copy_kv(const struct quant_job *j, struct gf_writer *w, qk_err *err)
{
	const struct gf_file *f = meta_file(j);
	int rc;

	for (int64_t i = 0; f && i < gf_n_kv(f); i++)
		if (!is_dropped(gf_key(f, i)) && (rc = copy_one(f, i, w, err)))
			return rc;
	return QK_OK;
}

/* ---- metadata lookups for either input kind ---- */

bool quant_meta_u32(const struct quant_job *j, const char *key, uint32_t *out)
{
	const struct gf_file *f;
	int64_t i, v;

	if (!j->gguf) {
		const struct wp_kv *kv = wp_meta_find(&j->md, key);

		if (kv && kv->kind == WP_KV_U32)
			*out = kv->u32;
		else if (kv && kv->kind == WP_KV_I32 && kv->i32 >= 0)
			*out = (uint32_t)kv->i32;
		else
			return false;
		return true;
	}
	if (!(f = meta_file(j)) || (i = gf_find_key(f, key)) < 0)
		return false;
	if (gf_kv_type(f, i) == GF_ARRAY) {
		/* per-layer values (head_count arrays): llama.cpp reads layer 0 */
		enum gf_type et = gf_arr_type(f, i);

		if (et == GF_STRING || et == GF_F32 || et == GF_F64 || et == GF_BOOL ||
		    gf_arr_n(f, i) == 0)
			return false;
		v = gf_arr_int(f, i, 0);
		if (v < 0 || v > UINT32_MAX)
			return false;
	} else if (!gf_kv_int(f, i, 0, UINT32_MAX, &v)) {
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

const char *quant_meta_arch(const struct quant_job *j)
{
	const struct gf_file *f;
	int64_t i;

	if (!j->gguf) {
		const struct wp_kv *kv = wp_meta_find(&j->md, "general.architecture");

		return kv && kv->kind == WP_KV_STR ? kv->str : NULL;
	}
	if (!(f = meta_file(j)) || (i = gf_find_key(f, "general.architecture")) < 0 ||
	    gf_kv_type(f, i) != GF_STRING)
		return NULL;
	return gf_kv_str(f, i, NULL);
}
