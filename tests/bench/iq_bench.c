/* iq_bench.c - single-thread speed of the i-quant quantizers of quant/
 * (qt_quantize_row with importance weights) on synthetic rows; compared
 * with libggml by tests/bench/iq_bench.sh. Measures only.
 *   iq_bench TYPE ROWS [FILE]   (rows of 4096; prints "TYPE rows seconds",
 *                                the thread's CPU time)
 * FILE: ROWS * 4096 float32 values then 4096 weights (what iq_bench.sh
 * also gives libggml); without it, synthetic rows and weights.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../quant/qtype.h"

#define N 4096

int main(int argc, char **argv)
{
	const struct qt_type *t = argc == 3 || argc == 4 ? qt_type_by_name(argv[1]) : NULL;
	long rows = t ? strtol(argv[2], NULL, 10) : 0;
	uint64_t bytes = 0, z = 0x9e3779b97f4a7c15ull;
	float *x, *w;
	uint8_t *y;
	struct timespec a, b;

	if (!t || rows <= 0 || !qt_has_quantizer(t) || !qt_row_bytes(t, N, &bytes)) {
		fprintf(stderr, "usage: iq_bench TYPE ROWS [FILE]\n");
		return 2;
	}
	x = malloc((size_t)rows * N * sizeof *x);
	w = malloc(N * sizeof *w);
	y = malloc(bytes);
	if (!x || !w || !y)
		return 4;
	if (argc == 4) {
		FILE *f = fopen(argv[3], "rb");

		if (!f || fread(x, sizeof *x, (size_t)rows * N, f) != (size_t)rows * N ||
		    fread(w, sizeof *w, N, f) != N) {
			fprintf(stderr, "iq_bench: cannot read %ld rows and the weights from %s\n",
				rows, argv[3]);
			if (f)
				fclose(f);
			return 4;
		}
		fclose(f);
	} else {
		for (long i = 0; i < rows * N; i++) {   /* sum of 4 uniforms, scaled */
			float s = 0;

			for (int k = 0; k < 4; k++) {
				z = z * 6364136223846793005ull + 1442695040888963407ull;
				s += (float)(z >> 40) / (float)(1 << 24) - 0.5f;
			}
			x[i] = s * 0.02f;
		}
		for (int i = 0; i < N; i++) {
			z = z * 6364136223846793005ull + 1442695040888963407ull;
			w[i] = 0.1f + (float)(z >> 40) / (float)(1 << 24);
		}
	}
	qt_quantize_row(t, x, y, N, w);  /* builds the grid maps once, untimed */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (long r = 0; r < rows; r++)
		qt_quantize_row(t, x + r * N, y, N, w);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	printf("%s %ld %.4f\n", t->name, rows,
	       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9);
	free(x);
	free(w);
	free(y);
	return 0;
}
