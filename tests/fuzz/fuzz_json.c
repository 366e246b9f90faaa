/* fuzz_json.c - libFuzzer target: the JSON reader (formats/base/json.h).
 *
 * Any input must give either QK_OK with a tree (which is then printed and
 * re-read: the printed text must pass the same rules) or an error with a
 * message; never a crash, a leak or undefined behaviour (ASan/UBSan).
 * Seeds: tests/fuzz/corpus/json/ and the config/ and st_index/ corpora.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *root, *again;
	qk_err err;
	char *text;
	int rc;

	rc = qk_json_parse((const char *)data, size, "fuzz.json", 0, &root, &err);
	if (rc != QK_OK) {
		if (root || err.msg[0] == '\0' || err.code != rc)
			__builtin_trap();
		return 0;
	}
	if (!root)
		__builtin_trap();
	/* what cJSON prints from an accepted tree is accepted again */
	text = cJSON_PrintUnformatted(root);
	if (text) {
		if (qk_json_parse(text, strlen(text), "printed", 0, &again, &err) == QK_E_INVALID)
			__builtin_trap();
		cJSON_Delete(again);
		free(text);
	}
	cJSON_Delete(root);
	return 0;
}
