"""A fast deterministic embedder for tests: signed feature hashing of word unigrams.

Texts that share words get similar vectors, so dense retrieval behaves sensibly in tests
without loading torch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from memcli.embed.base import UNCALIBRATED_FLOOR
from memcli.text import WORD



@lru_cache(maxsize=1 << 16)
def _hash(word: str) -> int:
    """Words repeat: hashing each once keeps a bulk-ingest benchmark about the stores."""
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


class FakeEmbedder:
    def __init__(self, dim: int = 64, max_tokens: int = 256) -> None:
        self.name = f"fake-hash-{dim}"
        self.dim = dim
        self.max_tokens = max_tokens
        self.calls = 0
        self.abstain_floor = UNCALIBRATED_FLOOR

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in WORD.findall(text.lower()):
            h = _hash(w)
            v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        n = float(np.linalg.norm(v))
        if n == 0:
            v[0] = 1.0
            return v
        return v / n

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vec(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec(text)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(WORD.findall(t)) for t in texts]
