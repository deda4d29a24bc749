"""Topic boundaries from embedding similarity, within token bounds, never across sessions."""

import numpy as np

from memcli.ingest.readers.base import Block, Document
from memcli.ingest.segment_chat import _cuts, depth_scores, segment_conversation


def doc_of(topics: list[str], sessions: list[str]) -> Document:
    parts, blocks, pos = [], [], 0
    for i, (t, s) in enumerate(zip(topics, sessions)):
        line = f"[2024-01-01] A: {t} turn {i}"
        blocks.append(Block("turn", pos, pos + len(line), (s,), {"speaker": "A", "turn_id": f"t{i}", "session": s,
                                                                 "time": None}))
        parts.append(line)
        pos += len(line) + 1
    return Document("conversation", "c", "\n".join(parts), blocks)


def topic_embed(texts):
    # One-hot by topic word: turns of the same topic are identical, different topics orthogonal.
    names = ["bees", "taxes", "music"]
    return np.array([[1.0 if n in t else 0.0 for n in names] for t in texts])


def test_depth_peaks_at_topic_shift():
    v = topic_embed(["bees"] * 4 + ["taxes"] * 4)
    d = depth_scores(v, window=2)
    assert int(np.argmax(d)) == 3  # the gap before turn 4


def test_segments_follow_topics_and_keep_turn_order():
    topics = ["bees"] * 5 + ["taxes"] * 5 + ["music"] * 5
    doc = doc_of(topics, ["s1"] * 15)
    segs = segment_conversation(doc, strategy="topic", min_tokens=10, max_tokens=200, embed=topic_embed)
    assert [g.meta["turn_ids"] for g in segs] == [[f"t{i}" for i in range(a, a + 5)] for a in (0, 5, 10)]


def test_max_tokens_forces_a_cut_and_sessions_never_merge():
    doc = doc_of(["bees"] * 12, ["s1"] * 6 + ["s2"] * 6)
    segs = segment_conversation(doc, strategy="topic", min_tokens=5, max_tokens=30, embed=topic_embed)
    for g in segs:
        assert len({t for t in g.meta["turn_ids"]}) == len(g.meta["turn_ids"])
        assert g.tokens <= 30
        sess = {doc.blocks[int(t[1:])].meta["session"] for t in g.meta["turn_ids"]}
        assert len(sess) == 1
    assert sum(len(g.meta["turn_ids"]) for g in segs) == 12


def test_cut_rules():
    depth = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
    assert _cuts(depth, [10] * 6, min_tokens=20, max_tokens=1000) == [3]
    assert _cuts(depth, [10] * 6, min_tokens=40, max_tokens=1000) == []  # too small to cut yet
