/* tok_pretok.c - the Qwen pre-tokenizer regexes as a hand-written matcher.
 *
 * qwen2 (Qwen1's tiktoken PAT_STR and every Qwen2/2.5/3 tokenizer.json):
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}
 *   | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * qwen35 (Qwen3.5/3.6): the same with [\p{L}\p{M}] for \p{L} in the second
 * alternative and [^\s\p{L}\p{M}\p{N}] in the fourth.
 *
 * Both engines (Oniguruma in tokenizers, fancy-regex in tiktoken) try the
 * alternatives left to right at the current position and take the first
 * that matches, with backtracking inside it; the split is the sequence of
 * matches from the start of the text. Every character starts some match
 * (each is \s, a letter, a digit, or in the fourth class), so there are no
 * gaps. What each alternative matches at position 0, backtracking worked out:
 *  1. an apostrophe and one of s t m d, re ve ll in any case (case folding
 *     also lets U+017F LATIN SMALL LETTER LONG S stand for s);
 *  2. if c0 is not CR, LF, a letter or a digit and c1 is a letter: c0 and
 *     the run of letters after it; else if c0 is a letter: the run of letters;
 *  3. a digit: that one character;
 *  4. an optional U+0020 then a run of characters of the fourth class, then
 *     any run of CR/LF;
 *  5. within the run of whitespace at 0: up to and including its last CR or
 *     LF (\s* gives back characters until [\r\n]+ can match);
 *  6. the run of whitespace when it ends the text; else the run without its
 *     last character, when that leaves at least one ((?!\S) holds before a
 *     whitespace character);
 *  7. the run of whitespace.
 */
#include "tok_enc_priv.h"

static inline size_t dec(const uint8_t *s, size_t n, size_t i, uint32_t *cp)
{
	if (s[i] < 0x80) {
		*cp = s[i];
		return 1;
	}
	return tk_utf8_next(s + i, n - i, cp);
}

/* the end of the run of characters whose class has a bit of `mask` (or,
 * with want == 0, none of `mask`), starting at byte i */
static size_t run(const uint8_t *s, size_t n, size_t i, unsigned mask, int want)
{
	while (i < n) {
		uint32_t c;
		size_t l = dec(s, n, i, &c);
		int has = (tk_uc_class(c) & mask) != 0;
		if (has != want)
			break;
		i += l;
	}
	return i;
}

static inline unsigned lower(uint32_t c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* alternative 1 at s[0] == '\'': the length, or 0 */
static size_t contraction(const uint8_t *s, size_t n)
{
	uint32_t c, c2;
	size_t l, l2;

	if (n < 2)
		return 0;
	l = dec(s, n, 1, &c);
	if (c == 0x17f) /* long s folds to s */
		return 1 + l;
	switch (lower(c)) {
	case 's': case 't': case 'm': case 'd':
		return 1 + l;
	case 'r': case 'v': case 'l':
		if (1 + l >= n)
			return 0;
		l2 = dec(s, n, 1 + l, &c2);
		if (lower(c2) == (lower(c) == 'l' ? 'l' : 'e'))
			return 1 + l + l2;
		return 0;
	default:
		return 0;
	}
}

size_t tk_pretok_next(const uint8_t *s, size_t n, int kind)
{
	const unsigned letter = kind == TK_PRE_QWEN35 ? (TK_UC_L | TK_UC_M) : TK_UC_L;
	const unsigned not_p = TK_UC_WS | TK_UC_N | letter; /* the fourth class has none */
	uint32_t c, c1;
	size_t l, j, last_nl_end, last_start;
	unsigned k;

	l = dec(s, n, 0, &c);
	k = tk_uc_class(c);
	if (c == '\'' && (j = contraction(s, n)))
		return j;
	if (c != '\r' && c != '\n' && !(k & (TK_UC_L | TK_UC_N)) && l < n) {
		size_t l1 = dec(s, n, l, &c1);
		if (tk_uc_class(c1) & letter)
			return run(s, n, l + l1, letter, 1);
	}
	if (k & letter)
		return run(s, n, l, letter, 1);
	if (k & TK_UC_N)
		return l;
	j = 0;
	if (c == ' ' && l < n) {
		dec(s, n, l, &c1);
		if (!(tk_uc_class(c1) & not_p))
			j = l;
	}
	if (j || !(k & not_p)) {
		j = run(s, n, j, not_p, 0);
		while (j < n && (s[j] == '\r' || s[j] == '\n'))
			j++;
		return j;
	}
	/* c is whitespace */
	j = 0;
	last_nl_end = 0;
	last_start = 0;
	while (j < n) {
		size_t lj = dec(s, n, j, &c1);
		if (!(tk_uc_class(c1) & TK_UC_WS))
			break;
		if (c1 == '\r' || c1 == '\n')
			last_nl_end = j + lj;
		last_start = j;
		j += lj;
	}
	if (last_nl_end)
		return last_nl_end;
	if (j == n || last_start == 0)
		return j ? j : l; /* j == 0 cannot happen: every character is in a class */
	return last_start;
}
