"""Graph memory on real LanceDB + igraph: tables, PPR retrieval, forget, cache, recovery, CLI."""

import json

import pytest

from memcli.cli.app import run
from memcli.config import Settings
from memcli.embed.fake import FakeEmbedder
from memcli.memory import Memory

# A two-hop chain: the question names the film; its director's birthplace is in another note.
NOTES = {
    "film.md": "# Night Harbour\n\nNight Harbour is a 1961 film directed by Tove Ahlgren. It was shot in winter.\n",
    "director.md": "# Tove Ahlgren\n\nTove Ahlgren was born in Turku and later moved to Helsinki to study painting.\n",
    "bread.md": "# Sourdough\n\nFeed the starter twice a day and keep it warm. Rye flour makes it lively.\n",
    "garden.md": "# Tomatoes\n\nPlant tomatoes after the frost. Water them deeply in July.\n",
}


@pytest.fixture
def notes(tmp_path):
    d = tmp_path / "notes"
    d.mkdir()
    for name, text in NOTES.items():
        (d / name).write_text(text)
    return d


def test_ingest_writes_entities_mentions_and_relations(mem, notes):
    mem.ingest([notes])
    counts = mem._graph.store.counts()
    assert counts["entities"] > 0 and counts["mentions"] > 0 and counts["relations"] > 0
    view = mem.graph.show("tove ahlgren")
    assert view.mentioned_in == 2  # the film note and her own note
    assert view.entity == "Tove Ahlgren" and view.type == "person"  # as written, typed by the model
    assert "night harbour" in {nb["id"] for nb in view.neighbours}
    assert {"Night Harbour", "Turku"} <= {nb["name"] for nb in view.neighbours}
    assert all(r["source"].endswith(".md") for r in view.relations)  # each with the file it came from
    assert mem.stats()["graph"]["entities"] == counts["entities"]


def test_graph_mode_reaches_the_bridge_passage(mem, notes):
    mem.ingest([notes])
    q = "Where was the director of Night Harbour born?"
    hits = mem.search(q, mode="graph", k=2)
    titles = {h.title for h in hits}
    # The film note names the director; PPR walks film -> Tove Ahlgren -> her note.
    assert titles == {"Night Harbour", "Tove Ahlgren"}
    assert "Night Harbour" in mem._retriever.ranked(q, "graph", 10).graph_trace.seeds
    both = mem.search(q, mode="hybrid", k=4, hops=2)
    assert {"Night Harbour", "Tove Ahlgren"} <= {h.title for h in both}


def test_forget_removes_relations_unit_nodes_and_orphan_entities(mem, notes):
    mem.ingest([notes])
    before = mem._graph.load()
    assert "tove ahlgren" in before.entity_ids and "turku" in before.entity_ids
    mem.forget(str(notes / "director.md"))
    store = mem._graph.store
    units = set(store.all("mentions", ["unit_id"]).column("unit_id").to_pylist())
    rel = store.all("relations", ["subject", "object", "source_id"]).to_pylist()
    assert all("turku" not in (r["subject"], r["object"]) for r in rel)
    after = mem._graph.load()  # the cache is stale and rebuilt
    assert "turku" not in after.entity_ids  # only the forgotten note mentioned it
    assert "tove ahlgren" in after.entity_ids  # the film note still does
    assert len(after.unit_ids) == len(before.unit_ids) - 1 and set(after.unit_ids) == units


def test_changed_file_replaces_its_graph_rows(mem, notes):
    mem.ingest([notes])
    (notes / "director.md").write_text("# Tove Ahlgren\n\nTove Ahlgren was born in Oulu.\n")
    mem.ingest([notes])
    ids = mem._graph.load().entity_ids
    assert "oulu" in ids and "turku" not in ids and "helsinki" not in ids


def test_graph_cache_round_trips_without_pickle_and_goes_stale(mem, notes, tmp_path):
    mem.ingest([notes])
    built = mem._graph.load()
    assert (mem.home / "graph" / "graph.npz").exists() and (mem.home / "graph" / "graph.json").exists()
    fresh = Memory(mem.settings, embedder=FakeEmbedder(dim=64))._graph.load()  # read from disk
    assert fresh.entity_ids == built.entity_ids and fresh.graph.ecount() == built.graph.ecount()
    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "x.md").write_text("# Paris trip\n\nWe visited the Louvre with Marta.\n")
    mem.ingest([extra])
    assert "louvre" in mem._graph.load().entity_ids


def test_graph_mode_ranks_as_hybrid_when_the_question_names_nothing_the_graph_knows(mem, tmp_path):
    # Three trip notes share their names; a question naming none of them gives the walk only
    # the first stages' hits to smear over that cluster, so graph mode ranks as hybrid does.
    d = tmp_path / "trips"
    d.mkdir()
    for name, text in {
            "a.md": "# Turku trip\n\nWe took the ferry from Stockholm to Turku and walked to Turku Castle with Anna and Mikko.\n",
            "b.md": "# Helsinki weekend\n\nAnna and Mikko met us in Helsinki; we took the train back to Turku.\n",
            "c.md": "# Archipelago\n\nFrom Turku, Anna sailed to Nauvo with Mikko and back to Stockholm.\n",
            "d.md": "# Sourdough\n\nFeed the rye starter twice a day and keep it warm near the oven.\n",
            "e.md": "# Tomatoes\n\nPlant tomatoes after the frost. Water them deeply in July.\n"}.items():
        (d / name).write_text(text)
    mem.ingest([d])
    for q in ("how often do I feed the starter", "what did we do on the ferry trip"):
        assert [h.unit_id for h in mem.search(q, mode="graph", k=5)] == [h.unit_id for h in mem.search(q, mode="hybrid", k=5)]
    assert mem.search("Who sailed to Nauvo with Anna?", mode="graph", k=1)[0].title == "Archipelago"  # names still seed


def test_no_graph_ingest_and_graph_mode_falls_back_to_dense(mem, notes):
    mem.ingest([notes], graph=False)
    assert not mem._graph.store.exists()
    assert mem.search("Night Harbour", mode="graph", k=1)  # dense alone, no error


def test_graph_extraction_is_off_by_default(fake_cli, notes, capsys):
    assert run(["ingest", str(notes), "--json"]) == 0
    capsys.readouterr()
    assert run(["graph", "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["entities"] == 0


def test_recovery_drops_graph_rows_of_a_killed_write(mem, notes):
    mem.ingest([notes])
    n = mem._graph.store.counts()
    # A writer that died after writing pending units and their graph rows, before commit:
    from memcli.graph.index import GraphRows

    rows = GraphRows(mentions=[("ghost", "unit-not-committed", "src-x", "Ghost", "")],
                     relations=[("ghost", "haunts", "tove ahlgren", "unit-not-committed", "src-x")])
    mem._catalog.journal.begin("ingest", ["src-x"])
    rows.write(mem._graph.store, 64)
    mem._catalog.recover()
    assert mem._graph.store.counts()["mentions"] == n["mentions"]
    assert mem._graph.store.counts()["relations"] == n["relations"]


def test_llm_extractor_caches_by_content_and_counts_unusable(tmp_path, notes):
    from memcli.llm.fake import FakeGenerator

    s = Settings(home=tmp_path / "h", embed={"model": "fake:64"}, graph={"enabled": True, "extractor": "llm"},
                 llm={"model": "fake"})
    gen = FakeGenerator()
    calls = []
    orig = gen.complete_json
    gen.complete_json = lambda *a, **kw: calls.append(1) or orig(*a, **kw)
    mem = Memory(s, embedder=FakeEmbedder(dim=64), generator=gen)
    rep = mem.ingest([notes])
    assert len(calls) == 4 and rep.graph_unusable == 0
    assert "night harbour" in mem._graph.load().entity_ids or "night" in mem._graph.load().entity_ids
    (notes / "bread.md").write_text("# sourdough\n\nfeed it.\n")  # no capitalised words: nothing usable
    rep = mem.ingest([notes])
    assert len(calls) == 5  # only the changed note was sent to the model
    assert rep.graph_unusable == 1 and mem.graph.stats()["unusable_extractions"] == 1


def test_cli_graph_commands(fake_cli, notes, tmp_path, capsys):
    assert run(["ingest", str(notes), "--graph", "--json"]) == 0
    capsys.readouterr()
    assert run(["graph", "stats", "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["entities"] > 0 and st["graph"]["mention_edges"] == st["mentions"]
    assert run(["graph", "show", "Tove Ahlgren", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["entity"] == "Tove Ahlgren" and all(r["source"].endswith(".md") for r in info["relations"])
    assert run(["graph", "show", "Nobody Atall"]) == 3  # not found
    capsys.readouterr()
    out = tmp_path / "g.graphml"
    assert run(["graph", "export", "-o", str(out)]) == 0
    assert "<graphml" in out.read_text()[:500] and "entities" in capsys.readouterr().out
    assert run(["search", "director of Night Harbour", "--mode", "graph", "--hops", "2", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits and "graph" in hits[0]["scores"]


def test_doctor_finds_and_repairs_graph_rows_of_missing_units(mem, notes):
    from memcli.graph.index import GraphRows

    mem.ingest([notes])
    assert mem.doctor().healthy
    GraphRows(mentions=[("tove ahlgren", "no-such-unit", "src-x", "Tove Ahlgren", "person")]).write(mem._graph.store, 64)
    rep = mem.doctor()
    assert not rep.healthy and any(f.check == "graph matches LanceDB" and not f.ok for f in rep.findings)
    assert mem.doctor(repair=True).healthy and mem.doctor().healthy


def test_graph_build_backfills_units_ingested_without_it(mem, notes, fake_cli, capsys):
    mem.ingest([notes], graph=False)
    assert not mem._graph.store.exists()
    res = mem.graph.build()
    assert res["units"] == mem._lance.count_units() and res["mentions"] > 0
    assert mem.graph.build()["units"] == 0  # resumable: nothing left to do
    assert {h.title for h in mem.search("Where was the director of Night Harbour born?", mode="graph", k=2)} == {
        "Night Harbour", "Tove Ahlgren"}
    assert mem.doctor().healthy
