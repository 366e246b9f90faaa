/* fuzz_config.c - libFuzzer target: config.json text from memory.
 *
 * Any input must give either QK_OK with hyperparameters that keep the
 * invariants hparams.h promises, or an error with a message; never a crash,
 * a leak or undefined behaviour (built with ASan/UBSan).
 * The same text is read as a VL config's vision part and as a
 * preprocessor_config.json (vs_hparams_from_config, vision.h).
 * Seeds: tests/fuzz/corpus/config/ (written by tests/unit/test_config.c).
 */
#include <stddef.h>
#include <stdint.h>

#include "../../formats/model/hparams.h"
#include "../../formats/model/vision.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct qk_hparams *hp)
{
	if (hp->arch < 0 || hp->arch >= QK_ARCH_COUNT || hp->n_layer == 0 ||
	    hp->n_layer > QK_MAX_LAYERS || hp->n_head == 0 || hp->n_head_kv == 0 ||
	    hp->n_head % hp->n_head_kv || hp->head_dim == 0 || hp->n_rot == 0 ||
	    hp->n_rot % 2 || hp->n_rot > hp->head_dim || hp->n_embd == 0 || hp->n_vocab == 0 ||
	    hp->n_expert_used > hp->n_expert || hp->n_expert > QK_MAX_EXPERTS ||
	    !(hp->norm_eps > 0) || !(hp->rope_theta > 0) || !(hp->rope.factor >= 1))
		__builtin_trap();
	for (uint32_t i = hp->n_layer; i < QK_MAX_LAYERS; i++)
		if (hp->layer_flags[i])
			__builtin_trap();
}

static void check_vision(const char *text, size_t size)
{
	struct vs_hparams vh;
	qk_err err;

	if (vs_hparams_from_config(&vh, text, size, "config.json", text, size,
				   "preprocessor_config.json", &err) == QK_OK) {
		if (vh.family < 0 || vh.family >= VS_FAM_COUNT || !vh.depth ||
		    vh.depth > VS_MAX_BLOCKS || !vh.n_head || vh.n_embd % vh.n_head ||
		    vh.temporal_patch != 2 || vh.n_deepstack > VS_MAX_LIST ||
		    vh.n_fullatt > VS_MAX_LIST || !vh.has_norm || vh.n_mean > 4)
			__builtin_trap();
		for (uint32_t i = 0; i < vh.n_deepstack; i++)
			if (vh.deepstack[i] >= vh.depth)
				__builtin_trap();
	} else if (err.msg[0] == '\0' || err.code == QK_OK) {
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qk_hparams hp;
	qk_err err;

	if (qk_hparams_from_config(&hp, (const char *)data, size, "config.json", &err) == QK_OK)
		check(&hp);
	else if (err.msg[0] == '\0' || err.code == QK_OK)
		__builtin_trap();
	check_vision((const char *)data, size);
	return 0;
}
