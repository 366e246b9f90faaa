/* blocks.h - ggml quant blocks, one struct per block exactly as on disk.
 *
 * All multi-byte fields are little-endian; d/m/dmin fields are IEEE binary16
 * bit patterns (quant/fp16.h), except Q8_K's d, which is an fp32. The structs
 * have no padding (each size is asserted), so an array of blocks in a file is
 * an array of these structs on a little-endian host, the only kind we build
 * for. Which bits hold which element is described at each struct; the
 * authority is ggml's ggml-common.h / ggml-quants.c.
 */
#ifndef QT_BLOCKS_H
#define QT_BLOCKS_H

#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "quant/blocks.h: the block structs assume a little-endian host"
#endif

#define QT_QK4_0 32
#define QT_QK4_1 32
#define QT_QK5_0 32
#define QT_QK5_1 32
#define QT_QK8_0 32
/* the k-quants use super-blocks of QT_QK_K = 256 elements (qtype.h) */
#define QT_K_SCALE_SIZE 12 /* packed 6-bit scales and mins of Q4_K / Q5_K */

/* Q4_0: x = (q - 8) * d. qs[j]: element j in the low nibble, j+16 high. */
struct qt_block_q4_0 {
	uint16_t d;
	uint8_t qs[QT_QK4_0 / 2];
};
_Static_assert(sizeof(struct qt_block_q4_0) == 18, "block_q4_0 is 18 bytes");

/* Q4_1: x = q * d + m. Nibbles as Q4_0. */
struct qt_block_q4_1 {
	uint16_t d;
	uint16_t m;
	uint8_t qs[QT_QK4_1 / 2];
};
_Static_assert(sizeof(struct qt_block_q4_1) == 20, "block_q4_1 is 20 bytes");

/* Q5_0: x = (q - 16) * d. Low 4 bits as Q4_0; bit 4 of element j is bit j
 * of the little-endian 32-bit word qh. */
struct qt_block_q5_0 {
	uint16_t d;
	uint8_t qh[4];
	uint8_t qs[QT_QK5_0 / 2];
};
_Static_assert(sizeof(struct qt_block_q5_0) == 22, "block_q5_0 is 22 bytes");

/* Q5_1: x = q * d + m. Bits as Q5_0. */
struct qt_block_q5_1 {
	uint16_t d;
	uint16_t m;
	uint8_t qh[4];
	uint8_t qs[QT_QK5_1 / 2];
};
_Static_assert(sizeof(struct qt_block_q5_1) == 24, "block_q5_1 is 24 bytes");

/* Q8_0: x = qs[j] * d. */
struct qt_block_q8_0 {
	uint16_t d;
	int8_t qs[QT_QK8_0];
};
_Static_assert(sizeof(struct qt_block_q8_0) == 34, "block_q8_0 is 34 bytes");

/* Q2_K: 16 sub-blocks of 16. scales[j]: low nibble scale, high nibble min of
 * sub-block j; x = d * (sc & 15) * q - dmin * (sc >> 4). In each 128-element
 * half h, qs[32h + l] holds elements 128h + l + 32k in bits 2k..2k+1. */
struct qt_block_q2_K {
	uint8_t scales[16];
	uint8_t qs[64];
	uint16_t d;
	uint16_t dmin;
};
_Static_assert(sizeof(struct qt_block_q2_K) == 84, "block_q2_K is 84 bytes");

/* Q3_K: 16 sub-blocks of 16 with 6-bit signed scales (stored +32) packed
 * in 12 bytes; low 2 bits of each quant as Q2_K; bit j/32 of hmask[j % 32]
 * set means "no -4". x = d * (s - 32) * (low2 - (hbit ? 0 : 4)). */
struct qt_block_q3_K {
	uint8_t hmask[32];
	uint8_t qs[64];
	uint8_t scales[12];
	uint16_t d;
};
_Static_assert(sizeof(struct qt_block_q3_K) == 110, "block_q3_K is 110 bytes");

/* Q4_K: 8 sub-blocks of 32 with 6-bit scale and min (get_scale_min_k4
 * packing). qs[32c + l]: element 64c + l low nibble, 64c + l + 32 high.
 * x = d * sc * q - dmin * m. */
struct qt_block_q4_K {
	uint16_t d;
	uint16_t dmin;
	uint8_t scales[QT_K_SCALE_SIZE];
	uint8_t qs[128];
};
_Static_assert(sizeof(struct qt_block_q4_K) == 144, "block_q4_K is 144 bytes");

/* Q5_K: as Q4_K plus a 5th bit: bit 2c of qh[l] for element 64c + l,
 * bit 2c+1 for 64c + l + 32. */
struct qt_block_q5_K {
	uint16_t d;
	uint16_t dmin;
	uint8_t scales[QT_K_SCALE_SIZE];
	uint8_t qh[32];
	uint8_t qs[128];
};
_Static_assert(sizeof(struct qt_block_q5_K) == 176, "block_q5_K is 176 bytes");

/* Q6_K: 16 sub-blocks of 16, int8 scales; 6-bit quants stored +32 as a low
 * nibble in ql and 2 high bits in qh (see q_kquants_high.c). x = d * sc * (q - 32). */
struct qt_block_q6_K {
	uint8_t ql[128];
	uint8_t qh[64];
	int8_t scales[16];
	uint16_t d;
};
_Static_assert(sizeof(struct qt_block_q6_K) == 210, "block_q6_K is 210 bytes");

/* Q8_K: an intermediate of ggml's dot products, never in files. d is fp32;
 * bsums[i] is the sum of qs[16i .. 16i+15]. x = d * qs[j]. */
struct qt_block_q8_K {
	float d;
	int8_t qs[256];
	int16_t bsums[16];
};
_Static_assert(sizeof(struct qt_block_q8_K) == 292, "block_q8_K is 292 bytes");

#endif
