/* verify_input.c - what every qwen-verify subcommand needs: opening a model,
 * token sequences (--tokens, --tokens-file, the built-in default set), the
 * forward pass with a progress line, JSON output. See verify.h. */
#include "verify.h"
#include "common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../formats/container/gguf.h"
#include "../formats/base/io.h"
#include "../formats/base/outfile.h"
#include "../formats/tokenizer/tk_encode.h"

#define TOKENS_FILE_MAX (256u << 20) /* bytes of a --tokens-file */

int verify_open(struct verify_model *m, const char *path, const struct verify_opts *o,
		qk_err *err)
{
	int rc;

	memset(m, 0, sizeof(*m));
	m->path = path;
	if ((rc = qk_input_open(&m->in, path, err)))
		return rc;
	if ((rc = qk_model_check_values(&m->in.model, !o->allow_nonfinite, err))) {
		qk_err_prefix(err, "%s", path);
		verify_close(m);
	}
	return rc;
}

void verify_close(struct verify_model *m)
{
	tk_enc_close(m->enc);
	qk_input_close(&m->in);
	memset(m, 0, sizeof(*m));
}

void verify_describe(const struct verify_model *m, char *buf, size_t size)
{
	int64_t ft = cli_file_type(&m->in.cat);
	const char *ftn = cli_file_type_name(ft);
	uint64_t bytes, n;
	char type[48] = "";

	cli_catalog_size(&m->in.cat, &bytes, &n);
	if (ft >= 0)
		snprintf(type, sizeof(type), " %s", ftn ? ftn : "file type unknown to this build");
	snprintf(buf, size, "%s %s%s, %u layers, n_embd %u, n_vocab %u, %" PRIu64 " bytes, %.2f bpw",
		 qk_arch_gguf_name(m->in.hp.arch), qk_catalog_container(&m->in.cat), type,
		 (unsigned)m->in.hp.n_layer, (unsigned)m->in.hp.n_embd, (unsigned)m->in.hp.n_vocab,
		 bytes, n ? 8.0 * (double)bytes / (double)n : 0.0);
}

cJSON *verify_model_json(const struct verify_model *m)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "path", m->path);
	cJSON_AddStringToObject(o, "format", qk_catalog_container(&m->in.cat));
	cJSON_AddStringToObject(o, "architecture", qk_arch_gguf_name(m->in.hp.arch));
	cJSON_AddNumberToObject(o, "n_layer", m->in.hp.n_layer);
	cJSON_AddNumberToObject(o, "n_embd", m->in.hp.n_embd);
	cJSON_AddNumberToObject(o, "n_vocab", m->in.hp.n_vocab);
	cli_json_file_size(o, &m->in.cat);
	return o;
}

const char *verify_stream_name(size_t i, char *buf, size_t size)
{
	if (i == 0)
		snprintf(buf, size, "embedding");
	else
		snprintf(buf, size, "layer %zu", i - 1);
	return buf;
}

/* ---- token sequences ---- */

void verify_seqs_free(struct verify_seqs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->seq[i].ids);
	free(s->seq);
	memset(s, 0, sizeof(*s));
}

size_t verify_seqs_positions(const struct verify_seqs *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->seq[i].T;
	return n;
}

static int seq_push(struct verify_seqs *s, int32_t *ids, size_t T, qk_err *err)
{
	struct verify_seq *p;

	if (s->n >= VERIFY_MAX_SEQS) {
		free(ids);
		return qk_err_set(err, QK_E_USAGE, "%s: more than %u sequences", s->source,
				  VERIFY_MAX_SEQS);
	}
	p = realloc(s->seq, (s->n + 1) * sizeof(*p));
	if (!p) {
		free(ids);
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu sequences", s->n + 1);
	}
	s->seq = p;
	s->seq[s->n].ids = ids;
	s->seq[s->n].T = T;
	s->seq[s->n].from = 0;
	s->n++;
	return QK_OK;
}

static bool is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Ids in s[0..len) separated by runs of commas and whitespace; `where` is
 * "--tokens" or "FILE:LINE" for messages. Appends one sequence (none when
 * the text holds no id and skip_empty). */
static int parse_ids(struct verify_seqs *s, const char *txt, size_t len, const char *where,
		     uint32_t n_vocab, bool skip_empty, qk_err *err)
{
	int32_t *ids = NULL;
	size_t T = 0, cap = 0, i = 0;
	char buf[32];

	for (;;) {
		size_t j;
		long long v;
		char *end;

		while (i < len && is_sep(txt[i]))
			i++;
		if (i >= len)
			break;
		for (j = i; j < len && !is_sep(txt[j]); j++)
			;
		if (j - i >= sizeof(buf) || txt[i] < '0' || txt[i] > '9') {
			qk_err_set(err, QK_E_USAGE, "%s: '%.*s' is not a token id (a decimal integer)",
				   where, (int)(j - i > 40 ? 40 : j - i), txt + i);
			goto fail;
		}
		memcpy(buf, txt + i, j - i);
		buf[j - i] = '\0';
		errno = 0;
		v = strtoll(buf, &end, 10);
		if (*end) {
			qk_err_set(err, QK_E_USAGE, "%s: '%s' is not a token id (a decimal integer)",
				   where, buf);
			goto fail;
		}
		if (errno == ERANGE || v >= (long long)n_vocab) {
			qk_err_set(err, QK_E_USAGE,
				   "%s: token id %s at position %zu is out of range: n_vocab is %u",
				   where, buf, T, (unsigned)n_vocab);
			goto fail;
		}
		if (T >= VERIFY_MAX_TOKENS) {
			qk_err_set(err, QK_E_USAGE, "%s: more than %u tokens in one sequence", where,
				   VERIFY_MAX_TOKENS);
			goto fail;
		}
		if (T == cap) {
			int32_t *p;

			cap = cap ? cap * 2 : 64;
			p = realloc(ids, cap * sizeof(*ids));
			if (!p) {
				qk_err_set(err, QK_E_NOMEM, "out of memory for %zu token ids", cap);
				goto fail;
			}
			ids = p;
		}
		ids[T++] = (int32_t)v;
		i = j;
	}
	if (T == 0) {
		free(ids);
		return skip_empty ? QK_OK : qk_err_set(err, QK_E_USAGE, "%s: no token ids", where);
	}
	return seq_push(s, ids, T, err);
fail:
	free(ids);
	return err ? err->code : QK_E_USAGE;
}

static int load_file(struct verify_seqs *s, const char *path, uint32_t n_vocab, qk_err *err)
{
	char *txt = NULL, where[512];
	size_t len, line = 0;
	int rc;

	if ((rc = qk_read_file(path, TOKENS_FILE_MAX, &txt, &len, err)))
		return rc;
	for (size_t i = 0; i < len && !rc;) {
		size_t e = i, stop;

		while (e < len && txt[e] != '\n')
			e++;
		line++;
		for (stop = i; stop < e && txt[stop] != '#'; stop++)
			;
		snprintf(where, sizeof(where), "%s:%zu", path, line);
		rc = parse_ids(s, txt + i, stop - i, where, n_vocab, true, err);
		i = e + 1;
	}
	free(txt);
	if (!rc && s->n == 0)
		rc = qk_err_set(err, QK_E_USAGE, "%s: no token ids (one sequence per line)", path);
	return rc;
}

/* splitmix64 (Vigna): a fixed, portable stream of 64-bit values */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The default set: VERIFY_DEFAULT_SEQS sequences of VERIFY_DEFAULT_LEN ids,
 * id = high 32 bits of splitmix64 (seed 0x71776b + sequence) scaled to
 * [0, n_vocab). Random ids, not text: perplexities on them are high. */
static int load_default(struct verify_seqs *s, uint32_t n_vocab, qk_err *err)
{
	int rc;

	for (uint32_t q = 0; q < VERIFY_DEFAULT_SEQS; q++) {
		uint64_t x = 0x71776bull + q;
		int32_t *ids = malloc(VERIFY_DEFAULT_LEN * sizeof(*ids));

		if (!ids)
			return qk_err_set(err, QK_E_NOMEM, "out of memory for token ids");
		for (uint32_t t = 0; t < VERIFY_DEFAULT_LEN; t++)
			ids[t] = (int32_t)(((splitmix64(&x) >> 32) * n_vocab) >> 32);
		if ((rc = seq_push(s, ids, VERIFY_DEFAULT_LEN, err)))
			return rc;
	}
	return QK_OK;
}

bool verify_is_text(const struct verify_opts *o)
{
	return o->text || o->text_file || o->chat;
}

/* the one sequence of a text input */
static int load_text(struct verify_seqs *s, const struct verify_opts *o, struct verify_model *m,
		     bool llama_rule, qk_err *err)
{
	struct tk_ids ids;
	int rc;

	s->source = o->text ? "--text" : o->text_file ? "--text-file" : "--chat";
	if ((rc = verify_text_ids(o, m, llama_rule, &ids, err)))
		return rc;
	for (size_t i = 0; i < ids.n; i++)
		if (ids.id[i] < 0 || (uint32_t)ids.id[i] >= m->in.hp.n_vocab) {
			rc = qk_err_set(err, QK_E_UNSUPPORTED, "%s: the tokenizer gives id %ld at "
					"position %zu, outside the model's n_vocab %u", s->source,
					(long)ids.id[i], i, (unsigned)m->in.hp.n_vocab);
			tk_ids_free(&ids);
			return rc;
		}
	if (ids.n > VERIFY_MAX_TOKENS && !llama_rule) {
		tk_ids_free(&ids);
		return qk_err_set(err, QK_E_USAGE, "%s: more than %u tokens in one sequence",
				  s->source, VERIFY_MAX_TOKENS);
	}
	return seq_push(s, ids.id, ids.n, err); /* takes the array */
}

int verify_seqs_load(struct verify_seqs *s, const struct verify_opts *o, struct verify_model *m,
		     bool llama_rule, qk_err *err)
{
	const uint32_t n_vocab = m->in.hp.n_vocab;
	int rc;

	memset(s, 0, sizeof(*s));
	if (n_vocab == 0 || n_vocab > (uint32_t)INT32_MAX)
		return qk_err_set(err, QK_E_UNSUPPORTED, "n_vocab %u is not usable",
				  (unsigned)n_vocab);
	if (verify_is_text(o)) {
		rc = load_text(s, o, m, llama_rule, err);
	} else if (o->tokens) {
		s->source = "--tokens";
		rc = parse_ids(s, o->tokens, strlen(o->tokens), "--tokens", n_vocab, false, err);
	} else if (o->tokens_file) {
		s->source = "--tokens-file";
		rc = load_file(s, o->tokens_file, n_vocab, err);
	} else {
		s->source = "default";
		rc = load_default(s, n_vocab, err);
	}
	if (rc)
		verify_seqs_free(s);
	return rc;
}

int verify_forbid_inputs(const struct verify_model *m, const struct verify_opts *o, qk_err *err)
{
	int rc = cli_forbid_inputs(m->path, &m->in.cat, err);

	if (!rc && o->tokens_file)
		rc = qk_out_forbid(o->tokens_file, err);
	if (!rc && o->base)
		rc = qk_out_forbid(o->base, err);
	if (!rc && o->text_file)
		rc = qk_out_forbid(o->text_file, err);
	if (!rc && o->chat)
		rc = qk_out_forbid(o->chat, err);
	return rc;
}

/* ---- running ---- */

static int progress_width; /* characters of the progress line on screen */
bool verify_quiet;

void verify_progress_end(void)
{
	if (progress_width) {
		fprintf(stderr, "\r%*s\r", progress_width, "");
		fflush(stderr);
		progress_width = 0;
	}
}

static void progress(const char *label, size_t i, size_t n, size_t T)
{
	char line[256];
	int w;

	if (verify_quiet || !isatty(STDERR_FILENO))
		return;
	w = snprintf(line, sizeof(line), "%s: %s: sequence %zu/%zu (%zu tokens)", cli_prog, label,
		     i + 1, n, T);
	if (w < 0)
		return;
	if (w > (int)sizeof(line) - 1)
		w = (int)sizeof(line) - 1;
	fprintf(stderr, "\r%-*s", w > progress_width ? w : progress_width, line);
	if (w > progress_width)
		progress_width = w;
	fflush(stderr);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int verify_forward(const struct verify_model *m, const struct verify_opts *o, bool hidden,
		   const char *label, size_t i, size_t n, const struct verify_seq *s,
		   struct rf_out *out, double *seconds, qk_err *err)
{
	struct rf_opts ro;
	double t0;
	int rc;

	rf_opts_init(&ro);
	ro.n_threads = o->n_threads;
	ro.keep_hidden = hidden;
	ro.mtp = o->mtp;
	ro.positions = o->mrope;
	ro.logits_from = s->from;
	ro.on_matmul = o->on_matmul;
	ro.on_matmul_user = o->on_matmul_user;
	progress(label, i, n, s->T);
	t0 = now();
	rc = rf_run(&m->in.model, s->ids, s->T, &ro, out, err);
	if (seconds)
		*seconds += now() - t0;
	if (rc)
		qk_err_prefix(err, "%s: sequence %zu", m->path, i);
	return rc;
}
