/* plan_split.c - cutting a GGUF output into a split set; see plan_split.h. */
#include "plan_split.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* nbytes padded to the alignment, saturating (a size near 2^64 cannot be a
 * tensor, but the sum must not wrap) */
static uint64_t padded(uint64_t n)
{
	return n > UINT64_MAX - (SP_ALIGNMENT - 1) ? UINT64_MAX
						   : (n + SP_ALIGNMENT - 1) / SP_ALIGNMENT * SP_ALIGNMENT;
}

size_t sp_cut(const uint64_t *nbytes, size_t n, uint64_t max_bytes, uint64_t max_tensors,
	      uint32_t *split_of)
{
	uint64_t cur = 0, count = 0;
	uint32_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t b = padded(nbytes[i]);
		/* cur + b > max_bytes, without wrapping */
		bool cut = count > 0 &&
			   ((max_tensors && count >= max_tensors) ||
			    (max_bytes && (b > max_bytes || cur > max_bytes - b)));

		if (cut) {
			k++;
			cur = 0;
			count = 0;
		}
		cur = cur > UINT64_MAX - b ? UINT64_MAX : cur + b;
		count++;
		split_of[i] = k;
	}
	return n ? (size_t)k + 1 : 0;
}

bool sp_prefix(const char *out, char *prefix, size_t size)
{
	size_t n = strlen(out), k = strlen(".gguf");

	if (n > k && strcasecmp(out + n - k, ".gguf") == 0)
		n -= k;
	if (n == 0 || n >= size || out[n - 1] == '/')
		return false;
	memcpy(prefix, out, n);
	prefix[n] = '\0';
	return true;
}
