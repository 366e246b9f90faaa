/* inspect_stats.h - qwen-inspect --stats: per-tensor statistics. */
#ifndef CLI_INSPECT_STATS_H
#define CLI_INSPECT_STATS_H

#include "inspect.h"
#include "../ref/tstats.h"

/* Stats of one tensor's values widened to fp32. Returns false (and sets
 * *why) when this build cannot turn its dtype into numbers. */
bool inspect_tensor_stats(const struct qk_tensor *t, struct ts_stats *s, const char **why);
/* Why a dtype has no statistics (F8: "a floating-point format qwenkit does
 * not decode (F8)"). */
const char *inspect_why_not(int dtype);

int inspect_stats_text(const struct qk_input *in, const char *pattern, qk_err *err);
int inspect_stats_json(const struct qk_input *in, const char *pattern, cJSON *root,
		       qk_err *err);

#endif
