#!/usr/bin/env python3
"""Split GGUF sets written by gguf-py, llama.cpp's own Python package, for
formats/container/gguf_split.c to read (tests/unit/test_gguf_split.c).

  write DIR   gguf-py's GGUFWriter (split_max_tensors) writes a tiny Qwen3
              model as two split sets:
                DIR/tiny-0000K-of-00003.gguf  split_max_tensors=5: 5, 5, 3 tensors
                DIR/meta-0000K-of-00003.gguf  small_first_shard=True,
                    split_max_tensors=7: the first file holds only the
                    key/values, then 7 and 6 tensors
              and, when llama_cpp (llama-cpp-python) is importable, loads
              both sets through llama.cpp's model loader (from the first
              file) and checks its parameter count.
  names       prints llama.cpp's llama_split_path / llama_split_prefix
              results for the cases test_gguf_split.c checks gs_split_path
              and gs_parse_name against.

The model (mirrored in test_gguf_split.c): qwen3, 1 layer, n_embd 8,
n_head 2, n_head_kv 1, head_dim 4, n_ff 16, vocab 16; tensors in the order of
TENSORS, all F32; element j of tensor k (flat, row-major) is
((7*j + 13*k) % 101 - 50) / 64.

Needs the project's .venv-ggml (gguf 0.19.0, numpy, llama-cpp-python 0.3.36
built from source). Not run by make check; the files it wrote are committed
under testdata/gguf/split/.
"""
import os
import sys

import numpy as np
from gguf import GGUFWriter

N_EMBD, N_HEAD, N_HEAD_KV, HEAD_DIM, N_FF, N_VOCAB = 8, 2, 1, 4, 16, 16

# (GGUF name, numpy shape = rows..., cols); the GGUF ne is the reverse
TENSORS = [
    ("token_embd.weight", (N_VOCAB, N_EMBD)),
    ("output_norm.weight", (N_EMBD,)),
    ("blk.0.attn_norm.weight", (N_EMBD,)),
    ("blk.0.attn_q.weight", (N_HEAD * HEAD_DIM, N_EMBD)),
    ("blk.0.attn_k.weight", (N_HEAD_KV * HEAD_DIM, N_EMBD)),
    ("blk.0.attn_v.weight", (N_HEAD_KV * HEAD_DIM, N_EMBD)),
    ("blk.0.attn_output.weight", (N_EMBD, N_HEAD * HEAD_DIM)),
    ("blk.0.attn_q_norm.weight", (HEAD_DIM,)),
    ("blk.0.attn_k_norm.weight", (HEAD_DIM,)),
    ("blk.0.ffn_norm.weight", (N_EMBD,)),
    ("blk.0.ffn_gate.weight", (N_FF, N_EMBD)),
    ("blk.0.ffn_up.weight", (N_FF, N_EMBD)),
    ("blk.0.ffn_down.weight", (N_EMBD, N_FF)),
]

SETS = [
    # (prefix, GGUFWriter split arguments)
    ("tiny", dict(split_max_tensors=5)),
    ("meta", dict(split_max_tensors=7, small_first_shard=True)),
]


def data(k, shape):
    n = int(np.prod(shape))
    j = np.arange(n, dtype=np.int64)
    v = ((7 * j + 13 * k) % 101 - 50).astype(np.float32) / np.float32(64)
    return v.reshape(shape)


def write(out, prefix, split_args):
    # GGUFWriter names the files "<stem>-%05d-of-%05d.gguf" from this path
    w = GGUFWriter(os.path.join(out, prefix + ".gguf"), "qwen3", **split_args)
    w.add_name("split oracle")
    w.add_block_count(1)
    w.add_context_length(64)
    w.add_embedding_length(N_EMBD)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_key_length(HEAD_DIM)
    w.add_value_length(HEAD_DIM)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_file_type(0)
    # a minimal BPE vocabulary, only so that llama.cpp's loader accepts the
    # files: tokens "a".."p", one merge
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list([chr(ord("a") + i) for i in range(N_VOCAB)])
    w.add_token_types([1] * N_VOCAB)
    w.add_token_merges(["a b"])
    for k, (name, shape) in enumerate(TENSORS):
        w.add_tensor(name, data(k, shape))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def llama_check(out, prefix):
    try:
        import llama_cpp
    except ImportError:
        print("llama_cpp not importable: llama.cpp load check skipped")
        return
    llama_cpp.llama_backend_init()
    first = os.path.join(out, prefix + "-00001-of-00003.gguf").encode()
    params = llama_cpp.llama_model_default_params()
    model = llama_cpp.llama_model_load_from_file(first, params)
    if not model:
        sys.exit(f"llama.cpp could not load {first.decode()}")
    n = llama_cpp.llama_model_n_params(model)
    want = sum(int(np.prod(s)) for _, s in TENSORS)
    llama_cpp.llama_model_free(model)
    if n != want:
        sys.exit(f"llama.cpp: {n} parameters, expected {want}")
    print(f"llama.cpp loaded {prefix} set: {n} parameters")


NAME_CASES = [("/m/ggml-model-q4_0", 2, 4), ("x", 1, 1), ("a/b.c", 3, 12), ("p", 65535, 65535)]


def names():
    import ctypes

    import llama_cpp
    buf = ctypes.create_string_buffer(512)
    for prefix, no, count in NAME_CASES:
        # llama_split_path takes the 0-based split number
        n = llama_cpp.llama_split_path(buf, 512, prefix.encode(), no - 1, count)
        path = buf.value.decode()
        m = llama_cpp.llama_split_prefix(buf, 512, path.encode(), no - 1, count)
        print(f"{prefix}\t{no}\t{count}\t{path}\t{n}\t{buf.value.decode()}\t{m}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        os.makedirs(sys.argv[2], exist_ok=True)
        for prefix, args in SETS:
            write(sys.argv[2], prefix, args)
        for prefix, _ in SETS:
            llama_check(sys.argv[2], prefix)
    elif len(sys.argv) == 2 and sys.argv[1] == "names":
        names()
    else:
        sys.exit("usage: split_oracle.py write DIR | names")


if __name__ == "__main__":
    main()
