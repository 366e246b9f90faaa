/* fuzz_safetensors.c - libFuzzer target for the safetensors reader: the
 * input as a whole .safetensors file, checked as fuzz_catalog.h says. */
#include "../../formats/container/safetensors.h"
#include "fuzz_catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_catalog_parser(st_parse, data, size);
	return 0;
}
