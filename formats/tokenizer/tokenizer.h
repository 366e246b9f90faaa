/* tokenizer.h - Qwen tokenizers: HF tokenizer files and Qwen1's qwen.tiktoken
 * to the GGUF vocabulary llama.cpp expects, GGUF back to a vocabulary, and a
 * vocabulary back to HF tokenizer files.
 *
 * Facts: checked against llama.cpp's
 * converter (conversion/base.py get_vocab_base, _set_vocab_qwen,
 * does_token_look_special; conversion/qwen.py QwenModel.bpe) and gguf-py
 * vocab.py SpecialVocab as vendored in llama-cpp-python 0.3.36, and against
 * HF tokenizers 0.23 (how it assigns added-token ids).
 *
 * The vocabulary (what goes into tokenizer.ggml.*):
 *  - tokens: id -> text, exactly vocab_size of them (config.json), UTF-8.
 *    Ids no token has become "[PAD<id>]" of type UNUSED, as llama.cpp fills
 *    them; a tokenizer with an id >= vocab_size is an error naming both.
 *  - types (llama.cpp's rule): a tokenizer.json added token is CONTROL if its
 *    `special` flag is set or its text looks special ("<|...|>", "<｜...｜>",
 *    "<unused...>", "<pad>", "<mask>", "<2mass>", "[@BOS@]"), else
 *    USER_DEFINED (Qwen3's <think>, <tool_call>), with U+2581 replaced by a
 *    space as llama.cpp does for those; model.vocab tokens are NORMAL.
 *    Qwen1: ranks NORMAL, the remote tokenizer's specials CONTROL.
 *  - merges "left right" in rank order. tokenizer.json's list form
 *    [["a","b"], ...] is joined with one space after writing a literal space
 *    inside a part as U+0120, as gguf-py does (such a merge no longer names
 *    its HF tokens; no Qwen tokenizer has one).
 *  - special ids, gguf-py's SpecialVocab rules, first value wins:
 *    tokenizer_config.json bos/eos/unk/sep/pad/mask_token (a string or an
 *    object with "content"), looked up in tokenizer.json added_tokens only
 *    (bos falls back to cls_token, eos to sep_token); then config.json
 *    bos/eos/pad_token_id (through qk_hparams; a config id >= vocab_size is
 *    an error, llama.cpp would write it; an eos_token_id list gives its
 *    first id, where llama.cpp takes only integers; config.json's
 *    unk/sep/mask ids are not read). Qwen1 (qwen.tiktoken): when none was
 *    found, bos = eos = <|endoftext|>; unk is <|endoftext|> unless set.
 *  - add_bos/add_eos: false when tokenizer.json's post_processor is ByteLevel
 *    (newer gguf-py; gguf 0.19.0 on PyPI does not do this), else the bool
 *    add_bos_token/add_eos_token/add_sep_token of tokenizer_config.json;
 *    -1 when neither says (then no key is written).
 *  - chat template: tokenizer_config.json "chat_template" when the key is
 *    present (null: none), else chat_template.jinja, else
 *    chat_template.json's "chat_template"; nothing without a
 *    tokenizer_config.json (gguf-py's order). A list of named templates is
 *    QK_E_UNSUPPORTED; additional_chat_templates/ is not read.
 *  - pre: chosen by architecture ("qwen2" for all six), not by hashing; the
 *    Split regex of tokenizer.json must be one this pre stands for (the HF
 *    Qwen2 regex with (?i:'s|...), or llama.cpp's spelled-out form), else
 *    QK_E_UNSUPPORTED naming the regex.
 *
 * tokenizer.json rules (QK_E_INVALID unless noted; messages name the file
 * and the JSON path, e.g. "DIR/tokenizer.json: model.merges[12]: ..."):
 *  - JSON by the rules of base/json.h (UTF-8, no NUL or \u0000, at most
 *    QK_JSON_MAX_BYTES, no key twice in one object);
 *  - model.type "BPE"; dropout, byte_fallback, ignore_merges,
 *    continuing_subword_prefix, end_of_word_suffix at their Qwen values
 *    (else QK_E_UNSUPPORTED: the GGUF would tokenize differently);
 *  - model.vocab: an object of non-empty token -> integer id, the ids exactly
 *    0..N-1 (a hole would make tokenizers give added tokens other ids);
 *  - model.merges: non-empty, all strings "a b" (one space) or all pairs of
 *    strings; a, b and a+b in model.vocab (tokenizers refuses others); no
 *    pair twice (tokenizers keeps the last rank, llama.cpp the first);
 *  - added_tokens: objects with integer id, non-empty string content,
 *    optional bool special/normalized; no content twice; each id must be the
 *    one tokenizers assigns (its model.vocab id, else the next id after
 *    model.vocab and the added tokens before it);
 *  - pre_tokenizer Sequence[Split{Regex, Isolated, invert false},
 *    ByteLevel{add_prefix_space false, use_regex false}]; normalizer null or
 *    NFC; post_processor null or ByteLevel (alone or in a Sequence): others
 *    QK_E_UNSUPPORTED. The decoder is not checked (llama.cpp ignores it).
 *  - tokenizer.json is read alone: added tokens that only
 *    tokenizer_config.json declares are not added (transformers would).
 *
 * qwen.tiktoken rules (Qwen1; "DIR/qwen.tiktoken: line N: ..."):
 *  - lines "base64 rank" (empty lines skipped, \r\n accepted); standard
 *    padded base64 of 1..TK_TIKTOKEN_MAX_TOKEN bytes; ranks decimal, exactly
 *    0..n-1 in any order; token bytes unique;
 *  - token text: the bytes through GPT-2's bytes_to_unicode;
 *  - merges rebuilt as llama.cpp does: for each token of >= 2 bytes in rank
 *    order, byte-level BPE over its bytes using only tokens of lower rank
 *    (leftmost lowest-rank pair first); it must end in exactly two parts,
 *    both tokens, else an error naming the token;
 *  - specials <|endoftext|>, <|im_start|>, <|im_end|>, <|extra_0|> ..
 *    <|extra_204|> take ids n, n+1, ... (n = number of ranks; real Qwen1's
 *    remote code fixes 151643, which equals its n); those >= vocab_size are
 *    dropped, as llama.cpp does; ranks >= vocab_size are an error.
 *
 * tk_from_gguf rules: tokenizer.ggml.model "gpt2" and a known pre
 * (QK_E_UNSUPPORTED otherwise); tokens a string array of 1..TK_MAX_VOCAB
 * non-empty UTF-8 strings without NUL; token_type an INT32 array of the same
 * length with values 1..6; merges a string array, each "a b" with both
 * parts tokens; special ids UINT32 below the token count; add_* BOOL;
 * chat_template a UTF-8 string. Errors name the GGUF file and the key.
 *
 * Ownership: a tk_vocab owns every string and array in it except `pre` and
 * `model` (static strings); tk_free releases them and zeroes the struct. On
 * error every function leaves *v zeroed (tk_free on it is harmless).
 */
#ifndef QK_TOKENIZER_H
#define QK_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

#define TK_MAX_VOCAB (1u << 22)           /* tokens incl. padding; Qwen has 152k */
#define TK_SMALL_MAX_BYTES (64u << 20)    /* chat_template.jinja (JSON files: json.h) */
#define TK_TIKTOKEN_MAX_BYTES (256u << 20) /* qwen.tiktoken (Qwen1: 2.5 MB) */
#define TK_TIKTOKEN_MAX_TOKEN 1024u       /* bytes in one tiktoken token (Qwen1: 128) */

/* llama.cpp's token types (gguf-py TokenType), stored as INT32 */
enum tk_type {
	TK_NORMAL = 1,
	TK_UNKNOWN = 2,
	TK_CONTROL = 3,
	TK_USER_DEFINED = 4,
	TK_UNUSED = 5,
	TK_BYTE = 6,
};

struct tk_vocab {
	uint32_t n_tokens;        /* = vocab_size, padding included */
	char **tokens;            /* [n_tokens] NUL-terminated UTF-8 */
	int32_t *types;           /* [n_tokens] enum tk_type */
	uint32_t n_merges;
	char **merges;            /* [n_merges] "left right", rank order */
	int64_t bos, eos, unk, sep, pad, mask; /* token ids, -1 = absent */
	int add_bos, add_eos, add_sep;         /* 0/1, -1 = absent */
	uint8_t id_group[6];      /* where bos, eos, unk, sep, pad, mask came from:
				   * 0 tokenizer files, 1 config.json, 2 a default;
				   * tk_add_to_gguf writes the ids group by group in
				   * that order, as llama.cpp's SpecialVocab does */
	char *chat_template;      /* NULL = none */
	uint64_t model_max_length; /* tokenizer_config.json; 0 = unknown (not in GGUF) */
	const char *pre;          /* static: "qwen2" */
	const char *model;        /* static: "gpt2" */
};

/* Load the tokenizer of the HF model directory `dir` for architecture `arch`
 * (enum qk_arch): dir/tokenizer.json, or for QK_ARCH_QWEN without one
 * dir/qwen.tiktoken; plus tokenizer_config.json, chat_template.jinja/.json
 * and the config.json ids in `hp` (may be NULL: none). `vocab_size` is
 * config.json's (0: the tokenizer's own size). Errors: QK_E_INVALID,
 * QK_E_UNSUPPORTED (exit 3), QK_E_IO, QK_E_NOMEM. */
struct qk_hparams;
int tk_load_hf(struct tk_vocab *v, const char *dir, int arch, uint32_t vocab_size,
	       const struct qk_hparams *hp, qk_err *err);

/* The tokenizer.json part of tk_load_hf on text in memory (len bytes, need
 * not be NUL-terminated; `fname` for messages): tokens, types, merges, pre;
 * no special ids, flags or template. For tests and fuzzing. */
int tk_parse_tokenizer_json(struct tk_vocab *v, const char *json, size_t len,
			    const char *fname, int arch, uint32_t vocab_size, qk_err *err);
/* The qwen.tiktoken part likewise, with Qwen1's special tokens. */
int tk_parse_tiktoken(struct tk_vocab *v, const char *text, size_t len, const char *fname,
		      uint32_t vocab_size, qk_err *err);

/* Release everything; accepts NULL and a zeroed struct. */
void tk_free(struct tk_vocab *v);

/* Read tokenizer.ggml.* and tokenizer.chat_template back from a GGUF file. */
struct gf_file;
int tk_from_gguf(struct tk_vocab *v, const struct gf_file *f, qk_err *err);

/* Add llama.cpp's tokenizer keys to a GGUF being written, in
 * _set_vocab_gpt2's order: tokenizer.ggml.model, .pre, .tokens (string
 * array), .token_type (INT32 array), .merges (string array), the ids that
 * are set as UINT32 (bos_token_id, eos_token_id, unknown_token_id,
 * seperator_token_id (sic), padding_token_id, mask_token_id), the add_*
 * flags that are set as BOOL (add_bos_token, add_eos_token, add_sep_token),
 * then tokenizer.chat_template when non-empty. llama.cpp writes the ids in
 * the order it found them; the keys, values and types are the same. */
struct gf_writer;
int tk_add_to_gguf(const struct tk_vocab *v, struct gf_writer *w, qk_err *err);

/* Write dir/tokenizer.json and dir/tokenizer_config.json (each atomically,
 * outfile.h) for a vocabulary, as a Qwen2Tokenizer:
 *  - tokenizer.json: BPE (merges in the list form, split at the first
 *    space), NFC normalizer, the Split regex of v->pre + ByteLevel
 *    pre-tokenizer, ByteLevel post-processor and decoder; added_tokens are
 *    the CONTROL (special: true) and USER_DEFINED (special: false) tokens;
 *    model.vocab holds every other token below the first id from which
 *    only added tokens follow (an added token below it is in both, which
 *    gives it its id in tokenizers);
 *  - "[PAD<id>]" UNUSED fillers are not written (they are not tokens): they
 *    must all come after the last real token, else QK_E_UNSUPPORTED (a hole
 *    would shift the ids tokenizers assigns);
 *  - every merge's parts and their concatenation must be model.vocab
 *    tokens (QK_E_UNSUPPORTED naming the merge);
 *  - tokens are written as the vocabulary holds them: a USER_DEFINED token
 *    whose U+2581 llama.cpp turned into a space stays a space;
 *  - tokenizer_config.json: add_bos_token (v->add_bos == 1), bos/eos/unk/
 *    sep/pad/mask_token as strings (null when absent), chat_template when
 *    set, model_max_length when known, added_tokens_decoder,
 *    tokenizer_class "Qwen2Tokenizer".
 * `dir` must exist. */
int tk_write_hf(const struct tk_vocab *v, const char *dir, qk_err *err);

/* "NORMAL", "CONTROL", ...; "?" if out of range. */
const char *tk_type_name(int type);

#endif
