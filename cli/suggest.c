/* suggest.c - "did you mean" for mistyped options and type names; see
 * common.h. */
#include "common.h"

#include <ctype.h>
#include <string.h>

#define SUGGEST_MAX_LEN 64 /* longer words get no suggestion */

/* word without '-' and '_', lower case, into out (SUGGEST_MAX_LEN bytes);
 * its length */
static size_t squeeze(const char *w, size_t n, char *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < SUGGEST_MAX_LEN - 1; i++)
		if (w[i] != '-' && w[i] != '_')
			out[k++] = (char)tolower((unsigned char)w[i]);
	out[k] = '\0';
	return k;
}

/* Edit distance (insert, delete, substitute, swap two neighbours) of a and
 * b, both shorter than SUGGEST_MAX_LEN and squeezed. */
static size_t distance(const char *a, size_t na, const char *b, size_t nb)
{
	size_t d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];

	for (size_t i = 0; i <= na; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= nb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= na; i++) {
		for (size_t j = 1; j <= nb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[na][nb];
}

const char *cli_suggest(const char *word, size_t len, const char *const *cands, size_t n)
{
	char w[SUGGEST_MAX_LEN], c[SUGGEST_MAX_LEN];
	const char *best = NULL;
	size_t best_d = (size_t)-1, limit;

	if (len == 0 || len >= SUGGEST_MAX_LEN)
		return NULL;
	len = squeeze(word, len, w);
	limit = len < 6 ? 1 : len < 12 ? 2 : 3;
	for (size_t i = 0; i < n; i++) {
		size_t nc = cands[i] ? strlen(cands[i]) : SUGGEST_MAX_LEN;
		size_t d;
		if (nc >= SUGGEST_MAX_LEN)
			continue;
		nc = squeeze(cands[i], nc, c);
		d = distance(w, len, c, nc);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best_d <= limit ? best : NULL;
}
