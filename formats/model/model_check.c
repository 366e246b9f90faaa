/* model_check.c - the values of a bound model: every matrix computable
 * (its dtype has a dequantizer) and, unless allowed, every weight finite.
 * See model.h.
 *
 * The policy for non-finite weights (NaN, +-Inf) is the same in every tool:
 * refuse (QK_E_INVALID, exit 3) naming the tensor and its first bad element,
 * unless the user asked to inspect a broken model. llama-quantize's
 * ggml_validate_row_data is the model: it refuses F32/F16/BF16 rows holding
 * a NaN or Inf, and quantized blocks whose scales are not finite; a
 * quantized row is checked here through its dequantized values, where a
 * non-finite scale always shows (0 times NaN or Inf is NaN).
 */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../base/dtype.h"
#include "../base/io.h"

/* Non-finite = exponent bits all ones. Blocks of 64 elements are tested
 * without leaving the loop early (the compiler vectorizes the OR of the tests); only
 * a block that has one is searched element by element. */
#define NF_BLOCK 64

bool qk_first_nonfinite(const float *x, uint64_t n, uint64_t *first)
{
	uint64_t i = 0;

	for (; i + NF_BLOCK <= n; i += NF_BLOCK) {
		uint32_t bad = 0;

		for (int k = 0; k < NF_BLOCK; k++) {
			uint32_t u;

			memcpy(&u, x + i + k, sizeof(u));
			bad |= (u & 0x7f800000u) == 0x7f800000u;
		}
		if (bad)
			break;
	}
	for (; i < n; i++)
		if (!isfinite(x[i])) {
			*first = i;
			return true;
		}
	return false;
}

/* little-endian elements of 2 or 4 bytes at p whose exponent field (mask)
 * is all ones */
static bool first_nonfinite_bits(const uint8_t *p, uint64_t n, int width, uint32_t mask,
				 uint64_t *first)
{
	uint64_t i = 0;

	for (; i + NF_BLOCK <= n; i += NF_BLOCK) {
		uint32_t bad = 0;

		for (int k = 0; k < NF_BLOCK; k++) {
			const uint8_t *e = p + (size_t)width * (i + (uint64_t)k);
			const uint32_t u = width == 2 ? qk_ld16(e) : qk_ld32(e);

			bad |= (u & mask) == mask;
		}
		if (bad)
			break;
	}
	for (; i < n; i++) {
		const uint8_t *e = p + (size_t)width * i;

		if (((width == 2 ? qk_ld16(e) : qk_ld32(e)) & mask) == mask) {
			*first = i;
			return true;
		}
	}
	return false;
}

int qk_first_nonfinite_raw(int dtype, const uint8_t *p, uint64_t n, uint64_t *first)
{
	switch (dtype) {
	case QK_DT_F32:
		return first_nonfinite_bits(p, n, 4, 0x7f800000u, first);
	case QK_DT_F16:
		return first_nonfinite_bits(p, n, 2, 0x7c00u, first);
	case QK_DT_BF16:
		return first_nonfinite_bits(p, n, 2, 0x7f80u, first);
	default:
		return -1;
	}
}

int qk_err_nonfinite(qk_err *err, const char *tensor, uint64_t rows, uint64_t cols, uint64_t row,
		     uint64_t col, float v)
{
	if (rows > 1)
		return qk_err_set(err, QK_E_INVALID, "tensor '%s': element %llu (row %llu, column %llu) "
				  "is %s: %s", tensor, (unsigned long long)(row * cols + col),
				  (unsigned long long)row, (unsigned long long)col,
				  isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf", QK_NONFINITE_REFUSED);
	return qk_err_set(err, QK_E_INVALID, "tensor '%s': element %llu is %s: %s", tensor,
			  (unsigned long long)col, isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf",
			  QK_NONFINITE_REFUSED);
}

/* the name a user finds in their file */
static const char *src_name(const struct qk_binding *b)
{
	return b->src && b->src->name ? b->src->name : b->gguf_name;
}

static int check_binding(const struct qk_binding *b, bool finite, float *row, qk_err *err)
{
	uint64_t at;

	if (b->f32) {
		if (finite && qk_first_nonfinite(b->f32, b->n_f32, &at))
			return qk_err_nonfinite(err, src_name(b), 1, b->n_f32, 0, at, b->f32[at]);
		return QK_OK;
	}
	for (uint64_t r = 0; r < b->view.rows; r++) {
		int rc = qk_view_read_row(&b->view, r, row, err);

		if (rc)
			return rc; /* names the tensor and its dtype */
		if (!finite)
			return QK_OK; /* computable: one row tells */
		if (qk_first_nonfinite(row, b->view.cols, &at))
			return qk_err_nonfinite(err, src_name(b), b->view.rows, b->view.cols, r, at,
						row[at]);
	}
	return QK_OK;
}

int qk_model_check_values(const struct qk_model *m, bool finite, qk_err *err)
{
	uint64_t cols = 1;
	float *row;
	int rc = QK_OK;

	for (size_t i = 0; i < m->n_bind; i++)
		if (!m->bind[i].f32 && m->bind[i].view.cols > cols)
			cols = m->bind[i].view.cols;
	if (cols > SIZE_MAX / sizeof(float) || !(row = malloc((size_t)cols * sizeof(float))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory for a row of %llu values",
				  (unsigned long long)cols);
	for (size_t i = 0; !rc && i < m->n_bind; i++)
		rc = check_binding(&m->bind[i], finite, row, err);
	free(row);
	return rc;
}
