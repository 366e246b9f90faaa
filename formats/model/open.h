/* open.h - open any model input the way every tool needs it: the catalog
 * (catalog.h: a directory, .safetensors, shard index, .gguf or split set),
 * the hyperparameters (config.json beside safetensors, or the GGUF keys),
 * and the bound model (model.h).
 *
 * GGUF files cannot state which layers of an MoE model are dense (transformers'
 * mlp_only_layers / decoder_sparse_step): a layer of a GGUF MoE model that has
 * dense FFN tensors (blk.N.ffn_gate.weight) and no router
 * (blk.N.ffn_gate_inp.weight) is taken as dense before binding.
 *
 * Ownership: everything is owned by the qk_input until qk_input_close.
 */
#ifndef QK_OPEN_H
#define QK_OPEN_H

#include <stdbool.h>

#include "../container/catalog.h"
#include "../base/err.h"
#include "hparams.h"
#include "model.h"

struct qk_input {
	struct qk_catalog cat;
	struct qk_hparams hp;
	struct qk_model model;
	bool bound;            /* model is bound (false only after a failed open) */
};

/* Open `path`. On failure everything is released and the error names the
 * file, tensor or key. */
int qk_input_open(struct qk_input *in, const char *path, qk_err *err);
/* For listing any valid container (qwen-inspect): like qk_input_open, but
 * when the container reads fine and is not a Qwen model at all (a bare
 * .safetensors or a LoRA adapter without config.json, a config.json or GGUF
 * of an architecture the tables do not know, a GGUF without tensors such as
 * a vocabulary-only file), the input still opens with
 * in->bound false, in->hp zeroed and *why saying what the Qwen view lacks.
 * An input that names a Qwen architecture and is not a valid model of it
 * fails as in qk_input_open (*err), as do errors of the container itself. */
int qk_input_open_any(struct qk_input *in, const char *path, qk_err *why, qk_err *err);
/* Release; accepts NULL and a zeroed input. */
void qk_input_close(struct qk_input *in);

#endif
