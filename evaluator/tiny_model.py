"""Build a tiny causal language model and its tokenizer on this machine, with no download.

The model is random (it scores at chance); it exists so the whole evaluation loop can run offline on a
CPU in seconds: tests, the offline demo and the bench build it at run time. This module imports torch,
tokenizers and transformers lazily and must never touch the network.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Question: What is two plus three? Answer: five",
    "Paris is the capital of France. Berlin is the capital of Germany.",
    "Water boils at one hundred degrees. Ice melts at zero degrees.",
    "A cat, a dog, a bird and a fish live in the house.",
    "Q: 1 + 1 = ? A: 2. Q: 2 + 2 = ? A: 4. Q: 3 + 4 = ? A: 7.",
    "red green blue yellow orange purple black white",
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
    "The sun rises in the east and sets in the west.",
]
_MODEL_CARD = """---
license: apache-2.0
tags: [tiny, random, offline-demo]
---
# Tiny random Llama (offline demo)

A two-layer Llama-style causal language model with a hidden size of 64 and a 400-token byte-level BPE
tokenizer, built on this machine by `python -m evaluator make-tiny-model`. Its weights are random: it
scores at chance on every task. It exists so the whole evaluation loop (submission, evaluation with
lm-eval, results, leaderboard row) can be shown and tested offline on a CPU in seconds.

Training data: none (the tokenizer was trained on a few inline sentences). Intended use: tests and demos.
"""
_CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


def build_tiny_model(folder: str | Path, seed: int = 0, hidden: int = 64, layers: int = 2) -> Path:
    """Write a tiny Llama-style model, tokenizer, chat template and model card into ``folder``; returns its path.

    The folder is created (parents too). Existing files of the same names are overwritten.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    target = Path(folder).expanduser().resolve()
    target.mkdir(parents=True, exist_ok=True)
    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(_CORPUS * 4, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    tokenizer.chat_template = _CHAT_TEMPLATE
    tokenizer.save_pretrained(target)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.save_pretrained(target)
    (target / "README.md").write_text(_MODEL_CARD, encoding="utf-8")
    log.info("tiny model written to %s", target)
    return target
