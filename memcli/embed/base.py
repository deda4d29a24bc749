"""The Embedder protocol every stage depends on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


# `mem ask`'s abstention floor for an embedder nobody calibrated (bench/abstention.py fits one).
UNCALIBRATED_FLOOR = 0.2
# Full-length texts per forward pass when nobody says (embed.batch_size's default, config.py):
# on a CPU small batches are no slower and hold far less memory.
BATCH_SIZE = 8


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension.

    ``max_tokens`` is how much text the model actually reads; the segmenter sizes units to
    it and ``count_tokens`` is the exact check.
    """

    name: str
    dim: int
    max_tokens: int
    # The dense cosine below which `mem ask` says "Not in your memory" (vector-space specific).
    abstain_floor: float

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


def fingerprint(e: Embedder) -> dict[str, object]:
    """What identifies the vector space: stored with the vectors, checked on open."""
    return {"embed_model": e.name, "embed_dim": int(e.dim)}
