/* model_cases.c - corrupt model inputs; see corrupt.h. */
#include "corrupt.h"

static const struct cc_case cases[] = {
	{ 0 }
};

const struct cc_table cc_model_cases = { cases, 0 };
