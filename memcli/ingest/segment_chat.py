"""Conversation units: topically coherent segments of a session (SeCom), or single turns.

``topic``: embed each turn, compare the mean of the ``window`` turns before a gap with the
mean of the ``window`` turns after it, and cut where that similarity dips deepest
(TextTiling depth scores on embeddings), within min/max token bounds. Segments never cross
a session. ``turn``: one unit per turn; ``session``: one unit per session (the granularity
baselines).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from memcli.ingest.readers.base import Block, Document
from memcli.ingest.segment import Segment
from memcli.text import estimate_tokens


def _sessions(doc: Document) -> list[list[Block]]:
    groups: list[list[Block]] = []
    current = None
    for b in doc.blocks:
        if b.kind != "turn":
            continue
        sess = b.meta["session"]
        if sess != current:
            groups.append([])
            current = sess
        groups[-1].append(b)
    return groups


def depth_scores(vecs: np.ndarray, window: int = 2) -> np.ndarray:
    """Depth of the similarity valley at each gap (gap i lies before turn i+1)."""
    n = len(vecs)
    if n < 2:
        return np.zeros(0)
    sims = np.empty(n - 1)
    for i in range(1, n):
        left = vecs[max(0, i - window):i].mean(axis=0)
        right = vecs[i:i + window].mean(axis=0)
        denom = float(np.linalg.norm(left) * np.linalg.norm(right)) or 1.0
        sims[i - 1] = float(left @ right) / denom
    depth = np.empty_like(sims)
    for i, s in enumerate(sims):
        lp = s
        for j in range(i, -1, -1):  # climb to the left peak
            if sims[j] < lp:
                break
            lp = sims[j]
        rp = s
        for j in range(i, len(sims)):
            if sims[j] < rp:
                break
            rp = sims[j]
        depth[i] = (lp - s) + (rp - s)
    return depth


def _cuts(depth: np.ndarray, tokens: Sequence[int], min_tokens: int, max_tokens: int) -> list[int]:
    """Turn indices where a new segment starts."""
    if len(depth) == 0:
        return []
    threshold = float(depth.mean() + depth.std() / 2)
    cuts, cur = [], tokens[0]
    start = 0
    for i in range(1, len(tokens)):
        gap = depth[i - 1]
        over = cur + tokens[i] > max_tokens
        if over or (gap > threshold and cur >= min_tokens):
            if over and i - start > 1:
                # Forced cut: take the deepest valley in the back half of the segment instead.
                lo = start + max(1, (i - start) // 2)
                best = max(range(lo, i + 1), key=lambda j: depth[j - 1])
                if best < i and sum(tokens[best:i + 1]) <= max_tokens:
                    i_cut = best
                else:
                    i_cut = i
            else:
                i_cut = i
            cuts.append(i_cut)
            start = i_cut
            cur = sum(tokens[i_cut:i + 1])
        else:
            cur += tokens[i]
    return cuts


def segment_conversation(doc: Document, *, strategy: str, min_tokens: int, max_tokens: int,
                         embed: Callable[[list[str]], np.ndarray] | None = None, window: int = 2) -> list[Segment]:
    segs: list[Segment] = []
    for turns in _sessions(doc):
        texts = [doc.text[b.start:b.end] for b in turns]
        if strategy == "session":
            groups = [turns]  # one unit per session: longer than the embedder reads, so windowed
        elif strategy == "turn" or len(turns) == 1 or embed is None:
            groups = [[b] for b in turns] if strategy == "turn" else [turns]
        else:
            vecs = np.asarray(embed(texts), dtype=np.float32)
            cuts = _cuts(depth_scores(vecs, window), [estimate_tokens(t) for t in texts], min_tokens, max_tokens)
            bounds = [0, *cuts, len(turns)]
            groups = [turns[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]
            for a, b in zip(bounds, bounds[1:]):
                if b > a:
                    seg = _segment(doc, turns[a:b])
                    # Kept for retrieval (store/turns.py): a segment is found by its best turn too.
                    seg.meta["turn_vecs"], seg.meta["turn_texts"] = vecs[a:b], texts[a:b]
                    segs.append(seg)
            continue
        for g in groups:
            segs.append(_segment(doc, g))
    return segs


def _segment(doc: Document, turns: list[Block]) -> Segment:
    start, end = turns[0].start, turns[-1].end
    body = doc.text[start:end]
    speakers = list(dict.fromkeys(b.meta["speaker"] for b in turns))
    meta = {
        "speaker": speakers[0] if len(speakers) == 1 else ", ".join(speakers),
        "session": turns[0].meta["session"],
        "time": turns[0].meta["time"],
        "turn_ids": [b.meta["turn_id"] for b in turns],
    }
    # Turn lines already carry date and speaker, so the index text is the turns themselves.
    return Segment(start, end, turns[0].section, body, body, estimate_tokens(body), meta)
