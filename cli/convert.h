/* convert.h - the pieces of qwen-convert: options and dispatch
 * (qwen-convert.c), HF safetensors -> GGUF, one file or a llama.cpp split set
 * (convert_gguf.c), any input -> HF safetensors (convert_hf.c), and what it
 * prints: the --dry-run plans and the progress bar (convert_print.c). */
#ifndef CLI_CONVERT_H
#define CLI_CONVERT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../formats/base/err.h"
#include "../formats/hf_out/hf_export.h"
#include "../formats/model/open.h"
#include "../formats/model/vision.h"
#include "../formats/plan/plan.h"
#include "../formats/tokenizer/tokenizer.h"
#include "gguf_set.h"

/* --to */
enum convert_to {
	CONVERT_TO_DEFAULT = 0, /* from the input: safetensors -> gguf, GGUF -> safetensors */
	CONVERT_TO_GGUF,
	CONVERT_TO_SAFETENSORS,
};

/* The options, checked (qwen-convert.c). */
struct convert_ctx {
	const char *in;                /* MODEL (positional) */
	const char *out;               /* -o: GGUF file or set name, or directory; NULL */
	const char *name;              /* --name or NULL */
	int to;                        /* enum convert_to, resolved before dispatch */
	int outtype;                   /* enum wp_outtype (gguf) or hx_outtype (safetensors) */
	bool keep_mtp, dry_run, quiet, force;
	bool json;                     /* --json (with --dry-run) */
	bool fp8_as_q8;                /* --fp8-as-q8 */
	bool allow_nonfinite;          /* --allow-nonfinite */
	uint64_t threads;
	uint64_t shard_size;           /* --shard-size, 0: HX_DEFAULT_SHARD_SIZE */
	uint64_t split_bytes;          /* --split-max-size, 0: none */
	uint64_t split_tensors;        /* --split-max-tensors, 0: none */
	const char *mmproj;            /* --mmproj FILE or NULL */
	bool mmproj_only;              /* --mmproj-only: no text GGUF */
};

/* "<prog>: note: ..." on stderr unless --quiet. */
void convert_note(const struct convert_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* HF safetensors input -> GGUF: one file, or a split set when a --split-max-*
 * limit cuts it (convert_gguf.c). QK_* error code. */
int convert_to_gguf(const struct convert_ctx *c, struct qk_input *in, qk_err *err);
/* Any input -> HF safetensors directory, through a temporary directory that
 * is renamed into place only when complete (convert_hf.c). */
int convert_to_safetensors(const struct convert_ctx *c, struct qk_input *in, qk_err *err);

/* ---- the mmproj (convert_mmproj.c) ---- */

/* The vision tower of a VL checkpoint as llama.cpp's mmproj GGUF: bound,
 * planned and named before anything is written (prepare), then written. */
struct convert_mmproj {
	struct vs_model vm;
	struct wp_plan plan;
	struct wp_meta md;
	struct gguf_set set;
	const char *out;               /* --mmproj FILE, templates filled in */
	char *out_owned;
};
int convert_mmproj_prepare(struct convert_mmproj *mm, const struct convert_ctx *c,
			   const struct qk_input *in, qk_err *err);
/* Warnings about the mmproj (Qwen2.5-VL window size, Q8_0 fallbacks). */
void convert_mmproj_warnings(const struct convert_mmproj *mm);
int convert_mmproj_write(struct convert_mmproj *mm, const struct convert_ctx *c, qk_err *err);
void convert_mmproj_free(struct convert_mmproj *mm);

/* ---- printing (convert_print.c) ---- */

/* The GGUF plan as --dry-run shows it: the key/values (tokenizer keys in
 * summary), then one line per tensor (name, type, ggml ne, bytes, why this
 * type, the source and its transform), then the totals. */
void convert_print_plan(FILE *f, const struct wp_plan *p, const struct wp_meta *md,
			const struct tk_vocab *v, const char *out);
/* The same as one JSON object on stdout (--dry-run --json): path, output,
 * architecture, outtype, file_type, file_type_id, kv (key -> value),
 * tokenizer (summary), tensors (name, type, ne, bytes, bpw, from, why,
 * source, transform), splits (path, n_tensors, bytes) for a split set, and
 * the totals n_tensors, n_params, n_weights, bytes, bpw. */
int convert_plan_json(const struct wp_plan *p, const struct wp_meta *md, const struct tk_vocab *v,
		      const struct gguf_set *set, qk_err *err);
/* The same object, not printed (NULL when out of memory): the caller adds
 * to it (the "mmproj" member) and prints it with cli_emit_json. */
struct cJSON *convert_plan_json_obj(const struct wp_plan *p, const struct wp_meta *md,
				    const struct tk_vocab *v, const struct gguf_set *set);
/* The safetensors export plan: the files (shards with their tensor counts and
 * bytes, the index, config.json, the tokenizer files), one line per tensor
 * (HF name, dtype, shape, bytes, shard, source and the transform undone),
 * the totals and the config.json text. */
void convert_print_export(FILE *f, const struct hx_plan *p, const char *out, int outtype,
			  bool tokenizer, const char *config_json);

/* The same as one JSON object (--dry-run --json): path, output,
 * architecture, outtype, files (shards: name, n_tensors, bytes; then the
 * other file names), tensors (name, dtype, shape, bytes, shard, source),
 * n_tensors, n_params, bytes, config (the config.json object). */
int convert_export_json(const struct hx_plan *p, const char *out, int outtype, bool tokenizer,
			const char *config_json, qk_err *err);

#endif
