/* open.c - catalog + hyperparameters + binding in one call; see open.h. */
#include "open.h"

#include <stdio.h>
#include <string.h>

/* GGUF MoE models: layers holding dense FFN tensors and no router are dense
 * (the keys cannot say so; see open.h). */
static void gguf_dense_layers(struct qk_hparams *hp, const struct qk_catalog *cat)
{
	char name[64];

	if (cat->format != QK_FMT_GGUF || hp->n_expert == 0)
		return;
	for (uint32_t l = 0; l < hp->n_layer; l++) {
		snprintf(name, sizeof(name), "blk.%u.ffn_gate_inp.weight", l);
		if (qk_catalog_find(cat, name))
			continue;
		snprintf(name, sizeof(name), "blk.%u.ffn_gate.weight", l);
		if (qk_catalog_find(cat, name))
			hp->layer_flags[l] &= (uint8_t)~QK_LAYER_MOE;
	}
}

int qk_input_open(struct qk_input *in, const char *path, qk_err *err)
{
	int rc;

	memset(in, 0, sizeof(*in));
	rc = qk_catalog_open(&in->cat, path, err);
	if (rc)
		return rc;
	if (in->cat.format == QK_FMT_GGUF) {
		rc = qk_hparams_from_gguf(&in->hp, in->cat.gguf[0], err);
		if (rc == QK_OK)
			gguf_dense_layers(&in->hp, &in->cat);
	} else {
		rc = qk_hparams_load_config(&in->hp, in->cat.dir, err);
	}
	if (rc == QK_OK)
		rc = qk_model_bind(&in->model, &in->cat, &in->hp, err);
	if (rc) {
		qk_input_close(in);
		return rc;
	}
	in->bound = true;
	return QK_OK;
}

void qk_input_close(struct qk_input *in)
{
	if (!in)
		return;
	if (in->bound)
		qk_model_free(&in->model);
	qk_catalog_free(&in->cat);
	memset(in, 0, sizeof(*in));
}
