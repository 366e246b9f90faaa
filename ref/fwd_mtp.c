/* fwd_mtp.c - the multi-token prediction head of Qwen3-Next and Qwen3.5
 * (forward.h, "MTP"): one extra full-attention decoder layer fed with the
 * next token's embedding and the main model's final normed hidden state.
 *
 * Shapes: T tokens in, T - 1 MTP positions; n = T - 1, E = n_embd.
 *   e  [n, E]   token embeddings of tokens[1..T-1]
 *   hn [n, E]   norm_hid(h[0..T-2])
 *   u  [n, 2E]  [norm_emb(e) | hn] per row
 *   x  [n, E]   mtp_fc . u, then the MTP layer (residual stream)
 *   logits [n, n_vocab] = output . mtp_norm(x)
 */
#include <stdlib.h>
#include <string.h>

#include "fwd_priv.h"

int rf_mtp_stage(struct rf_ctx *c, const int32_t *tokens, const float *h, struct rf_bufs *bf,
		 float *logits, qk_err *err)
{
	const size_t T = c->T, n = T - 1, E = c->hp->n_embd, V = c->hp->n_vocab;
	const int head = c->m->tied ? QK_R_TOKEN_EMBD : QK_R_OUTPUT;
	const int layer = (int)c->hp->n_layer; /* the first MTP layer */
	float *u = rf_floats(n, 2 * E);        /* [n, 2E] */
	float *hn = rf_floats(n, E);           /* [n, E] */
	int rc;

	if (!u || !hn) {
		free(u);
		free(hn);
		return qk_err_set(err, QK_E_NOMEM, "out of memory for the MTP head of %zu tokens", T);
	}
	c->T = n;
	/* bf->a holds h [T, E]: normalise its first n rows before reusing it */
	if ((rc = rf_norm_rows(c, QK_R_MTP_NORM_HID, -1, h, hn, err)) ||
	    (rc = rf_embed(c, tokens + 1, bf->x, err)) ||
	    (rc = rf_norm_rows(c, QK_R_MTP_NORM_EMB, -1, bf->x, bf->y, err)))
		goto out;
	for (size_t t = 0; t < n; t++) {
		memcpy(u + t * 2 * E, bf->y + t * E, E * sizeof(float));
		memcpy(u + t * 2 * E + E, hn + t * E, E * sizeof(float));
	}
	if ((rc = rf_linear(c, QK_R_MTP_FC, QK_ROLE_COUNT, -1, u, 2 * E, bf->x, E, err)) ||
	    (rc = rf_layer_pass(c, bf, layer, err)) ||
	    (rc = rf_norm_rows(c, QK_R_MTP_NORM, -1, bf->x, bf->a, err)))
		goto out;
	rc = rf_linear(c, head, QK_ROLE_COUNT, -1, bf->a, E, logits, V, err);
out:
	if (rc)
		qk_err_prefix(err, "MTP head");
	c->T = T;
	free(u);
	free(hn);
	return rc;
}
