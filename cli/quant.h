/* quant.h - the parts of qwen-quant: the main flow and options
 * (qwen-quant.c), deciding every tensor's type (quant_plan.c), the GGUF
 * input path (quant_gguf.c), writing the file (quant_write.c) and what
 * `plan` prints (quant_print.c).
 *
 * A quant job is a write plan (formats/plan/plan.h) whose tensors are in
 * llama-quantize's order (quant/mix.h qm_name_cmp) and whose types are the
 * ones llama-quantize would give them (quant/mix.h), with a recipe's
 * overrides (formats/plan/recipe.h) as llama-quantize --tensor-type overrides.
 * For a safetensors input the plan is wp_build's; for a GGUF input it is
 * made here from the file's own tensors (one-piece views, so tensors whose
 * type does not change are copied byte for byte) and its key/values are
 * copied through. Either way the file is the one llama-quantize writes from
 * the same GGUF (for safetensors: the GGUF qwen-convert writes): key/values
 * in the input's order with general.quantization_version and
 * general.file_type moved to the end, tensors sorted, alignment 32.
 * An mmproj GGUF (general.architecture clip) is a GGUF input whose model is
 * its vision tower (formats/model/vision.h); llama-quantize's arch "clip"
 * has n_layer 0 (quant_plan.c lists the mixes it is checked for).
 */
#ifndef CLI_QUANT_H
#define CLI_QUANT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../formats/imatrix/imatrix.h"
#include "../formats/model/open.h"
#include "../formats/plan/plan.h"
#include "../formats/plan/recipe.h"
#include "../formats/tokenizer/tokenizer.h"
#include "../quant/mix.h"

struct quant_opts {
	const char *out;               /* -o; NULL for plan */
	const struct qm_mix *mix;      /* --type */
	const char *recipe;            /* --recipe FILE or NULL */
	struct qm_options qopt;        /* --pure, --leave-output-tensor, --output-tensor-type,
					* --token-embedding-type */
	bool allow_requantize;
	bool allow_nonfinite;          /* --allow-nonfinite */
	bool keep_mtp;
	bool quiet;
	bool json;                     /* plan --json */
	unsigned threads;
	uint64_t split_bytes;          /* --split-max-size, 0: none */
	uint64_t split_tensors;        /* --split-max-tensors, 0: none */
	const char *imatrix;           /* --imatrix FILE or NULL (qopt.has_imatrix set too) */
};

/* --type COPY (llama-quantize's): every tensor of a GGUF input copied as it
 * is, general.file_type kept; with a split limit, a GGUF of any type
 * re-split (or a split set joined). */
extern const struct qm_mix quant_copy_mix;
/* The file type's name: the mix's, or for COPY the input's ("Q4_K_M"). */
struct quant_job;
const char *quant_type_label(const struct quant_job *j, const struct quant_opts *o);

/* why a tensor has its type */
enum quant_why {
	QW_KEPT = 0,   /* never quantized (norm, bias, router, 1-D, ...) */
	QW_DEFAULT,    /* the mix's default type */
	QW_MIX,        /* a mix rule (output, attn_v, ffn_down, ...) */
	QW_RECIPE,     /* a recipe rule */
	QW_OPTION,     /* --output-tensor-type / --token-embedding-type */
	QW_FALLBACK,   /* rows not a multiple of the chosen type's block */
	QW_COPY,       /* --type COPY: the input's type */
};

struct quant_info {
	int src_type;                  /* ggml type in the input (safetensors: the source
					* precision qwen-convert keeps) */
	int why;                       /* enum quant_why */
	long rule;                     /* recipe rule that decided, or -1 */
};

struct quant_job {
	struct qk_input in;
	bool opened;
	bool gguf;                     /* the input is a GGUF file (set) */
	bool mmproj;                   /* ... an mmproj (general.architecture clip):
					* in.model is its vision tower (vision.h) */
	struct wp_plan plan;           /* output tensors in llama-quantize's order */
	struct quant_info *info;       /* [plan.n] */
	struct qk_binding *gbind;      /* GGUF: [plan.n] views over the input tensors */
	struct qk_piece *gpiece;       /* GGUF: [plan.n] their pieces */
	struct wp_meta md;             /* safetensors: key/values but the tokenizer's */
	struct tk_vocab vocab;         /* safetensors: the tokenizer */
	struct rc_recipe recipe;
	size_t *rule_hits;             /* [recipe.n] tensors each rule decided */
	int n_fallback;                /* llama-quantize's fallback count */
	uint32_t ftype;                /* general.file_type written */
	struct im_file imat;           /* --imatrix: the file */
	const char *imat_path;         /* its path as given; NULL without --imatrix */
	float *imat_w;                 /* every entry's weights, back to back */
	uint64_t *imat_at;             /* [imat.n] where entry i's weights start */
	size_t imat_used, imat_missing; /* quantized tensors with / without weights */
	uint64_t src_bytes;            /* data bytes of the tensors as the input holds them
					* (safetensors: as qwen-convert --outtype auto writes) */
};

/* Open `path`, build the plan and decide every type. Nothing is written;
 * every input, recipe and type error is found here. On failure the job
 * holds what was built so far (quant_job_free releases it). */
int quant_prepare(struct quant_job *j, const struct quant_opts *o, const char *path,
		  qk_err *err);
void quant_job_free(struct quant_job *j);

/* GGUF input (quant_gguf.c): the plan of the file's tensors, types as
 * stored, in file order. */
int quant_gguf_plan(struct quant_job *j, qk_err *err);
/* Add the input's key/values to w, in order, without general.file_type,
 * general.quantization_version and the split keys. */
int quant_gguf_copy_kv(const struct quant_job *j, struct gf_writer *w, qk_err *err);
/* A u32 key of the input's metadata (either input kind): true and *out
 * set when present as an integer (the first element of an integer array). */
bool quant_meta_u32(const struct quant_job *j, const char *key, uint32_t *out);
/* general.architecture of the input's metadata, or NULL. */
const char *quant_meta_arch(const struct quant_job *j);

/* --imatrix (quant_imatrix.c): load `path` and give every quantized tensor
 * of the plan its weights (wp_tensor.qw), by llama-quantize's rules. */
int quant_imatrix_attach(struct quant_job *j, const char *path, qk_err *err);
/* The quantize.imatrix.* keys llama-quantize adds after general.file_type
 * (nothing without --imatrix). */
int quant_imatrix_kvs(const struct quant_job *j, struct gf_writer *w, qk_err *err);
void quant_imatrix_free(struct quant_job *j);

/* Write the file or split set `set` (gguf_set_plan of j->plan) (quant_write.c);
 * st gets the data counts. */
struct gguf_set;
int quant_write(struct quant_job *j, const struct quant_opts *o, const struct gguf_set *set,
		struct wp_stats *st, qk_err *err);

/* The plan as `qwen-quant plan` prints it: one line per tensor (name, type,
 * ggml ne, bytes, bits per weight, why), then totals by type and overall. */
void quant_print_plan(FILE *f, const struct quant_job *j, const struct quant_opts *o,
		      const struct gguf_set *set);
/* The same as one JSON object on stdout (plan --json). */
int quant_plan_json(const struct quant_job *j, const struct quant_opts *o,
		    const struct gguf_set *set, qk_err *err);

#endif
