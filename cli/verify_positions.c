/* verify_positions.c - qwen-verify run --positions: the three M-RoPE
 * position streams (t, h, w) of one sequence, as transformers'
 * get_rope_index returns them for a Qwen-VL prompt with image tokens.
 * See verify.h and man/qwen-verify.1. */
#include "verify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const stream_names[3] = { "t", "h", "w" };

int verify_positions_parse(const char *s, size_t T, int32_t **out, qk_err *err)
{
	int32_t *v;          /* [3, T] */
	size_t n = 0;
	int stream = 0;
	const char *p = s;

	*out = NULL;
	if (T == 0 || T > SIZE_MAX / 3 / sizeof(*v) || !(v = malloc(3 * T * sizeof(*v))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory for --positions");
	for (;;) {
		char *end;
		long x;

		while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\n')
			p++;
		if (*p == ';' || *p == '\0') {
			if (n != T)
				goto bad_count;
			if (*p == '\0' || ++stream == 3)
				break;
			p++;
			n = 0;
			continue;
		}
		errno = 0;
		x = strtol(p, &end, 10);
		if (end == p || errno || x < 0 || x > (1L << 24)) {
			free(v);
			return qk_err_set(err, QK_E_USAGE, "--positions: stream %s entry %zu '%.20s' is "
					  "not an integer in 0..%ld", stream_names[stream], n, p,
					  1L << 24);
		}
		if (n == T)
			goto bad_count;
		v[(size_t)stream * T + n++] = (int32_t)x;
		p = end;
	}
	if (stream != 2 || *p != '\0') {
		free(v);
		return qk_err_set(err, QK_E_USAGE, "--positions: %s, expected three lists "
				  "t;h;w of %zu positions each", stream == 3 ? "more than three lists"
				  : "fewer than three lists", T);
	}
	*out = v;
	return QK_OK;
bad_count:
	free(v);
	return qk_err_set(err, QK_E_USAGE, "--positions: stream %s has %s%zu positions, the "
			  "sequence has %zu tokens", stream_names[stream], n == T ? "more than " : "",
			  n, T);
}
