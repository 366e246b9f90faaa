/* hf_write.c - hx_export: the output directory, the shards streamed row
 * chunk by row chunk, the index, config.json and the tokenizer files; see
 * hf_export.h. */
#include "hf_export.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../quant/fp16.h"
#include "../../quant/qtype.h"
#include "../base/dtype.h"
#include "../container/gguf.h"
#include "hf_priv.h"
#include "../base/io.h"
#include "../base/path.h"
#include "../base/outfile.h"
#include "../container/safetensors.h"
#include "../tokenizer/tokenizer.h"

#define HX_FILE_MAX 64 /* "model-00001-of-00002.safetensors" and friends */

/* ---- a stream of one tensor's bytes through a chunk buffer ---- */

struct wr {
	const struct hx_plan *p;
	struct st_writer *w;
	uint8_t *buf;               /* [cap] pending bytes */
	size_t cap, len;
	float *row;                 /* [max cols] one widened row */
	uint64_t n_dequant;
	qk_err *err;
};

static int flush(struct wr *x)
{
	int rc = x->len ? st_writer_write(x->w, x->buf, x->len, x->err) : QK_OK;

	x->len = 0;
	return rc;
}

/* room for n more bytes at x->buf + x->len (n <= cap) */
static int room(struct wr *x, size_t n, uint8_t **at)
{
	int rc = QK_OK;

	if (n > x->cap - x->len)
		rc = flush(x);
	*at = x->buf + x->len;
	x->len += n;
	return rc;
}

static void store(int dtype, uint8_t *at, uint32_t bits)
{
	if (dtype == QK_DT_F32)
		qk_st32(at, bits);
	else
		qk_st16(at, (uint16_t)bits);
}

static uint32_t narrow(int dtype, float v)
{
	switch (dtype) {
	case QK_DT_F16: return qt_fp32_to_fp16(v);
	case QK_DT_BF16: return qt_fp32_to_bf16(v);
	default: return qt_f32_bits(v);
	}
}

/* view row r in dtype: its bytes as they are when the dtypes agree, else
 * widened (or dequantized) to fp32 and rounded */
static int put_row(struct wr *x, const struct qk_view *v, uint64_t r, int dtype)
{
	const size_t esz = dtype == QK_DT_F32 ? 4 : 2;
	int src_dt, rc;
	const uint8_t *raw = qk_view_row_data(v, r, &src_dt);
	uint8_t *at;

	if (r >= v->rows)
		return qk_err_set(x->err, QK_E_USAGE, "export: row %llu of a %llu-row view",
				  (unsigned long long)r, (unsigned long long)v->rows);
	if ((rc = room(x, v->cols * esz, &at)))
		return rc;
	if (raw && src_dt == dtype) {
		memcpy(at, raw, v->cols * esz);
		return QK_OK;
	}
	if ((rc = qk_view_read_row(v, r, x->row, x->err)))
		return rc;
	x->n_dequant += raw && !qk_dtype_is_float(src_dt);
	for (uint64_t i = 0; i < v->cols; i++)
		store(dtype, at + i * esz, narrow(dtype, x->row[i]));
	return QK_OK;
}

/* Tell the kernel the source rows [row0, row0 + n) of a view are done. */
static void release(const struct qk_catalog *cat, const struct qk_view *v, uint64_t row0,
		    uint64_t n)
{
	for (size_t i = 0; i < v->n_pieces; i++) {
		const struct qk_piece *pc = &v->pieces[i];
		const struct qk_tensor *t = pc->t;
		const qk_map *map;
		uint64_t lo = row0 > pc->start ? row0 : pc->start;
		uint64_t hi = row0 + n < pc->start + pc->n_rows ? row0 + n : pc->start + pc->n_rows;

		if (lo >= hi || !cat->files || t->file < 0 || (size_t)t->file >= cat->n_files)
			continue;
		map = &cat->files[t->file];
		if (!map->data || t->data < map->data || t->data >= map->data + map->size)
			continue;
		qk_map_evict(map, (size_t)(t->data - map->data) +
				    (pc->row0 + (lo - pc->start)) * pc->row_bytes,
			       (hi - lo) * pc->row_bytes);
	}
}

/* in_proj_qkvz row r: group g = r / (2 dk + 2 rv) holds [q_g dk][k_g dk]
 * [v_g rv][z_g rv]; q_g is attn_qkv row g dk + i, k_g row nk dk + g dk + i,
 * v_g row 2 nk dk + g rv + i, z_g attn_gate row g rv + i */
static int put_qkvz(struct wr *x, const struct hx_tensor *t)
{
	const struct qk_hparams *hp = &x->p->m->hp;
	const uint64_t nk = hp->ssm_n_k_heads, dk = hp->ssm_head_k_dim;
	const uint64_t rv = (uint64_t)(hp->ssm_n_v_heads / hp->ssm_n_k_heads) * hp->ssm_head_v_dim;
	const struct {
		const struct qk_view *v;
		uint64_t len, base, stride;
	} blk[4] = {
		{ &t->b->view, dk, 0, dk },
		{ &t->b->view, dk, nk * dk, dk },
		{ &t->b->view, rv, 2 * nk * dk, rv },
		{ &t->b2->view, rv, 0, rv },
	};
	const uint64_t grp = 2 * dk + 2 * rv;
	int rc;

	if (nk * grp != t->rows)
		return qk_err_set(x->err, QK_E_USAGE, "tensor '%s': %llu rows, expected %llu groups "
				  "of %llu", t->name, (unsigned long long)t->rows,
				  (unsigned long long)nk, (unsigned long long)grp);
	for (uint64_t g = 0; g < nk; g++)
		for (int k = 0; k < 4; k++)
			for (uint64_t i = 0; i < blk[k].len; i++)
				if ((rc = put_row(x, blk[k].v, blk[k].base + g * blk[k].stride + i,
						  t->dtype)))
					return rc;
	return QK_OK;
}

static int put_tensor(struct wr *x, const struct hx_tensor *t)
{
	const size_t esz = t->dtype == QK_DT_F32 ? 4 : 2;
	const struct qk_catalog *cat = x->p->m->cat;
	struct qk_view view;
	uint8_t *at;
	uint32_t bits;
	int rc = QK_OK;

	switch (t->src) {
	case HX_SRC_VIEW:
		view = t->b->view;
		if (t->vt_cols) {
			/* HF column block g*r + j is GGUF block j*nk + g; an HF
			 * source's view already reorders (nk, r) into GGUF form,
			 * and the two reorders cancel */
			view.cperm_a = view.cperm_a ? 0 : t->vt_r;
			view.cperm_b = view.cperm_b ? 0 : t->vt_nk;
		}
		for (uint64_t r = 0; !rc && r < t->rows; r++)
			rc = put_row(x, &view, t->row0 + hx_vt_index(t, r), t->dtype);
		if (!rc)
			release(cat, &t->b->view, t->row0, t->rows);
		break;
	case HX_SRC_QKVZ:
		rc = put_qkvz(x, t);
		if (!rc) {
			release(cat, &t->b->view, 0, t->b->view.rows);
			release(cat, &t->b2->view, 0, t->b2->view.rows);
		}
		break;
	case HX_SRC_SMALL:
		for (uint64_t i = 0; !rc && i < t->n_elem; i++) {
			hx_invert(t->xform, t->b->f32[hx_vt_index(t, i)], t->dtype, &bits);
			if (!(rc = room(x, esz, &at)))
				store(t->dtype, at, bits);
		}
		break;
	default: /* zeros */
		for (uint64_t i = 0; !rc && i < t->n_elem; i++)
			if (!(rc = room(x, esz, &at)))
				store(t->dtype, at, 0);
		break;
	}
	return rc ? rc : flush(x);
}

/* ---- shards ---- */

/* safetensors' writer order: dtype descending (F32, BF16, F16), then name */
static int dtype_rank(int dt)
{
	return dt == QK_DT_F32 ? 2 : dt == QK_DT_BF16 ? 1 : 0;
}

static int by_file_order(const void *a, const void *b)
{
	const struct hx_tensor *x = *(const struct hx_tensor *const *)a;
	const struct hx_tensor *y = *(const struct hx_tensor *const *)b;

	if (dtype_rank(x->dtype) != dtype_rank(y->dtype))
		return dtype_rank(y->dtype) - dtype_rank(x->dtype);
	return strcmp(x->name, y->name);
}

static int write_shard(struct wr *x, const char *dir, size_t shard,
		       const struct hx_tensor **list, const struct hx_opts *o, size_t *done,
		       uint64_t *bytes_done)
{
	const struct hx_plan *p = x->p;
	char file[HX_FILE_MAX], *path;
	size_t n = 0;
	int rc;

	hx_shard_name(p, shard, file, sizeof(file));
	for (size_t i = 0; i < p->n; i++)
		if (p->t[i].shard == shard)
			list[n++] = &p->t[i];
	qsort(list, n, sizeof(*list), by_file_order);
	if (!(path = qk_path_join(dir, file)))
		return qk_err_set(x->err, QK_E_NOMEM, "out of memory");
	rc = st_writer_open(&x->w, path, x->err);
	free(path);
	if (rc)
		return rc;
	rc = st_writer_meta(x->w, "format", "pt", x->err);
	for (size_t i = 0; !rc && i < n; i++)
		rc = st_writer_add(x->w, list[i]->name, list[i]->dtype, list[i]->n_dims,
				   list[i]->shape, x->err);
	for (size_t i = 0; !rc && i < n; i++) {
		rc = put_tensor(x, list[i]);
		if (rc)
			break;
		++*done;
		*bytes_done += list[i]->nbytes;
		if (o->progress) {
			struct hx_progress pr = { file, list[i]->name, *done, p->n, *bytes_done,
						  p->total_size };
			o->progress(o->progress_user, &pr);
		}
	}
	if (rc) {
		st_writer_abort(x->w);
		x->w = NULL;
		return rc;
	}
	rc = st_writer_commit(x->w, x->err);
	x->w = NULL;
	return rc;
}

/* ---- small text files ---- */

static int write_text(const char *dir, const char *name, const char *text, qk_err *err)
{
	struct qk_out *out;
	char *path = qk_path_join(dir, name);
	int rc;

	if (!path)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	rc = qk_out_open(&out, path, err);
	free(path);
	if (rc)
		return rc;
	if ((rc = qk_out_write(out, text, strlen(text), err))) {
		qk_out_abort(out);
		return rc;
	}
	return qk_out_commit(out, err);
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(const struct hx_tensor *const *)a)->name,
		      (*(const struct hx_tensor *const *)b)->name);
}

/* model.safetensors.index.json as transformers 5.x writes it */
static int write_index(const struct hx_plan *p, const char *dir,
		       const struct hx_tensor **list, qk_err *err)
{
	size_t cap = 128 + p->n * (HX_NAME_MAX + HX_FILE_MAX + 16), len;
	char *s = malloc(cap), file[HX_FILE_MAX];
	int rc;

	if (!s)
		return qk_err_set(err, QK_E_NOMEM, "out of memory writing the index");
	for (size_t i = 0; i < p->n; i++)
		list[i] = &p->t[i];
	qsort(list, p->n, sizeof(*list), by_name);
	len = (size_t)snprintf(s, cap, "{\n  \"metadata\": {\n    \"total_parameters\": %llu,\n"
			       "    \"total_size\": %llu\n  },\n  \"weight_map\": {\n",
			       (unsigned long long)p->n_params, (unsigned long long)p->total_size);
	for (size_t i = 0; i < p->n; i++) {
		hx_shard_name(p, list[i]->shard, file, sizeof(file));
		/* names come from the arch patterns: no character needs escaping */
		len += (size_t)snprintf(s + len, cap - len, "    \"%s\": \"%s\"%s\n", list[i]->name,
					file, i + 1 < p->n ? "," : "");
	}
	snprintf(s + len, cap - len, "  }\n}\n");
	rc = write_text(dir, "model.safetensors.index.json", s, err);
	free(s);
	return rc;
}

/* ---- the directory ---- */

static bool is_checkpoint_file(const char *name)
{
	size_t n = strlen(name), k = strlen(".safetensors");

	return strcmp(name, "model.safetensors.index.json") == 0 ||
	       (strncmp(name, "model", 5) == 0 && n > k && strcmp(name + n - k, ".safetensors") == 0);
}

/* create dir if missing; refuse one holding checkpoint files this export
 * does not replace */
static int prepare_dir(const struct hx_plan *p, const char *dir, qk_err *err)
{
	struct dirent *de;
	DIR *d;
	int rc = QK_OK;

	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return qk_err_set(err, QK_E_IO, "%s: cannot create the directory: %s", dir,
				  strerror(errno));
	if (!(d = opendir(dir)))
		return qk_err_set(err, QK_E_IO, "%s: cannot read the directory: %s", dir,
				  strerror(errno));
	while (!rc && (de = readdir(d))) {
		char mine[HX_FILE_MAX];
		bool ours = p->n_shards > 1 && strcmp(de->d_name, "model.safetensors.index.json") == 0;

		for (size_t s = 0; !ours && s < p->n_shards; s++) {
			hx_shard_name(p, s, mine, sizeof(mine));
			ours = strcmp(de->d_name, mine) == 0;
		}
		if (!ours && is_checkpoint_file(de->d_name))
			rc = qk_err_set(err, QK_E_USAGE,
					"%s: holds '%s' of another checkpoint, which this export (%zu "
					"shard%s) would not replace; remove it or choose another "
					"directory", dir, de->d_name, p->n_shards,
					p->n_shards == 1 ? "" : "s");
	}
	closedir(d);
	return rc;
}

static bool file_exists(const char *dir, const char *name)
{
	struct stat st;
	char *path = qk_path_join(dir, name);
	bool ok = path && stat(path, &st) == 0 && S_ISREG(st.st_mode);

	free(path);
	return ok;
}

/* The vocabulary to write: the GGUF's, or an HF input's own tokenizer
 * files; *have = false when the input has none. Read before anything is
 * written, so a bad vocabulary leaves no output behind. */
static int load_tokenizer(const struct qk_model *m, struct tk_vocab *v, bool *have,
			  qk_err *err)
{
	const struct qk_catalog *cat = m->cat;
	int rc;

	*have = false;
	memset(v, 0, sizeof(*v));
	if (m->form == QK_FORM_GGUF) {
		const struct gf_file *f = cat->gguf && cat->n_files ? cat->gguf[0] : NULL;

		if (!f || gf_find_key(f, "tokenizer.ggml.model") < 0)
			return QK_OK;
		rc = tk_from_gguf(v, f, err);
	} else {
		if (!cat->dir || !(file_exists(cat->dir, "tokenizer.json") ||
				   (m->hp.arch == QK_ARCH_QWEN && file_exists(cat->dir, "qwen.tiktoken"))))
			return QK_OK;
		rc = tk_load_hf(v, cat->dir, m->hp.arch, m->hp.n_vocab, &m->hp, err);
	}
	*have = rc == QK_OK;
	return rc;
}

/* ---- the whole export ---- */

int hx_export(const struct qk_model *m, const char *out_dir, const struct hx_opts *o,
	      qk_err *err)
{
	struct hx_opts def;
	struct hx_plan p;
	struct tk_vocab vocab;
	struct wr x = { .err = err };
	const struct hx_tensor **list = NULL;
	char *cfg = NULL;
	uint64_t max_cols = 1, bytes_done = 0;
	size_t done = 0;
	bool tok = false;
	int rc;

	if (!o) {
		hx_opts_init(&def);
		o = &def;
	}
	if (!out_dir || !*out_dir)
		return qk_err_set(err, QK_E_USAGE, "export: no output directory");
	memset(&vocab, 0, sizeof(vocab));
	if ((rc = hx_plan_build(&p, m, o, err)))
		return rc;
	if (!o->no_tokenizer && (rc = load_tokenizer(m, &vocab, &tok, err)))
		goto out;
	x.p = &p;
	for (size_t i = 0; i < p.n; i++)
		if (p.t[i].cols > max_cols)
			max_cols = p.t[i].cols;
	x.cap = HX_CHUNK_BYTES > max_cols * 4 ? HX_CHUNK_BYTES : (size_t)max_cols * 4;
	x.buf = malloc(x.cap);
	x.row = malloc((size_t)max_cols * sizeof(float));
	list = malloc((p.n ? p.n : 1) * sizeof(*list));
	if (!x.buf || !x.row || !list) {
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory for the export buffers");
		goto out;
	}
	if ((rc = prepare_dir(&p, out_dir, err)))
		goto out;
	for (size_t s = 0; !rc && s < p.n_shards; s++)
		rc = write_shard(&x, out_dir, s, list, o, &done, &bytes_done);
	if (!rc && p.n_shards > 1)
		rc = write_index(&p, out_dir, list, err);
	if (!rc && !(rc = hx_config_json(&p, &cfg, err)))
		rc = write_text(out_dir, "config.json", cfg, err);
	if (!rc && p.vision && p.vision->vh.has_norm) {
		char *pp = hx_preprocessor_json(&p.vision->vh);

		rc = pp ? write_text(out_dir, "preprocessor_config.json", pp, err)
			: qk_err_set(err, QK_E_NOMEM, "out of memory writing preprocessor_config.json");
		free(pp);
	}
	if (!rc && tok)
		rc = tk_write_hf(&vocab, out_dir, err);
	if (!rc && o->report) {
		struct hx_report *r = o->report;

		r->n_tensors = p.n;
		r->n_shards = p.n_shards;
		r->total_size = p.total_size;
		r->n_params = p.n_params;
		r->n_inexact = p.n_inexact;
		r->n_dequant = x.n_dequant;
		r->tokenizer = tok;
	}
out:
	tk_free(&vocab);
	free(cfg);
	free(list);
	free(x.buf);
	free(x.row);
	hx_plan_free(&p);
	return rc;
}
