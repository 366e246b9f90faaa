/* inspect_tokenize.c - qwen-inspect --tokenize: a text through the model's
 * own tokenizer (formats/tokenizer/tk_encode.h), each token's id beside its
 * text. Options: man/qwen-inspect.1. */
#include "inspect.h"

#include <stdlib.h>
#include <string.h>

#include "../formats/base/io.h"
#include "../formats/tokenizer/tk_encode.h"

/* a token's bytes as a double-quoted string: \n \r \t \\ \" escaped, other
 * control bytes and bytes that are not whole UTF-8 characters as \xNN */
static void put_quoted(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t l = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;

		if (c == '\n' || c == '\r' || c == '\t' || c == '\\' || c == '"') {
			fputc('\\', f);
			fputc(c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : (int)c, f);
			i++;
		} else if (c < 0x20 || c == 0x7f || l == 0 || i + l > n ||
			   !qk_utf8_valid(s + i, l)) {
			fprintf(f, "\\x%02x", c);
			i++;
		} else {
			fwrite(s + i, 1, l, f);
			i += l;
		}
	}
	fputc('"', f);
}

int inspect_tokenize(const struct qk_input *in, const char *text, bool parse_special, bool json,
		     qk_err *err)
{
	struct tk_enc *e = NULL;
	struct tk_ids ids = { 0 };
	cJSON *root = NULL, *arr;
	int rc;

	bool gguf = in->cat.gguf && in->cat.n_files && in->cat.gguf[0];

	if (!in->bound && !gguf)
		return qk_err_set(err, QK_E_UNSUPPORTED, "%s: --tokenize needs a Qwen model "
				  "with its tokenizer", in->cat.path);
	if ((rc = gguf ? tk_enc_open_gguf(&e, in->cat.gguf[0], err) : tk_enc_open_input(&e, in, err)) ||
	    (rc = tk_encode(e, text, strlen(text), parse_special ? TK_ENC_PARSE_SPECIAL : 0, &ids,
			    err)))
		goto out;
	if (!json) {
		printf("tokens: %zu (%s%s)\n", ids.n, tk_enc_nfc(e) ? "NFC, " : "",
		       parse_special ? "special tokens parsed" : "special tokens as text");
		for (size_t i = 0; i < ids.n; i++) {
			size_t len;
			const char *b = tk_enc_token_bytes(e, ids.id[i], &len);
			printf("%zu\t%d\t", i, ids.id[i]);
			put_quoted(stdout, b, len);
			putchar('\n');
		}
		goto out;
	}
	root = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(root, "tokens");
	if (!root || !arr || !cJSON_AddNumberToObject(root, "n_tokens", (double)ids.n)) {
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ids.n; i++) {
		size_t len;
		const char *b = tk_enc_token_bytes(e, ids.id[i], &len);
		cJSON *t = cJSON_CreateObject();
		char *s = malloc(len + 1);
		bool ok = t && s;
		if (ok) {
			memcpy(s, b, len);
			s[len] = '\0';
			cJSON_AddItemToArray(arr, t);
			ok = cJSON_AddNumberToObject(t, "id", ids.id[i]) &&
			     /* JSON strings are UTF-8: a token that cuts a character has
			      * no "text", only its "bytes" in hex */
			     (qk_utf8_valid(s, len) && !memchr(s, 0, len)
				      ? cJSON_AddStringToObject(t, "text", s) != NULL
				      : true);
			if (ok && !(qk_utf8_valid(s, len) && !memchr(s, 0, len))) {
				char *hex = malloc(2 * len + 1);
				ok = hex != NULL;
				for (size_t k = 0; ok && k < len; k++)
					snprintf(hex + 2 * k, 3, "%02x", (unsigned char)s[k]);
				ok = ok && cJSON_AddStringToObject(t, "bytes", hex);
				free(hex);
			}
		} else {
			cJSON_Delete(t);
		}
		free(s);
		if (!ok) {
			rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
			goto out;
		}
	}
	rc = cli_emit_json(root, err);
	root = NULL;
out:
	cJSON_Delete(root);
	tk_ids_free(&ids);
	tk_enc_close(e);
	return rc;
}
