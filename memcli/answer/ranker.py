"""The hand ranker — a linear score over the feature table, with weights set by hand.

Its ``cheap`` model ranks every candidate without a neural signal: the shortlist the reader
(memcli.answer.reader) reads. Its ``full`` model, with the question–sentence similarity
added, picks among that shortlist when ``llm.pick: hand`` (or when the reader cannot load).
A linear fit of these weights (``llm.pick: learned``, 2026-12-05) did not beat them on any
held-out set and was removed when the reader replaced both (docs/evaluation.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memcli.answer.features import CHEAP, FULL

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



def _hand(names: tuple[str, ...]) -> Linear:
    w = np.array([HAND.get(n, 0.0) for n in names], np.float32)
    return Linear(names, w, np.zeros(len(names), np.float32), np.ones(len(names), np.float32))


@dataclass(frozen=True)
class Ranker:
    name: str
    cheap: Linear
    full: Linear

    @classmethod
    def hand(cls) -> "Ranker":
        return cls("hand", _hand(CHEAP), _hand(FULL))


def load() -> Ranker:
    return Ranker.hand()
