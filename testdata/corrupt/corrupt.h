/* corrupt.h - the corrupt-input corpus: every case is made by code here, never
 * a hand-edited binary.
 *
 * Each case writes one broken input (a file, or a directory holding a model)
 * at `path`, and names the exit code and a message fragment the tool must
 * produce. The generator (gen.c) writes every case into an output directory
 * plus manifest.tsv ("name<TAB>path<TAB>exit<TAB>fragment<TAB>tool"), which
 * tests/cli/corrupt.sh runs through the real binary: qwen-inspect PATH, or
 * for the tables gen.c lists with a tool, TOOL PATH -o OUT.gguf.
 *
 * A case table lives in one file per area (st_cases.c, gguf_cases.c, ...); the
 * tables are listed in gen.c.
 */
#ifndef CORRUPT_H
#define CORRUPT_H

#include <stddef.h>
#include <stdint.h>

struct cc_case {
	const char *name;      /* unique, [a-z0-9_]; also the file name */
	const char *ext;       /* ".safetensors", ".gguf", "" for a directory */
	int exit_code;         /* expected exit status (3 for bad input) */
	const char *fragment;  /* must appear in stderr */
	int (*make)(const char *path); /* write the case; 0 on success */
	const char *why;       /* the rule or finding it covers */
};

struct cc_table {
	const struct cc_case *cases;
	size_t n;
};

/* growable byte buffer for building files */
struct cc_buf {
	uint8_t *p;
	size_t n, cap;
};
void cc_put(struct cc_buf *b, const void *data, size_t len);
void cc_u8(struct cc_buf *b, uint8_t v);
void cc_u32(struct cc_buf *b, uint32_t v);
void cc_u64(struct cc_buf *b, uint64_t v);
void cc_f32(struct cc_buf *b, float v);
void cc_str(struct cc_buf *b, const char *s);      /* GGUF string: u64 len + bytes */
void cc_zeros(struct cc_buf *b, size_t n);
void cc_free(struct cc_buf *b);

/* Write bytes to path (0 on success). */
int cc_write(const char *path, const void *data, size_t len);
/* Write a NUL-terminated text file. */
int cc_write_text(const char *path, const char *text);
/* Make directory `path` (0 on success, also when it exists). */
int cc_mkdir(const char *path);
/* A safetensors file from a header JSON (padded to 8 with spaces) and
 * `data_len` bytes of data (pattern-filled). */
int cc_write_st(const char *path, const char *header_json, size_t data_len);

/* the tables, one per area */
extern const struct cc_table cc_st_cases;
extern const struct cc_table cc_index_cases;
extern const struct cc_table cc_gguf_cases;
extern const struct cc_table cc_config_cases;
extern const struct cc_table cc_config_writer_cases;
extern const struct cc_table cc_model_cases;
extern const struct cc_table cc_tok_cases;
extern const struct cc_table cc_split_cases;
extern const struct cc_table cc_kb_cases;
extern const struct cc_table cc_im_cases;
extern const struct cc_table cc_pt_cases;

#endif
