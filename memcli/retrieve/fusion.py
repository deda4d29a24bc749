"""Rank fusion. Each input is a list of (unit id, score), best first.

- ``rrf``: Reciprocal Rank Fusion, sum of w / (k + rank). Uses ranks only.
- ``convex``: a weighted sum of per-list min-max normalised scores (missing = 0).
  With a higher dense weight it does not let a weak lexical list drag the fused list down
  the way equal-weight RRF does (measured in docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Ranked = Sequence[tuple[str, float]]


def rrf(lists: Mapping[str, Ranked], *, k: int = 60, weights: Mapping[str, float] | None = None
        ) -> list[tuple[str, float]]:
    fused: dict[str, float] = {}
    for name, ranked in lists.items():
        w = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, (uid, _) in enumerate(ranked, start=1):
            fused[uid] = fused.get(uid, 0.0) + w / (k + rank)
    return sorted(fused.items(), key=lambda x: (-x[1], x[0]))


def minmax(ranked: Ranked) -> dict[str, float]:
    if not ranked:
        return {}
    scores = [s for _, s in ranked]
    lo, hi = min(scores), max(scores)
    if hi - lo < 1e-12:
        return {uid: 1.0 for uid, _ in ranked}
    return {uid: (s - lo) / (hi - lo) for uid, s in ranked}


def convex(lists: Mapping[str, Ranked], weights: Mapping[str, float]) -> list[tuple[str, float]]:
    total = sum(weights.get(n, 0.0) for n in lists) or 1.0
    fused: dict[str, float] = {}
    for name, ranked in lists.items():
        w = weights.get(name, 0.0) / total
        for uid, s in minmax(ranked).items():
            fused[uid] = fused.get(uid, 0.0) + w * s
    return sorted(fused.items(), key=lambda x: (-x[1], x[0]))
