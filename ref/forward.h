/* forward.h - the deterministic fp32 reference forward pass.
 *
 * rf_run runs one token sequence (prefill: T tokens at positions 0..T-1, no
 * cache, no padding) through a bound model (formats/model/model.h) of any of the
 * six Qwen architectures and returns the logits at every position and,
 * optionally, the residual stream after every layer. The math is that of the
 * transformers modeling files (ref/README.md, "The math"), computed entirely in fp32 on weights widened
 * (f16/bf16) or dequantized (ggml types) exactly to fp32, one matrix row at a
 * time through the model's matrix views: no fp32 copy of a large matrix is
 * made, and every weight row is read once per layer for all T tokens.
 *
 * Numerics (ref/README.md, "Numerics contract"): the result is a pure function of (model bytes,
 * tokens): the same bits for any thread count, any -O level, and with the
 * AVX2 path on or off. Dot products use the canonical order of dot.h; every
 * other reduction has one written order (RMS and L2 sums are canonical dot
 * products; softmax sums, attention-weighted sums and the MoE combine run in
 * index order: key position, expert id); threads split output elements only;
 * transcendentals come from mathfn.h.
 *
 * Semantics follow Hugging Face transformers 5.x run in fp32 with eager
 * attention, plus Qwen1's remote code:
 *  - RoPE: rotate-half, full or partial (partial_rotary_factor); default,
 *    linear, dynamic NTK (recomputed from T when T > max_position_embeddings)
 *    and YaRN with the current semantics (explicit factor wins, after
 *    transformers PR #40320);
 *  - Qwen1's dynamic NTK and logn attention are the identity up to
 *    seq_length tokens; longer inputs are refused (QK_E_UNSUPPORTED), not
 *    approximated;
 *  - MoE: fp32 softmax over all experts, top-k (ties to the lower expert id),
 *    optional renormalisation, the routed outputs added in expert-id order,
 *    then the shared expert scaled by the sigmoid of its gate;
 *  - Gated DeltaNet in its recurrent form (exactly equivalent to the chunked
 *    prefill of transformers up to rounding);
 *  - MTP (Qwen3-Next, Qwen3.5; run only with rf_opts.mtp): the multi-token
 *    prediction head speculative decoding drafts with. transformers loads
 *    but never runs it; this follows llama.cpp's qwen35 graph_mtp (and
 *    vLLM's): for t < T - 1, with h[t] the main model's final normed
 *    hidden state at t and e = the token embedding of tokens[t + 1],
 *      u[t] = mtp_fc . [norm_emb(e) | norm_hid(h[t])]      (concat, 2 n_embd)
 *      v = MTP layer n_layer (full attention, causal over MTP positions
 *          0..t, RoPE at position t; then its FFN) applied to u
 *      mtp_logits[t] = output . mtp_norm(v[t])
 *    so row t predicts token t + 2 (the one after the token the main model
 *    predicts at t, when that prediction is tokens[t + 1]);
 *
 * Errors: QK_E_USAGE for T == 0, a token id out of range (the message names
 * the position, the id and n_vocab), a thread count out of range;
 * QK_E_UNSUPPORTED for a matrix dtype with no conversion to fp32 and for Qwen1
 * inputs longer than seq_length with dynamic NTK or logn attention on;
 * QK_E_INVALID for a model whose bound tensors disagree with its
 * hyperparameters; QK_E_NOMEM.
 */
#ifndef RF_FORWARD_H
#define RF_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../formats/base/err.h"
#include "../formats/model/model.h"

/* One matrix multiply of the pass, as an observer sees it (qwen-verify
 * imatrix collects its input statistics from these): y = W[row0 .. row0 +
 * n_rows) x for T input rows x [T, cols]. w is the weight's view, one of the
 * model's bindings' (b is NULL), or for a one-row fp32 role that the pass
 * dots directly (the shared-expert gate) w is NULL and b its binding. */
struct rf_mm {
	const struct qk_view *w;
	const struct qk_binding *b;
	uint64_t row0;
	size_t n_rows;
	const float *x;       /* [T, cols] */
	size_t T, cols;
};
typedef void (*rf_mm_fn)(void *user, const struct rf_mm *mm);

struct rf_opts {
	unsigned n_threads;   /* 1 .. 256; 0 means 1 */
	bool keep_hidden;     /* fill rf_out.hidden */
	bool simd;            /* use the AVX2 (and AVX-512) path when the CPU has it
			       * (same bits) */
	bool no_avx512;       /* with simd: the AVX2 kernels even where the CPU has
			       * AVX-512 (same bits; tests compare the paths) */
	bool mtp;             /* also run the MTP head (rf_out.mtp_logits) */
	const int32_t *positions; /* [3, T] M-RoPE position streams t, h, w as
			       * transformers' get_rope_index gives them (image
			       * tokens), each 0 .. 2^24; NULL: text positions
			       * 0 .. T-1 in every stream. Only for archs with
			       * M-RoPE sections, not with mtp */
	size_t logits_from;   /* logits only for positions logits_from .. T-1 (the
			       * output head is skipped for the others; every
			       * computed value is the same bits); < T */
	rf_mm_fn on_matmul;   /* called before every matrix multiply with T >= 1,
			       * on the calling thread; NULL: none */
	void *on_matmul_user;
};

/* n_threads 1, keep_hidden false, simd true, logits_from 0 */
void rf_opts_init(struct rf_opts *o);

struct rf_out {
	size_t n_tokens;      /* T */
	uint32_t n_vocab;     /* hp.n_vocab */
	uint32_t n_embd;
	uint32_t n_layer;     /* hp.n_layer (MTP layers excluded) */
	size_t logits_from;   /* the first position with logits (rf_opts) */
	float *logits;        /* [T - logits_from, n_vocab], owned: row t holds
			       * position logits_from + t */
	float *hidden;        /* [n_layer + 1, T, n_embd] or NULL, owned: [0] is the
			       * embedding output, [l + 1] the residual stream after
			       * layer l, before the final norm */
	bool simd;            /* whether the AVX2 path ran */
	float *mtp_logits;    /* [T - 1, n_vocab] or NULL, owned: with rf_opts.mtp,
			       * row t is the MTP head's prediction for token t + 2
			       * from token t + 1 and the final normed hidden state
			       * at t (see "MTP" above) */
};

/* Run tokens[0..T-1] through m (QK_E_USAGE when o->logits_from >= T). On
 * success *out holds the results (release with rf_out_free); on failure *out
 * is left empty. */
int rf_run(const struct qk_model *m, const int32_t *tokens, size_t T,
	   const struct rf_opts *o, struct rf_out *out, qk_err *err);

/* M-RoPE (Qwen3.5, Qwen2-VL, Qwen3-VL): which position stream (0 = t, 1 = h, 2 = w) rotary pair
 * i (of n_rot / 2) takes its position from: interleaved, pair i is h when
 * i % 3 == 1 and i < 3 * sections[1], w when i % 3 == 2 and i < 3 *
 * sections[2], else t (transformers' Qwen3_5TextRotaryEmbedding); chunked,
 * the first sections[0] pairs are t, the next sections[1] h, then w. 0 for
 * every pair when all sections are 0. Text tokens have one position in all three
 * streams, so the pass uses it for every pair: plain partial NeoX RoPE
 * (test_qwen35.c checks both against transformers). */
int rf_mrope_stream(const struct qk_hparams *hp, size_t i);

/* Free the arrays of *out and empty it; accepts NULL and an empty out. */
void rf_out_free(struct rf_out *out);

#endif
