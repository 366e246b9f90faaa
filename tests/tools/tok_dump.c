/* tok_dump.c - test-only: encode a file with formats/tokenizer/tk_encode.h
 * and print the ids (for the differential checks in testdata/gen and the
 * tokenizer benchmark).
 *
 *   tok_dump [--no-special] [--time N] [--lines | --nul] [--json-regex RE]
 *            (--dir DIR [--qwen1] | --gguf FILE) TEXTFILE
 *
 * Prints the ids separated by spaces, one line for the whole file; with
 * --lines, one line of ids per input line (each line encoded alone, its
 * "\n" not included); with --nul the same for records ended by NUL bytes.
 * --json-regex RE: open DIR/tokenizer.json with its Split regex replaced by
 * RE (JSON-escaped text), through tk_enc_open_json. --time N encodes the file N times and prints
 * "bytes seconds ids" instead. Exit status: 0, 1 when decode(encode(x)) != x
 * for valid UTF-8 and an encoder without NFC (the first such record ends
 * the run), 2 usage, else qk_err_exit_code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../formats/base/io.h"
#include "../../formats/container/gguf.h"
#include "../../formats/model/hparams.h"
#include "../../formats/tokenizer/tk_encode.h"

static int usage(void)
{
	fprintf(stderr, "usage: tok_dump [--no-special] [--time N] [--lines] "
			"(--dir DIR [--qwen1] | --gguf FILE) TEXTFILE\n");
	return 2;
}

static int print_ids(const struct tk_enc *e, const char *t, size_t n, unsigned flags)
{
	struct tk_ids ids = { 0 };
	qk_err err = { 0 };
	char *back = NULL;
	size_t blen = 0;
	int rc = tk_encode(e, t, n, flags, &ids, &err);

	if (!rc)
		rc = tk_decode(e, ids.id, ids.n, &back, &blen, &err);
	if (rc) {
		fprintf(stderr, "tok_dump: %s\n", err.msg);
		tk_ids_free(&ids);
		return qk_err_exit_code(rc);
	}
	for (size_t i = 0; i < ids.n; i++)
		printf(i ? " %d" : "%d", ids.id[i]);
	printf("\n");
	if (qk_utf8_valid(t, n) && !tk_enc_nfc(e) && (blen != n || memcmp(back, t, n) != 0)) {
		fprintf(stderr, "tok_dump: decode(encode(x)) != x\n");
		rc = 1;
	}
	free(back);
	tk_ids_free(&ids);
	return rc;
}

/* DIR/tokenizer.json with the "Regex" of its Split replaced */
static int open_json_regex(struct tk_enc **e, const char *dir, const char *regex, qk_err *err)
{
	char path[4096], *json = NULL, *at, *end, *edited;
	size_t len = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/tokenizer.json", dir);
	if ((rc = qk_read_file(path, (size_t)1 << 30, &json, &len, err)))
		return rc;
	at = strstr(json, "\"Regex\"");
	at = at ? strchr(at + 7, '"') : NULL;
	end = at ? at + 1 : NULL;
	while (end && *end && *end != '"')
		end += *end == '\\' ? 2 : 1;
	if (!end || !*end) {
		free(json);
		return qk_err_set(err, QK_E_INVALID, "%s: no Split regex", path);
	}
	edited = malloc(len + strlen(regex) + 1);
	if (!edited) {
		free(json);
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	}
	memcpy(edited, json, (size_t)(at + 1 - json));
	strcpy(edited + (at + 1 - json), regex);
	strcat(edited, end);
	rc = tk_enc_open_json(e, edited, strlen(edited), path, err);
	free(edited);
	free(json);
	return rc;
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *gguf = NULL, *file = NULL;
	unsigned flags = TK_ENC_PARSE_SPECIAL;
	int qwen1 = 0, rc;
	char sep = 0;
	const char *regex = NULL;
	long times = 0;
	struct tk_enc *e = NULL;
	struct gf_file *gf = NULL;
	qk_err err = { 0 };
	char *text = NULL;
	size_t len = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-special") == 0)
			flags &= ~(unsigned)TK_ENC_PARSE_SPECIAL;
		else if (strcmp(argv[i], "--qwen1") == 0)
			qwen1 = 1;
		else if (strcmp(argv[i], "--lines") == 0)
			sep = '\n';
		else if (strcmp(argv[i], "--nul") == 0)
			sep = 1; /* NUL: 1 marks it, 0 is "whole file" */
		else if (strcmp(argv[i], "--json-regex") == 0 && i + 1 < argc)
			regex = argv[++i];
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--gguf") == 0 && i + 1 < argc)
			gguf = argv[++i];
		else if (strcmp(argv[i], "--time") == 0 && i + 1 < argc)
			times = strtol(argv[++i], NULL, 10);
		else if (!file && argv[i][0] != '-')
			file = argv[i];
		else
			return usage();
	}
	if (!file || !!dir == !!gguf)
		return usage();
	if (gguf)
		rc = gf_open(&gf, gguf, &err);
	else
		rc = 0;
	if (!rc && regex)
		rc = open_json_regex(&e, dir, regex, &err);
	else if (!rc)
		rc = gf ? tk_enc_open_gguf(&e, gf, &err)
			: tk_enc_open_hf(&e, dir, qwen1 ? QK_ARCH_QWEN : QK_ARCH_QWEN3, 0, NULL, &err);
	if (!rc)
		rc = qk_read_file(file, (size_t)1 << 30, &text, &len, &err);
	if (rc) {
		fprintf(stderr, "tok_dump: %s\n", err.msg);
		goto out;
	}
	if (times > 0) {
		struct timespec t0, t1;
		struct tk_ids ids = { 0 };
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (long k = 0; k < times && !rc; k++) {
			ids.n = 0;
			rc = tk_encode(e, text, len, flags, &ids, &err);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("%zu %.6f %zu\n", len * (size_t)times,
		       (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
		       ids.n);
		tk_ids_free(&ids);
		goto out;
	}
	if (!sep) {
		rc = print_ids(e, text, len, flags);
	} else {
		size_t i = 0;
		while (i < len && !rc) {
			const char *nl = memchr(text + i, sep == 1 ? '\0' : sep, len - i);
			size_t l = nl ? (size_t)(nl - (text + i)) : len - i;
			rc = print_ids(e, text + i, l, flags);
			i += l + 1;
		}
	}
out:
	free(text);
	tk_enc_close(e);
	gf_close(gf);
	return rc > 0 && rc != 1 ? qk_err_exit_code(rc) : rc;
}
