"""Search modes against real stores."""

import pytest


@pytest.fixture
def filled(mem, corpus):
    mem.ingest([corpus], recursive=True)
    return mem


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_each_mode_finds_the_relevant_unit(filled, mode):
    hits = filled.search("grilled sardines in Lisbon", mode=mode, k=3)
    assert hits[0].uri.endswith("trip.txt")
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert hits[0].line_start >= 1


def test_hybrid_reports_component_scores(filled):
    hit = filled.search("varroa mites sticky board", mode="hybrid", k=1)[0]
    assert hit.uri.endswith("garden.md")
    assert set(hit.scores) == {"bm25", "dense"}
    assert hit.section.startswith("Garden notes")


def test_rrf_fusion_is_available(filled):
    filled.settings.search.fusion = "rrf"
    assert filled.search("sardines Lisbon", k=1)[0].uri.endswith("trip.txt")


@pytest.mark.parametrize("query", [
    'title:x AND (foo OR "bar', "+-!&&||^~*?:\\/", "NOT", "x" * 10_000,
    " ".join(["tomatoes"] * 3000), "日本語のクエリ",
])
def test_hostile_queries_do_not_crash(filled, query):
    for mode in ("bm25", "hybrid"):
        assert isinstance(filled.search(query, mode=mode), list)


def test_an_empty_query_is_refused_not_answered_with_noise(filled):
    from memcli.errors import ConfigError

    for q in ("", "   \n"):
        with pytest.raises(ConfigError, match="empty query"):
            filled.search(q)


def test_search_on_an_empty_memory(mem):
    assert mem.search("anything") == []


def test_one_long_page_does_not_fill_the_results(mem, tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "long.md").write_text("# Bees\n\n" + "\n\n".join(
        f"## Part {i}\n\n" + " ".join(f"The hive inspection {i} found the queen and brood frames in order, filler{i}x{j}."
                                     for j in range(25)) for i in range(8)))
    for i in range(4):
        (d / f"short{i}.md").write_text(f"# Note {i}\n\nA hive inspection note number {i} about the queen.\n")
    mem.ingest([d])
    hits = mem.search("hive inspection queen", k=6, mode="bm25")
    per = {}
    for h in hits:
        per[h.uri] = per.get(h.uri, 0) + 1
    assert len(hits) == 6 and max(per.values()) <= mem.settings.search.max_per_source
    assert [h.rank for h in hits] == list(range(1, 7))
    mem.settings.search.max_per_source = 0  # no cap: the long page takes more places
    assert sum(h.uri.endswith("long.md") for h in mem.search("hive inspection queen", k=6, mode="bm25")) > 3


def test_explain_says_why_each_hit_ranks_where_it_does(filled):
    plain = filled.search("grilled sardines Lisbon", k=3)
    hits = filled.search("grilled sardines Lisbon", k=3, explain=True)
    assert [h.unit_id for h in hits] == [h.unit_id for h in plain]  # explaining changes nothing
    assert all(h.explain is None for h in plain) and "explain" not in plain[0].to_dict()
    for h in hits:
        e = h.explain
        assert set(e) >= {"bm25", "dense", "fused", "final"}
        for name in ("bm25", "dense"):  # a retriever's rank is its place in its own list
            if e[name]["rank"] is not None:
                assert e[name]["score"] == h.scores[name]
        steps = sum(e.get(s) or 0.0 for s in ("bridge", "time", "rerank"))
        assert abs(e["fused"] + steps - e["final"]) < 1e-5 and e["final"] == h.score
    best = hits[0].explain
    assert best["bm25"]["rank"] == 1 or best["dense"]["rank"] == 1
