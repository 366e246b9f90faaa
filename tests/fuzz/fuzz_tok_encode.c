/* fuzz_tok_encode.c - libFuzzer target: text to ids (tk_encode.h).
 *
 * The first byte picks the encoder and the flags: bit 0 special-token
 * parsing, bits 1-2 the encoder: the small fixtures' tokenizer.json (NFC),
 * Qwen1's qwen.tiktoken (whole-text NFC, tiktoken ranks), the same BPE from
 * its vocab-only GGUF (no NFC), or the fixtures' tokenizer.json with the
 * Qwen3.5 regex. The rest is the text, any bytes.
 *
 * Every input must encode (QK_OK), give ids inside the vocabulary, decode,
 * and, for the GGUF encoder (no normalizer) and valid UTF-8, decode back to
 * exactly the text; never a crash, a leak or undefined behaviour (built
 * with ASan/UBSan). Run from the repository root (the encoders are read
 * from testdata/). Seeds: tests/fuzz/corpus/tok_encode/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/io.h"
#include "../../formats/container/gguf.h"
#include "../../formats/model/hparams.h"
#include "../../formats/tokenizer/tk_encode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tk_enc *enc[4];
static struct gf_file *gguf;

static void open_all(void)
{
	static const char from[] = "\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{N}]+";
	static const char to[] =
		"\\\\p{L}\\\\p{N}]?[\\\\p{L}\\\\p{M}]+|\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{M}\\\\p{N}]+";
	qk_err err = { 0 };
	char *json = NULL, *hit, *edited;
	size_t len = 0;

	if (tk_enc_open_hf(&enc[0], "testdata/models/qwen3", QK_ARCH_QWEN3, 0, NULL, &err) ||
	    tk_enc_open_hf(&enc[1], "testdata/models/qwen1", QK_ARCH_QWEN, 0, NULL, &err) ||
	    gf_open(&gguf, "testdata/tokenizer/qwen3.gguf", &err) ||
	    tk_enc_open_gguf(&enc[2], gguf, &err) ||
	    qk_read_file("testdata/models/qwen3/tokenizer.json", 64u << 20, &json, &len, &err))
		abort();
	hit = strstr(json, from);
	edited = malloc(len + sizeof(to));
	if (!hit || !edited)
		abort();
	memcpy(edited, json, (size_t)(hit - json));
	memcpy(edited + (hit - json), to, sizeof(to) - 1);
	strcpy(edited + (hit - json) + sizeof(to) - 1, hit + sizeof(from) - 1);
	if (tk_enc_open_json(&enc[3], edited, strlen(edited), "qwen35", &err))
		abort();
	free(edited);
	free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct tk_enc *e;
	struct tk_ids ids = { 0 };
	qk_err err = { 0 };
	char *back = NULL;
	size_t blen = 0, n_tokens;
	unsigned sel;

	if (!enc[0])
		open_all();
	if (size < 1)
		return 0;
	sel = data[0];
	e = enc[(sel >> 1) & 3];
	n_tokens = tk_enc_vocab(e)->n_tokens;
	data++;
	size--;
	if (tk_encode(e, (const char *)data, size, sel & 1 ? TK_ENC_PARSE_SPECIAL : 0, &ids, &err))
		__builtin_trap();
	for (size_t i = 0; i < ids.n; i++)
		if (ids.id[i] < 0 || (size_t)ids.id[i] >= n_tokens)
			__builtin_trap();
	if (size && !ids.n)
		__builtin_trap();
	if (tk_decode(e, ids.id, ids.n, &back, &blen, &err))
		__builtin_trap();
	if (e == enc[2] && qk_utf8_valid((const char *)data, size) &&
	    (blen != size || memcmp(back, data, size) != 0))
		__builtin_trap();
	free(back);
	tk_ids_free(&ids);
	return 0;
}
