/* hf_priv.h - what hf_export.c, hf_write.c and hf_config.c share; not a
 * public API (see hf_export.h). */
#ifndef QK_HF_PRIV_H
#define QK_HF_PRIV_H

#include "hf_export.h"

/* The config.json key that switches attention biases off for an arch
 * ("qkv_bias", "attention_bias"), or NULL when the class always has them
 * (Qwen1's c_attn, Qwen2). */
const char *hx_bias_key(int arch);

#endif
