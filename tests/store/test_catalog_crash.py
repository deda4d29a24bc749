"""Catalog is the only writer, and every write it makes is journaled: a process that dies
between the LanceDB change and the Tantivy change (simulated here by a failure at exactly
that point) leaves a journal, and the next writer makes the stores agree again."""

from datetime import timedelta

import pytest

from memcli.embed.fake import FakeEmbedder
from memcli.memory import Memory
from memcli.store.schema import utcnow
from memcli.store.lexical import LexicalIndex


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no handler catches it."""


def _die_on_next(monkeypatch, method: str) -> None:
    def die(self, *a, **kw):
        raise Killed(method)
    monkeypatch.setattr(LexicalIndex, method, die)


def _fresh(settings) -> Memory:
    return Memory(settings, embedder=FakeEmbedder(dim=64))


def _agree(m: Memory) -> bool:
    return m._lance.committed_ids() == m._lexical.all_ids()


def _archive_all(mem, corpus) -> None:
    mem.ingest([corpus], recursive=True)
    mem.consolidate(only=["decay"], now=utcnow() + timedelta(days=3 * 365))
    assert mem._lance.count_units("status = 'archived'") > 0


@pytest.mark.parametrize("op", ["pin", "forget_weak", "decay", "dedupe"])
def test_a_write_killed_between_lancedb_and_tantivy_is_repaired_by_the_next_writer(op, mem, settings, corpus,
                                                                                  monkeypatch, tmp_path):
    if op == "dedupe":
        (corpus / "copy.md").write_text((corpus / "garden.md").read_text())
        mem.ingest([corpus], recursive=True)
    else:
        _archive_all(mem, corpus) if op != "decay" else mem.ingest([corpus], recursive=True)
    trip = next(s for s in mem.sources() if s.uri.endswith("trip.txt"))
    run = {
        "pin": lambda: mem.pin(trip.uri),
        "forget_weak": lambda: mem.weak_units(utcnow() + timedelta(days=4 * 365), forget=True),
        "decay": lambda: mem.consolidate(only=["decay"], now=utcnow() + timedelta(days=3 * 365)),
        "dedupe": lambda: mem.consolidate(only=["dedupe"]),
    }[op]
    # pin re-indexes archived units (replace); the others drop units from the index (delete_ids).
    _die_on_next(monkeypatch, "replace" if op == "pin" else "delete_ids")
    with pytest.raises(Killed):
        run()
    monkeypatch.undo()

    after = _fresh(settings)
    report = after.doctor()
    assert any(f.check == "interrupted write" and not f.ok for f in report.findings)
    # What the kill broke: Tantivy behind LanceDB, or (forget --weak) sources short of units.
    assert not _agree(after) or any(f.check == "sources with all their units" and not f.ok
                                     for f in report.findings)
    before = {s.uri for s in after.sources()}
    after.ingest([corpus], recursive=True)  # any writer recovers first
    assert _agree(after)
    assert after.doctor().healthy
    assert {s.uri for s in after.sources()} == before  # nothing was forgotten to get there
