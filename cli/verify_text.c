/* verify_text.c - text into qwen-verify: --text, --text-file and --chat
 * (a file of ChatML turns) tokenized with the model's own tokenizer
 * (formats/tokenizer/tk_encode.h), and token ids back to text for the
 * listings. See verify.h and man/qwen-verify.1 (TEXT). */
#include "verify.h"
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/io.h"
#include "../formats/base/strbuf.h"
#include "../formats/tokenizer/tk_encode.h"

#define TEXT_FILE_MAX (1024u << 20) /* bytes of a --text-file or --chat file */

int verify_encoder(struct verify_model *m, qk_err *err)
{
	if (m->enc)
		return QK_OK;
	return tk_enc_open_input(&m->enc, &m->in, err);
}

/* ---- --chat ---- */

static const char *const roles[] = { "system", "user", "assistant" };
enum { R_SYSTEM, R_USER, R_ASSISTANT, N_ROLES };

/* What the model's chat template does with plain turns beyond ChatML (read
 * from its Jinja source, see man/qwen-verify.1):
 *  - Qwen3's (it tracks last_query_index and writes <think>): an assistant
 *    turn that ends the chat after the last user turn starts with an empty
 *    think block, "<think>\n\n</think>\n\n";
 *  - Qwen2/Qwen2.5's: without a system turn first, a default system turn,
 *    the literal of '<|im_start|>system\n...<|im_end|>\n' in the template. */
struct chat_style {
	bool think_last;
	char dflt_system[512];    /* "" for none */
};

static void chat_style(const char *tpl, struct chat_style *cs)
{
	static const char open[] = "'<|im_start|>system\\n";
	const char *p;

	memset(cs, 0, sizeof(*cs));
	if (!tpl)
		return;
	cs->think_last = strstr(tpl, "last_query_index") && strstr(tpl, "<think>");
	for (p = strstr(tpl, open); p; p = strstr(p + 1, open)) {
		const char *t = p + sizeof(open) - 1, *e = strstr(t, "<|im_end|>");
		size_t k = 0;

		if (!e || memchr(t, '\'', (size_t)(e - t)) || e == t)
			continue;
		for (; t < e && k + 1 < sizeof(cs->dflt_system); t++) {
			if (t[0] == '\\' && t + 1 < e && t[1] == 'n') {
				cs->dflt_system[k++] = '\n';
				t++;
			} else {
				cs->dflt_system[k++] = *t;
			}
		}
		cs->dflt_system[k] = '\0';
		return;
	}
}

/* the role a line starts a turn of ("user: text" or "user:" alone), or -1;
 * *skip: bytes up to the turn's text */
static int turn_role(const char *line, size_t len, size_t *skip)
{
	for (size_t r = 0; r < sizeof(roles) / sizeof(roles[0]); r++) {
		const size_t n = strlen(roles[r]);

		if (len > n && memcmp(line, roles[r], n) == 0 && line[n] == ':' &&
		    (len == n + 1 || line[n + 1] == ' ')) {
			*skip = len == n + 1 ? n + 1 : n + 2;
			return (int)r;
		}
	}
	return -1;
}

struct turn {
	int role;
	size_t off, len;          /* text in the file's buffer */
};

/* Render turns as ChatML, "<|im_start|>ROLE\nTEXT<|im_end|>\n" each, with
 * the template's extras (struct chat_style), then "<|im_start|>assistant\n"
 * when the last turn is not the assistant's (a generation prompt). */
static void render_turns(const char *txt, const struct turn *t, size_t n,
			 const struct chat_style *cs, struct qk_sb *out)
{
	size_t last_user = n;

	for (size_t i = 0; i < n; i++)
		if (t[i].role == R_USER)
			last_user = i;
	if (cs->dflt_system[0] && t[0].role != R_SYSTEM)
		qk_sb_printf(out, "<|im_start|>system\n%s<|im_end|>\n", cs->dflt_system);
	for (size_t i = 0; i < n; i++) {
		qk_sb_printf(out, "<|im_start|>%s\n", roles[t[i].role]);
		if (cs->think_last && t[i].role == R_ASSISTANT && i + 1 == n && last_user < i)
			qk_sb_puts(out, "<think>\n\n</think>\n\n");
		qk_sb_putn(out, txt + t[i].off, t[i].len);
		qk_sb_puts(out, "<|im_end|>\n");
	}
	if (t[n - 1].role != R_ASSISTANT)
		qk_sb_puts(out, "<|im_start|>assistant\n");
}

/* Split a turns file: a line "ROLE: text" (or "ROLE:" alone) starts a
 * turn, later lines continue it (joined with newlines); the newlines that
 * end a turn are dropped. */
static int parse_turns(const char *path, const char *txt, size_t len, struct turn **out,
		       size_t *n_out, qk_err *err)
{
	struct turn *t = NULL;
	size_t n = 0, line_no = 0;

	for (size_t i = 0; i < len;) {
		size_t e = i, skip;
		int r;

		while (e < len && txt[e] != '\n')
			e++;
		line_no++;
		r = turn_role(txt + i, e - i, &skip);
		if (r >= 0) {
			struct turn *p = realloc(t, (n + 1) * sizeof(*t));

			if (!p) {
				free(t);
				return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu turns", n + 1);
			}
			t = p;
			/* "ROLE:" alone: the text starts on the next line */
			t[n++] = skip == e - i ? (struct turn){ r, e + 1, 0 }
					       : (struct turn){ r, i + skip, e - i - skip };
		} else if (n == 0 && e > i) {
			free(t);
			return qk_err_set(err, QK_E_USAGE, "%s:%zu: text before the first turn: a turn "
					  "starts with 'system:', 'user:' or 'assistant:'", path, line_no);
		} else if (n) {
			t[n - 1].len = e - t[n - 1].off;
		}
		i = e + 1;
	}
	for (size_t i = 0; i < n; i++)
		while (t[i].len && txt[t[i].off + t[i].len - 1] == '\n')
			t[i].len--;
	if (n == 0)
		return qk_err_set(err, QK_E_USAGE, "%s: no turn ('user: TEXT' lines)", path);
	*out = t;
	*n_out = n;
	return QK_OK;
}

static int render_chat(const char *path, const char *txt, size_t len, const char *tpl,
		       struct qk_sb *out, qk_err *err)
{
	struct chat_style cs;
	struct turn *t = NULL;
	size_t n = 0;
	int rc;

	if ((rc = parse_turns(path, txt, len, &t, &n, err)))
		return rc;
	chat_style(tpl, &cs);
	render_turns(txt, t, n, &cs, out);
	free(t);
	if (out->oom)
		return qk_err_set(err, QK_E_NOMEM, "out of memory rendering %s", path);
	return QK_OK;
}

/* ChatML needs <|im_start|> and <|im_end|> to be single tokens */
static int check_chatml(const struct verify_model *m, qk_err *err)
{
	static const char *const need[] = { "<|im_start|>", "<|im_end|>" };

	for (size_t i = 0; i < 2; i++) {
		struct tk_ids ids = { 0 };
		int rc = tk_encode(m->enc, need[i], strlen(need[i]), TK_ENC_PARSE_SPECIAL, &ids, err);
		const size_t n = ids.n;

		tk_ids_free(&ids);
		if (rc)
			return rc;
		if (n != 1)
			return qk_err_set(err, QK_E_UNSUPPORTED, "%s: the tokenizer has no %s token: "
					  "--chat renders Qwen's ChatML", m->path, need[i]);
	}
	return QK_OK;
}

int verify_text_ids(const struct verify_opts *o, struct verify_model *m, bool llama_rule,
		    struct tk_ids *out, qk_err *err)
{
	struct qk_sb chat;
	const char *path = o->text_file ? o->text_file : o->chat;
	char *txt = NULL;
	size_t len = 0;
	unsigned flags = TK_ENC_PARSE_SPECIAL;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&chat, 0, sizeof(chat));
	if ((rc = verify_encoder(m, err)))
		return rc;
	if (o->text) {
		txt = (char *)(uintptr_t)o->text;
		len = strlen(o->text);
	} else if ((rc = qk_read_file(path, TEXT_FILE_MAX, &txt, &len, err))) {
		return rc;
	}
	if (o->chat) {
		if (!(rc = check_chatml(m, err)) &&
		    !(rc = render_chat(path, txt, len, tk_enc_vocab(m->enc)->chat_template, &chat,
				       err)))
			rc = tk_encode(m->enc, chat.s, chat.n, TK_ENC_PARSE_SPECIAL, out, err);
	} else {
		if (llama_rule)
			flags = 0; /* llama-perplexity: special tokens in the text are text */
		rc = tk_encode(m->enc, txt, len, flags, out, err);
		if (!rc && out->n == 0)
			rc = qk_err_set(err, QK_E_USAGE, "%s: no tokens (empty text)",
					o->text ? "--text" : path);
	}
	if (!o->text)
		free(txt);
	qk_sb_free(&chat);
	if (rc)
		tk_ids_free(out);
	return rc;
}

/* ---- ids back to text ---- */

void verify_token_text(const struct verify_model *m, int32_t id, char *buf, size_t size)
{
	size_t len, k = 0;
	bool utf8;
	const char *s = m->enc ? tk_enc_token_bytes(m->enc, id, &len) : NULL;

	if (size == 0)
		return;
	if (!s) {
		buf[0] = '\0';
		return;
	}
	utf8 = qk_utf8_valid(s, len);
	for (size_t i = 0; i < len && k + 5 < size; i++) {
		const unsigned char c = (unsigned char)s[i];

		if (c == '\n' || c == '\t' || c == '\r' || c == '\\') {
			buf[k++] = '\\';
			buf[k++] = c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : '\\';
		} else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
			k += (size_t)snprintf(buf + k, size - k, "\\x%02x", c);
		} else {
			buf[k++] = (char)c;
		}
	}
	buf[k] = '\0';
}
