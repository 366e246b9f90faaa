/* fuzz_pt.c - libFuzzer target for the PyTorch checkpoint reader (pt.h):
 * the input as a whole .bin file (zip + restricted unpickler), checked as
 * fuzz_catalog.h says. */
#include "../../formats/container/pt.h"
#include "fuzz_catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_catalog_parser(pt_parse, data, size);
	return 0;
}
