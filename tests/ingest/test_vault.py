"""An Obsidian-style vault (tests/fixtures/vault): front-matter dates become event times,
front matter never becomes answer text, callouts, block ids, embeds and Logseq properties
read cleanly, and the app's own folder is not memory."""

from datetime import datetime, timezone
from pathlib import Path

from memcli.types import SearchFilters

VAULT = Path(__file__).resolve().parents[1] / "fixtures" / "vault"


def test_a_vault_reads_as_notes(mem):
    rep = mem.ingest([VAULT], recursive=True)
    assert rep.added == 4 and not rep.failed  # .obsidian/ is the app's settings, not memory
    by_uri = {s.uri.rsplit("/", 1)[1]: s for s in mem.sources()}
    assert by_uri["Hive Marigold.md"].title == "Hive Marigold"

    # Dates from the front matter: date, else created.
    hits = {h.uri.rsplit("/", 1)[1]: h for h in mem.search("Marigold inspection queen brood", k=10)}
    assert hits["2025-06-01.md"].event_time.startswith("2025-06-01")
    assert hits["Hive Marigold.md"].event_time.startswith("2025-04-12")
    july = SearchFilters(since=datetime(2025, 7, 1, tzinfo=timezone.utc))
    assert {h.uri.rsplit("/", 1)[1] for h in mem.search("hive", filters=july, k=10)} == {"Varroa plan.md"}

    # Nothing of the front matter or the markup reaches what a person reads.
    ans = mem.ask("What does Marigold do in thundery weather?")
    assert "defensive" in ans.answer and "defensive" in ans.evidence
    assert all(bad not in ans.answer + ans.evidence for bad in ("[!warning]", "^temper", "aliases:", "---", ">"))
    role = mem.ask("What is Tove's role?")
    assert "::" not in role.answer


def test_front_matter_and_note_time_parsing():
    from memcli.ingest.readers.structure import front_matter, note_time

    fm = front_matter((VAULT / "Hive Marigold.md").read_text())
    assert fm["aliases"] == ["Marigold", "the old hive"] and fm["tags"] == ["bees", "hive/marigold"]
    assert note_time(fm) == datetime(2025, 4, 12, tzinfo=timezone.utc)
    assert note_time({"created": "2024-11-02T09:30:00"}) == datetime(2024, 11, 2, 9, 30, tzinfo=timezone.utc)
    assert note_time({"date": "not a date"}) is None
    assert front_matter("---\n: [unbalanced\n---\nbody") == {}  # broken YAML: no metadata, no crash
    assert front_matter("no front matter") == {}


def test_tags_from_front_matter_and_text_filter_search_and_sources(mem, capsys, monkeypatch):
    mem.ingest([VAULT], recursive=True)
    name = lambda hits: {h.uri.rsplit("/", 1)[1] for h in hits}  # noqa: E731
    # "hive/marigold" in the front matter: --tag hive finds it (nested tags carry their parents).
    assert name(mem.search("hive", filters=SearchFilters(tags=("hive",)), k=10)) == {"Hive Marigold.md"}
    # Inline #inspection in a daily note; any of several tags; "#bees" matches "bees/health" too.
    assert name(mem.search("queen", filters=SearchFilters(tags=("inspection",)), k=10)) == {"2025-06-01.md"}
    assert name(mem.search("hive", filters=SearchFilters(tags=("people", "inspection")), k=10)) == {
        "Tove Ahlgren.md", "2025-06-01.md"}
    assert "Varroa plan.md" in name(mem.search("apiguard", filters=SearchFilters(tags=("bees",)), k=10))
    assert [s.uri.rsplit("/", 1)[1] for s in mem.sources(tags=["club"])] == ["Tove Ahlgren.md"]

    # The same through the CLI.
    import json

    from memcli.cli import run

    monkeypatch.setenv("MEM_HOME", str(mem.settings.home))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    assert run(["search", "hive", "--tag", "hive", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert {h["uri"].rsplit("/", 1)[1] for h in hits} == {"Hive Marigold.md"}
    assert run(["sources", "--tag", "people", "--json"]) == 0
    assert [s["uri"].rsplit("/", 1)[1] for s in json.loads(capsys.readouterr().out)] == ["Tove Ahlgren.md"]


def test_wiki_links_become_graph_edges_resolved_through_aliases(settings, tmp_path):
    from memcli.embed.fake import FakeEmbedder
    from memcli.memory import Memory

    mem = Memory(settings, embedder=FakeEmbedder(dim=64))  # settings: graph extraction on
    mem.ingest([VAULT], recursive=True)
    rel = mem._graph.store.all("relations", ["subject", "relation", "object"]).to_pylist()
    links = {(r["subject"], r["object"]) for r in rel if r["relation"] == "links to"}
    assert {("hive marigold", "tove ahlgren"), ("hive marigold", "varroa plan"), ("hive marigold", "2025-06-01"),
            ("tove ahlgren", "hive marigold"), ("varroa plan", "hive marigold"), ("2025-06-01", "hive marigold"),
            ("2025-06-01", "tove")} <= links  # a daily note's title is its file name, its date kept whole
    assert ("varroa plan", "frame.png") not in links  # an image embed is no note
    aliases = {(r["subject"], r["object"]) for r in rel if r["relation"] == "alias of"}
    assert {("marigold", "hive marigold"), ("old hive", "hive marigold"), ("tove", "tove ahlgren")} <= aliases

    # Backlinks: Tove's note is linked from the daily note through her alias [[Tove]].
    view = mem.graph.show("Tove Ahlgren")
    linked_from = {r["subject"] for r in view.relations if r["relation"] == "links to" and r["subject"] != "tove ahlgren"}
    assert {"hive marigold", "2025-06-01"} <= linked_from
    assert {"tove ahlgren", "varroa plan", "2025-06-01"} <= {
        r["subject"] for r in mem.graph.show("Hive Marigold").relations if r["relation"] == "links to"}

    # Off: no link or alias edges.
    settings.graph.links = False
    off = Memory(settings.model_copy(update={"home": str(tmp_path / "off")}), embedder=FakeEmbedder(dim=64))
    off.ingest([VAULT], recursive=True)
    kinds = {r["relation"] for r in off._graph.store.all("relations", ["relation"]).to_pylist()}
    assert "links to" not in kinds and "alias of" not in kinds


def test_a_link_by_alias_bridges_to_the_note(settings):
    """Bridging (the second hop by title) knows a note's aliases from its "alias of" edges:
    [[Dan]] in a hive note reaches "Dan Okafor"."""
    import json

    from memcli.embed.fake import FakeEmbedder
    from memcli.memory import Memory
    from memcli.retrieve.bridge import TitleIndex

    club = Path(__file__).resolve().parents[1] / "fixtures" / "vault-club"
    mem = Memory(settings, embedder=FakeEmbedder(dim=64))
    mem.ingest([club], recursive=True)
    version, aliases = mem._graph.store.aliases()
    assert ("Dan", "Dan Okafor") in aliases  # a daily note (2025-06-03.md) is titled by its date: no alias needed
    index = TitleIndex([{"id": "u1", "title": "Dan Okafor"}, {"id": "u2", "title": "Hive Clover"}], aliases=aliases)
    assert index.mentioned("Kept by [[Dan]]; inspected on [[2025-06-03]].") == ["dan"]
    assert index.by_title["dan"] == ["u1"]
    assert len(json.loads((club / "questions.json").read_text())) == 16  # bench/vault_links.py asks them


def test_a_logseq_graphs_own_folder_is_not_memory(tmp_path):
    """logseq/ (with config.edn) holds settings, page backups and a recycle bin: its copies of
    pages are not notes; pages/ and journals/ are."""
    from memcli.ingest.sources import discover

    for d in ("pages", "journals", "logseq/bak/pages"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "logseq" / "config.edn").write_text("{}\n")
    (tmp_path / "pages" / "Note.md").write_text("- status:: done\n- Met [[Dan]]\n")
    (tmp_path / "logseq" / "bak" / "pages" / "Note.md").write_text("- status:: done\n")
    (tmp_path / "journals" / "2025_06_01.md").write_text("- a journal entry\n")
    found = sorted(p.relative_to(tmp_path).as_posix() for p in discover([tmp_path], recursive=True).files)
    assert found == ["journals/2025_06_01.md", "pages/Note.md"]
