/* tok_unicode.c - UTF-8 decoding and NFC for the encoder; see tok_unicode.h.
 *
 * NFC follows UAX #15: full canonical decomposition (Hangul by arithmetic),
 * canonical ordering of each run of non-starters by combining class (a
 * stable sort), then canonical composition, where a character composes with
 * the last starter unless a character of the same or a higher class, or a
 * starter, stands between them. Every table entry carries the version that
 * added it: normalizing "as Unicode 9.0" ignores the newer ones, which is
 * what an implementation built on 9.0 data does (code points unassigned in
 * 9.0 have class 0 and no decomposition there).
 */
#include "tok_unicode.h"

/* ---- UTF-8 ---- */

size_t tk_utf8_next(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint8_t b = s[0];
	uint32_t c;
	size_t need;
	uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf) {
		need = 1;
		c = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		need = 2;
		c = b & 0x0f;
		if (b == 0xe0)
			lo = 0xa0;   /* no overlong forms */
		else if (b == 0xed)
			hi = 0x9f;   /* no surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		need = 3;
		c = b & 0x07;
		if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f;   /* nothing above U+10FFFF */
	} else {
		*cp = 0xfffd;
		return 1;
	}
	for (size_t k = 1; k <= need; k++) {
		uint8_t t = k < n ? s[k] : 0;
		uint8_t tl = k == 1 ? lo : 0x80, th = k == 1 ? hi : 0xbf;
		if (k >= n || t < tl || t > th) {
			*cp = 0xfffd;
			return k;   /* the maximal subpart: the bytes before the bad one */
		}
		c = (c << 6) | (t & 0x3f);
	}
	*cp = c;
	return need + 1;
}

size_t tk_utf8_put(uint8_t *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | (cp >> 12));
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | (cp >> 18));
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* ---- lookups ---- */

static unsigned ccc_of(uint32_t cp, int version)
{
	size_t lo = 0, hi = tk_uc_n_ccc;

	if (!(tk_uc_class(cp) & TK_UC_NFC))
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t mcp = tk_uc_ccc[mid] >> 8;
		if (mcp == cp)
			return tk_uc_ccc_age[mid] <= version ? (tk_uc_ccc[mid] & 0xff) : 0;
		if (mcp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static const struct tk_uc_decomp *decomp_of(uint32_t cp, int version)
{
	size_t lo = 0, hi = tk_uc_n_decomp;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tk_uc_decomp[mid].cp == cp)
			return tk_uc_decomp[mid].age <= version ? &tk_uc_decomp[mid] : NULL;
		if (tk_uc_decomp[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Hangul (UAX #15 3.12) */
enum {
	H_SBASE = 0xac00, H_LBASE = 0x1100, H_VBASE = 0x1161, H_TBASE = 0x11a7,
	H_LCOUNT = 19, H_VCOUNT = 21, H_TCOUNT = 28, H_NCOUNT = H_VCOUNT * H_TCOUNT,
	H_SCOUNT = H_LCOUNT * H_NCOUNT,
};

/* the composite of (a, b), or 0 */
static uint32_t compose(uint32_t a, uint32_t b, int version)
{
	size_t lo = 0, hi = tk_uc_n_comp;

	if (a - H_LBASE < H_LCOUNT && b - H_VBASE < H_VCOUNT)
		return H_SBASE + ((a - H_LBASE) * H_VCOUNT + (b - H_VBASE)) * H_TCOUNT;
	if (a - H_SBASE < H_SCOUNT && (a - H_SBASE) % H_TCOUNT == 0 && b > H_TBASE &&
	    b - H_TBASE < H_TCOUNT)
		return a + (b - H_TBASE);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct tk_uc_comp *c = &tk_uc_comp[mid];
		if (c->first == a && c->second == b)
			return c->age <= version ? c->composite : 0;
		if (c->first < a || (c->first == a && c->second < b))
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* ---- NFC ---- */

size_t tk_nfc_room(size_t n)
{
	return n * 4 + 4; /* the longest canonical decomposition is 4 code points */
}

size_t tk_nfc(const uint32_t *cp, size_t n, uint32_t *out, size_t out_room, int version)
{
	size_t m = 0, starter, w;
	unsigned last;

	if (out_room < tk_nfc_room(n))
		return (size_t)-1;
	/* decompose */
	for (size_t i = 0; i < n; i++) {
		uint32_t c = cp[i];
		const struct tk_uc_decomp *d;

		if (c - H_SBASE < H_SCOUNT) {
			uint32_t s = c - H_SBASE;
			out[m++] = H_LBASE + s / H_NCOUNT;
			out[m++] = H_VBASE + (s % H_NCOUNT) / H_TCOUNT;
			if (s % H_TCOUNT)
				out[m++] = H_TBASE + s % H_TCOUNT;
		} else if ((tk_uc_class(c) & TK_UC_NFC) && (d = decomp_of(c, version))) {
			for (unsigned k = 0; k < d->len; k++)
				out[m++] = tk_uc_decomp_pool[d->off + k];
		} else {
			out[m++] = c;
		}
	}
	/* canonical ordering: insertion sort of each run of non-starters */
	for (size_t i = 1; i < m; i++) {
		uint32_t c = out[i];
		unsigned cc = ccc_of(c, version);
		size_t j = i;

		if (!cc)
			continue;
		while (j > 0) {
			unsigned pc = ccc_of(out[j - 1], version);
			if (pc <= cc)
				break;
			out[j] = out[j - 1];
			j--;
		}
		out[j] = c;
	}
	if (m == 0)
		return 0;
	/* compose in place: w is the write position, starter the last starter */
	starter = 0;
	last = ccc_of(out[0], version);
	if (last)
		last = 256; /* no starter yet: nothing may compose with out[0] */
	w = 1;
	for (size_t i = 1; i < m; i++) {
		uint32_t c = out[i], comp;
		unsigned cc = ccc_of(c, version);

		comp = (last < cc || last == 0) ? compose(out[starter], c, version) : 0;
		if (comp) {
			out[starter] = comp;
			continue;
		}
		if (cc == 0)
			starter = w;
		last = cc;
		out[w++] = c;
	}
	return w;
}
