/* ref_speed.c - benchmark: the reference forward pass (ref/forward.h) on the
 * protocol of llama-bench -p N -n 0, so that tests/bench/ref_bench.sh can put
 * the two side by side on the same GGUF file:
 *
 *   ref_speed [-t THREADS] [-p TOKENS] [-r REPS] MODEL
 *
 * One warm-up pass (it also brings the weights into memory, as llama-bench's
 * warm-up does), then REPS timed passes over the same TOKENS token ids
 * (a fixed pattern spread over the vocabulary, not text), each computing the
 * logits of the last position only (rf_opts.logits_from = TOKENS - 1: what
 * llama_decode computes for a prompt). Prints one line:
 *   ref_speed: T tokens, R reps, N threads, KERNEL: best B tokens/s, mean M tokens/s
 * Not a test: nothing is asserted. Exit status 0, 2 for usage, else the
 * library's code (qk_err_exit_code).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../formats/model/open.h"
#include "../../ref/forward.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int number(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || *end || end == s || *v < lo || *v > hi ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long threads = 1, T = 128, reps = 3;
	struct qk_input in;
	struct rf_opts o;
	struct rf_out out;
	double best = 0.0, sum = 0.0;
	const char *kernel = "scalar";
	int32_t *ids;
	qk_err err;
	int i, rc;

	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		unsigned long *v = !strcmp(argv[i], "-t") ? &threads : !strcmp(argv[i], "-p") ? &T
				 : !strcmp(argv[i], "-r") ? &reps : NULL;

		if (!v || number(argv[i + 1], 1, v == &threads ? 256 : 1u << 20, v))
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: ref_speed [-t THREADS] [-p TOKENS] [-r REPS] MODEL\n");
		return 2;
	}
	if (!(ids = malloc(T * sizeof(*ids))))
		return 4;
	if ((rc = qk_input_open(&in, argv[i], &err))) {
		fprintf(stderr, "ref_speed: %s\n", err.msg);
		free(ids);
		return qk_err_exit_code(rc);
	}
	for (size_t t = 0; t < T; t++)
		ids[t] = (int32_t)((t * 7919 + 13) % in.hp.n_vocab);
	rf_opts_init(&o);
	o.n_threads = (unsigned)threads;
	o.logits_from = T - 1;
	for (unsigned long r = 0; r <= reps && rc == QK_OK; r++) {
		const double t0 = now();

		if ((rc = rf_run(&in.model, ids, T, &o, &out, &err)) == QK_OK) {
			const double tps = (double)T / (now() - t0);

			if (r > 0) {  /* pass 0 is the warm-up */
				best = tps > best ? tps : best;
				sum += tps;
			}
			kernel = out.simd ? "simd" : "scalar";
			rf_out_free(&out);
		}
	}
	qk_input_close(&in);
	free(ids);
	if (rc) {
		fprintf(stderr, "ref_speed: %s\n", err.msg);
		return qk_err_exit_code(rc);
	}
	printf("ref_speed: %lu tokens, %lu reps, %lu threads, %s: best %.2f tokens/s, mean %.2f "
	       "tokens/s\n", T, reps, threads, kernel, best, sum / (double)reps);
	return 0;
}
