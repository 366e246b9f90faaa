/* ref_dump.c - test-only: run the reference forward pass (ref/forward.h) on a
 * model directory and print the logits as hex, so that builds and options can
 * be compared byte for byte (tests/cli/determinism.sh).
 *
 *   ref_dump [-t THREADS] [--scalar] [--no-avx512] [--hidden] [--time] DIR [ID ...]
 *
 * Without IDs it runs every sequence tokens.0, tokens.1, ... of
 * DIR/expected.safetensors (the golden fixtures' layout). Output, per
 * sequence: "seq S T=N", then one line per position with the fp32 bit
 * patterns of the n_vocab logits as 8 hex digits each; with --hidden, then
 * one line per (stream, position) of the residual streams. --scalar turns
 * the AVX2 path off; --no-avx512 keeps the AVX2 kernels where the CPU has
 * AVX-512; --time prints tokens per second to stderr instead of the
 * hex (a quick benchmark).
 * Exit status: 0, 2 for usage errors, else qk_err_exit_code of the failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../formats/container/catalog.h"
#include "../../formats/base/dtype.h"
#include "../../formats/model/hparams.h"
#include "../../formats/model/model.h"
#include "../../formats/container/safetensors.h"
#include "../../ref/forward.h"

struct args {
	unsigned threads;
	int scalar, no_avx512, hidden, time;
	const char *dir;
	char **ids;
	int n_ids;
};

static int usage(void)
{
	fprintf(stderr, "usage: ref_dump [-t THREADS] [--scalar] [--no-avx512] [--hidden] [--time] "
		"DIR [ID ...]\n");
	return 2;
}

static void put_row(const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t u;

		memcpy(&u, &x[i], 4);
		printf(i ? " %08x" : "%08x", (unsigned)u);
	}
	putchar('\n');
}

static int run_seq(const struct qk_model *m, const struct args *a, int s, const int32_t *ids,
		   size_t T, qk_err *err)
{
	struct rf_opts o;
	struct rf_out out;
	struct timespec t0, t1;
	int rc;

	rf_opts_init(&o);
	o.n_threads = a->threads;
	o.simd = !a->scalar;
	o.no_avx512 = a->no_avx512 != 0;
	o.keep_hidden = a->hidden != 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = rf_run(m, ids, T, &o, &out, err)))
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (a->time) {
		const double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);

		fprintf(stderr, "seq %d: %zu tokens in %.3f s: %.1f tokens/s (%u threads, %s)\n", s,
			T, sec, (double)T / sec, a->threads, out.simd ? "avx2" : "scalar");
		rf_out_free(&out);
		return QK_OK;
	}
	printf("seq %d T=%zu\n", s, T);
	for (size_t t = 0; t < T; t++)
		put_row(out.logits + t * out.n_vocab, out.n_vocab);
	for (size_t i = 0; a->hidden && i < (out.n_layer + (size_t)1) * T; i++)
		put_row(out.hidden + i * out.n_embd, out.n_embd);
	rf_out_free(&out);
	return QK_OK;
}

static int parse_ids(const struct args *a, int32_t **ids, qk_err *err)
{
	*ids = malloc((size_t)a->n_ids * sizeof(**ids));
	if (!*ids)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %d token ids", a->n_ids);
	for (int i = 0; i < a->n_ids; i++) {
		char *end;
		long v;

		errno = 0;
		v = strtol(a->ids[i], &end, 10);
		if (errno || end == a->ids[i] || *end || v < INT32_MIN || v > INT32_MAX)
			return qk_err_set(err, QK_E_USAGE, "token id '%s' is not an integer", a->ids[i]);
		(*ids)[i] = (int32_t)v;
	}
	return QK_OK;
}

static int run_expected(const struct qk_model *m, const struct args *a, qk_err *err)
{
	struct qk_catalog exp;
	char path[4096], name[32];
	int rc = QK_OK, s;

	qk_catalog_init(&exp);
	snprintf(path, sizeof(path), "%s/expected.safetensors", a->dir);
	if ((rc = st_open(&exp, path, err)))
		return rc;
	for (s = 0; rc == QK_OK; s++) {
		const struct qk_tensor *t;
		int32_t *ids;

		snprintf(name, sizeof(name), "tokens.%d", s);
		if (!(t = qk_catalog_find(&exp, name)))
			break;
		if (t->dtype != QK_DT_I32 || t->n_dims != 1) {
			rc = qk_err_set(err, QK_E_INVALID, "%s: '%s' is not a 1-D I32 tensor", path, name);
			break;
		}
		ids = malloc(t->nbytes + 4);
		if (!ids) {
			rc = qk_err_set(err, QK_E_NOMEM, "out of memory for '%s'", name);
			break;
		}
		memcpy(ids, t->data, t->nbytes);
		rc = run_seq(m, a, s, ids, (size_t)t->n_elem, err);
		free(ids);
	}
	if (rc == QK_OK && s == 0)
		rc = qk_err_set(err, QK_E_USAGE, "%s: no tokens.0 and no token ids given", path);
	qk_catalog_free(&exp);
	return rc;
}

int main(int argc, char **argv)
{
	struct args a = { 1, 0, 0, 0, 0, NULL, NULL, 0 };
	struct qk_catalog cat;
	struct qk_hparams hp;
	struct qk_model m;
	qk_err err;
	int i, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(argv[++i], &end, 10);
			if (errno || *end || end == argv[i] || v < 1 || v > 256)
				return usage();
			a.threads = (unsigned)v;
		} else if (!strcmp(argv[i], "--scalar")) {
			a.scalar = 1;
		} else if (!strcmp(argv[i], "--no-avx512")) {
			a.no_avx512 = 1;
		} else if (!strcmp(argv[i], "--hidden")) {
			a.hidden = 1;
		} else if (!strcmp(argv[i], "--time")) {
			a.time = 1;
		} else {
			return usage();
		}
	}
	if (i >= argc)
		return usage();
	a.dir = argv[i++];
	a.ids = argv + i;
	a.n_ids = argc - i;
	memset(&m, 0, sizeof(m));
	if ((rc = qk_catalog_open(&cat, a.dir, &err)) == QK_OK &&
	    (rc = qk_hparams_load_config(&hp, a.dir, &err)) == QK_OK &&
	    (rc = qk_model_bind(&m, &cat, &hp, &err)) == QK_OK) {
		if (a.n_ids) {
			int32_t *ids = NULL;

			rc = parse_ids(&a, &ids, &err);
			if (rc == QK_OK)
				rc = run_seq(&m, &a, 0, ids, (size_t)a.n_ids, &err);
			free(ids);
		} else {
			rc = run_expected(&m, &a, &err);
		}
	}
	qk_model_free(&m);
	qk_catalog_free(&cat);
	if (rc) {
		fprintf(stderr, "ref_dump: error: %s\n", err.msg);
		return qk_err_exit_code(rc);
	}
	return fflush(stdout) ? 4 : 0;
}
