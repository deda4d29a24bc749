"""Stage 3: the ranker — a linear score over the feature table, loaded once.

Two kinds (``llm.pick``): ``HAND``, set by hand (the default), and ``learned``: a
conditional-logit model (softmax over one question's candidates) fitted by
``bench/train_pick.py`` on labelled dev data and shipped as ``pick.json`` beside this file —
plain numbers, no pickle. The fitted weights did not beat the hand ones on any held-out set
(a manual, a chat and an encyclopedia reward different columns; docs/evaluation.md), so they
are the baseline a new feature must beat rather than the default. Each kind has two models:
``cheap`` ranks every candidate without a neural signal and picks the shortlist the encoder
sees; ``full`` ranks that shortlist with the question–sentence similarity added.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from memcli.answer.features import CHEAP, FULL

MODEL_FILE = Path(__file__).with_name("pick.json")
HAND = {"overlap": 1.0, "similarity": 1.0, "context": 0.35, "type": 0.3, "retrieval": 0.25, "pair": -0.1}


@dataclass(frozen=True)
class Linear:
    names: tuple[str, ...]
    weights: np.ndarray  # one per name
    mean: np.ndarray
    scale: np.ndarray

    def score(self, X: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
        if names != self.names:
            raise ValueError(f"feature columns {names} do not match the model's {self.names}")
        if len(X) == 0:
            return np.zeros(0, dtype=np.float32)
        return ((X - self.mean) / self.scale) @ self.weights

    def contributions(self, x: np.ndarray) -> dict[str, float]:
        """What each column added to one candidate's score (``--explain``)."""
        return {n: round(float(v), 4) for n, v in zip(self.names, (x - self.mean) / self.scale * self.weights)}

    def to_dict(self) -> dict:
        return {"features": list(self.names), "weights": [round(float(w), 6) for w in self.weights],
                "mean": [round(float(v), 6) for v in self.mean], "scale": [round(float(v), 6) for v in self.scale]}

    @classmethod
    def from_dict(cls, d: dict) -> "Linear":
        return cls(tuple(d["features"]), np.asarray(d["weights"], np.float32),
                   np.asarray(d["mean"], np.float32), np.asarray(d["scale"], np.float32))


def _hand(names: tuple[str, ...]) -> Linear:
    w = np.array([HAND.get(n, 0.0) for n in names], np.float32)
    return Linear(names, w, np.zeros(len(names), np.float32), np.ones(len(names), np.float32))


@dataclass(frozen=True)
class Ranker:
    name: str  # learned | hand
    cheap: Linear
    full: Linear
    meta: dict

    @classmethod
    def hand(cls) -> "Ranker":
        return cls("hand", _hand(CHEAP), _hand(FULL), {})

    @classmethod
    def from_file(cls, path: Path) -> "Ranker":
        d = json.loads(path.read_text(encoding="utf-8"))
        return cls("learned", Linear.from_dict(d["cheap"]), Linear.from_dict(d["full"]),
                   {k: v for k, v in d.items() if k not in ("cheap", "full")})


@lru_cache(maxsize=4)
def load(kind: str = "learned", path: str | None = None) -> Ranker:
    """The shipped model (or the hand weights); loaded once per process."""
    if kind == "hand" or (path is None and not MODEL_FILE.is_file()):
        return Ranker.hand()
    return Ranker.from_file(Path(path) if path else MODEL_FILE)
