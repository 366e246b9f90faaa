/* gen_synth.c - benchmark input: a synthetic checkpoint shaped like
 * Qwen2.5-0.5B (Qwen2ForCausalLM: hidden 896, 24 layers, 14 query heads and
 * 2 KV heads of 64, FFN 4864, vocab 151936, q/k/v biases, tied embeddings),
 * bf16, random weights. Written through formats/container/safetensors.h's streaming
 * writer in 1 MiB chunks, so memory stays flat whatever the size (about
 * 988 MB on disk). -m 1.5b gives Qwen2.5-1.5B's shape instead (hidden 1536,
 * 28 layers, 12 query heads and 2 KV heads of 128, FFN 8960; about 3.1 GB).
 *
 *   gen_synth [-m 0.5b|1.5b] [-l LAYERS] DIR
 *                                  writes DIR/config.json, DIR/model.safetensors
 *
 * Weights: uniform in [-0.02 sqrt 3, 0.02 sqrt 3) (standard deviation 0.02,
 * transformers' initializer_range), biases likewise, norm weights 1; the
 * generator is xorshift64* with a fixed seed, so the file is the same on
 * every run. Not committed data: `make bench` makes it under build/.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../formats/base/dtype.h"
#include "../../formats/container/safetensors.h"
#include "../../quant/fp16.h"

enum { N_VOCAB = 151936 };
#define CHUNK (1u << 19) /* bf16 values per write: 1 MiB */

/* the model shapes -m picks from (Qwen2.5 configs); the first is the default */
static const struct mshape {
	const char *name;
	int n_embd, n_head, n_head_kv, head_dim, n_ff, n_layer;
} shapes[] = {
	{ "0.5b", 896, 14, 2, 64, 4864, 24 },
	{ "1.5b", 1536, 12, 2, 128, 8960, 28 },
};

/* dimensions in the tensor table, resolved by dim() for the chosen shape */
enum { D_EMBD = 1, D_Q, D_KV, D_FF, D_VOCAB };

struct tdef {
	const char *name;    /* name (after "model.layers.N." for layer tensors) */
	int n_dims;
	uint64_t shape[2];   /* D_* codes */
	int kind;            /* 0 weight, 1 bias, 2 norm (ones) */
};

static const struct tdef layer_tensors[] = {
	{ "input_layernorm.weight", 1, { D_EMBD }, 2 },
	{ "self_attn.q_proj.weight", 2, { D_Q, D_EMBD }, 0 },
	{ "self_attn.q_proj.bias", 1, { D_Q }, 1 },
	{ "self_attn.k_proj.weight", 2, { D_KV, D_EMBD }, 0 },
	{ "self_attn.k_proj.bias", 1, { D_KV }, 1 },
	{ "self_attn.v_proj.weight", 2, { D_KV, D_EMBD }, 0 },
	{ "self_attn.v_proj.bias", 1, { D_KV }, 1 },
	{ "self_attn.o_proj.weight", 2, { D_EMBD, D_Q }, 0 },
	{ "post_attention_layernorm.weight", 1, { D_EMBD }, 2 },
	{ "mlp.gate_proj.weight", 2, { D_FF, D_EMBD }, 0 },
	{ "mlp.up_proj.weight", 2, { D_FF, D_EMBD }, 0 },
	{ "mlp.down_proj.weight", 2, { D_EMBD, D_FF }, 0 },
};

static const struct mshape *shape = &shapes[0];

static uint64_t dim(uint64_t code)
{
	switch (code) {
	case D_EMBD: return (uint64_t)shape->n_embd;
	case D_Q: return (uint64_t)shape->n_head * (uint64_t)shape->head_dim;
	case D_KV: return (uint64_t)shape->n_head_kv * (uint64_t)shape->head_dim;
	case D_FF: return (uint64_t)shape->n_ff;
	default: return N_VOCAB;
	}
}
#define N_LAYER_TENSORS (sizeof(layer_tensors) / sizeof(layer_tensors[0]))

static uint64_t rng = 0x5eed5eed12345678ull;

/* xorshift64* -> uniform in [-1, 1) */
static float uniform(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (float)((double)((rng * 0x2545f4914f6cdd1dull) >> 40) * (1.0 / 8388608.0) - 1.0);
}

static int write_config(const char *dir, int n_layer)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "gen_synth: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(f, "{\n  \"architectures\": [\"Qwen2ForCausalLM\"],\n  \"model_type\": \"qwen2\",\n"
		   "  \"hidden_act\": \"silu\",\n  \"hidden_size\": %d,\n  \"intermediate_size\": %d,\n"
		   "  \"num_attention_heads\": %d,\n  \"num_key_value_heads\": %d,\n"
		   "  \"num_hidden_layers\": %d,\n  \"vocab_size\": %d,\n"
		   "  \"max_position_embeddings\": 32768,\n  \"rms_norm_eps\": 1e-06,\n"
		   "  \"rope_theta\": 1000000.0,\n  \"tie_word_embeddings\": true,\n"
		   "  \"torch_dtype\": \"bfloat16\",\n  \"use_sliding_window\": false,\n"
		   "  \"sliding_window\": 32768,\n  \"max_window_layers\": %d,\n"
		   "  \"bos_token_id\": 151643,\n  \"eos_token_id\": 151643\n}\n",
		shape->n_embd, shape->n_ff, shape->n_head, shape->n_head_kv, n_layer, N_VOCAB, n_layer);
	if (fclose(f)) {
		fprintf(stderr, "gen_synth: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

static int declare(struct st_writer *w, const char *name, const struct tdef *t, qk_err *err)
{
	const uint64_t sh[2] = { dim(t->shape[0]), t->n_dims == 2 ? dim(t->shape[1]) : 0 };

	return st_writer_add(w, name, QK_DT_BF16, t->n_dims, sh, err);
}

/* stream one tensor's values */
static int fill(struct st_writer *w, const struct tdef *t, uint16_t *buf, qk_err *err)
{
	const float scale = 0.0346410162f; /* 0.02 sqrt 3 */
	uint64_t n = dim(t->shape[0]) * (t->n_dims == 2 ? dim(t->shape[1]) : 1);

	while (n) {
		const size_t k = n < CHUNK ? (size_t)n : CHUNK;
		int rc;

		for (size_t i = 0; i < k; i++)
			buf[i] = qt_fp32_to_bf16(t->kind == 2 ? 1.0f : scale * uniform());
		if ((rc = st_writer_write(w, buf, k * sizeof(*buf), err)))
			return rc;
		n -= k;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct tdef embd = { "model.embed_tokens.weight", 2, { D_VOCAB, D_EMBD }, 0 };
	static const struct tdef norm = { "model.norm.weight", 1, { D_EMBD }, 2 };
	struct st_writer *w = NULL;
	char path[4096], name[128];
	const char *dir;
	int n_layer = 0, rc, a = 1;
	uint16_t *buf;
	qk_err err;

	for (; a + 1 < argc && argv[a][0] == '-'; a += 2) {
		if (strcmp(argv[a], "-l") == 0) {
			char *end;
			long v = strtol(argv[a + 1], &end, 10);

			if (*end || v < 1 || v > 64) {
				fprintf(stderr, "gen_synth: -l needs 1..64, got '%s'\n", argv[a + 1]);
				return 2;
			}
			n_layer = (int)v;
		} else if (strcmp(argv[a], "-m") == 0) {
			size_t k = 0;

			while (k < sizeof(shapes) / sizeof(shapes[0]) && strcmp(shapes[k].name, argv[a + 1]))
				k++;
			if (k == sizeof(shapes) / sizeof(shapes[0])) {
				fprintf(stderr, "gen_synth: -m needs 0.5b or 1.5b, got '%s'\n", argv[a + 1]);
				return 2;
			}
			shape = &shapes[k];
		} else {
			break;
		}
	}
	if (a + 1 != argc) {
		fprintf(stderr, "usage: gen_synth [-m 0.5b|1.5b] [-l LAYERS] DIR\n");
		return 2;
	}
	dir = argv[a];
	if (!n_layer)
		n_layer = shape->n_layer;
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "gen_synth: %s: %s\n", dir, strerror(errno));
		return 4;
	}
	if (write_config(dir, n_layer))
		return 4;
	buf = malloc(CHUNK * sizeof(*buf));
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	if (!buf || (rc = st_writer_open(&w, path, &err)))
		goto fail;
	/* declare everything (the header comes first), then stream the data in
	 * the same order */
	if ((rc = declare(w, embd.name, &embd, &err)))
		goto fail;
	for (int l = 0; l < n_layer; l++)
		for (size_t i = 0; i < N_LAYER_TENSORS; i++) {
			snprintf(name, sizeof(name), "model.layers.%d.%s", l, layer_tensors[i].name);
			if ((rc = declare(w, name, &layer_tensors[i], &err)))
				goto fail;
		}
	if ((rc = declare(w, norm.name, &norm, &err)) || (rc = fill(w, &embd, buf, &err)))
		goto fail;
	for (int l = 0; l < n_layer; l++)
		for (size_t i = 0; i < N_LAYER_TENSORS; i++)
			if ((rc = fill(w, &layer_tensors[i], buf, &err)))
				goto fail;
	if ((rc = fill(w, &norm, buf, &err)))
		goto fail;
	rc = st_writer_commit(w, &err);
	w = NULL;
	if (rc)
		goto fail;
	free(buf);
	return 0;
fail:
	st_writer_abort(w);
	fprintf(stderr, "gen_synth: %s\n", buf ? err.msg : "out of memory");
	free(buf);
	return 4;
}
