/* tok_priv.h - shared internals of the tokenizer module (tokenizer.c,
 * tok_json.c, tok_tiktoken.c, tok_gguf.c, tok_write.c); not a public API.
 */
#ifndef QK_TOK_PRIV_H
#define QK_TOK_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../base/err.h"
#include "../base/hmap.h"
#include "../base/json.h"
#include "tokenizer.h"

/* ---- load state shared by the tokenizer.json and qwen.tiktoken readers ---- */
/* an added token's tokenizer.json flags */
enum {
	TK_ADDED_SPECIAL = 1,
	TK_ADDED_SINGLE_WORD = 2,
	TK_ADDED_LSTRIP = 4,
	TK_ADDED_RSTRIP = 8,
	TK_ADDED_NORMALIZED = 16,
};

struct tk_added {
	char *content;     /* as tokenizer.json gives it */
	int64_t id;
	uint8_t flags;     /* TK_ADDED_* */
};

struct tk_build {
	const char *fname;        /* the tokenizer file, for messages */
	qk_err *err;
	struct tk_vocab v;        /* the result being built */
	struct tk_added *added;   /* [n_added] tokenizer.json added_tokens */
	size_t n_added;
	bool json;                /* the vocabulary came from tokenizer.json */
	bool post_bytelevel;      /* tokenizer.json post_processor is ByteLevel */
	bool qwen1;               /* the vocabulary came from qwen.tiktoken */
	bool nfc;                 /* tokenizer.json's normalizer is NFC */
	int64_t endoftext;        /* Qwen1: id of <|endoftext|> (may be >= n_tokens) */
};

/* "<tokenizer file>: <message>" with `code` (err.h's one prefix helper) */
#define tk_fail(b, code, ...) qk_err_set_in((b)->err, (code), (b)->fname, __VA_ARGS__)

/* Fill b->v from tokenizer.json text / qwen.tiktoken text. On error b->v
 * may be half-built: the caller frees it with tk_build_free. */
int tk_json_build(struct tk_build *b, const char *json, size_t len, int arch,
		  uint32_t vocab_size);
int tk_tiktoken_build(struct tk_build *b, const char *text, size_t len, uint32_t vocab_size);
void tk_build_free(struct tk_build *b);
/* tk_load_hf, leaving the result in b->v and the added tokens and flags in
 * *b (the encoder needs them): on success the caller owns b->v and frees
 * the rest with tk_build_free; on error everything is freed. */
struct qk_hparams;
int tk_load_hf_build(struct tk_build *b, const char *dir, int arch, uint32_t vocab_size,
		     const struct qk_hparams *hp, qk_err *err);

/* ---- helpers ---- */

/* An empty vocabulary: ids -1, flags -1. */
void tk_vocab_init(struct tk_vocab *v);
/* tokens/types arrays for n tokens, tokens all NULL, types 0. */
int tk_vocab_alloc(struct tk_vocab *v, uint32_t n, const char *fname, qk_err *err);
/* Every id without a token becomes "[PAD<id>]", UNUSED. */
int tk_fill_padding(struct tk_vocab *v, const char *fname, qk_err *err);
/* Is `s` a "[PAD<id>]" filler for id `id`? */
bool tk_is_pad_filler(const char *s, uint32_t id);
/* llama.cpp's does_token_look_special. */
bool tk_looks_special(const char *s);

char *tk_strndup(const char *s, size_t n);

/* `s` (n bytes) for a message: at most ~60 bytes of it, control bytes as
 * \xNN, cut on a character boundary with "..." when longer. Returns buf. */
const char *tk_show(const char *s, size_t n, char *buf, size_t size);
#define TK_SHOW_MAX 256

/* pre-tokenizers we know: name, the HF regex tk_write_hf writes, and the
 * Split regexes a tokenizer.json may carry for it. */
struct tk_pre {
	const char *name;
	const char *hf_regex;
	const char *const *accepted; /* NULL-terminated */
};
/* The pre of an architecture (enum qk_arch), or NULL. */
const struct tk_pre *tk_pre_for_arch(int arch);
/* The pre called `name`, or NULL. */
const struct tk_pre *tk_pre_by_name(const char *name);
/* The pre one of whose accepted regexes is `regex`, or NULL. */
const struct tk_pre *tk_pre_by_regex(const char *regex);

/* The 256-entry GPT-2 bytes_to_unicode map: byte -> code point. */
uint32_t tk_byte_to_cp(uint8_t b);

#endif
