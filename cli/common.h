/* common.h - what every tool's main shares: error reporting and exit codes.
 *
 * Only cli/ prints or exits. A tool reports a library error as
 * "<tool>: error: <message>" on stderr and exits with qk_err_exit_code(code):
 * 0 ok, 1 outside thresholds, 2 usage, 3 invalid/unsupported input, 4 I/O.
 */
#ifndef CLI_COMMON_H
#define CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "../formats/base/err.h"

enum { EXIT_OK = 0, EXIT_THRESHOLD = 1, EXIT_USAGE = 2, EXIT_INPUT = 3, EXIT_IO = 4 };

/* The running tool's name, for messages; set by main. */
extern const char *cli_prog;

/* Print "<prog>: error: <msg>" and return the exit code for err->code. A
 * refusal of non-finite weights gets the option that allows them added. */
int cli_fail(const qk_err *err);
/* Print "<prog>: error: <fmt>" plus "try '<prog> --help'" and return 2. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "<prog>: warning: <fmt>". */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --allow-nonfinite, the same in every tool (model.h: the policy) */
#define CLI_ALLOW_NONFINITE_HELP \
	"accept NaN/Inf weights (to inspect a broken model; refused by default)"

/* Tools that write call this first: notes of the output layer (a stale
 * temporary of a killed run removed) go to stderr as "<prog>: note: ...". */
void cli_outputs_init(void);

/* Parse an unsigned decimal integer in [min, max] (strtoull with end pointer
 * and errno); false with a usage message naming `opt` on failure. */
bool cli_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Refuse as outputs (outfile.h's qk_out_forbid) every file a tool reads
 * from its input: `path` as the user named it, every file of the catalog
 * (shards, members of a split set), and the side files of its directory
 * (config.json, generation_config.json, the shard index, tokenizer files,
 * chat template, README.md): the one list of them, used by every tool that
 * writes. QK_E_NOMEM. */
struct qk_catalog;
int cli_forbid_inputs(const char *path, const struct qk_catalog *cat, qk_err *err);

/* Print a cJSON document to stdout (indented) and free it; QK_E_NOMEM when
 * it cannot be built or printed (root NULL). */
int cli_emit_json(cJSON *root, qk_err *err);

/* Progress bar on stderr (callers draw it only on a terminal), redrawn only
 * when the shown percentage changes; cli_progress_end finishes its line.
 * ctx of cli_progress: a struct cli_progress, initialised { label, -1 }. */
struct cli_progress {
	const char *label;         /* "quantizing", or NULL */
	int last;                  /* last percentage drawn, -1 none */
};
void cli_progress(void *ctx, uint64_t done, uint64_t total);
void cli_progress_end(struct cli_progress *pr);

struct qk_model;
/* Warn (never hidden by -q) about what makes a GGUF of m unloadable by
 * llama.cpp: a dense layer in a MoE architecture, Gated DeltaNet key and
 * value heads of different widths (loadable.c). */
void cli_warn_unloadable(const struct qk_model *m);

/* The candidate closest to word[0..len) (case, '-' and '_' ignored; one
 * edit for words of up to 5 letters, up to three for long ones), or NULL if none is
 * close: for "did you mean" hints. */
const char *cli_suggest(const char *word, size_t len, const char *const *cands, size_t n);

/* Default output names and -o templates (outname.c). The name parts are
 * the general.* strings a GGUF carries (or a write plan's key/values will
 * write); NULL where absent. */
enum { CLI_NAME_NAME, CLI_NAME_BASENAME, CLI_NAME_SIZE, CLI_NAME_FINETUNE, CLI_NAME_VERSION,
       CLI_NAME_N };
struct wp_meta;
struct gf_file;
struct qk_catalog;
void cli_name_parts_meta(const struct wp_meta *md, const char *parts[CLI_NAME_N]);
void cli_name_parts_gguf(const struct gf_file *f, const char *parts[CLI_NAME_N]);
/* "<dir>/<Basename>-<size>-<finetune>-<version>-<TYPE>.gguf", llama.cpp's
 * naming convention (malloc'd; NULL when out of memory). */
char *cli_default_output(const char *dir, const char *const parts[CLI_NAME_N],
			 const char *type);
/* out with {ftype}/{outtype} (type in lower case) and {FTYPE}/{OUTTYPE}
 * (upper case) filled in (malloc'd; NULL when out of memory). */
char *cli_fill_template(const char *out, const char *type);
/* The output a writer uses: out as given (*owned NULL) unless it is NULL
 * (the default name, beside the input: in its model directory, or in the
 * directory of an input file), an existing directory (the default name in
 * it) or holds a template (filled in); then *owned is the malloc'd name, for
 * the caller to use and free. */
int cli_output_name(const char *out, const struct qk_catalog *cat,
		    const char *const parts[CLI_NAME_N], const char *type, char **owned,
		    qk_err *err);

/* What a model file is made of (filetype.c). */
struct qk_catalog;
/* general.file_type of a GGUF input: its value, or -1 when absent (and for
 * safetensors inputs). */
int64_t cli_file_type(const struct qk_catalog *cat);
/* "Q4_K_M" for a llama_ftype value, or NULL for one this build has no name for */
const char *cli_file_type_name(int64_t ft);
/* tensor data bytes and elements of every tensor of cat */
void cli_catalog_size(const struct qk_catalog *cat, uint64_t *bytes, uint64_t *n_elem);
/* Add "file_type_id", "file_type" (GGUF only; null when unnamed),
 * "n_weights", "bytes" and "bpw" (tensor data, as qwen-quant plan counts
 * them) to o. */
void cli_json_file_size(cJSON *o, const struct qk_catalog *cat);
/* Shapes, one notation in every tool: a GGUF tensor's ggml dimensions ne
 * (fastest first, as llama.cpp prints them) are written "{256, 512}" under the
 * name "ne"; a row-major shape (safetensors, torch; slowest first) is written
 * "[512, 256]" under the name "shape". */
void cli_ne_str(const int64_t *ne, int n_dims, char *buf, size_t size);
cJSON *cli_ne_json(const int64_t *ne, int n_dims);

#define QK_VERSION "0.1.0"
/* "<tool> (qwenkit) 0.1.0, commit <hash>[+dirty]" on stdout (--version). */
void cli_print_version(const char *tool);

/* Threads when -t is not given: the online cores (1..256). Every tool's
 * output is the same for any thread count. */
unsigned cli_default_threads(void);

/* The "not yet implemented" stub main for tools whose issue has not landed. */
int cli_not_implemented(const char *tool, int argc, char **argv);

#endif
