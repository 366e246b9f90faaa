/* inspect_mmproj.c - qwen-inspect on an mmproj GGUF (general.architecture
 * "clip" with a Qwen projector): the vision tower bound through the table
 * of formats/model/vision.h, its encoder and projector parameters counted
 * apart (the same split as a VL checkpoint's "vision" lines and the
 * n_params_vision / n_params_projector of --json), and its hyperparameters. */
#include "inspect.h"

#include <inttypes.h>
#include <string.h>

#include "../formats/container/gguf.h"
#include "../formats/model/vision.h"

/* Is cat an mmproj (a GGUF whose general.architecture is "clip")? */
static bool is_clip(const struct qk_catalog *cat)
{
	const struct gf_file *f = cat->format == QK_FMT_GGUF ? cat->gguf[0] : NULL;
	int64_t i = f ? gf_find_key(f, "general.architecture") : -1;

	return i >= 0 && gf_kv_type(f, i) == GF_STRING && strcmp(gf_kv_str(f, i, NULL), "clip") == 0;
}

int inspect_mmproj_open(struct vs_model *vm, const struct qk_catalog *cat, qk_err *why)
{
	struct vs_hparams vh;
	int rc;

	memset(vm, 0, sizeof(*vm));
	if (!is_clip(cat))
		return -1;
	if ((rc = vs_hparams_from_gguf(&vh, cat->gguf[0], why)))
		return rc;
	return vs_bind(vm, cat, &vh, why);
}

static const char *const family_names[VS_FAM_COUNT] = {
	[VS_FAM_QWEN2VL] = "Qwen2-VL", [VS_FAM_QWEN25VL] = "Qwen2.5-VL",
	[VS_FAM_QWEN3VL] = "Qwen3-VL / Qwen3.5",
};

void inspect_mmproj_text(FILE *f, const struct vs_model *vm)
{
	const struct vs_hparams *vh = &vm->vh;
	uint64_t enc, proj;

	vs_param_counts(vm, &enc, &proj);
	fprintf(f, "mmproj:        %s (%s vision tower, clip)\n", vs_projector_name(vh->family),
		family_names[vh->family]);
	fprintf(f, "vision:        %" PRIu64 " parameters (%zu tensors)\n", enc + proj,
		vm->m.n_vision);
	fprintf(f, "  encoder:     %" PRIu64 "\n", enc);
	fprintf(f, "  projector:   %" PRIu64 "\n", proj);
	fprintf(f, "vision hyperparameters:\n");
	fprintf(f, "  depth                    %u\n", vh->depth);
	fprintf(f, "  n_embd                   %u\n", vh->n_embd);
	fprintf(f, "  n_ff                     %u\n", vh->n_ff);
	fprintf(f, "  n_head                   %u\n", vh->n_head);
	fprintf(f, "  patch_size               %u\n", vh->patch);
	fprintf(f, "  spatial_merge_size       %u\n", vh->merge);
	fprintf(f, "  image_size               %u\n", vh->image_size);
	fprintf(f, "  projection_dim           %u\n", vh->n_embd_text);
	if (vh->n_wa_pattern)
		fprintf(f, "  n_wa_pattern             %u\n", vh->n_wa_pattern);
	if (vh->n_deepstack) {
		fprintf(f, "  deepstack blocks        ");
		for (uint32_t k = 0; k < vh->n_deepstack; k++)
			fprintf(f, " %u", vh->deepstack[k]);
		fputc('\n', f);
	}
}

void inspect_mmproj_json(cJSON *root, const struct vs_model *vm)
{
	const struct vs_hparams *vh = &vm->vh;
	uint64_t enc, proj;
	cJSON *h;

	vs_param_counts(vm, &enc, &proj);
	cJSON_AddStringToObject(root, "architecture", "clip");
	cJSON_AddStringToObject(root, "projector_type", vs_projector_name(vh->family));
	cJSON_AddNumberToObject(root, "n_params_vision", (double)(enc + proj));
	cJSON_AddNumberToObject(root, "n_params_projector", (double)proj);
	cJSON_AddNumberToObject(root, "n_vision_tensors", (double)vm->m.n_vision);
	h = cJSON_AddObjectToObject(root, "vision_hparams");
	if (!h)
		return;
	cJSON_AddNumberToObject(h, "depth", vh->depth);
	cJSON_AddNumberToObject(h, "n_embd", vh->n_embd);
	cJSON_AddNumberToObject(h, "n_ff", vh->n_ff);
	cJSON_AddNumberToObject(h, "n_head", vh->n_head);
	cJSON_AddNumberToObject(h, "patch_size", vh->patch);
	cJSON_AddNumberToObject(h, "spatial_merge_size", vh->merge);
	cJSON_AddNumberToObject(h, "image_size", vh->image_size);
	cJSON_AddNumberToObject(h, "projection_dim", vh->n_embd_text);
	cJSON_AddNumberToObject(h, "n_wa_pattern", vh->n_wa_pattern);
	cJSON *ds = cJSON_AddArrayToObject(h, "deepstack_blocks");
	for (uint32_t k = 0; ds && k < vh->n_deepstack; k++)
		cJSON_AddItemToArray(ds, cJSON_CreateNumber(vh->deepstack[k]));
}
