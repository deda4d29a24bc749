"""`mem export` → `mem import` into a fresh home gives the same memory: sources, units,
vectors, supersede chains, pins, states — and the same search results."""

import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from memcli.config import Settings
from memcli.embed.fake import FakeEmbedder
from memcli.errors import ConfigError
from memcli.memory import Memory
from memcli.store.schema import utcnow

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "chat" / "phone_update.json"
QUERIES = ["tomatoes in May", "Ana's phone number", "hive queen", "Lisbon hotel", "scale function"]


def _other(tmp_path, name: str) -> Memory:
    s = Settings(home=tmp_path / name, embed={"model": "fake:64"}, ingest={"lock_timeout_s": 0.2},
                 graph={"enabled": True})
    return Memory(s, embedder=FakeEmbedder(dim=64))


def _units(m: Memory) -> dict:
    rows = m._lance.units_where("status != 'pending'", ["id", "source_id", "status", "level", "text", "pinned",
                                                       "superseded_by", "valid_to", "merged_into", "children",
                                                       "access_count", "event_time", "speaker"])
    return {r["id"]: r for r in rows}


@pytest.fixture
def rich_memory(mem, corpus, tmp_path):
    """Documents, a chat whose fact is superseded, a pin, archived units, summaries, a graph."""
    mem.settings.segment.chat_units = "turn"
    mem.settings.consolidate.supersede_cosine = 0.3  # the hashing test embedder is far less semantic than MiniLM
    shutil.copy(FIX, corpus / "chat.json")
    mem.ingest([corpus], recursive=True)
    mem.settings.consolidate.summary_min_units = 2
    for name in ("trip.txt", "chat.json"):
        mem.pin(next(s for s in mem.sources() if s.uri.endswith(name)).uri)
    mem.consolidate(only=["supersede"])
    mem.consolidate(only=["decay"], now=utcnow() + timedelta(days=3 * 365))  # the unpinned garden notes
    mem.consolidate(only=["summarize"])
    mem.ask("Where did we stay in Lisbon?")  # an access count, noted
    with mem._lock():  # which the next write folds into LanceDB (store/access.py)
        pass
    assert any(r["access_count"] for r in _units(mem).values())
    return mem


def test_export_then_import_into_a_fresh_home_is_the_same_memory(rich_memory, tmp_path, capsys):
    mem = rich_memory
    before = _units(mem)
    statuses = {r["status"] for r in before.values()}
    assert {"committed", "superseded", "archived"} <= statuses and any(r["pinned"] for r in before.values())
    assert any(r["level"] > 0 for r in before.values())

    res = mem.export(tmp_path / "memory.tar")
    assert res["units"] == len(before) and (tmp_path / "memory.tar").stat().st_size == res["bytes"]

    new = _other(tmp_path, "restored")
    got = new.import_(tmp_path / "memory.tar")
    assert got["units"] == len(before)
    assert [s.to_dict() for s in new.sources()] == [s.to_dict() for s in mem.sources()]
    assert _units(new) == before  # ids, states, supersede links, pins, access counts, summaries
    ids = sorted(before)
    a, b = mem._lance.vectors_of(ids), new._lance.vectors_of(ids)
    assert all(np.array_equal(a[i], b[i]) for i in ids)
    def turns(m):
        t = m._lance.turns.table()
        return None if t is None else sorted(t.to_arrow().column("unit_id").to_pylist())
    assert turns(new) == turns(mem)
    assert new._graph.store.counts() == mem._graph.store.counts()
    old_chain = [r.id for r in mem.history(next(u for u, r in before.items() if r["status"] == "superseded"))]
    assert [r.id for r in new.history(old_chain[0])] == old_chain
    for q in QUERIES:
        for mode in ("hybrid", "bm25", "dense", "graph"):
            was, now = mem.search(q, mode=mode), new.search(q, mode=mode)
            assert [h.unit_id for h in now] == [h.unit_id for h in was], (q, mode)
            # Same vectors, same scores. BM25 scores differ: Tantivy's statistics still count
            # the documents deleted from the old index (archived units) until its segments
            # merge, and the rebuilt index has none (the ranking above is the same).
            if mode in ("dense", "graph"):
                assert [h.score for h in now] == [h.score for h in was], (q, mode)
    assert new.doctor().healthy


def test_import_refuses_a_home_with_memory_unless_merging(rich_memory, tmp_path, corpus):
    mem = rich_memory
    mem.export(tmp_path / "m.tar")
    other = _other(tmp_path, "other")
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "bees.md").write_text("# Bees\n\nSwarm season starts in April.\n")
    other.ingest([tmp_path / "extra"])
    with pytest.raises(ConfigError, match="already holds memory"):
        other.import_(tmp_path / "m.tar")
    res = other.import_(tmp_path / "m.tar", merge=True)
    assert res["replaced"] == 0 and len(other.sources()) == len(mem.sources()) + 1
    again = other.import_(tmp_path / "m.tar", merge=True)  # the same archive twice: replaced, not doubled
    assert again["replaced"] == len(mem.sources())
    assert other._lance.count_units() == mem._lance.count_units() + 1
    assert other.doctor().healthy


def test_a_bad_archive_is_a_clear_error(tmp_path, capsys, monkeypatch):
    from memcli.cli import run

    monkeypatch.setenv("MEM_HOME", str(tmp_path / "h"))
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all")
    assert run(["import", str(tmp_path / "junk.tar")]) == 2
    assert "not a readable memcli archive" in capsys.readouterr().err
    assert run(["import", str(tmp_path / "missing.tar")]) == 2
    assert "no such archive" in capsys.readouterr().err


def test_an_import_killed_midway_is_wiped_by_the_next_writer(rich_memory, tmp_path, monkeypatch):
    from memcli.store.lexical import LexicalIndex

    rich_memory.export(tmp_path / "m.tar")
    new = _other(tmp_path, "restored")

    class Killed(BaseException):
        pass

    def die(self, *a, **kw):
        raise Killed()
    monkeypatch.setattr(LexicalIndex, "replace", die)
    with pytest.raises(Killed):
        new.import_(tmp_path / "m.tar")
    monkeypatch.undo()
    fresh = _other(tmp_path, "restored")
    assert not fresh.doctor().healthy  # the journal of the killed import
    fresh.doctor(repair=True)
    assert fresh.sources() == [] and fresh._lance.count_units("status != 'pending'") == 0
    fresh.import_(tmp_path / "m.tar")
    assert _units(fresh) == _units(rich_memory) and fresh.doctor().healthy
