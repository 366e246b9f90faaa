#!/usr/bin/env python3
"""Train the tiny Qwen3 of testdata/models/qwen3_tiny (see README.md there).

A Qwen3ForCausalLM of about one million parameters (hidden 256, FFN 256,
2 layers, 4 query / 2 key-value heads of 64, tied embeddings, vocabulary
1024: every matrix width a multiple of 256, so every k-quant applies),
trained with torch on the committed multilingual corpus
(testdata/tokenizer/corpus/, tok_corpus.py) minus a held-out tail of each
file that training never sees.

Tokenizer: the real Qwen3 tokenizer (testdata/models/qwen3_realvocab) cut to
its first N_RANKS = 998 BPE ranks: the 256 byte tokens and the first 742
merges (merge i makes rank 256 + i, so a merge kept never makes a rank cut
off), the same normalizer, pre-tokenizer and decoder; its 26 added tokens
renumbered after the ranks (998..1023: <|endoftext|> = 998, <|im_start|>
= 999, <|im_end|> = 1000, ...), so vocab_size is exactly 1024.

Held-out text: of each corpus file in CORPUS_FILES, the bytes from the first
newline at or after HELDOUT_FROM of its length to its end. heldout.tsv in the
model directory lists file and byte offset; the held-out text is those tails
concatenated in that order (tests/cli/verify_tiny.sh rebuilds it with
tail -c, tiny_quality.py in Python).

Determinism: seeds for the initialisation and for the batch sampler, a
fixed number of steps, torch.use_deterministic_algorithms(True), a fixed
thread count (THREADS = 2), MKL_CBWR=COMPATIBLE, ATEN_CPU_CAPABILITY=default
and ONEDNN_MAX_CPU_ISA=SSE41 (the fixtures' settings, make_fixtures.py).
Training is in fp32; the checkpoint is stored in bf16 (the fp32 reference
of every test is that bf16 checkpoint widened). The versions used are
written into expected.safetensors and printed; the sha256 of the
checkpoint is printed so a rerun can be compared (`--verify` does it).

Then, like make_fixtures.py for the random fixtures: transformers loads the
stored checkpoint in fp32 (eager attention), every parameter is compared
with the stored value, and expected.safetensors (tokens, logits, hidden
states of two sequences) is written; and heldout_ppl.tsv: transformers'
perplexity on the held-out text with llama-perplexity's protocol
(ppl_oracle.py's chunk scoring) for tests/cli/verify_tiny.sh.

usage: .venv/bin/python testdata/gen/train_tiny.py [--out DIR] [--steps N]
       [--reuse] [--verify]
(then testdata/gen/tolerances.py --bin bin testdata/models/qwen3_tiny/ adds
the golden budgets, and ppl_oracle.py rewrites testdata/verify/ppl_oracle.tsv)
"""
import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time

THREADS = 2
for k, v in (("MKL_CBWR", "COMPATIBLE"), ("ATEN_CPU_CAPABILITY", "default"),
             ("ONEDNN_MAX_CPU_ISA", "SSE41"), ("OMP_NUM_THREADS", str(THREADS)),
             ("MKL_NUM_THREADS", str(THREADS)), ("TOKENIZERS_PARALLELISM", "false"),
             ("RAYON_NUM_THREADS", "1"), ("HF_HUB_OFFLINE", "1"),
             ("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1"), ("PYTHONHASHSEED", "0")):
    os.environ[k] = v

import numpy as np  # noqa: E402
import torch  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM  # noqa: E402

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fx_tok  # noqa: E402
import fx_weights  # noqa: E402
import make_fixtures  # noqa: E402
import ppl_oracle  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.join(ROOT, "testdata", "tokenizer", "corpus")
NAME = "qwen3_tiny"
# the natural-language and code files of the corpus (the generated stress
# files - emoji, space, special, added, unicode, invalid - are left out)
CORPUS_FILES = ("en.txt", "zh.txt", "ja.txt", "ko.txt", "ar.txt", "hi.txt",
                "th.txt", "ru.txt", "code.txt", "numbers.txt")
HELDOUT_FROM = 0.9
N_RANKS = 998
VOCAB = 1024
DIMS = dict(hidden=256, ffn=256, layers=2, heads=4, kv_heads=2, head_dim=64)
CTX = 256          # training context
BATCH = 8          # sequences per step
STEPS = 120
LR, WARMUP, WD = 3e-3, 12, 0.01
SEED = 1234
# make check's perplexity oracle on the held-out text
PPL_CTX, PPL_CHUNKS = 128, 4
# expected.safetensors: sequence 0 is the first held-out line (40..100
# bytes, 16..18 tokens) at whose every position the top-1 logit leads the
# top-2 by at least make_fixtures' MIN_TOP2_REL_GAP of the largest |logit|;
# sequence 1 this turn rendered by the chat template with the generation
# prompt, thinking off (19 tokens)
SEQ_CHAT = [{"role": "user", "content": "Name a prime."}]


# ------------------------------------------------------------- tokenizer --

def build_tokenizer(d):
    """tokenizer.json / tokenizer_config.json: Qwen3's cut to N_RANKS."""
    src = os.path.join(ROOT, "testdata", "models", "qwen3_realvocab")
    with open(os.path.join(src, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    m = tj["model"]
    inv = {v: k for k, v in m["vocab"].items()}
    vocab = {inv[i]: i for i in range(N_RANKS)}
    merges = m["merges"][:N_RANKS - 256]
    for i, (a, b) in enumerate(merges):
        if vocab.get(a + b) != 256 + i or a not in vocab or b not in vocab:
            raise SystemExit(f"merge {i} {a!r} {b!r} does not make rank {256 + i}")
    m["vocab"], m["merges"] = vocab, merges
    first = tj["added_tokens"][0]["id"]
    renum = {}
    for t in tj["added_tokens"]:
        renum[t["id"]] = t["id"] - first + N_RANKS
        t["id"] = renum[t["id"]]
    if max(renum.values()) >= VOCAB:
        raise SystemExit("added tokens do not fit the vocabulary")
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8",
              newline="\n") as f:
        f.write(json.dumps(tj, ensure_ascii=False, separators=(",", ":")))
    with open(os.path.join(src, "tokenizer_config.json"), encoding="utf-8") as f:
        tc = json.load(f)
    tc["added_tokens_decoder"] = {str(renum[int(k)]): v for k, v in
                                  tc["added_tokens_decoder"].items()}
    fx_tok.write_json(os.path.join(d, "tokenizer_config.json"), tc)
    shutil.copyfile(os.path.join(src, "LICENSE"), os.path.join(d, "LICENSE"))
    return {t["content"]: t["id"] for t in tj["added_tokens"]}


def config(specials):
    h = DIMS
    return {
        "architectures": ["Qwen3ForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": specials["<|endoftext|>"],
        "eos_token_id": specials["<|im_end|>"],
        "head_dim": h["head_dim"],
        "hidden_act": "silu",
        "hidden_size": h["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": h["ffn"],
        "max_position_embeddings": 2 * CTX,
        "max_window_layers": h["layers"],
        "model_type": "qwen3",
        "num_attention_heads": h["heads"],
        "num_hidden_layers": h["layers"],
        "num_key_value_heads": h["kv_heads"],
        "rms_norm_eps": 1e-6,
        "rope_scaling": None,
        "rope_theta": 10000.0,
        "sliding_window": None,
        "tie_word_embeddings": True,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.51.0",
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": VOCAB,
    }


# ---------------------------------------------------------------- corpus --

def split_corpus():
    """[(file, offset, train bytes, held-out bytes)]: held out from the first
    newline at or after HELDOUT_FROM of each file."""
    out = []
    for f in CORPUS_FILES:
        with open(os.path.join(CORPUS, f), "rb") as fh:
            b = fh.read()
        cut = b.index(b"\n", int(len(b) * HELDOUT_FROM)) + 1
        out.append((f, cut, b[:cut], b[cut:]))
    return out


def heldout_text(split):
    return b"".join(h for _, _, _, h in split).decode("utf-8")


def train_stream(tok, split, eot):
    ids = []
    for _, _, tr, _ in split:
        ids += tok.encode(tr.decode("utf-8")).ids + [eot]
    return np.array(ids, dtype=np.int64)


# -------------------------------------------------------------- training --

def lr_at(step):
    if step < WARMUP:
        return LR * (step + 1) / WARMUP
    p = (step - WARMUP) / max(1, STEPS - WARMUP)
    return LR * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def train(d, stream, held_ids, steps):
    torch.manual_seed(SEED)
    cfg = Qwen3Config.from_pretrained(d)
    model = Qwen3ForCausalLM._from_config(cfg, attn_implementation="sdpa",
                                          dtype=torch.float32)
    model.train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    other = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD},
                             {"params": other, "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.95), eps=1e-8)
    rng = np.random.Generator(np.random.PCG64(SEED))
    x_all = torch.from_numpy(stream)
    t0, cpu0 = time.time(), time.process_time()
    for step in range(steps):
        starts = rng.integers(0, len(stream) - CTX - 1, size=BATCH)
        batch = torch.stack([x_all[s:s + CTX + 1] for s in starts])
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        logits = model(input_ids=batch[:, :-1], use_cache=False).logits
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, VOCAB), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 20 == 0 or step == steps - 1:
            print(f"  step {step:4d} loss {loss.item():.4f} lr {lr_at(step):.2e} "
                  f"wall {time.time() - t0:6.1f}s cpu {time.process_time() - cpu0:6.1f}s",
                  flush=True)
    wall, cpu = time.time() - t0, time.process_time() - cpu0
    model.eval()
    with torch.no_grad():
        n = min(32 * CTX, (len(held_ids) - 1) // CTX * CTX)
        x = torch.from_numpy(held_ids[:n + 1])
        nll = 0.0
        for s in range(0, n, CTX):
            lg = model(input_ids=x[None, s:s + CTX], use_cache=False).logits[0]
            nll += float(torch.nn.functional.cross_entropy(lg, x[s + 1:s + CTX + 1],
                                                           reduction="sum"))
        print(f"  held-out (fp32, before bf16, first {n} tokens): mean nll {nll / n:.4f}, "
              f"ppl {math.exp(nll / n):.2f}", flush=True)
    return model, wall, cpu


# ---------------------------------------------------------------- oracle --

def expected(d, tok, held):
    """expected.safetensors as make_fixtures.py writes it."""
    torch.set_num_threads(1)
    model = make_fixtures.load_fp32(d)
    from safetensors.torch import load_file
    make_fixtures.check_params(model, load_file(os.path.join(d, "model.safetensors")))
    at = AutoTokenizer.from_pretrained(d)
    chat = at.apply_chat_template(SEQ_CHAT, tokenize=False, add_generation_prompt=True,
                                  enable_thinking=False)
    lines = [ln for ln in held.split("\n") if 40 <= len(ln.encode()) <= 100]
    for cand in lines:
        ids0 = at(cand)["input_ids"]
        if not 16 <= len(ids0) <= 18:
            continue
        seqs = [(cand, ids0), (chat, at(chat)["input_ids"])]
        make_fixtures.check_lengths(NAME, seqs)
        for t, ids in seqs:
            if ids != tok.encode(t).ids:
                raise SystemExit(f"tokenizers and transformers disagree on {t!r}")
        results, routers = make_fixtures.run(model, seqs)
        st = make_fixtures.robustness(results, routers)
        # a trained model is not peaked everywhere (no median-gap rule), but
        # every argmax must be unambiguous
        if st["min_rel_gap"] >= make_fixtures.MIN_TOP2_REL_GAP:
            break
        print(f"  sequence {cand!r} rejected {st}", flush=True)
    else:
        raise SystemExit("no held-out line gives robust outputs")
    extra = {"trained_by": "testdata/gen/train_tiny.py",
             "tokenizers_version": tokenizers.__version__}
    make_fixtures.write_expected(os.path.join(d, "expected.safetensors"),
                                 {"name": NAME}, results,
                                 model.config.num_hidden_layers,
                                 model.num_parameters(), extra)
    return model, st


@torch.no_grad()
def heldout_ppl(d, model, held):
    """transformers' logits on llama-perplexity's chunks of the held-out
    text (ppl_oracle.chunk_nll), PPL_CHUNKS chunks of PPL_CTX tokens"""
    at = AutoTokenizer.from_pretrained(d)
    ids = at(held)["input_ids"]
    nll = []
    for c in range(PPL_CHUNKS):
        chunk = ids[c * PPL_CTX:(c + 1) * PPL_CTX]
        lg = model(input_ids=torch.tensor([chunk]), use_cache=False).logits[0]
        nll += ppl_oracle.chunk_nll(lg.double().numpy(), np.array(chunk), PPL_CTX)
    mean, ppl, err = ppl_oracle.summary(np.array(nll))
    with open(os.path.join(d, "heldout_ppl.tsv"), "w", encoding="utf-8",
              newline="\n") as f:
        f.write("# transformers " + transformers.__version__ + ", torch " +
                torch.__version__ + ": llama-perplexity's protocol on the held-out "
                "text (heldout.tsv), fp32\n")
        f.write("# n_ctx\tchunks\tn_tokens_text\tfirst_tokens\tnll_mean\tppl\tppl_err\n")
        first = ",".join(str(i) for i in ids[:PPL_CTX * PPL_CHUNKS])
        f.write(f"{PPL_CTX}\t{PPL_CHUNKS}\t{len(ids)}\t{first}\t{mean:.12g}\t"
                f"{ppl:.12g}\t{err:.12g}\n")
    return len(ids), mean, ppl, err


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make(out, steps, reuse=False):
    d = os.path.join(out, NAME)
    ckpt = os.path.join(d, "model.safetensors")
    reuse = reuse and os.path.exists(ckpt)
    if not reuse:
        if os.path.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    if torch.backends.cpu.get_cpu_capability() != "DEFAULT":
        raise SystemExit("ATEN_CPU_CAPABILITY=default did not take effect")
    specials = build_tokenizer(d)
    fx_tok.write_json(os.path.join(d, "config.json"), config(specials))
    tok = tokenizers.Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    split = split_corpus()
    with open(os.path.join(d, "heldout.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("# held-out tails of testdata/tokenizer/corpus/ (never trained on):"
                " file, first byte offset, bytes\n")
        for name, cut, tr, h in split:
            f.write(f"{name}\t{cut}\t{len(h)}\n")
    held = heldout_text(split)
    stream = train_stream(tok, split, specials["<|endoftext|>"])
    held_ids = np.array(tok.encode(held).ids, dtype=np.int64)
    print(f"corpus: {sum(len(t) for _, _, t, _ in split)} bytes, {len(stream)} tokens "
          f"trained on; held out {len(held.encode())} bytes, {len(held_ids)} tokens",
          flush=True)
    if reuse:
        print(f"reusing {ckpt} (not trained again)")
    else:
        model, wall, cpu = train(d, stream, held_ids, steps)
        state = {k: v.detach().to(torch.bfloat16).contiguous()
                 for k, v in model.state_dict().items() if k != "lm_head.weight"}
        fx_weights.save_single(state, ckpt)
        del model
        print(f"training: {steps} steps of {BATCH}x{CTX} tokens, wall {wall:.1f}s, "
              f"cpu {cpu:.1f}s on {THREADS} threads "
              f"({platform.processor() or platform.machine()})", flush=True)
    model, st = expected(d, tok, held)
    n, mean, ppl, err = heldout_ppl(d, model, held)
    print(f"robustness {st}")
    print(f"held-out (bf16 checkpoint, {PPL_CHUNKS} chunks of {PPL_CTX}): nll {mean:.4f} "
          f"ppl {ppl:.3f} +/- {err:.3f}; held-out text {n} tokens")
    print(f"versions: python {platform.python_version()}, torch {torch.__version__}, "
          f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}, "
          f"numpy {np.__version__}")
    print(f"model.safetensors sha256 {sha256(ckpt)}")
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "testdata", "models"))
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--reuse", action="store_true",
                    help="keep an existing model.safetensors in --out and only "
                    "rewrite the tokenizer, config and oracle files")
    ap.add_argument("--verify", action="store_true",
                    help="train into a temporary directory and compare the "
                    "checkpoint with the committed one byte for byte")
    a = ap.parse_args()
    if a.verify:
        tmp = tempfile.mkdtemp(prefix="train_tiny.")
        try:
            d = make(tmp, a.steps)
            want = os.path.join(ROOT, "testdata", "models", NAME, "model.safetensors")
            same = sha256(os.path.join(d, "model.safetensors")) == sha256(want)
            print("train_tiny: checkpoint " + ("identical" if same else "DIFFERS"))
            return 0 if same else 1
        finally:
            shutil.rmtree(tmp)
    make(a.out, a.steps, a.reuse)
    return 0


if __name__ == "__main__":
    sys.exit(main())
