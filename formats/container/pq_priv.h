/* pq_priv.h - what the pq_*.c files share; not a public API. */
#ifndef QK_PQ_PRIV_H
#define QK_PQ_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "pq.h"

/* What one method's attach step works with. */
struct pq_ctx {
	struct qk_catalog *cat;
	const cJSON *q;       /* quantization_config */
	const char *file;     /* config.json's path, for messages */
	const char *method;   /* for messages: "gptq", ... */
	qk_err *err;
};

/* Fill a part from catalog tensor t, which must have rank 0..2 (1-D: [n, 1],
 * scalar: [1, 1]); marks t as a part. */
int pq_part_of(struct pq_ctx *c, struct qk_tensor *t, struct pq_part *p);

/* A new store (owned by the catalog) for `rows` x `cols`. */
int pq_new(struct pq_ctx *c, int kind, uint64_t rows, uint64_t cols, struct pq_store **out);

/* Integer member `key` of object o: *v (def if absent or null). QK_E_INVALID
 * for a member that is not an integer in [lo, hi]. */
int pq_cfg_int(struct pq_ctx *c, const cJSON *o, const char *key, long def, long lo, long hi,
	       long *v);
/* Boolean member (def if absent or null). */
int pq_cfg_bool(struct pq_ctx *c, const cJSON *o, const char *key, bool def, bool *v);
/* String member, or NULL if absent or null; QK_E_INVALID if not a string. */
int pq_cfg_str(struct pq_ctx *c, const cJSON *o, const char *key, const char **v);

/* Element i of a F32/F16/BF16 part as fp32. */
float pq_ld_float(const struct pq_part *p, uint64_t i);
/* Element i of an I32 part (little-endian). */
int32_t pq_ld_i32(const struct pq_part *p, uint64_t i);
/* Is dt F32, F16 or BF16? */
bool pq_is_float(int dt);

/* the methods (pq_scaled.c, pq_int.c) */
int pq_attach_fp8(struct pq_ctx *c);
int pq_attach_ct(struct pq_ctx *c);
int pq_attach_gptq(struct pq_ctx *c);
int pq_attach_awq(struct pq_ctx *c);
/* compressed-tensors float/int/naive-quantized, weights config wcfg */
int pq_attach_scaled_ct(struct pq_ctx *c, const cJSON *wcfg, bool fp8);
int pq_read_scaled(const struct pq_store *s, uint64_t row, float *out);
int pq_read_gptq(const struct pq_store *s, uint64_t row, float *out);
int pq_read_awq(const struct pq_store *s, uint64_t row, float *out);
int pq_read_packed(const struct pq_store *s, uint64_t row, float *out);

#endif
