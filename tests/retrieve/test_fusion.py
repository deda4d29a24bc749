from memcli.retrieve.fusion import convex, minmax, rrf


def test_rrf_rewards_agreement():
    fused = rrf({"bm25": [("a", 9), ("b", 5)], "dense": [("b", 0.9), ("c", 0.8)]}, k=60)
    assert fused[0][0] == "b"
    assert {u for u, _ in fused} == {"a", "b", "c"}


def test_minmax_handles_ties_and_empty():
    assert minmax([]) == {}
    assert minmax([("a", 2.0), ("b", 2.0)]) == {"a": 1.0, "b": 1.0}
    assert minmax([("a", 3.0), ("b", 1.0)]) == {"a": 1.0, "b": 0.0}


def test_convex_weights_let_the_strong_list_lead():
    lists = {"bm25": [("noise", 12.0), ("gold", 11.9)], "dense": [("gold", 0.9), ("noise", 0.1)]}
    assert convex(lists, {"dense": 0.7, "bm25": 0.3})[0][0] == "gold"
    assert convex(lists, {"dense": 0.0, "bm25": 1.0})[0][0] == "noise"


def test_a_retriever_that_is_sure_keeps_its_top_hit():
    from memcli.retrieve.fusion import convex, protect_outliers

    # BM25 found the one unit holding a rare exact phrase (21.8 vs ~7 for the rest); dense
    # (the phrase means nothing to it) prefers others. Convex fusion alone buries it.
    bm25 = [("walrus", 21.8)] + [(f"b{i}", 7.2 - 0.1 * i) for i in range(20)]
    dense = [(f"d{i}", 0.62 - 0.005 * i) for i in range(20)] + [("walrus", 0.3)]
    lists = {"bm25": bm25, "dense": dense}
    plain = convex(lists, {"dense": 0.7, "bm25": 0.3})
    assert [u for u, _ in plain[:3]] == ["d0", "d1", "d2"]
    kept = protect_outliers(plain, lists, 4.0)
    assert kept[0][0] == "walrus" and [u for u, _ in kept[1:4]] == ["d0", "d1", "d2"]
    assert [s for _, s in kept] == sorted((s for _, s in kept), reverse=True)
    # An ordinary top score (no outlier) changes nothing; z = 0 turns it off.
    flat = {"bm25": [(f"b{i}", 10 - 0.2 * i) for i in range(20)], "dense": dense}
    fused = convex(flat, {"dense": 0.7, "bm25": 0.3})
    assert protect_outliers(fused, flat, 4.0) == fused
    assert protect_outliers(plain, lists, 0) == plain


def test_neighbouring_units_of_a_page_read_as_one_hit():
    from memcli.retrieve.snippet import merge_adjacent
    from memcli.types import Hit

    def hit(uid, src, a, b, speaker=None):
        return Hit(unit_id=uid, score=1.0, text=f"lines {a}-{b}", uri=f"/{src}.md", title="T", section="T › S",
                   line_start=a, line_end=b, char_start=a * 10, char_end=b * 10, source_id=src, speaker=speaker)

    hits = [hit("u2", "a", 11, 20), hit("x", "b", 1, 5), hit("u1", "a", 1, 10), hit("u9", "a", 40, 50),
            hit("t1", "c", 1, 1, "Ann"), hit("t2", "c", 2, 2, "Bob")]
    merged = merge_adjacent(hits)
    assert [(h.unit_id, h.line_start, h.line_end, h.rank) for h in merged] == [
        ("u2", 1, 20, 1), ("x", 1, 5, 2), ("u9", 40, 50, 3), ("t1", 1, 1, 4), ("t2", 2, 2, 5)]
    assert merged[0].text == "lines 1-10\n\nlines 11-20"
    assert hits[0].line_start == 11  # the search results themselves are not changed
