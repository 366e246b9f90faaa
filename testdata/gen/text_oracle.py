#!/usr/bin/env python3
"""Expected token ids for qwen-verify's text inputs (tests/cli/verify_text.sh),
from Hugging Face transformers 5.23.0 / tokenizers 0.23.3 with the Qwen3
tokenizer of testdata/models/qwen3_realvocab (its tokenizer.json and
tokenizer_config.json, chat template included):

  text  NAME  IDS   tokenizer(text)["input_ids"]: special tokens in the text
                    are parsed (what `run --text` does)
  plain NAME  IDS   tokenizer(text, split_special_tokens=True): special
                    tokens stay text (llama-perplexity's rule, what
                    perplexity and compare do with --text/--text-file)
  chat  NAME  IDS   tokenizer.apply_chat_template(messages,
                    add_generation_prompt=last turn is not the assistant's)
                    (what `--chat FILE` renders; the turns file is the input
                    column, escaped)
  chat25 NAME IDS   the same with a Qwen2.5-style template (a default system
                    turn when the chat has none): the Qwen3 tokenizer.json
                    with testdata/verify/qwen25_tokenizer_config.json, which
                    this script writes

    .venv/bin/python testdata/gen/text_oracle.py > testdata/verify/text_oracle.tsv
"""
import json
import os
import shutil
import sys
import tempfile

from transformers import AutoTokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models")

TEXTS = {
    "fixture": "The train leaves at 8:45. 今天很好。",
    "special": "a<|endoftext|>b <|im_start|>user\nhi<|im_end|>",
    "spaces": "  two  spaces\n\n\ttab\r\nend ",
}
CHATS = {
    "legs": [("user", "Legs?"), ("assistant", "Four.")],
    "prompt": [("system", "Be brief."), ("user", "Line one\nline two"),
               ("assistant", "Ok."), ("user", "And?")],
}


def esc(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


# Qwen2.5's template for plain turns (no tools): its default system turn
QWEN25 = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
    "assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if (message.role == 'user') or (message.role == 'system' and not loop.first) or "
    "(message.role == 'assistant') %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def chat_rows(kind, tok):
    for name, turns in CHATS.items():
        msgs = [{"role": r, "content": c} for r, c in turns]
        ids = tok.apply_chat_template(msgs, tokenize=True,
                                      add_generation_prompt=turns[-1][0] != "assistant")
        if isinstance(ids, dict) or hasattr(ids, "keys"):
            ids = ids["input_ids"]
        turns_file = "".join(f"{r}: {c}\n" for r, c in turns)
        print(f"{kind}\t{name}\t{esc(turns_file)}\t{','.join(map(str, ids))}")


def main():
    tok = AutoTokenizer.from_pretrained(os.path.join(ROOT, "qwen3_realvocab"))
    print("# kind\tname\tinput (escaped)\tids")
    for name, t in TEXTS.items():
        ids = tok(t)["input_ids"]
        print(f"text\t{name}\t{esc(t)}\t{','.join(map(str, ids))}")
        ids = tok(t, split_special_tokens=True)["input_ids"]
        print(f"plain\t{name}\t{esc(t)}\t{','.join(map(str, ids))}")
    chat_rows("chat", tok)
    cfg = json.load(open(os.path.join(ROOT, "qwen3_realvocab", "tokenizer_config.json")))
    cfg["chat_template"] = QWEN25
    out = os.path.join(ROOT, "..", "verify", "qwen25_tokenizer_config.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(os.path.join(ROOT, "qwen3_realvocab", "tokenizer.json"), d)
        shutil.copy(out, os.path.join(d, "tokenizer_config.json"))
        chat_rows("chat25", AutoTokenizer.from_pretrained(d))


if __name__ == "__main__":
    sys.exit(main())
