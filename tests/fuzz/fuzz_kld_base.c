/* fuzz_kld_base.c - libFuzzer target for the llama-perplexity KL-divergence
 * base file reader (formats/container/kld_base.h).
 *
 * Parses the input from memory. On success the sizes must add up to the
 * input's length, every token must be below n_vocab, and every decoded
 * log-probability of the first and last record must be finite. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../formats/container/kld_base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kb_file f;
	qk_err err;

	if (kb_parse(&f, data, size, "fuzz", &err) == QK_OK) {
		const size_t n_tok = (size_t)f.n_chunk * f.n_ctx;
		const size_t n_rec = (size_t)f.n_chunk * f.n_scored;
		float *lp = malloc(f.n_vocab * sizeof(float));

		if (!lp || KB_HEADER_BYTES + 4 * n_tok + n_rec * f.rec_bytes != size)
			abort();
		for (size_t i = 0; i < n_tok; i++)
			if (f.tokens[i] < 0 || (uint32_t)f.tokens[i] >= f.n_vocab)
				abort();
		kb_decode(&f, 0, lp);
		kb_decode(&f, n_rec - 1, lp);
		for (size_t k = 0; k < f.n_vocab; k++)
			if (!isfinite(lp[k]))
				abort();
		free(lp);
		kb_close(&f);
	} else if (err.msg[0] == '\0') {
		abort();
	}
	return 0;
}
