/* plan_names.c - general.name and the other authorship keys, as llama.cpp's
 * gguf-py Metadata derives them (gguf/metadata.py, gguf/utility.py): the
 * README.md model card front matter, config.json "_name_or_path", the
 * directory name, --name, and the computed size label. See plan.h.
 *
 * Case mapping in the title and size heuristics is ASCII only: bytes >= 0x80
 * count as neither letters nor digits (Python's str methods know Unicode).
 * Front matter that libyaml cannot parse, or whose root is not a mapping, is
 * ignored with a note (llama.cpp's converter stops with a YAML error).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#include "../base/io.h"
#include "plan_priv.h"

/* ---- size label (utility.py model_weight_count_rounded_notation) ---- */

static void rounded_notation(uint64_t count, char *buf, size_t size)
{
	const double c = (double)count;
	double scaled, r;
	char digits[64];
	const char *suffix, *d;
	int fix;

	if (c > 1e12) {
		scaled = c * 1e-12;
		suffix = "T";
	} else if (c > 1e9) {
		scaled = c * 1e-9;
		suffix = "B";
	} else if (c > 1e6) {
		scaled = c * 1e-6;
		suffix = "M";
	} else {
		scaled = c * 1e-3;
		suffix = "K";
	}
	/* Python's round(): half to even, as nearbyint in the default mode */
	r = nearbyint(scaled);
	snprintf(digits, sizeof(digits), "%.0f", r);
	for (d = digits; *d == '0'; d++)
		;
	fix = 2 - (int)strlen(d);
	if (fix < 0)
		fix = 0;
	snprintf(buf, size, "%.*f%s", fix, scaled, suffix);
}

void wp_size_label(uint64_t total, uint64_t shared, uint64_t expert_params,
		   uint64_t expert_count, char *buf, size_t size)
{
	char pretty[64];

	if (expert_count > 0) {
		rounded_notation(shared + expert_params, pretty, sizeof(pretty));
		snprintf(buf, size, "%llux%s", (unsigned long long)expert_count, pretty);
	} else {
		rounded_notation(total, buf, size);
	}
}

/* ---- id_to_title ---- */

static bool is_lower_word(const char *w, size_t n)
{
	bool cased = false;

	for (size_t i = 0; i < n; i++) {
		if (isupper((unsigned char)w[i]))
			return false;
		cased |= islower((unsigned char)w[i]) != 0;
	}
	return cased;
}

/* ^(v\d+(?:\.\d+)*|\d.*)$ */
static bool version_or_number(const char *w, size_t n)
{
	size_t i = 1;

	if (n && isdigit((unsigned char)w[0]))
		return true;
	if (n < 2 || w[0] != 'v' || !isdigit((unsigned char)w[1]))
		return false;
	while (i < n) {
		if (!isdigit((unsigned char)w[i]))
			return false;
		while (i < n && isdigit((unsigned char)w[i]))
			i++;
		if (i == n)
			return true;
		if (w[i] != '.' || i + 1 >= n)
			return false;
		i++;
	}
	return true;
}

char *wp_id_to_title(const char *s)
{
	size_t n = strlen(s), k = 0;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t j;

		while (i < n && (isspace((unsigned char)s[i]) || s[i] == '-'))
			i++;
		for (j = i; j < n && !isspace((unsigned char)s[j]) && s[j] != '-'; j++)
			;
		if (j == i)
			break;
		if (k)
			out[k++] = ' ';
		if (is_lower_word(s + i, j - i) && !version_or_number(s + i, j - i)) {
			bool prev_letter = false;

			for (size_t x = i; x < j; x++) { /* str.title() */
				unsigned char ch = (unsigned char)s[x];

				out[k++] = (char)(isalpha(ch) ? (prev_letter ? tolower(ch) : toupper(ch)) : ch);
				prev_letter = isalpha(ch) != 0;
			}
		} else {
			memcpy(out + k, s + i, j - i);
			k += j - i;
		}
		i = j;
	}
	out[k] = '\0';
	return out;
}

/* ---- get_model_id_components ---- */

enum { T_VERSION = 1, T_TYPE = 2, T_SIZE = 4, T_FINETUNE = 8, T_BASENAME = 16 };

/* (v|iter)?\d+([.]\d+)* , case-insensitive */
static bool re_version(const char *p)
{
	if (strncasecmp(p, "iter", 4) == 0 && isdigit((unsigned char)p[4]))
		p += 4;
	else if ((*p == 'v' || *p == 'V') && isdigit((unsigned char)p[1]))
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	for (;;) {
		while (isdigit((unsigned char)*p))
			p++;
		if (!*p)
			return true;
		if (*p != '.' || !isdigit((unsigned char)p[1]))
			return false;
		p++;
	}
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* i?q\d(_\w)*|b?fp?(16|32) , case-insensitive */
static bool re_quant(const char *p)
{
	const char *q = p;

	if (tolower((unsigned char)*q) == 'i')
		q++;
	if (tolower((unsigned char)*q) == 'q' && isdigit((unsigned char)q[1])) {
		q += 2;
		while (q[0] == '_' && word_char(q[1]))
			q += 2;
		if (!*q)
			return true;
	}
	q = p;
	if (tolower((unsigned char)*q) == 'b')
		q++;
	if (tolower((unsigned char)*q) != 'f')
		return false;
	q++;
	if (tolower((unsigned char)*q) == 'p')
		q++;
	return strcmp(q, "16") == 0 || strcmp(q, "32") == 0;
}

/* (([A]|\d+[x])?\d+([._]\d+)?[KMBT][\d]?|small|mini|medium|large|x?xl) */
static bool re_size(const char *p)
{
	static const char *const words[] = { "small", "mini", "medium", "large", "xl", "xxl" };
	const char *q = p;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(p, words[i]) == 0)
			return true;
	if (*q == 'a' || *q == 'A') {
		q++;
	} else {
		const char *d = q;

		while (isdigit((unsigned char)*d))
			d++;
		if (d > q && (*d == 'x' || *d == 'X'))
			q = d + 1;
	}
	if (!isdigit((unsigned char)*q))
		return false;
	while (isdigit((unsigned char)*q))
		q++;
	if ((*q == '.' || *q == '_') && isdigit((unsigned char)q[1]))
		for (q++; isdigit((unsigned char)*q);)
			q++;
	if (!*q || !strchr("kmbtKMBT", *q))
		return false;
	q++;
	if (isdigit((unsigned char)*q))
		q++;
	return *q == '\0';
}

static bool re_finetune(const char *p)
{
	return strcasecmp(p, "chat") == 0 || strcasecmp(p, "instruct") == 0 ||
	       strcasecmp(p, "vision") == 0 || strcasecmp(p, "lora") == 0;
}

/* a size part normalised as llama.cpp does, and whether it is far from the
 * real parameter count (then it is a context length: part of the finetune) */
static bool normalise_size(char *part, uint64_t total)
{
	static const char units[] = " KMBT";
	size_t n = strlen(part);
	const char *unit;
	char *end;
	double v;

	for (size_t i = 0; i < n; i++)
		if (part[i] == '_')
			part[i] = '.';
	if (n >= 2 && isdigit((unsigned char)part[n - 1])) { /* bloom-7b1 -> 7.1b */
		char last = part[n - 1], u = part[n - 2];

		part[n - 2] = '.';
		part[n - 1] = last;
		part[n] = u;
		part[++n] = '\0';
	}
	if (n > 1 && isdigit((unsigned char)part[n - 2]) && strchr("kmbt", part[n - 1]))
		part[n - 1] = (char)toupper((unsigned char)part[n - 1]);
	if (total == 0)
		return false;
	/* float(part[:-1]): plain decimals only (Python rejects "8x7", "A3", hex) */
	for (size_t i = 0; i + 1 < n; i++)
		if (!isdigit((unsigned char)part[i]) && part[i] != '.')
			return false;
	v = strtod(part, &end);
	if (end != part + n - 1)
		return false;
	unit = strchr(units, part[n - 1]); /* " KMBT".find(): -1 when absent */
	v *= pow(1000.0, unit ? (double)(unit - units) : -1.0);
	if (fabs(v - (double)total) > (double)(7 * total / 8)) {
		part[n - 1] = (char)tolower((unsigned char)part[n - 1]);
		return true;
	}
	return false;
}

static char *join(char **parts, const unsigned *types, size_t n, unsigned want, unsigned not,
		  bool dedupe)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < n; i++)
		len += strlen(parts[i]) + 1;
	if (!(out = calloc(1, len)))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		if (!(types[i] & want) || (types[i] & not))
			continue;
		for (size_t j = 0; dedupe && j < i; j++)
			dup |= (types[j] & want) && !(types[j] & not) && strcmp(parts[j], parts[i]) == 0;
		if (dup)
			continue;
		if (*out)
			strcat(out, "-");
		strcat(out, parts[i]);
	}
	if (!*out) {
		free(out);
		return NULL;
	}
	return out;
}

void wp_id_parts_free(struct wp_id_parts *p)
{
	free(p->full_name);
	free(p->org);
	free(p->basename);
	free(p->finetune);
	free(p->version);
	free(p->size_label);
	memset(p, 0, sizeof(*p));
}

int wp_id_parts(const char *model_id, uint64_t total, struct wp_id_parts *out, qk_err *err)
{
	char *copy = NULL, *name, **parts = NULL;
	unsigned *types = NULL;
	size_t n = 0;
	bool at_start = true, numeric_size = false;
	const char *slash;

	memset(out, 0, sizeof(*out));
	if (!model_id)
		return QK_OK;
	if (strchr(model_id, ' ')) /* a human sentence: the name as it is */
		return (out->full_name = strdup(model_id)) ? QK_OK
			: qk_err_set(err, QK_E_NOMEM, "out of memory");
	if (!(copy = strdup(model_id)))
		goto nomem;
	name = copy;
	if ((slash = strchr(copy, '/'))) {
		copy[slash - copy] = '\0';
		if (copy[0] != '.' && !(out->org = strdup(copy)))
			goto nomem;
		name = copy + (slash - copy) + 1;
	}
	if (!(out->full_name = strdup(name)))
		goto nomem;
	parts = calloc(strlen(name) + 1, sizeof(*parts));
	types = calloc(strlen(name) + 1, sizeof(*types));
	if (!parts || !types)
		goto nomem;
	/* each part gets 2 spare bytes: the bloom rewrite grows it by one */
	for (char *tok = name, *dash; tok; tok = dash ? dash + 1 : NULL) {
		dash = strchr(tok, '-');
		if (dash)
			*dash = '\0';
		if (!*tok)
			continue;
		if (!(parts[n] = malloc(strlen(tok) + 2)))
			goto nomem;
		strcpy(parts[n++], tok);
	}
	for (size_t i = 0; i < n; i++) {
		char *part = parts[i];

		if (re_version(part)) {
			types[i] |= T_VERSION;
		} else if (re_quant(part)) {
			types[i] |= T_TYPE;
			for (char *c = part; *c; c++)
				*c = (char)toupper((unsigned char)*c);
		} else if (i > 0 && re_size(part)) {
			if (normalise_size(part, total))
				types[i] |= T_FINETUNE;
			if (!types[i])
				types[i] |= T_SIZE;
		} else if (i > 0 && re_finetune(part)) {
			types[i] |= T_FINETUNE;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (types[i] & T_SIZE)
			for (const char *c = parts[i]; *c; c++)
				numeric_size |= isdigit((unsigned char)*c) != 0;
	for (size_t i = 0; numeric_size && i < n; i++) {
		bool alpha = true;

		for (const char *c = parts[i]; *c; c++)
			alpha &= isalpha((unsigned char)*c) != 0;
		if ((types[i] & T_SIZE) && alpha)
			types[i] &= ~(unsigned)T_SIZE;
	}
	for (size_t i = 0; i < n; i++) {
		if (at_start && ((!types[i] && isalpha((unsigned char)parts[i][0])) ||
				 (types[i] & T_VERSION))) {
			types[i] |= T_BASENAME;
		} else {
			at_start = false;
			if (!types[i])
				types[i] |= T_FINETUNE;
		}
	}
	for (size_t i = n; i-- > 0;) {
		if (!(types[i] & T_BASENAME) || types[i] == T_BASENAME)
			break;
		types[i] &= ~(unsigned)T_BASENAME;
	}
	out->basename = join(parts, types, n, T_BASENAME, 0, false);
	out->size_label = join(parts, types, n, T_SIZE, 0, true);
	out->finetune = join(parts, types, n, T_FINETUNE, 0, false);
	out->version = join(parts, types, n, T_VERSION, T_BASENAME, false);
	if (!out->size_label && !out->finetune && !out->version) {
		free(out->basename);
		out->basename = NULL;
	}
	for (size_t i = 0; i < n; i++)
		free(parts[i]);
	free(parts);
	free(types);
	free(copy);
	return QK_OK;
nomem:
	for (size_t i = 0; parts && i < n; i++)
		free(parts[i]);
	free(parts);
	free(types);
	free(copy);
	wp_id_parts_free(out);
	return qk_err_set(err, QK_E_NOMEM, "out of memory reading model id '%s'", model_id);
}
