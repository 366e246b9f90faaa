/* fuzz_tokenizer.c - libFuzzer target: tokenizer.json text from memory
 * (tk_parse_tokenizer_json); an input that starts with "#tiktoken\n" is
 * qwen.tiktoken text instead (tk_parse_tiktoken).
 *
 * Any input must give either QK_OK with a vocabulary that keeps the
 * invariants tokenizer.h promises, or an error with a message and a zeroed
 * vocabulary; never a crash, a leak or undefined behaviour (built with
 * ASan/UBSan).
 * Seeds: tests/fuzz/corpus/tokenizer/ (written by
 * `QK_WRITE_CORPUS=DIR build/tests/test_tok_rules`, plus the small fixtures'
 * tokenizer.json and a qwen.tiktoken).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../formats/model/hparams.h"
#include "../../formats/base/io.h"
#include "../../formats/tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct tk_vocab *v)
{
	if (v->n_tokens == 0 || v->n_tokens > TK_MAX_VOCAB || !v->tokens || !v->types ||
	    !v->pre || !v->model || (v->n_merges && !v->merges))
		__builtin_trap();
	for (uint32_t i = 0; i < v->n_tokens; i++) {
		const char *t = v->tokens[i];
		if (!t || !t[0] || !qk_utf8_valid(t, strlen(t)) || v->types[i] < TK_NORMAL ||
		    v->types[i] > TK_BYTE)
			__builtin_trap();
	}
	for (uint32_t i = 0; i < v->n_merges; i++) {
		const char *m = v->merges[i], *sp = m ? strchr(m, ' ') : NULL;
		if (!sp || sp == m || !sp[1])
			__builtin_trap();
	}
	if (v->bos >= (int64_t)v->n_tokens || v->eos >= (int64_t)v->n_tokens ||
	    v->unk >= (int64_t)v->n_tokens || v->pad >= (int64_t)v->n_tokens)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char tag[] = "#tiktoken\n";
	struct tk_vocab v;
	qk_err err;
	int rc;

	qk_err_clear(&err);
	if (size >= sizeof(tag) - 1 && memcmp(data, tag, sizeof(tag) - 1) == 0)
		rc = tk_parse_tiktoken(&v, (const char *)data + sizeof(tag) - 1,
				       size - (sizeof(tag) - 1), "qwen.tiktoken", 0, &err);
	else
		rc = tk_parse_tokenizer_json(&v, (const char *)data, size, "tokenizer.json",
					     QK_ARCH_QWEN2, 0, &err);
	if (rc == QK_OK)
		check(&v);
	else if (err.msg[0] == '\0' || err.code == QK_OK || v.tokens || v.n_tokens)
		__builtin_trap();
	tk_free(&v);
	return 0;
}
