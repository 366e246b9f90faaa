/* plan_split.h - where a GGUF output is cut into a llama.cpp split set
 * (gguf_split.h describes the set; this decides its files before anything is
 * written).
 *
 * The cut rule is llama.cpp's gguf-split (tools/gguf-split, split_strategy):
 * tensors stay in file order and fill a split; tensor i (not the first of its
 * split) starts a new one when
 *   - max_tensors != 0 and the split already holds max_tensors tensors, or
 *   - max_bytes != 0 and the split's data bytes plus tensor i's would pass
 *     max_bytes, each tensor counted with its padding to the GGUF alignment
 *     (32): GGML_PAD(nbytes, 32); key/values and tensor infos do not count.
 * A tensor larger than max_bytes gets a split of its own (gguf-split stops
 * with "one of splits have 0 tensors" when that tensor is the first one;
 * gguf-py's writer, which convert_hf_to_gguf.py uses, gives it its own file).
 * Both limits may be given at once (gguf-py's rule: either one cuts).
 *
 * Sizes are spelled as convert_hf_to_gguf.py's --split-max-size reads them:
 * a byte count or a whole number followed by K, M or G, powers of 1000
 * ("500M" = 500,000,000 bytes; gguf-split accepts M and G only, the same
 * values).
 *
 * Code: plan_split.c. Prefix sp_. Pure functions; nothing allocates.
 */
#ifndef QK_SPLIT_PLAN_H
#define QK_SPLIT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_ALIGNMENT 32u /* GGUF_DEFAULT_ALIGNMENT: the padding a split counts */

/* Cut n tensors of nbytes[i] bytes (unpadded) by the rule above: split_of[i]
 * gets tensor i's 0-based split. Returns the number of splits (1 when no
 * limit cuts; 0 when n is 0). A zero limit is no limit. */
size_t sp_cut(const uint64_t *nbytes, size_t n, uint64_t max_bytes, uint64_t max_tensors,
	      uint32_t *split_of);

/* The prefix of a set's file names for an output name: `out` without a
 * final ".gguf" (any case), as convert_hf_to_gguf.py names its splits
 * "<stem>-00001-of-00003.gguf"; other names are kept whole (gguf-split takes
 * its output argument as the prefix). false if the prefix would be empty or
 * does not fit in `size` bytes. */
bool sp_prefix(const char *out, char *prefix, size_t size);

#endif
