/* fuzz_recipe.c - libFuzzer target: a YAML recipe (formats/plan/recipe.h) from
 * memory. Any input gives QK_OK or an error with a message; never a crash,
 * a leak or undefined behaviour (built with ASan/UBSan). On success every
 * rule is matched against a sample tensor, to exercise the matcher too.
 * Seeds: tests/fuzz/corpus/recipe/. */
#include <stddef.h>
#include <stdint.h>

#include "../../formats/plan/recipe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rc_recipe r;
	qk_err err;
	struct rc_subject s = { 0 };

	if (rc_parse(&r, (const char *)data, size, "fuzz.yaml", &err) != QK_OK) {
		if (err.msg[0] == '\0')
			__builtin_trap(); /* an error must say what failed */
		return 0;
	}
	s.name = "blk.3.ffn_down.weight";
	s.role = "ffn_down";
	s.layer = 3;
	(void)rc_match(&r, &s, 8);
	rc_free(&r);
	return 0;
}
