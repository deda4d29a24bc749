"""A search without LanceDB: the snapshot each write leaves beside the tables (store/snapshot.py).

It must give the hits LanceDB gives, follow every write (this process's or another's), never be
read once the tables moved on without it, keep no forgotten source, and step aside where it
does not apply (a filter, a conversation home, a home past the exact-search size)."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from memcli.embed.fake import FakeEmbedder
from memcli.memory import Memory
from memcli.store import snapshot
from memcli.store.snapshot import SnapshotReads
from memcli.types import SearchFilters

CHAT = Path(__file__).resolve().parents[1] / "fixtures" / "chat" / "locomo_tiny.json"
QUESTIONS = ["tomato seedlings", "what did the invoice say", "bees swarm", "scale weight"]


def _hits(mem, q, **kw):
    return [(h.unit_id, h.score, h.uri, h.line_start) for h in mem.search(q, k=5, **kw)]


def _fresh(settings, **search) -> Memory:
    s = settings.model_copy(update={"search": settings.search.model_copy(update=search)}) if search else settings
    return Memory(s, embedder=FakeEmbedder(dim=64))


def test_a_search_from_the_snapshot_shows_what_lancedb_shows(mem, corpus, settings):
    mem.ingest([corpus], recursive=True)
    assert (mem.home / snapshot.DIR / snapshot.META).is_file()
    snap, lance = _fresh(settings), _fresh(settings, snapshot=False)
    for q in QUESTIONS:
        for mode in ("hybrid", "dense", "bm25"):
            assert _hits(snap, q, mode=mode) == _hits(lance, q, mode=mode), (q, mode)
    assert isinstance(snap._retriever.lance, SnapshotReads)
    assert "_lance" not in snap.__dict__  # LanceDB was never opened
    assert not isinstance(lance._retriever.lance, SnapshotReads)


def test_a_cold_search_imports_neither_lancedb_nor_pyarrow(mem, corpus, settings):
    mem.ingest([corpus], recursive=True)
    code = f"""
        import json, sys
        from memcli.config import Settings
        from memcli.embed.fake import FakeEmbedder
        from memcli.memory import Memory
        s = Settings.model_validate_json({settings.model_dump_json()!r})
        hits = Memory(s, embedder=FakeEmbedder(dim=64)).search("tomato seedlings", k=3)
        print(json.dumps([[h.unit_id for h in hits], sorted(m for m in ("lancedb", "pyarrow") if m in sys.modules)]))
    """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    ids, imported = json.loads(out.stdout.strip().splitlines()[-1])
    assert ids == [h.unit_id for h in mem.search("tomato seedlings", k=3)]
    assert imported == []


def test_the_snapshot_follows_another_process_s_writes(mem, corpus, settings, tmp_path):
    mem.ingest([corpus], recursive=True)
    reader = _fresh(settings)
    before = _hits(reader, "plant the tomatoes in may")
    assert isinstance(reader._retriever.lance, SnapshotReads)
    writer = _fresh(settings)
    writer.forget(str(corpus / "garden.md"))
    after = _hits(reader, "plant the tomatoes in may")
    assert not any(uri.endswith("garden.md") for _, _, uri, _ in after) and before != after
    assert after == _hits(_fresh(settings, snapshot=False), "plant the tomatoes in may")
    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "compost.md").write_text("# Compost\n\nTurn the compost heap every fortnight with a fork.\n")
    writer.ingest([extra])
    assert any(uri.endswith("compost.md") for _, _, uri, _ in _hits(reader, "turn the compost heap"))
    # Each write left a snapshot of its own versions: the reader still reads one. (Its Tantivy
    # searcher has not reloaded, so the new note's row came from LanceDB: a fallback, not a miss.)
    assert isinstance(reader._retriever.lance, SnapshotReads)
    assert reader._retriever.lance.versions == snapshot.table_versions(reader.home / "lance")


def test_a_write_that_skips_the_snapshot_makes_it_unread(mem, corpus, settings):
    mem.ingest([corpus], recursive=True)
    q = "tomato seedlings"
    top = _hits(_fresh(settings), q)[0][0]
    # Straight to LanceDB, no lock and no snapshot: the tables' version moves on alone.
    mem._lance.set_status([top], "archived")
    assert snapshot.load(mem.home, mem.home / "lance") is None
    reader = _fresh(settings)
    assert top not in {u for u, *_ in _hits(reader, q)}
    assert not isinstance(reader._retriever.lance, SnapshotReads)


def test_forgetting_takes_the_source_out_of_the_snapshot(mem, tmp_path):
    d = tmp_path / "n"
    d.mkdir()
    (d / "secret.md").write_text("# Secret\n\nThe door code word is zebracorn and nobody knows it.\n")
    (d / "other.md").write_text("# Other\n\nPlain notes about tomatoes and compost.\n")
    mem.ingest([d])
    key = next(s.content_hash for s in mem.sources() if s.uri.endswith("secret.md"))
    snap_dir = mem.home / snapshot.DIR
    assert key.encode() in (snap_dir / snapshot.META).read_bytes()
    mem.forget(str(d / "secret.md"))
    assert (snap_dir / snapshot.META).is_file()
    assert not any(key.encode() in p.read_bytes() for p in snap_dir.iterdir())
    assert len(list(snap_dir.glob("vectors-*.npy"))) == 1  # the old vectors went with it


def test_filters_and_asks_read_lancedb_for_what_the_snapshot_lacks(mem, corpus, settings):
    mem.ingest([corpus], recursive=True)
    src = next(s for s in mem.sources() if s.uri.endswith("garden.md"))
    reader = _fresh(settings)
    only = _hits(reader, "notes", filters=SearchFilters(sources=[src.source_id]))
    assert only and all(uri.endswith("garden.md") for _, _, uri, _ in only)
    assert only == _hits(_fresh(settings, snapshot=False), "notes", filters=SearchFilters(sources=[src.source_id]))


def test_no_snapshot_past_the_exact_search_size_or_without_the_setting(corpus, settings):
    small = _fresh(settings, ann_min_units=3)
    small.ingest([corpus], recursive=True)
    assert not (small.home / snapshot.DIR / snapshot.META).exists()
    assert not isinstance(_fresh(settings, ann_min_units=3)._reads, SnapshotReads)


def test_a_conversation_home_s_turns_come_from_the_snapshot(settings, tmp_path):
    chat = tmp_path / "chat.json"
    shutil.copy(CHAT, chat)
    m = _fresh(settings)
    m.settings.segment.chat_units = "topic"  # segments of several turns: per-turn vectors kept
    m.ingest([chat])
    assert snapshot.table_versions(m.home / "lance")["turn_vectors"] is not None
    reader, lance = _fresh(settings), _fresh(settings, snapshot=False)
    for q in ["kitten", "What is the name of Ana's kitten?", "What did Ben say about the trip?", "when"]:
        assert _hits(reader, q) == _hits(lance, q), q
    assert isinstance(reader._retriever.lance, SnapshotReads) and "_lance" not in reader.__dict__
    # Speaker heads only: no turn's words beyond who said it.
    meta = (m.home / snapshot.DIR / snapshot.META).read_text()
    assert "kitten" not in meta.lower()


def test_bridged_notes_come_from_the_snapshot_too(settings, monkeypatch):
    vault = Path(__file__).resolve().parents[1] / "fixtures" / "vault"
    m = _fresh(settings)
    m.ingest([vault], recursive=True)
    reader, lance = _fresh(settings), _fresh(settings, snapshot=False)
    linked = []
    leaves_of = SnapshotReads.leaves_of
    monkeypatch.setattr(SnapshotReads, "leaves_of", lambda self, *a, **kw: linked.append(a) or leaves_of(self, *a, **kw))
    for q in ["Where does the beekeeper who sold Marigold live?", "who sold the strongest colony",
              "what is the varroa plan for the old hive", "Tove Ahlgren"]:
        got = reader.search(q, k=6)
        assert [(h.unit_id, h.score) for h in got] == [(h.unit_id, h.score) for h in lance.search(q, k=6)], q
    assert linked  # bridging read linked notes
    assert "_lance" not in reader.__dict__  # their rows and vectors, and the aliases, without LanceDB


def test_a_resident_process_writes_a_missing_snapshot(mem, corpus, settings):
    mem.ingest([corpus], recursive=True)
    snapshot.drop(mem.home)  # a home last written by an older mem
    assert snapshot.load(mem.home, mem.home / "lance") is None
    _fresh(settings)._warm_up()
    assert isinstance(_fresh(settings)._reads, SnapshotReads)


def test_a_write_that_changes_no_unit_keeps_the_vectors_file(mem, corpus, settings):
    mem.ingest([corpus], recursive=True)
    snap_dir = mem.home / snapshot.DIR
    vectors = sorted(p.name for p in snap_dir.glob("vectors-*.npy"))
    for _ in range(2):
        os.utime(corpus / "garden.md")  # touched, not changed: no unit is written
        mem.ingest([corpus], recursive=True)
        assert sorted(p.name for p in snap_dir.glob("vectors-*.npy")) == vectors
        assert isinstance(_fresh(settings)._reads, SnapshotReads)


def test_a_reindex_takes_the_snapshot_of_the_old_vectors_away(mem, corpus, settings):
    mem.ingest([corpus], recursive=True)
    before = snapshot.table_versions(mem.home / "lance")["units"]
    mem.reindex()  # the units table is made again: its versions start over
    after = snapshot.table_versions(mem.home / "lance")["units"]
    assert after != before
    reader = _fresh(settings)
    assert isinstance(reader._reads, SnapshotReads)  # written again by the reindex's lock
    assert _hits(reader, "tomato seedlings") == _hits(_fresh(settings, snapshot=False), "tomato seedlings")


def test_a_search_that_had_to_open_lancedb_brings_the_snapshot_up_to_date(mem, corpus, settings):
    mem.ingest([corpus], recursive=True)
    top = _hits(_fresh(settings), "tomato seedlings")[0][0]
    mem._lance.set_status([top], "archived")  # a write past the lock (an older mem, a cut-short write)
    first = _fresh(settings)
    assert not isinstance(first._reads, SnapshotReads)
    hits = _hits(first, "tomato seedlings")
    assert top not in {u for u, *_ in hits}
    second = _fresh(settings)  # the next command: off LanceDB again
    assert isinstance(second._reads, SnapshotReads) and _hits(second, "tomato seedlings") == hits
    big = _fresh(settings, ann_min_units=2)  # a home LanceDB's ANN index searches: nothing written
    snapshot.drop(mem.home)
    _hits(big, "tomato seedlings")
    assert snapshot.load(mem.home, mem.home / "lance") is None
