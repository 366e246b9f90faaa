"""Tokenizer files for the golden fixtures.

One small byte-level BPE vocabulary is trained once with the `tokenizers`
library on the corpus below and shared by every small-vocabulary fixture:

  tokenizer.json         HF form (NFC, Qwen2 split regex then ByteLevel
                         without its own regex, ByteLevel decoder), the three
                         Qwen special tokens appended after the regular ones
  tokenizer_config.json  Qwen2Tokenizer, ChatML chat template
  qwen.tiktoken          Qwen1 form: `base64(token bytes) rank` per line,
                         rank = token id, regular tokens only

The corpus is our own text, a few languages, digits, code and emoji, so the
merges cover multi-byte UTF-8 and the pre-tokenizer's digit and punctuation
rules.
"""

import base64
import json
import os

from tokenizers import Regex, Tokenizer, decoders, models, normalizers
from tokenizers import pre_tokenizers, processors, trainers

# The Qwen2/Qwen3 pre-tokenizer pattern, as in the real tokenizer.json.
QWEN_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
                r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Qwen1's remote tokenizer knows 205 more special names after the three
# above; they take the ids right after them.
QWEN1_EXTRAS = 205
# Regular (non-special) tokens in the small vocabulary: 256 bytes + merges.
N_REGULAR = 445

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content']"
    " + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

CORPUS = [
    "The weather report for the coast said rain in the morning and sun "
    "in the afternoon, so the fishermen waited at the harbour until noon.",
    "She counted the boxes twice: 12 red ones, 7 blue ones and 31 green "
    "ones, which made 50 in total, and then she wrote the number down.",
    "A model reads the tokens one by one, and every layer adds a little "
    "more to the residual stream before the final norm and the head.",
    "Der Zug nach Berlin fährt um 8:45 Uhr ab, aber heute hat er "
    "zwanzig Minuten Verspätung, weil es in der Nacht geschneit hat.",
    "Les enfants jouent dans le jardin pendant que leurs parents "
    "préparent le dîner; il fera beau demain, dit la météo.",
    "El mercado abre a las nueve y cierra a las dos; los domingos "
    "está cerrado, pero el café de la esquina siempre está abierto.",
    "今天的天气很好，我们去公园散步，然后在湖边喝茶。",
    "这个模型很小，但是它的每一层都要算得非常准确。",
    "東京の駅はとても大きくて、朝はいつも人が多いです。",
    "Москва и Петербург соединены скоростным поездом, и поездка "
    "занимает около четырёх часов.",
    "def add(a, b):\n    return a + b\n\nfor i in range(10):\n    "
    "print(add(i, i * 2))\n",
    "int main(void) { int x = 3; if (x > 2) { return x * 7; } return 0; }",
    "Prices: $3.50, €4.20, ¥380 and 99% of the time it's fine; "
    "we'll see, they're sure I'd agree, you've got it.",
    "Emoji in text 🙂🚀 and symbols like → ≤ ≥ ∑ are rare but real.",
    "Numbers 0 1 2 3 4 5 6 7 8 9 10 100 1000 2024 3.14159 are split "
    "into single digits by the pre-tokenizer.",
    "The cat sat on the mat. The dog sat on the log. The bird sat on "
    "the branch and sang a short song in the morning light.",
    "How many legs does a spider have? It has eight legs, while an ant "
    "has six and a cat has four; a snake has none at all.",
    "The library opens at nine. Readers return their books at the desk, "
    "and the librarian stamps the date on the last page of each one.",
    "Wir haben gestern Abend lange über das neue Projekt gesprochen und "
    "beschlossen, morgen früh mit der Arbeit anzufangen.",
    "我们明天早上八点在学校门口见面，然后一起去图书馆看书。",
    "Quand le soleil se couche sur la mer, les bateaux rentrent au port "
    "et les mouettes se posent sur les toits.",
]

# Token sequences for expected outputs. The second one goes through the chat
# template, so it carries <|im_start|>, <|im_end|> as special tokens.
SEQ_PLAIN = ("The train to Berlin leaves at 8:45, but today it is late. "
             "今天天气很好。")
SEQ_CHAT = [
    {"role": "user", "content": "How many legs does a cat have?"},
    {"role": "assistant", "content": "A cat has 4 legs."},
]


def _new_tokenizer(model):
    tok = Tokenizer(model)
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_PATTERN), behavior="isolated",
                             invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False,
                                 use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False,
                                     trim_offsets=False, use_regex=False)
    tok.post_processor = processors.ByteLevel(add_prefix_space=False,
                                              trim_offsets=False,
                                              use_regex=False)
    return tok


def train_small():
    """Train the shared small BPE; returns a tokenizers.Tokenizer whose
    regular tokens are ids 0..N_REGULAR-1 and specials follow."""
    tok = _new_tokenizer(models.BPE(dropout=None, unk_token=None,
                                    fuse_unk=False, byte_fallback=False))
    trainer = trainers.BpeTrainer(
        vocab_size=N_REGULAR, min_frequency=2, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[])
    tok.train_from_iterator(CORPUS, trainer=trainer)
    if tok.get_vocab_size() != N_REGULAR:
        raise SystemExit(f"bpe: trained {tok.get_vocab_size()} tokens, "
                         f"expected {N_REGULAR}: enlarge the corpus")
    tok.add_special_tokens(SPECIALS)
    return tok


def _bytes_to_unicode():
    """GPT-2's byte <-> printable-character map used by ByteLevel."""
    keep = (list(range(ord("!"), ord("~") + 1))
            + list(range(ord("¡"), ord("¬") + 1))
            + list(range(ord("®"), ord("ÿ") + 1)))
    chars = keep[:]
    n = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return dict(zip(keep, (chr(c) for c in chars)))


def token_bytes(tok):
    """Regular tokens' raw bytes by id (specials excluded)."""
    inv = {c: b for b, c in _bytes_to_unicode().items()}
    out = {}
    for s, i in tok.get_vocab(with_added_tokens=False).items():
        out[i] = bytes(inv[c] for c in s)
    return out


def write_hf(tok, dirpath, eos):
    """tokenizer.json and tokenizer_config.json for a Qwen2-style fixture."""
    tok.save(os.path.join(dirpath, "tokenizer.json"), pretty=True)
    added = {}
    for i, s in enumerate(SPECIALS):
        added[str(N_REGULAR + i)] = {
            "content": s, "lstrip": False, "normalized": False,
            "rstrip": False, "single_word": False, "special": True}
    cfg = {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": added,
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "bos_token": None,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": eos,
        "errors": "replace",
        "model_max_length": 32768,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }
    write_json(os.path.join(dirpath, "tokenizer_config.json"), cfg)


def write_qwen1(tok, dirpath):
    """qwen.tiktoken and a Qwen1 tokenizer_config.json."""
    tb = token_bytes(tok)
    lines = [base64.b64encode(tb[i]).decode("ascii") + " " + str(i)
             for i in range(N_REGULAR)]
    with open(os.path.join(dirpath, "qwen.tiktoken"), "w",
              encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    cfg = {
        "auto_map": {"AutoTokenizer": ["tokenization_qwen.QWenTokenizer",
                                       None]},
        "chat_template": CHAT_TEMPLATE,
        "model_max_length": 8192,
        "tokenizer_class": "QWenTokenizer",
    }
    write_json(os.path.join(dirpath, "tokenizer_config.json"), cfg)


def qwen1_encode(tok, text):
    """Encode as Qwen1's remote tokenizer does (tiktoken, NFC, specials
    allowed), with the specials right after the regular tokens."""
    import tiktoken
    import unicodedata
    tb = token_bytes(tok)
    ranks = {tb[i]: i for i in range(N_REGULAR)}
    names = SPECIALS + [f"<|extra_{i}|>" for i in range(QWEN1_EXTRAS)]
    special = {s: N_REGULAR + i for i, s in enumerate(names)}
    enc = tiktoken.Encoding("qwen1_fixture", pat_str=QWEN_PATTERN,
                            mergeable_ranks=ranks, special_tokens=special)
    return enc.encode(unicodedata.normalize("NFC", text),
                      allowed_special="all")


def write_json(path, obj):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")
