/* verify.h - the parts of qwen-verify, one file each: the subcommands run
 * (verify_run.c), golden (verify_golden.c) and compare (verify_compare.c);
 * what they share: opening a model and the token sources (verify_input.c),
 * thresholds and their YAML file (verify_thresh.c), NumPy .npz output
 * (verify_npz.c), progress and timing (verify_input.c). The main, the
 * option table and the subcommand table are in qwen-verify.c; the options are
 * documented in man/qwen-verify.1.
 *
 * Every part returns a qk_err code (QK_OK, QK_E_USAGE -> exit 2,
 * QK_E_INVALID/QK_E_UNSUPPORTED -> 3, QK_E_IO/QK_E_NOMEM -> 4,
 * QK_E_THRESHOLD -> 1) with the message in *err; main prints it.
 */
#ifndef CLI_VERIFY_H
#define CLI_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "../formats/container/catalog.h"
#include "../formats/model/hparams.h"
#include "../formats/model/model.h"
#include "../formats/model/open.h"
#include "../ref/forward.h"
#include "../ref/metrics.h"

/* ---- thresholds (verify_thresh.c) ---- */

/* Each threshold bounds one number of the compare report (its JSON key). */
enum vt_id {
	VT_MAX_KLD = 0,     /* kld_mean <= */
	VT_MAX_KLD_P99,     /* kld_p99 <= */
	VT_MAX_KLD_MAX,     /* kld_max <= */
	VT_MIN_TOP1,        /* top1_agreement (percent) >= */
	VT_MAX_RMS_DP,      /* rms_dp (percent) <= */
	VT_MAX_PPL_RATIO,   /* ppl_ratio <= */
	VT_MAX_LOGIT_DIFF,  /* max_abs_logit_diff <= */
	VT_MAX_LAYER_NMSE,  /* max_layer_nmse: every residual stream's NMSE <= */
	/* compare of vision towers (verify_vcompare.c) */
	VT_MAX_EMBD_DIFF,   /* max_abs_embd_diff <= */
	VT_MAX_EMBD_NMSE,   /* embd_nmse: every output's NMSE <= */
	VT_MIN_EMBD_COS,    /* embd_cos_min: every output row's cosine >= */
	VT_COUNT
};

struct vt_row {
	const char *name;    /* option name without "--", and YAML key */
	const char *key;     /* JSON key of the value it bounds */
	bool is_min;         /* a lower bound (min-top1) */
	double hi;           /* largest allowed limit (100 for percentages) */
	double dflt;         /* the default when no threshold is given; NAN: none */
	const char *help;    /* one line for --help */
	bool vision;         /* bounds image embeddings (compare of vision towers) */
};
extern const struct vt_row vt_rows[VT_COUNT];

struct vt_set {
	bool set[VT_COUNT];
	double val[VT_COUNT];
	bool any;            /* some threshold came from an option or a file */
};

/* Parse a limit for threshold `id` (strtod, finite, in [0, hi]); `where`
 * starts the message: "option '--max-kld'" or "FILE:LINE: max-kld"
 * (QK_E_USAGE). */
int vt_parse(int id, const char *s, const char *where, double *out, qk_err *err);
/* Read a YAML file holding one mapping of threshold names to numbers into
 * *t (keys already set stay: options win over the file). QK_E_USAGE naming
 * the file and line for an unknown key, a duplicate, a bad value, anything
 * but a flat mapping; QK_E_IO when it cannot be read. */
int vt_load_yaml(struct vt_set *t, const char *path, qk_err *err);
/* Without any threshold: the defaults of vt_rows (equivalence). */
void vt_apply_defaults(struct vt_set *t);
/* The report's threshold lines (name, <= or >=, limit, key, value, ok or
 * FAIL) for the set thresholds; vals and fail are indexed by enum vt_id. */
void vt_print(const struct vt_set *t, const double *vals, const bool *fail);
/* o's "thresholds" (name, value_key, limit, value, pass per set threshold)
 * and "failed" (names) arrays */
void vt_json(cJSON *o, const struct vt_set *t, const double *vals, const bool *fail);
/* "<prog>: compare: NAME LIMIT exceeded: KEY is V" on stderr */
void vt_report_failure(const struct vt_set *t, int i, double v);

/* ---- options ---- */

struct verify_opts {
	unsigned n_threads;         /* -t, default: online CPUs */
	bool json;                  /* --json */
	bool mtp;                   /* --mtp (run): the MTP head too */
	const char *tokens;         /* --tokens LIST */
	const char *tokens_file;    /* --tokens-file FILE */
	const char *text;           /* --text STRING */
	const char *text_file;      /* --text-file FILE */
	const char *chat;           /* --chat FILE (ChatML turns) */
	size_t top_k;               /* --top-k, default 5 */
	const char *dump;           /* --dump FILE.npz */
	double logit_rtol;          /* --logit-rtol; NAN unset (verify_golden.c) */
	double hidden_rtol;         /* --hidden-rtol; NAN unset */
	struct vt_set thr;          /* threshold options */
	const char *thresholds;     /* --thresholds FILE.yaml */
	uint32_t n_ctx;             /* --ctx, default 512; 0 when not given */
	uint32_t n_chunks;          /* --chunks, 0 = every whole chunk */
	bool ctx_set;               /* --ctx or --chunks given */
	const char *save_base;      /* --save-base FILE */
	const char *base;           /* --base FILE */
	const char *save_expected;  /* --save-expected FILE.safetensors */
	bool allow_nonfinite;       /* --allow-nonfinite */
	const char *types;          /* --types A,B,... (sweep) */
	const char *keep_dir;       /* --keep-dir DIR (sweep) */
	const char *out;            /* -o FILE (imatrix) */
	bool process_output;        /* --process-output (imatrix) */
	bool imat_dat;              /* --output-format dat (imatrix) */
	const char *against;        /* --against FILE (imatrix) */
	rf_mm_fn on_matmul;         /* an observer for verify_forward's passes, or NULL */
	void *on_matmul_user;
	const char *positions;      /* --positions T;H;W (run) */
	const int32_t *mrope;       /* [3, T] its values (verify_forward passes them) */
	const char *pixels;         /* --pixels FILE.safetensors (vision, compare) */
	const char *grid;           /* --grid T,H,W[;T,H,W...] (vision, compare) */
	bool vision;                /* --vision (compare): the vision towers */
	double embd_rtol;           /* --embd-rtol (golden of vision outputs); NAN unset */
	uint32_t window_px;         /* --window-size (Qwen2.5-VL); 0 unset */
};

/* --positions "t0,t1,...;h0,...;w0,...": three lists of T integers each
 * (commas and/or whitespace between numbers) into *out ([3, T], malloc'd);
 * QK_E_USAGE naming the list and the entry otherwise (verify_positions.c) */
int verify_positions_parse(const char *s, size_t T, int32_t **out, qk_err *err);

/* ---- an opened model (verify_input.c) ---- */

struct tk_enc;
struct tk_ids;
struct verify_model {
	const char *path;           /* as the user named it */
	struct qk_input in;         /* catalog, hyperparameters, bound model */
	struct tk_enc *enc;         /* its tokenizer, once verify_encoder opened it */
};

/* Catalog, hyperparameters (config.json or GGUF keys), bound model; then
 * every matrix computable and (unless --allow-nonfinite) every weight finite,
 * before any forward pass (model.h: qk_model_check_values). */
int verify_open(struct verify_model *m, const char *path, const struct verify_opts *o,
		qk_err *err);
void verify_close(struct verify_model *m);
/* "qwen2, bf16 safetensors, 24 layers, n_vocab 151936" into buf */
void verify_describe(const struct verify_model *m, char *buf, size_t size);
cJSON *verify_model_json(const struct verify_model *m);

/* ---- token sequences (verify_input.c) ---- */

#define VERIFY_MAX_TOKENS (1u << 20)   /* per sequence */
#define VERIFY_MAX_SEQS 100000u
#define VERIFY_DEFAULT_SEQS 4u         /* 4 x 32 = 128 positions, over the */
#define VERIFY_DEFAULT_LEN 32u         /* 100 llama.cpp wants for statistics */

struct verify_seq {
	int32_t *ids;               /* [T], owned */
	size_t T;
	size_t from;                /* logits only from this position (chunks) */
};

struct verify_seqs {
	size_t n;
	struct verify_seq *seq;     /* [n], owned */
	const char *source;         /* "--tokens", "--tokens-file" or "default" */
};

/* From --tokens or --tokens-file, one sequence from --text, --text-file or
 * --chat (verify_text_ids; llama_rule as there), else the built-in default
 * set with ids below n_vocab. Every id is checked against n_vocab
 * (QK_E_USAGE naming the id, its position and its source). */
int verify_seqs_load(struct verify_seqs *s, const struct verify_opts *o, struct verify_model *m,
		     bool llama_rule, qk_err *err);
/* Is the input text (--text, --text-file or --chat)? */
bool verify_is_text(const struct verify_opts *o);

/* ---- text (verify_text.c) ---- */

/* Open m's tokenizer (m->enc) unless open: the GGUF's keys or the tokenizer
 * files beside the model. */
int verify_encoder(struct verify_model *m, qk_err *err);
/* The ids of --text, --text-file or --chat with m's tokenizer. --chat
 * renders its turns as ChatML with special tokens parsed; --text and
 * --text-file parse special tokens as transformers' tokenizer(text) does,
 * or, with llama_rule, leave them text as llama-perplexity does. */
int verify_text_ids(const struct verify_opts *o, struct verify_model *m, bool llama_rule,
		    struct tk_ids *out, qk_err *err);
/* Token id's text for listings (escaped: \n, \t, \xNN), "" without a
 * tokenizer. */
void verify_token_text(const struct verify_model *m, int32_t id, char *buf, size_t size);
void verify_seqs_free(struct verify_seqs *s);
size_t verify_seqs_positions(const struct verify_seqs *s);

/* ---- running (verify_input.c) ---- */

/* rf_run with the options' threads, hidden states on request, a progress
 * line on a terminal ("label: sequence i/n"), and the seconds it took added
 * to *seconds (may be NULL). */
int verify_forward(const struct verify_model *m, const struct verify_opts *o, bool hidden,
		   const char *label, size_t i, size_t n, const struct verify_seq *s,
		   struct rf_out *out, double *seconds, qk_err *err);
/* Clear the progress line, if one was drawn. */
/* -q: no progress line */
extern bool verify_quiet;
void verify_progress_end(void);
/* Refuse every input of m and the options' input files as an output. */
int verify_forbid_inputs(const struct verify_model *m, const struct verify_opts *o, qk_err *err);

/* ---- llama-perplexity's chunks (verify_chunks.c) ---- */

#define VERIFY_DEFAULT_CTX 512u

/* The whole input as one token stream, cut into chunks as llama-perplexity
 * does: n_chunk = min(--chunks, n / n_ctx) chunks of n_ctx tokens, each run
 * on its own from position 0, its first token replaced by BOS when the
 * vocabulary adds one; positions first = n_ctx / 2 .. n_ctx - 2 are scored
 * (their next token is known), n_scored = n_ctx - 1 - first per chunk. */
struct verify_stream {
	int32_t *ids;               /* [n], owned */
	size_t n;
	const char *source;         /* "--tokens", "--text-file", ... */
	bool has_vocab;             /* a tokenizer was found */
	bool add_bos;               /* its add_bos flag */
	int32_t bos;                /* its BOS id (with add_bos) */
	uint32_t n_ctx, n_chunk, first, n_scored;
};

/* The stream of the options' input (the ids of every --tokens-file line in
 * order, or the tokenized text) for model m, chunked by --ctx/--chunks
 * (QK_E_USAGE when it holds fewer than 2 n_ctx tokens, as llama-perplexity
 * requires). */
int verify_stream_load(struct verify_stream *st, const struct verify_opts *o,
		       struct verify_model *m, qk_err *err);
/* The stream of a KL-divergence base file (its tokens, n_ctx and n_chunk),
 * with m's BOS rule. */
struct kb_file;
int verify_stream_from_base(struct verify_stream *st, const struct kb_file *kb,
			    struct verify_model *m, qk_err *err);
void verify_stream_free(struct verify_stream *st);
/* The tokens chunk c is run on (BOS rule applied) into buf[n_ctx]. */
void verify_chunk_tokens(const struct verify_stream *st, size_t c, int32_t *buf);
/* "n_ctx 512, 2 chunks of 255 scored tokens, BOS not added" */
void verify_stream_describe(const struct verify_stream *st, char *buf, size_t size);
cJSON *verify_stream_json(const struct verify_stream *st);
/* Run chunk c of st through m (buf[n_ctx] receives its tokens), logits
 * only from position st->first (out->logits row j is position first + j). */
int verify_run_chunk(const struct verify_model *m, const struct verify_opts *o,
		     const struct verify_stream *st, size_t c, bool hidden, const char *label,
		     int32_t *buf, struct rf_out *out, double *secs, qk_err *err);

/* ---- llama-perplexity's KL-divergence base file (verify_ppl.c) ---- */

struct qk_out;
/* Open `path` and write the header and the stream's n_chunk x n_ctx tokens. */
int verify_base_begin(struct qk_out **out, const char *path, const struct verify_stream *st,
		      uint32_t n_vocab, qk_err *err);
/* Append chunk c's records from its logits [n_ctx - first, n_vocab] (rows
 * from position first, as verify_run_chunk computes them); rec holds
 * kb_record_bytes(n_vocab) bytes of scratch. */
int verify_base_chunk(struct qk_out *out, const struct verify_stream *st, size_t c,
		      const float *logits, uint32_t n_vocab, uint8_t *rec, qk_err *err);

/* ---- compare's report (verify_compare.c computes it, verify_report.c
 * prints it) ---- */

/* the running figures after one chunk, as llama-perplexity prints them */
struct cmp_chunk {
	struct rm_est ppl, ln_ratio, kld, rms_dp, top1;
};

struct cmp_report {
	struct rm_summary s;
	const char *base_path;     /* --base FILE, or NULL: two models */
	const struct verify_stream *st; /* chunks, or NULL: whole sequences */
	const struct verify_seqs *seqs; /* whole sequences, or NULL */
	struct cmp_chunk *chunks;  /* [st->n_chunk] */
	size_t n_streams;          /* n_layer + 1, or 0 when not comparable */
	struct ts_diff *streams;   /* [n_streams] over every sequence */
	double level;              /* NMSE that counts as divergent */
	bool assessed;             /* a divergence level applies (see judge) */
	long first_div;            /* stream index, or -1 */
	double worst_nmse;         /* largest stream NMSE (NaN if non-finite) */
	size_t worst_stream;
	double vals[VT_COUNT];     /* the value each threshold bounds */
	bool fail[VT_COUNT];
	bool pass;
};

void cmp_print_text(const struct verify_model *a, const struct verify_model *b,
		    const struct vt_set *t, const struct cmp_report *r);
cJSON *cmp_to_json(const struct verify_model *a, const struct verify_model *b,
		   const struct vt_set *t, const struct cmp_report *r);
/* one "qwen-verify: compare: ..." line per broken threshold */
void cmp_report_failures(const struct vt_set *t, const struct cmp_report *r);

/* ---- output helpers ---- */

/* Residual stream i of [n_layer + 1]: "embedding" for 0, else "layer i-1"
 * (the decoder layer it follows, as numbered in tensor names). */
const char *verify_stream_name(size_t i, char *buf, size_t size);


/* ---- .npz (verify_npz.c) ---- */

struct npz_entry {
	const char *name;           /* "logits_0" (".npy" is appended) */
	const char *descr;          /* "<f4" or "<i4" */
	int n_dims;                 /* 1..4 */
	uint64_t shape[4];
	const void *data;           /* little-endian, product(shape) x 4 bytes */
};

/* Write entries to `path` as a NumPy .npz (a zip of .npy v1.0 files, deflate
 * level 1), atomically (formats/base/outfile.h). */
int npz_write(const char *path, const struct npz_entry *e, size_t n, qk_err *err);

/* ---- vision towers (verify_vision.c, verify_vcompare.c) ---- */

#include "../ref/vis.h"

struct vv_model {
	const char *path;           /* as the user named it */
	struct vs_input in;         /* catalog and bound tower (vision.h) */
	struct rf_vis_model vm;     /* the tower for the reference pass */
	bool window_assumed;        /* Qwen2.5-VL without window_size: 112 pixels */
	bool window_from_other;     /* compare: the other tower's window_size */
	bool window_given;          /* --window-size */
};
/* the vision tower of an HF checkpoint (dir, .safetensors or index) or an
 * mmproj GGUF; its weights finite unless --allow-nonfinite */
int vv_open(struct vv_model *m, const char *path, const struct verify_opts *o, qk_err *err);
void vv_close(struct vv_model *m);
/* "qwen3vl_merger, 27 blocks, width 1152, ..." */
void vv_describe(const struct vv_model *m, char *buf, size_t size);

/* the pixels and grids of a run: --pixels FILE (pixel_values F32 [N, K],
 * image_grid_thw I32/I64 [n, 3] unless --grid), else the built-in pixels on
 * --grid or 1,16,16 */
struct vv_input {
	float *pixels;              /* [n_patch, in_ch * tpatch * patch^2] */
	uint32_t (*grid)[3];        /* [n_img] (t, h, w) */
	size_t n_img, n_patch;
	const char *source;         /* the pixels file, or "built-in" */
};
int vv_input_load(struct vv_input *in, const struct verify_opts *o,
		  const struct rf_vis_hparams *hp, qk_err *err);
void vv_input_free(struct vv_input *in);
/* rf_vis_run with the options' threads (keep: patch and block outputs) */
int vv_run(const struct vv_model *m, const struct vv_input *in, const struct verify_opts *o,
	   bool keep, struct rf_vis_out *out, qk_err *err);
cJSON *vv_grid_json(const struct vv_input *in);
void vv_grid_str(const struct vv_input *in, char *buf, size_t size);
/* a .gguf whose general.architecture is clip (an mmproj) */
bool vv_is_mmproj(const char *path);
/* an expected_vision.safetensors (it holds vision.embd) */
bool vv_is_expected(const char *path);
/* golden MODEL EXPECTED_VISION.safetensors (verify_cmd_golden hands it over) */
int verify_vision_golden(const struct verify_opts *o, const char **pos, qk_err *err);
/* compare --vision REF CANDIDATE (verify_cmd_compare hands it over) */
int verify_vision_compare(const struct verify_opts *o, const char **pos, size_t n_pos,
			  qk_err *err);

/* ---- subcommands ---- */

int verify_cmd_run(const struct verify_opts *o, const char **pos, size_t n_pos, qk_err *err);
int verify_cmd_golden(const struct verify_opts *o, const char **pos, size_t n_pos,
		      qk_err *err);
int verify_cmd_compare(const struct verify_opts *o, const char **pos, size_t n_pos,
		       qk_err *err);
/* sweep (verify_sweep.c): qwen-quant each of --types, compare each with
 * the reference on the same text, one table. */
int verify_cmd_sweep(const struct verify_opts *o, const char **pos, size_t n_pos, qk_err *err);
int verify_cmd_imatrix(const struct verify_opts *o, const char **pos, size_t n_pos,
		       qk_err *err);
/* vision MODEL: the image embeddings of the pixels (verify_vision.c) */
int verify_cmd_vision(const struct verify_opts *o, const char **pos, size_t n_pos, qk_err *err);
int verify_cmd_perplexity(const struct verify_opts *o, const char **pos, size_t n_pos,
			  qk_err *err);

#endif
