/* fuzz_gguf.c - libFuzzer target: a GGUF file from memory (gf_parse).
 *
 * Any input must give either QK_OK with a file whose every getter stays
 * inside the input and keeps the invariants gguf.h promises, or an error
 * with a message; never a crash, a leak or undefined behaviour (built with
 * ASan/UBSan). Seeds: tests/fuzz/corpus/gguf/ (written by our writer:
 * QK_WRITE_CORPUS=tests/fuzz/corpus/gguf build/tests/test_gguf). A file that parses
 * is also read as an mmproj (vs_hparams_from_gguf, vision.h).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../formats/container/gguf.h"
#include "../../formats/model/vision.h"
#include "../../quant/qtype.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

/* touch every byte a pointer claims, so ASan sees any overrun */
static unsigned touch(const uint8_t *p, uint64_t n)
{
	unsigned s = 0;
	for (uint64_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

static void check_kvs(const struct gf_file *f)
{
	uint32_t a = gf_alignment(f);

	CHECK(a >= 1 && a <= GF_MAX_ALIGNMENT && (a & (a - 1)) == 0);
	for (int64_t i = 0; i < gf_n_kv(f); i++) {
		const char *k = gf_key(f, i);
		enum gf_type t = gf_kv_type(f, i);
		size_t len;

		CHECK(k[0] != '\0' && gf_find_key(f, k) == i);
		CHECK((unsigned)t < GF_TYPE_COUNT);
		if (t == GF_STRING) {
			const char *s = gf_kv_str(f, i, &len);
			CHECK(s[len] == '\0');
		} else if (t == GF_ARRAY) {
			enum gf_type e = gf_arr_type(f, i);
			uint64_t n = gf_arr_n(f, i);
			CHECK(e != GF_ARRAY && (unsigned)e < GF_TYPE_COUNT);
			for (uint64_t j = 0; j < n; j++) {
				if (e == GF_STRING) {
					const char *s = gf_arr_str(f, i, j, &len);
					CHECK(s[len] == '\0');
				} else if (e == GF_F32 || e == GF_F64) {
					(void)gf_arr_float(f, i, j);
				} else {
					(void)gf_arr_u64(f, i, j);
					(void)gf_arr_int(f, i, j);
				}
			}
			if (e != GF_STRING && n)
				CHECK(gf_arr_data(f, i) + n * gf_type_size(e) <= gf_bytes(f) + gf_size(f));
		} else {
			int64_t v;
			double d;
			(void)gf_kv_int(f, i, INT64_MIN, INT64_MAX, &v);
			(void)gf_kv_float(f, i, &d);
			if (t == GF_BOOL)
				(void)gf_kv_bool(f, i);
		}
	}
}

static void check_tensors(const struct gf_file *f)
{
	uint64_t expect = 0;

	CHECK(gf_data_offset(f) % gf_alignment(f) == 0);
	for (int64_t i = 0; i < gf_n_tensors(f); i++) {
		const struct qt_type *qt = qt_type_get(gf_tensor_type(f, i));
		const char *name = gf_tensor_name(f, i);
		int n_dims = gf_tensor_n_dims(f, i);
		int64_t ne[GF_MAX_DIMS];
		uint64_t n = 1, size = gf_tensor_size(f, i), a = gf_alignment(f);

		CHECK(qt != NULL && strlen(name) > 0 && strlen(name) < GF_MAX_NAME);
		CHECK(gf_find_tensor(f, name) == i);
		CHECK(n_dims >= 1 && n_dims <= GF_MAX_DIMS);
		gf_tensor_ne(f, i, ne);
		for (int j = 0; j < GF_MAX_DIMS; j++) {
			CHECK(ne[j] >= 1);
			n *= (uint64_t)ne[j];
		}
		CHECK(n == gf_tensor_n_elem(f, i) && ne[0] % qt->blck == 0);
		CHECK(size == n / qt->blck * qt->bytes);
		CHECK(gf_tensor_offset(f, i) == expect);
		CHECK(gf_tensor_data(f, i) + size <= gf_bytes(f) + gf_size(f));
		(void)touch(gf_tensor_data(f, i), size);
		expect += (size + a - 1) / a * a;
	}
	CHECK(gf_size(f) <= gf_data_offset(f) + expect);
}

/* an mmproj's clip.* keys (vision.h): hyperparameters in range, or a message */
static void check_vision(const struct gf_file *f)
{
	struct vs_hparams vh;
	qk_err err;

	qk_err_clear(&err);
	if (vs_hparams_from_gguf(&vh, f, &err) == QK_OK)
		CHECK(vh.family >= 0 && vh.family < VS_FAM_COUNT && vh.depth >= 1 &&
		      vh.depth <= VS_MAX_BLOCKS && vh.n_embd && vh.n_embd % vh.n_head == 0 &&
		      vh.n_deepstack <= VS_MAX_LIST && vh.n_mean >= 1 && vh.n_mean <= 4);
	else
		CHECK(err.code != QK_OK && err.msg[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gf_file *f;
	qk_err err;

	qk_err_clear(&err);
	if (gf_parse(&f, data, size, "fuzz.gguf", &err) == QK_OK) {
		check_kvs(f);
		check_tensors(f);
		check_vision(f);
		gf_close(f);
	} else {
		CHECK(f == NULL && err.code != QK_OK && err.msg[0] != '\0');
	}
	return 0;
}
