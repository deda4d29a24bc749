"""Rank fusion. Each input is a list of (unit id, score), best first.

- ``rrf``: Reciprocal Rank Fusion, sum of w / (k + rank). Uses ranks only.
- ``convex``: a weighted sum of per-list min-max normalised scores (missing = 0).
  With a higher dense weight it does not let a weak lexical list drag the fused list down
  the way equal-weight RRF does (measured in docs/benchmarks.md).
- ``protect_outliers``: both flatten a retriever that is *sure* (a rare exact phrase that BM25
  scores 3x above everything else becomes one vote among many); a list whose top score is an
  outlier of its own distribution keeps that hit at the top of the fused list.
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


def outlier_top(ranked: Ranked, z: float, min_len: int = 10) -> float | None:
    """The z-score of the list's top score against the rest of the list, when it is >= ``z``."""
    if len(ranked) < min_len:
        return None
    rest = [s for _, s in ranked[1:]]
    mu = sum(rest) / len(rest)
    # A floor of 5% of the mean: ties all round (every other hit matched one common word
    # once) make the spread ~0, and a top far above them is then the clearest outlier of all.
    sd = max((sum((s - mu) ** 2 for s in rest) / len(rest)) ** 0.5, 0.05 * abs(mu), 1e-9)
    score = (ranked[0][1] - mu) / sd
    return score if score >= z else None


def protect_outliers(fused: list[tuple[str, float]], lists: Mapping[str, Ranked], z: float
                     ) -> list[tuple[str, float]]:
    """Move each list's outlier top hit (z-score >= ``z``, most confident first) to the front."""
    if z <= 0 or not fused:
        return fused
    sure = sorted(((sc, r[0][0]) for r in lists.values() if (sc := outlier_top(r, z)) is not None), reverse=True)
    lead: list[str] = []
    for _, uid in sure:
        if uid not in lead:
            lead.append(uid)
    if not lead or [u for u, _ in fused[:len(lead)]] == lead:
        return fused
    top = fused[0][1]
    head = [(u, top + 1e-6 * (len(lead) - i)) for i, u in enumerate(lead)]
    return head + [(u, s) for u, s in fused if u not in lead]


def max_merge(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Two ranked lists on one 0..1 scale (each divided by its best score), a unit's best."""
    out: dict[str, float] = {}
    for lst in (a, b):
        top = max((s for _, s in lst), default=0.0) or 1.0
        for u, s in lst:
            out[u] = max(out.get(u, 0.0), s / top)
    return sorted(out.items(), key=lambda x: -x[1])
