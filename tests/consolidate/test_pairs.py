"""Near pairs for dedupe and supersede: exact below 20k units, clustered above (pairs.py)."""

import numpy as np

from memcli.consolidate.pairs import similar_pairs


def _vectors(n_topics=1500, copies=4, dim=64, seed=3):
    """Topics with a few near copies each (cosine ~0.8-0.99 to one another), unit length."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n_topics, dim))
    noise = rng.uniform(0.05, 0.45, size=(n_topics * copies, 1))
    v = np.repeat(base, copies, axis=0)
    v = v / np.linalg.norm(v, axis=1, keepdims=True) + noise * rng.normal(size=v.shape) / np.sqrt(dim)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_clustered_pairs_find_what_comparing_every_pair_finds():
    v = _vectors()
    exact = {(i, j) for i, j, _ in similar_pairs(v, 0.8)}
    clustered = {(i, j) for i, j, _ in similar_pairs(v, 0.8, exact_up_to=100)}
    assert len(exact) > 3000
    assert clustered <= exact  # nothing below the threshold, no pair twice
    assert len(clustered) >= 0.98 * len(exact), (len(clustered), len(exact))


def test_pairs_known_to_belong_together_are_dropped_before_the_loop():
    v = _vectors(n_topics=50)
    group = np.arange(len(v)) // 4  # each topic's copies: one group already
    left = list(similar_pairs(v, 0.8, same=lambda a, b: group[a] == group[b]))
    assert all(group[i] != group[j] for i, j, _ in left)
    assert all(i < j and c >= 0.8 for i, j, c in similar_pairs(v, 0.8))
