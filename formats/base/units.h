/* units.h - byte sizes as people type them, one syntax for every option that
 * takes a size (qwen-convert --shard-size and --split-max-size, ...).
 *
 *   SIZE  = NUMBER [UNIT]          no spaces, no sign
 *   NUMBER = digits [ "." digits ] (the fraction must give whole bytes)
 *   UNIT (any case) = B | K KB | M MB | G GB | T TB    powers of 1000
 *                   | KiB | MiB | GiB | TiB            powers of 1024
 *
 * "4G" is 4,000,000,000 bytes as in llama.cpp's gguf-split, "5GB" as in
 * transformers' max_shard_size, "1.5G", "500MiB" and a plain byte count
 * work too. The size must be > 0 and fit in 64 bits.
 */
#ifndef QK_UNITS_H
#define QK_UNITS_H

#include <stdbool.h>
#include <stdint.h>

/* the syntax in a few words, for messages */
#define QK_SIZE_SYNTAX "a byte count > 0, optionally with a fraction and a unit: " \
	"K, M, G, T (KB ...: powers of 1000) or KiB, MiB, GiB, TiB; e.g. 4G, 1.5GB, 500MiB"

/* true and *out set, or false (nothing written) when s is not a SIZE. */
bool qk_parse_size(const char *s, uint64_t *out);

#endif
