/* loadable.c - warnings that predict a GGUF file llama.cpp cannot load; see
 * common.h. Printed by every tool that writes GGUF, whatever -q says: a file
 * that will not load is never a detail. */
#include "common.h"

#include "../formats/model/arch.h"
#include "../formats/model/model.h"

void cli_warn_unloadable(const struct qk_model *m)
{
	const struct qk_hparams *hp = &m->hp;
	const char *arch = qk_arch_gguf_name(hp->arch);

	/* llama.cpp's MoE archs build every layer with a router */
	for (uint32_t l = 0; hp->n_expert && l < hp->n_layer; l++)
		if (!(hp->layer_flags[l] & QK_LAYER_MOE)) {
			cli_warn("layer %u is a dense layer of a %s model: llama.cpp cannot load "
				 "this file (every %s layer must be MoE)", (unsigned)l, arch, arch);
			break;
		}
	/* llama.cpp 0.3.36 sizes the Gated DeltaNet state with one head width */
	if (hp->ssm_n_k_heads && hp->ssm_head_k_dim != hp->ssm_head_v_dim)
		cli_warn("linear attention key heads are %u wide and value heads %u: llama.cpp "
			 "cannot load this file (its loader assumes equal widths)",
			 (unsigned)hp->ssm_head_k_dim, (unsigned)hp->ssm_head_v_dim);
}
