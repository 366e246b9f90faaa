/* json_out.c - print a JSON document built with cJSON; see common.h. */
#include "common.h"

#include <stdio.h>

int cli_emit_json(cJSON *root, qk_err *err)
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
