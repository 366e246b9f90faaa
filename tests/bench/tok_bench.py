"""The reference side of tests/bench/tok_bench.sh: encode the tokenizer
corpus with Hugging Face tokenizers 0.23.3 (one string per corpus file,
encode(text, add_special_tokens=False): single-threaded, tokenizers only
parallelizes batches; RAYON_NUM_THREADS=1 anyway) and with tiktoken 0.14.0
for Qwen1 (NFC then encode, as QWenTokenizer does), REPEAT times; prints
"NAME bytes seconds ids" per tokenizer, as tok_dump --time does.

    .venv/bin/python tests/bench/tok_bench.py REPEAT
"""
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "testdata/gen"))
import tok_corpus  # noqa: E402


def main():
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    texts = [tok_corpus.corpus_text(n) for n in tok_corpus.corpus_names()]
    nbytes = sum(len(open(os.path.join(tok_corpus.CORPUS, n), "rb").read())
                 for n in tok_corpus.corpus_names())
    table = tok_corpus.tokenizers_table()
    for name in ("qwen3", "fixture", "qwen1"):
        fn = table[name][0]
        for t in texts:  # warm up (caches, lazy initialisation)
            fn(t)
        t0 = time.perf_counter()
        n = 0
        for _ in range(repeat):
            n = sum(len(fn(t)) for t in texts)
        dt = time.perf_counter() - t0
        print("%s %d %.6f %d" % (name, nbytes * repeat, dt, n))


if __name__ == "__main__":
    main()
