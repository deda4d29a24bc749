"""Pairs of units whose vectors are at least a cosine apart: what dedupe and supersede judge.

Comparing every unit with every other is n² dot products: 3 s for 20k units, minutes for
200k, hours for a million. Up to ``EXACT_UP_TO`` units every pair is compared. Above it the
vectors are clustered (spherical k-means on a sample, √n centroids) and each unit joins the
buckets of its ``PROBES`` nearest centroids; pairs are looked for inside buckets only. Two
units as close as these thresholds (cosine ≥ 0.8) almost always share a nearest centroid;
a pair split across buckets is missed — tests/consolidate/test_pairs.py measures how many.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

EXACT_UP_TO = 20_000
PROBES = 3
CHUNK = 1024


def similar_pairs(vectors: np.ndarray, threshold: float, *, same: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                  exact_up_to: int = EXACT_UP_TO, seed: int = 0) -> Iterator[tuple[int, int, float]]:
    """(i, j, cosine) with i < j and cosine ≥ ``threshold``; ``vectors`` unit-normalised.

    ``same(i, j)``: index arrays -> a mask of pairs already known to belong together (dedupe's
    groups), dropped in numpy before any Python loop sees them: a million units holding many
    copies of one text would otherwise yield millions of pairs one by one."""
    n = len(vectors)
    if n < 2:
        return
    if n <= exact_up_to:
        yield from _within(vectors, np.arange(n), threshold, same)
        return
    top, buckets = _buckets(vectors, seed)
    for c, idx in buckets:
        if len(idx) > 1:
            yield from _within(vectors, idx, threshold, same, top, c)


def _within(vectors, idx: np.ndarray, threshold: float, same, top: np.ndarray | None = None,
            bucket: int = 0) -> Iterator[tuple[int, int, float]]:
    """Pairs among ``idx`` (sorted), in row chunks so a large bucket never needs m² memory.

    ``top``: each unit's buckets (clustered mode). Two units may share up to ``PROBES`` of
    them; a pair is given only by the smallest bucket they share, so none comes twice and
    nothing has to remember what was given (a set of pairs grows with them)."""
    sub = vectors[idx]
    for s in range(0, len(idx), CHUNK):
        sims = sub[s:s + CHUNK] @ sub.T
        r, c = np.nonzero(sims >= threshold)
        keep = c > r + s
        r, c = r[keep], c[keep]
        if not len(r):
            continue
        i, j = idx[r + s], idx[c]
        mask = np.ones(len(i), dtype=bool)
        if same is not None:
            mask &= ~same(i, j)
        if top is not None:
            ti, tj = top[i], top[j]
            shared = np.where(ti[:, :, None] == tj[:, None, :], ti[:, :, None], np.iinfo(top.dtype).max)
            mask &= shared.min(axis=(1, 2)) == bucket
        yield from zip(i[mask].tolist(), j[mask].tolist(), sims[r[mask], c[mask]].tolist())


def _buckets(vectors: np.ndarray, seed: int) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
    """(each unit's ``PROBES`` nearest centroids, [(centroid, its units sorted)])."""
    n, _ = vectors.shape
    rng = np.random.default_rng(seed)
    k = max(2, int(np.sqrt(n)))
    sample = vectors[rng.choice(n, size=min(n, k * 32), replace=False)]
    cent = sample[rng.choice(len(sample), size=k, replace=False)].copy()
    for _ in range(10):  # spherical k-means on the sample
        assign = np.argmax(sample @ cent.T, axis=1)
        sums = np.zeros_like(cent)
        np.add.at(sums, assign, sample)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        empty = norms[:, 0] == 0
        cent = np.where(empty[:, None], cent, sums / np.maximum(norms, 1e-9))
    top = np.concatenate([np.argpartition(-(vectors[s:s + 4096] @ cent.T), min(PROBES, k - 1), axis=1)[:, :PROBES]
                          for s in range(0, n, 4096)])
    order = np.argsort(top, axis=None, kind="stable")
    rows = order // top.shape[1]
    bounds = np.searchsorted(top.reshape(-1)[order], np.arange(k + 1))
    return top, [(c, np.sort(rows[bounds[c]:bounds[c + 1]])) for c in range(k) if bounds[c + 1] > bounds[c]]
