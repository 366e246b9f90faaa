/* inspect_open.c - open an input the way every qwen-inspect form needs it:
 * catalog, hyperparameters (config.json or GGUF keys), bound model. */
#include "inspect.h"

#include <string.h>

#include "../formats/gguf.h"
#include "../formats/outfile.h"

int inspect_open(struct inspect_input *in, const char *path, qk_err *err)
{
	int rc;

	memset(in, 0, sizeof(*in));
	rc = qk_catalog_open(&in->cat, path, err);
	if (rc)
		return rc;
	if (in->cat.format == QK_FMT_GGUF)
		rc = qk_hparams_from_gguf(&in->hp, in->cat.gguf[0], err);
	else
		rc = qk_hparams_load_config(&in->hp, in->cat.dir, err);
	if (rc)
		goto fail;
	rc = qk_model_bind(&in->model, &in->cat, &in->hp, err);
	if (rc)
		goto fail;
	in->model_bound = true;
	return QK_OK;
fail:
	inspect_close(in);
	return rc;
}

void inspect_close(struct inspect_input *in)
{
	if (in->model_bound)
		qk_model_free(&in->model);
	qk_catalog_free(&in->cat);
	memset(in, 0, sizeof(*in));
}

int inspect_emit_json(cJSON *root, qk_err *err)
{
	char *s;

	if (!root)
		return qk_err_set(err, QK_E_NOMEM, "out of memory building JSON");
	s = cJSON_Print(root);
	cJSON_Delete(root);
	if (!s)
		return qk_err_set(err, QK_E_NOMEM, "out of memory printing JSON");
	fputs(s, stdout);
	fputc('\n', stdout);
	cJSON_free(s);
	return QK_OK;
}
