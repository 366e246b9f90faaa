/* qkg_recipes.c - the edge-case and fp16/bf16 input recipes of
 * testdata/quant/large.qkg, bit for bit those of
 * testdata/gen/quant/quant_large.py (edge_values, half_bits; the comments
 * there define them). Test helper; declared in qkg.h.
 */
#include "qkg.h"

#include <math.h>
#include <string.h>

/* kind 5, legacy rounding ties: anchor A, count R, offset O, has_min
 * (Q4_0, Q5_0, Q8_0, Q4_1, Q5_1) */
static const struct { int64_t a, r, o; int has_min; } halves[5] = {
	{ -16, 16, -15, 0 }, { -32, 32, -31, 0 }, { 254, 254, -253, 0 },
	{ 30, 15, 1, 1 }, { 62, 31, 1, 1 },
};

#define EDGE_KINDS 10
#define EPS_BITS 0x26901d7dU /* 1e-15f, ggml's GROUP_MAX_EPS */

static float edge_value(uint64_t seed, uint64_t i)
{
	const uint64_t zb = qkg_splitmix64(seed, 4 * (i >> 8));
	const int mode = (int)(zb & 3);
	const int mirror = mode == 1 && ((i >> 4) & 1);
	const uint64_t s = mirror ? i - 16 : i;
	const int64_t p = (int64_t)(s & 15);
	const uint64_t zg = qkg_splitmix64(seed, 4 * (s >> 4) + 1);
	const uint64_t zq = qkg_splitmix64(seed, 4 * (s >> 5) + 3);
	const uint64_t z = mode == 0 ? zb : zg;
	const int kind = (int)((z >> 8) % EDGE_KINDS);
	const int neg = (int)((z >> 24) & 1) ^ mirror;
	const int64_t r = (int64_t)(z >> 32);
	const uint64_t u = qkg_splitmix64(seed, 4 * s + 2);
	const int64_t big_e = (int64_t)((zb >> 16) % 48) - 24;
	int64_t e = mode == 0 ? big_e : big_e + (int64_t)(zq % 5) - 2;
	int64_t m = 0, c, b;
	float x;

	switch (kind) {
	case 0: /* zero */
		break;
	case 1: /* const */
		m = 1 + r % 255;
		break;
	case 2: /* outlier */
		m = p == r % 16 ? (1 << 16) + (int64_t)(u % (1 << 16)) :
		    ((r >> 8) & 1) ? 0 : (int64_t)(u % 3) - 1;
		break;
	case 3: /* repeat */
		m = ((int64_t)(u % 3) - 1) * (1 + r % 64);
		break;
	case 4: /* grid */
		b = 1 + r % 8;
		m = (int64_t)(u % ((uint64_t)1 << b)) - ((int64_t)1 << (b - 1));
		break;
	case 5: /* halves */
		c = r % 5;
		m = p == 0 ? halves[c].a : (p == 1 && halves[c].has_min) ? 0 :
		    2 * (int64_t)(u % (uint64_t)halves[c].r) + halves[c].o;
		e -= 1;
		break;
	case 6: /* tiny */
		if (r & 1) {
			m = (int64_t)(u % 1024);
			e = -149 + (r >> 1) % 32;
		} else if (p == 0) {
			const uint32_t bits = (uint32_t)((int64_t)EPS_BITS + (r >> 1) % 3 - 1);

			memcpy(&x, &bits, sizeof(x));
			return neg ? -x : x;
		} else {
			m = (int64_t)(u % (1 << 20));
			e = -70;
		}
		break;
	case 7: /* huge */
		switch (r % 3) {
		case 0: m = 4080 + (int64_t)(u % 16); e = 4; break;
		case 1: m = 4095 - (int64_t)(u % 4); e = 4 + (r >> 2) % 8; break;
		default: m = (1 << 23) + (int64_t)(u % (1 << 23)); e = 80 + (r >> 2) % 24; break;
		}
		break;
	case 8: /* signtie */
		c = 1 + r % 128;
		m = ((u >> 1) % 4 == 0) ? 0 : (u & 1) ? c : -c;
		break;
	default: /* wide */
		m = (int64_t)(u % (1 << 20)) - (1 << 19);
		break;
	}
	/* |m| < 2^24 and e >= -149 with m < 1024 there: exact in float */
	x = ldexpf((float)m, (int)e);
	return neg ? -x : x;
}

void qkg_edge_values(uint64_t seed, uint64_t first, uint64_t n, float *x)
{
	for (uint64_t t = 0; t < n; t++)
		x[t] = edge_value(seed, first + t);
}

void qkg_half_bits(uint64_t seed, bool bf16, uint64_t first, uint64_t n, uint16_t *h)
{
	for (uint64_t t = 0; t < n; t++) {
		const uint64_t i = first + t;
		const uint64_t zb = qkg_splitmix64(seed, 2 * (i >> 8));
		const uint64_t u = qkg_splitmix64(seed, 2 * i + 1);
		const uint64_t sign = (u >> 20) & 1, few = (zb >> 8) & 1;
		uint64_t ex, man;

		if (!bf16) {
			ex = zb % 27 + u % 5;
			man = few ? ((u >> 8) & 0xf) << 6 : (u >> 8) & 0x3ff;
			h[t] = (uint16_t)(sign << 15 | ex << 10 | man);
		} else {
			ex = zb % 250 + u % 5;
			man = few ? ((u >> 8) & 0xf) << 3 : (u >> 8) & 0x7f;
			h[t] = (uint16_t)(sign << 15 | ex << 7 | man);
		}
	}
}
