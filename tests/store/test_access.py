"""Answers note the units they cite (store/access.py); the next write folds the notes into LanceDB."""

from datetime import datetime, timedelta, timezone

from memcli.store import access

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def _fold(home):
    got = []
    n = access.fold(home, lambda ids, when, times: got.append((ids, when, times)))
    return n, got


def test_notes_fold_into_a_few_updates_by_count(tmp_path):
    access.note(tmp_path, ["a", "b"], T0)
    access.note(tmp_path, ["a", "a", "c"], T0 + timedelta(minutes=5))
    assert [ids for _, ids in access.pending(tmp_path)] == [["a", "b"], ["a", "c"]]
    n, got = _fold(tmp_path)
    assert n == 2
    assert sorted(got) == [(["a"], T0 + timedelta(minutes=5), 2), (["b", "c"], T0 + timedelta(minutes=5), 1)]
    assert access.pending(tmp_path) == [] and _fold(tmp_path) == (0, [])


def test_a_torn_line_is_skipped_and_an_interrupted_fold_is_finished(tmp_path):
    access.note(tmp_path, ["a"], T0)
    (tmp_path / access.FILE).open("a").write('{"t": "2026-12-01T09:')  # a crash mid-append
    # A fold that renamed the notes and died before it wrote them: they are folded next time,
    # before the notes made since.
    (tmp_path / access.FILE).rename(tmp_path / access.FOLDING)
    access.note(tmp_path, ["b"], T0 + timedelta(hours=2))
    n, got = _fold(tmp_path)
    assert n == 1 and got == [(["a"], T0, 1)]
    n, got = _fold(tmp_path)
    assert n == 1 and got == [(["b"], T0 + timedelta(hours=2), 1)]


def test_an_answer_while_a_writer_holds_the_lock_is_counted_after_it(mem, corpus):
    mem.ingest([corpus], recursive=True)
    uid = mem.search("tomatoes", k=1)[0].unit_id
    with mem._lock():
        mem._record_access([uid])  # used to be skipped while a writer held the lock
    assert access.pending(mem.home)
    mem.pin(uid)  # any write folds first
    assert not access.pending(mem.home)
    assert mem._lance.units_by_ids([uid], ["id", "access_count"])[uid]["access_count"] == 1
