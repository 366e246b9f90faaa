/* tok_tiktoken.c - Qwen1's qwen.tiktoken -> vocabulary; rules in
 * tokenizer.h.
 *
 * The file has no merges, only ranks. llama.cpp rebuilds one merge per
 * token of two or more bytes: byte-level BPE over the token's own bytes,
 * allowing only tokens of lower rank, must stop at exactly two parts; those
 * two are the merge. Here each BPE keeps the rank of every adjacent pair, so
 * a merge step rescans ranks, not bytes: O(L^2) integer work and O(L)
 * lookups per token of L bytes (L <= TK_TIKTOKEN_MAX_TOKEN), which is
 * about 0.1 s for Qwen1's 151643 tokens.
 */
#include "tok_priv.h"
#include "tok_unicode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/hparams.h"

/* Qwen1's special tokens after the ranks (the remote tokenization_qwen.py) */
#define N_EXTRAS 205
static const char *const named_specials[] = { "<|endoftext|>", "<|im_start|>", "<|im_end|>" };
#define N_NAMED (sizeof(named_specials) / sizeof(named_specials[0]))

struct entry {
	size_t off, len;   /* token bytes in the arena */
	uint32_t line;     /* 1-based, for messages */
};

struct tt {
	struct tk_build *b;
	uint8_t *arena;    /* every token's bytes */
	struct entry *e;   /* [n] by rank */
	uint32_t n;
	struct qk_hmap map; /* token bytes -> rank */
};

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard padded base64 -> out; returns the byte count, or -1. */
static long b64_decode(const char *s, size_t n, uint8_t *out)
{
	size_t pad = 0, o = 0;

	if (n == 0 || n % 4)
		return -1;
	while (pad < 2 && s[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n; i += 4) {
		uint32_t acc = 0;
		for (size_t k = 0; k < 4; k++) {
			int d = (i + k >= n - pad) ? 0 : b64_val(s[i + k]);
			if (d < 0)
				return -1;
			acc = acc << 6 | (uint32_t)d;
		}
		out[o++] = (uint8_t)(acc >> 16);
		out[o++] = (uint8_t)(acc >> 8);
		out[o++] = (uint8_t)acc;
	}
	return (long)(o - pad);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* One line "base64 rank": fields split on blanks as Python's split(). */
static int parse_line(struct tt *t, const char *s, size_t n, uint32_t line, uint32_t n_lines,
		      size_t *arena_used, struct entry *by_rank)
{
	const char *f[3];
	size_t fl[3], nf = 0, i = 0;
	uint64_t rank = 0;
	long len;

	while (i < n && nf < 3) {
		while (i < n && is_space(s[i]))
			i++;
		if (i == n)
			break;
		f[nf] = s + i;
		while (i < n && !is_space(s[i]))
			i++;
		fl[nf] = (size_t)(s + i - f[nf]);
		nf++;
	}
	if (nf != 2)
		return tk_fail(t->b, QK_E_INVALID, "line %u: expected 'base64 rank'", (unsigned)line);
	if (fl[1] > 10)
		return tk_fail(t->b, QK_E_INVALID, "line %u: rank is not a number below %u",
			    (unsigned)line, (unsigned)n_lines);
	for (size_t k = 0; k < fl[1]; k++) {
		if (f[1][k] < '0' || f[1][k] > '9')
			return tk_fail(t->b, QK_E_INVALID, "line %u: rank '%.*s' is not a decimal number",
				    (unsigned)line, (int)fl[1], f[1]);
		rank = rank * 10 + (uint64_t)(f[1][k] - '0');
	}
	if (rank >= n_lines)
		return tk_fail(t->b, QK_E_INVALID,
			    "line %u: rank %llu is out of range: %u tokens have ranks 0..%u",
			    (unsigned)line, (unsigned long long)rank, (unsigned)n_lines,
			    (unsigned)n_lines - 1);
	if (by_rank[rank].line)
		return tk_fail(t->b, QK_E_INVALID, "line %u: rank %llu repeats line %u", (unsigned)line,
			    (unsigned long long)rank, (unsigned)by_rank[rank].line);
	len = fl[0] / 4 * 3 <= TK_TIKTOKEN_MAX_TOKEN + 2
		      ? b64_decode(f[0], fl[0], t->arena + *arena_used)
		      : -2;
	if (len == -2 || len > (long)TK_TIKTOKEN_MAX_TOKEN)
		return tk_fail(t->b, QK_E_UNSUPPORTED, "line %u: a token of more than %u bytes",
			    (unsigned)line, TK_TIKTOKEN_MAX_TOKEN);
	if (len <= 0)
		return tk_fail(t->b, QK_E_INVALID, "line %u: '%.*s' is not base64 of a token",
			    (unsigned)line, fl[0] > 40 ? 40 : (int)fl[0], f[0]);
	by_rank[rank] = (struct entry){ *arena_used, (size_t)len, line };
	*arena_used += (size_t)len;
	return QK_OK;
}

static int read_lines(struct tt *t, const char *text, size_t len)
{
	size_t n_lines = 0, used = 0;
	uint32_t line = 0;
	int rc = QK_OK;

	for (size_t i = 0; i < len;) { /* count non-empty lines */
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len, e = end;
		while (e > i && text[e - 1] == '\r')
			e--;
		n_lines += e > i;
		i = end + 1;
	}
	if (n_lines == 0)
		return tk_fail(t->b, QK_E_INVALID, "no tokens");
	if (n_lines > TK_MAX_VOCAB)
		return tk_fail(t->b, QK_E_UNSUPPORTED, "%zu tokens, more than %u", n_lines,
			    TK_MAX_VOCAB);
	t->n = (uint32_t)n_lines;
	t->e = calloc(n_lines, sizeof(t->e[0]));
	t->arena = malloc(len + 4);
	if (!t->e || !t->arena)
		return tk_fail(t->b, QK_E_NOMEM, "out of memory");
	for (size_t i = 0; i < len && !rc;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len, e = end;
		line++;
		while (e > i && text[e - 1] == '\r')
			e--;
		if (e > i) {
			rc = parse_line(t, text + i, e - i, line, t->n, &used, t->e);
		}
		i = end + 1;
	}
	return rc;
}

/* the token's text: its bytes through bytes_to_unicode */
static char *byte_text(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1), *o = s;

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		o += tk_utf8_put((uint8_t *)o, tk_byte_to_cp(p[i]));
	*o = '\0';
	return s;
}

/* ---- BPE restricted to ranks below max_rank ---- */

struct bpe {
	size_t start[TK_TIKTOKEN_MAX_TOKEN], plen[TK_TIKTOKEN_MAX_TOKEN];
	int64_t pr[TK_TIKTOKEN_MAX_TOKEN]; /* rank of pieces i and i+1 merged, -1 none */
};

static int64_t pair_rank(const struct tt *t, const uint8_t *tok, const struct bpe *s, size_t i)
{
	return qk_hmap_get(&t->map, (const char *)tok + s->start[i], s->plen[i] + s->plen[i + 1]);
}

/* Returns the number of parts left; the first part's length in *cut. */
static size_t bpe_parts(const struct tt *t, const uint8_t *tok, size_t n, int64_t max_rank,
			struct bpe *s, size_t *cut)
{
	size_t parts = n;

	for (size_t i = 0; i < n; i++) {
		s->start[i] = i;
		s->plen[i] = 1;
	}
	for (size_t i = 0; i + 1 < n; i++)
		s->pr[i] = pair_rank(t, tok, s, i);
	while (parts > 1) {
		size_t best = 0;
		int64_t best_rank = -1;

		for (size_t i = 0; i + 1 < parts; i++) /* leftmost lowest rank */
			if (s->pr[i] >= 0 && (best_rank < 0 || s->pr[i] < best_rank)) {
				best = i;
				best_rank = s->pr[i];
			}
		if (best_rank < 0 || best_rank >= max_rank)
			break;
		s->plen[best] += s->plen[best + 1];
		memmove(&s->start[best + 1], &s->start[best + 2],
			(parts - best - 2) * sizeof(s->start[0]));
		memmove(&s->plen[best + 1], &s->plen[best + 2],
			(parts - best - 2) * sizeof(s->plen[0]));
		memmove(&s->pr[best + 1], &s->pr[best + 2], (parts - best - 2) * sizeof(s->pr[0]));
		parts--;
		if (best > 0)
			s->pr[best - 1] = pair_rank(t, tok, s, best - 1);
		if (best + 1 < parts)
			s->pr[best] = pair_rank(t, tok, s, best);
	}
	*cut = s->plen[0];
	return parts;
}

static int rebuild_merges(struct tt *t)
{
	struct tk_vocab *v = &t->b->v;
	struct bpe *s = malloc(sizeof(*s));
	char show[TK_SHOW_MAX];
	int rc = QK_OK;

	v->merges = calloc(t->n, sizeof(v->merges[0]));
	if (!s || !v->merges) {
		free(s);
		return tk_fail(t->b, QK_E_NOMEM, "out of memory");
	}
	for (uint32_t r = 0; r < t->n && !rc; r++) {
		const uint8_t *tok = t->arena + t->e[r].off;
		size_t n = t->e[r].len, cut = 0, parts;
		char *a, *bb, *m;

		if (n < 2)
			continue;
		parts = bpe_parts(t, tok, n, r, s, &cut);
		if (parts != 2) {
			rc = tk_fail(t->b, QK_E_INVALID,
				  "token '%s' (rank %u, line %u) does not split into two tokens of "
				  "lower rank: byte-level BPE leaves %zu parts",
				  tk_show(v->tokens[r], strlen(v->tokens[r]), show, sizeof(show)),
				  (unsigned)r, (unsigned)t->e[r].line, parts);
			break;
		}
		for (int k = 0; k < 2; k++) {
			const uint8_t *p = k ? tok + cut : tok;
			size_t pl = k ? n - cut : cut;
			if (qk_hmap_get(&t->map, (const char *)p, pl) < 0) {
				char *txt = byte_text(p, pl);
				rc = tk_fail(t->b, QK_E_INVALID,
					  "token '%s' (rank %u) merges from '%s', which is not a token",
					  tk_show(v->tokens[r], strlen(v->tokens[r]), show,
						  sizeof(show)),
					  (unsigned)r, txt ? txt : "?");
				free(txt);
				break;
			}
		}
		if (rc)
			break;
		a = byte_text(tok, cut);
		bb = byte_text(tok + cut, n - cut);
		m = NULL;
		if (a && bb) {
			size_t la = strlen(a), lb = strlen(bb);
			if ((m = malloc(la + lb + 2))) {
				memcpy(m, a, la);
				m[la] = ' ';
				memcpy(m + la + 1, bb, lb + 1);
			}
		}
		if (m)
			v->merges[v->n_merges++] = m;
		else
			rc = tk_fail(t->b, QK_E_NOMEM, "out of memory");
		free(a);
		free(bb);
	}
	free(s);
	return rc;
}

static int fill(struct tt *t, uint32_t vocab_size)
{
	struct tk_vocab *v = &t->b->v;
	char name[32], show[TK_SHOW_MAX];
	int rc;

	if ((rc = tk_vocab_alloc(v, vocab_size, t->b->fname, t->b->err)))
		return rc;
	if (qk_hmap_init(&t->map, t->n))
		return tk_fail(t->b, QK_E_NOMEM, "out of memory");
	for (uint32_t r = 0; r < t->n; r++) {
		const char *p = (const char *)t->arena + t->e[r].off;
		int64_t old = qk_hmap_put(&t->map, p, t->e[r].len, r);

		if (old == -2)
			return tk_fail(t->b, QK_E_NOMEM, "out of memory");
		if (!(v->tokens[r] = byte_text((const uint8_t *)p, t->e[r].len)))
			return tk_fail(t->b, QK_E_NOMEM, "out of memory");
		v->types[r] = TK_NORMAL;
		if (old >= 0)
			return tk_fail(t->b, QK_E_INVALID, "line %u: token '%s' repeats line %u",
				    (unsigned)t->e[r].line,
				    tk_show(v->tokens[r], strlen(v->tokens[r]), show, sizeof(show)),
				    (unsigned)t->e[old].line);
	}
	for (uint32_t i = 0; i < N_NAMED + N_EXTRAS && t->n + i < vocab_size; i++) {
		if (i < N_NAMED)
			snprintf(name, sizeof(name), "%s", named_specials[i]);
		else
			snprintf(name, sizeof(name), "<|extra_%u|>", (unsigned)(i - N_NAMED));
		if (!(v->tokens[t->n + i] = tk_strndup(name, strlen(name))))
			return tk_fail(t->b, QK_E_NOMEM, "out of memory");
		v->types[t->n + i] = TK_CONTROL;
	}
	return tk_fill_padding(v, t->b->fname, t->b->err);
}

int tk_tiktoken_build(struct tk_build *b, const char *text, size_t len, uint32_t vocab_size)
{
	struct tt t = { .b = b };
	int rc;

	if (vocab_size > TK_MAX_VOCAB)
		return tk_fail(b, QK_E_UNSUPPORTED, "vocab_size %u is more than %u", (unsigned)vocab_size,
			    TK_MAX_VOCAB);
	rc = read_lines(&t, text, len);
	if (!rc && vocab_size == 0)
		vocab_size = t.n + (uint32_t)(N_NAMED + N_EXTRAS);
	if (!rc && t.n > vocab_size)
		rc = tk_fail(b, QK_E_INVALID, "%u tokens (ranks 0..%u), more than config.json's "
			  "vocab_size %u", (unsigned)t.n, (unsigned)t.n - 1, (unsigned)vocab_size);
	if (!rc)
		rc = fill(&t, vocab_size);
	if (!rc)
		rc = rebuild_merges(&t);
	if (!rc) {
		b->qwen1 = true;
		b->endoftext = t.n;
		b->v.pre = tk_pre_for_arch(QK_ARCH_QWEN)->name;
		b->v.model = "gpt2";
	}
	qk_hmap_free(&t.map);
	free(t.e);
	free(t.arena);
	return rc;
}
