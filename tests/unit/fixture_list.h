/* The golden fixtures under testdata/models/ (listed and described in
 * testdata/models/README.md, made by testdata/gen/make_fixtures.py; the trained
 * qwen3_tiny by testdata/gen/train_tiny.py). Tests
 * that run something on every fixture take their names from here;
 * test_fixtures.c fails if this list and the directories differ, so a new
 * fixture cannot be silently left out of them. */
#ifndef QK_TEST_FIXTURE_LIST_H
#define QK_TEST_FIXTURE_LIST_H

#define QK_FIXTURE_NAMES                                                            \
	"qwen1", "qwen1_5", "qwen1_5_moe", "qwen2", "qwen2_moe", "qwen2_5_yarn", "qwen3", \
		"qwen3_moe", "qwen3_next", "qwen3_realvocab", "qwen2_moe_256", "qwen3_256", \
		"qwen3_next_256", "qwen3_5", "qwen3_5_moe", "qwen3_tiny", "qwen2_5_vl",      \
		"qwen3_vl", "qwen3_vl_moe", "qwen2_vl", "qwen3_vl_256"

/* how many names QK_FIXTURE_NAMES holds (checked where it is used) */
#define QK_FIXTURE_COUNT 21

#endif
