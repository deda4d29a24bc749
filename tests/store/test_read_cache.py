"""A remote home's read cache (store/mirror.py): this machine's copy of the LanceDB tables,
kept exact by fetching only the files it lacks. Real LanceDB tables; the "bucket" is a
directory behind obstore's LocalStore (the same object-store API the S3 store answers; the
S3 server's turn is in test_remote_home.py)."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pytest

from memcli.store.mirror import Mirror, _is_manifest


@pytest.fixture
def bucket(tmp_path):
    import lancedb
    from obstore.store import LocalStore

    root = tmp_path / "bucket"
    db = lancedb.connect(str(root))
    table = db.create_table("units", data=pa.table({"id": [f"u{i}" for i in range(50)], "n": list(range(50))}))
    db.create_table("sources", data=pa.table({"source_id": ["s1"]}))
    return db, table, LocalStore(str(root))


def _rows(path) -> list[str]:
    import lancedb

    return sorted(lancedb.connect(str(path)).open_table("units").to_arrow().column("id").to_pylist())


def test_the_copy_reads_what_the_bucket_holds_and_fetches_each_file_once(bucket, tmp_path):
    db, table, store = bucket
    mirror = Mirror(store, tmp_path / "copy", every_s=60)
    first = mirror.sync()
    assert first.fetched > 0 and first.bytes > 0 and mirror.ready()
    assert _rows(tmp_path / "copy") == sorted(f"u{i}" for i in range(50))
    again = mirror.sync()
    assert (again.fetched, again.dropped) == (0, 0)  # nothing changed: nothing fetched
    assert mirror.catch_up() is None  # within every_s: not even a listing


@pytest.mark.filterwarnings("ignore:optimize\\(cleanup_older_than=0\\):UserWarning")
def test_a_write_and_a_compaction_fetch_only_the_new_files_and_drop_the_gone_ones(bucket, tmp_path):
    db, table, store = bucket
    mirror = Mirror(store, tmp_path / "copy", every_s=60)
    mirror.sync()
    before = {p.relative_to(tmp_path / "copy") for p in (tmp_path / "copy").rglob("*") if p.is_file()}
    table.add(pa.table({"id": ["late"], "n": [99]}))
    table.delete("id = 'u0'")
    table.optimize(cleanup_older_than=timedelta(0))  # compaction: old data files and versions go
    mirror.stale()  # this machine wrote: the next read catches up at once
    step = mirror.catch_up()
    assert step is not None and step.fetched > 0 and step.dropped > 0
    after = {p.relative_to(tmp_path / "copy") for p in (tmp_path / "copy").rglob("*") if p.is_file()}
    assert step.fetched < len(after)  # only what was new
    assert _rows(tmp_path / "copy") == sorted([f"u{i}" for i in range(1, 50)] + ["late"])
    bucket_files = {p.relative_to(tmp_path / "bucket") for p in (tmp_path / "bucket").rglob("*") if p.is_file()}
    copy_files = {p for p in after if not p.name.startswith(".mirror")}
    assert copy_files == bucket_files  # exact: what compaction removed is gone here too
    assert before - after  # (and it did remove something)


def test_manifests_arrive_after_the_files_they_name(bucket, tmp_path, monkeypatch):
    """A reader of the copy sees a whole version: a manifest is fetched only after every
    data, index and deletion file of the same listing."""
    db, table, store = bucket
    order: list[str] = []
    real = Mirror._fetch

    def fetch(self, path):
        order.append(path)
        return real(self, path)

    monkeypatch.setattr(Mirror, "_fetch", fetch)
    Mirror(store, tmp_path / "copy", every_s=60).sync()
    kinds = [_is_manifest(p) for p in order]
    assert any(kinds) and not all(kinds)
    assert kinds == sorted(kinds)  # every non-manifest before the first manifest


def test_an_empty_bucket_is_not_ready(tmp_path):
    from obstore.store import LocalStore

    (tmp_path / "empty").mkdir()
    mirror = Mirror(LocalStore(str(tmp_path / "empty")), tmp_path / "copy", every_s=0)
    assert mirror.sync().fetched == 0 and not mirror.ready()
