/* units.c - byte sizes as people type them; see units.h. */
#include "units.h"

#include <stddef.h>
#include <strings.h>

#include "io.h"

static const struct {
	const char *name;
	uint64_t mul;
} units[] = {
	{ "", 1 }, { "b", 1 },
	{ "k", 1000ull }, { "kb", 1000ull }, { "kib", 1ull << 10 },
	{ "m", 1000000ull }, { "mb", 1000000ull }, { "mib", 1ull << 20 },
	{ "g", 1000000000ull }, { "gb", 1000000000ull }, { "gib", 1ull << 30 },
	{ "t", 1000000000000ull }, { "tb", 1000000000000ull }, { "tib", 1ull << 40 },
};

/* digits at *p into *v (checked); false when there are none or they overflow */
static bool digits(const char **p, uint64_t *v, unsigned *n)
{
	*v = 0;
	*n = 0;
	for (; **p >= '0' && **p <= '9'; (*p)++, (*n)++)
		if (!qk_mul_u64(*v, 10, v) || !qk_add_u64(*v, (uint64_t)(**p - '0'), v))
			return false;
	return *n > 0;
}

bool qk_parse_size(const char *s, uint64_t *out)
{
	uint64_t whole, frac = 0, scale = 1, mul = 0, v;
	unsigned n, nf = 0;
	const char *p = s;

	if (!s || !digits(&p, &whole, &n))
		return false;
	if (*p == '.') {
		p++;
		if (!digits(&p, &frac, &nf))
			return false;
		for (unsigned i = 0; i < nf; i++)
			if (!qk_mul_u64(scale, 10, &scale))
				return false;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(p, units[i].name) == 0)
			mul = units[i].mul;
	if (mul == 0)
		return false;
	/* whole * mul + frac * mul / scale, the last a whole number of bytes */
	if (!qk_mul_u64(whole, mul, &v) || !qk_mul_u64(frac, mul, &frac) || frac % scale != 0 ||
	    !qk_add_u64(v, frac / scale, &v) || v == 0)
		return false;
	*out = v;
	return true;
}
