"""Reads of the units and sources tables (a part of LanceStore: store/lance.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from memcli.store.query import KEPT, UnitFilter, chunks, historic, in_list, lit, where_sql
from memcli.store.schema import LIVE, LIVE_SUMMARIES, UNIT_COLUMNS, Where, and_, sql_list, vector_matrix
from memcli.types import Source

SOURCES_KEPT = 50_000  # sources kept in memory per table version (one row a document)


def _reread_if_vanished(read):
    """A read that lost its table version is read once more, on the latest one.

    Writers drop old table versions as they go (ingest, forget, compaction): a read that
    started on a version a moment before another process dropped it finds a data file
    gone. The latest version holds everything committed, and every read looks for it
    (``consistency_s`` 0 here; a remote home keeps versions past its read lag)."""
    import functools

    @functools.wraps(read)
    def wrapper(self, *args, **kwargs):
        try:
            return read(self, *args, **kwargs)
        except (RuntimeError, OSError) as e:
            if "Not found" not in str(e):
                raise
            self.refresh()
            return read(self, *args, **kwargs)
    return wrapper


class LanceReads:
    """What a search, a view and consolidation read. Needs from LanceStore: ``units_table()``,
    ``sources_table()``, ``refresh()``, ``ann_known()`` and the per-version caches
    ``_summaries`` and ``_source_rows`` its ``__init__`` sets."""

    @_reread_if_vanished
    def units_where(self, where: Where, columns: Sequence[str], limit: int | None = None) -> list[dict]:
        """Rows (only ``columns``) of the units ``where`` selects (a UnitFilter); ``limit``:
        at most this many (1: does anything match?)."""
        t = self.units_table()
        if t is None:
            return []
        q = t.search()
        pred = where_sql(where)
        if pred:
            q = q.where(pred)
        return q.select(list(columns)).limit(limit).to_arrow().to_pylist()

    def has_summaries(self) -> bool:
        """Asked by every search (leaves only, once summaries exist): counted once per table
        version, as a scan of the level column would otherwise run per query."""
        t = self.units_table()
        if t is None:
            return False
        v = t.version
        if self._summaries[0] != v:
            self._summaries = (v, self.count_units(LIVE_SUMMARIES) > 0)
        return self._summaries[1]

    def status_counts(self) -> dict[str, int]:
        """Units per state (pending excluded) and live summaries: what consolidate reports."""
        by = {st: self.count_units(f"status = {lit(st)}") for st in KEPT}
        by["summaries"] = self.count_units(LIVE_SUMMARIES)
        return by

    @_reread_if_vanished
    def vectors_of(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        t = self.units_table()
        out: dict[str, np.ndarray] = {}
        for part in chunks(ids):
            rows = t.search().where(in_list("id", part)).select(["id", "vector"]).limit(None).to_arrow()
            out.update(zip(rows.column("id").to_pylist(), vector_matrix(rows.column("vector"))))
        return out

    @_reread_if_vanished
    def rows_with_vectors(self, where: Where, columns: Sequence[str]) -> tuple[list[dict], np.ndarray]:
        """Rows (``columns``) and their vectors as one float32 matrix, in one scan: what
        consolidation compares (a lookup of every id in chunks took 2,000 queries at 1M units,
        and vectors as Python lists ~40 bytes a number)."""
        t = self.units_table()
        if t is None:
            return [], np.zeros((0, 1), dtype=np.float32)
        q = t.search()
        pred = where_sql(where)
        if pred:
            q = q.where(pred)
        tbl = q.select([*columns, "vector"]).limit(None).to_arrow()
        return tbl.drop(["vector"]).to_pylist(), vector_matrix(tbl.column("vector"))

    @_reread_if_vanished
    def sources_by_ids(self, ids: Sequence[str]) -> dict[str, Source]:
        """Kept per sources-table version: a served search then reads only sources it has not
        shown since the last write (up to ``SOURCES_KEPT``; all of them once bridging has
        read the titles)."""
        if not ids:
            return {}
        t = self.sources_table()
        v = t.version
        if self._source_rows[0] != v or len(self._source_rows[1]) > SOURCES_KEPT:
            self._source_rows = (v, {})
        cache = self._source_rows[1]
        missing = sorted(i for i in ids if i not in cache)
        if missing:
            rows = t.search().where(f"source_id IN {sql_list(missing)}").limit(len(missing))
            found = {r["source_id"]: Source(**r) for r in rows.to_arrow().to_pylist()}
            cache.update({i: found.get(i) for i in missing})
        return {i: cache[i] for i in ids if cache.get(i) is not None}

    @_reread_if_vanished
    def source_titles(self) -> list[tuple[str, str]]:
        """(source id, title) of every source: what bridging links by (one row a document,
        not one a unit). Read once per sources-table version; up to ``SOURCES_KEPT`` sources
        come whole and fill ``sources_by_ids``' cache, so no later search of that version
        reads the sources table (a lookup by id was ~5 ms a search at 1M units)."""
        t = self.sources_table()
        if t.count_rows() > SOURCES_KEPT:
            rows = t.search().select(["source_id", "title"]).limit(None).to_arrow()
            return list(zip(rows.column("source_id").to_pylist(), rows.column("title").to_pylist()))
        v = t.version  # read before the rows: a write in between makes the cache look stale, not current
        found = [Source(**r) for r in t.to_arrow().to_pylist()]
        self._source_rows = (v, {s.source_id: s for s in found})
        return [(s.source_id, s.title) for s in found]

    @_reread_if_vanished
    def leaves_of(self, source_ids: Sequence[str], columns: Sequence[str], limit: int) -> list[dict]:
        """Live leaf units of these sources, at most ``limit`` (one lookup by source id)."""
        t = self.units_table()
        if t is None or not source_ids:
            return []
        pred = where_sql(UnitFilter().and_(source_ids=source_ids, status="committed", level=0))
        return t.search().where(pred).select(list(columns)).limit(limit).to_arrow().to_pylist()

    @_reread_if_vanished
    def sources(self) -> list[Source]:
        rows = self.sources_table().to_arrow().to_pylist()
        return [Source(**r) for r in sorted(rows, key=lambda r: r["uri"])]

    def source_map(self) -> dict[str, Source]:
        return {s.source_id: s for s in self.sources()}

    @_reread_if_vanished
    def count_units(self, where: Where = LIVE) -> int:
        t = self.units_table()
        return 0 if t is None else int(t.count_rows(where_sql(where)))

    @_reread_if_vanished
    def units_by_ids(self, ids: Sequence[str], columns: Sequence[str] | None = None,
                     where: Where = None) -> dict[str, dict]:
        """Committed units among ``ids`` (that also match ``where``), by id."""
        t = self.units_table()
        if t is None or not ids:
            return {}
        cols = list(columns or [c for c in UNIT_COLUMNS])
        pred = and_(in_list("id", ids), None if historic(where) else LIVE, where_sql(where))
        q = t.search().where(pred).select(cols).limit(len(ids))
        return {r["id"]: r for r in q.to_arrow().to_pylist()}

    @_reread_if_vanished
    def units_of(self, source_id: str, columns: Sequence[str] | None = None) -> list[dict]:
        t = self.units_table()
        if t is None:
            return []
        cols = list(dict.fromkeys([*(columns or UNIT_COLUMNS), "ord"]))
        rows = t.search().where(f"source_id = {lit(source_id)} AND {LIVE}").select(cols)
        return sorted(rows.limit(None).to_arrow().to_pylist(), key=lambda r: r["ord"])

    @_reread_if_vanished
    def committed(self, columns: Sequence[str]):
        """Every committed unit, only ``columns`` (an Arrow table; None before the first ingest)."""
        t = self.units_table()
        if t is None:
            return None
        return t.search().where("status = 'committed'").select(list(columns)).limit(None).to_arrow()

    def committed_ids(self) -> set[str]:
        tbl = self.committed(["id"])
        return set() if tbl is None else set(tbl.column("id").to_pylist())

    @_reread_if_vanished
    def dense_search(self, vector: np.ndarray, k: int, columns: Sequence[str], *,
                     ann_nprobes: int = 20, ann_refine: int = 5, where: Where = None) -> list[dict]:
        t = self.units_table()
        if t is None:
            return []
        pred = and_(None if historic(where) else LIVE, where_sql(where))
        q = (t.search(np.asarray(vector, dtype=np.float32), vector_column_name="vector")
             .metric("cosine").where(pred, prefilter=True)
             .select([*columns, "_distance"]).limit(k))
        if self.ann_known():
            # Re-score the ANN candidates with exact distances from the stored vectors.
            q = q.nprobes(ann_nprobes).refine_factor(ann_refine)
        return q.to_arrow().to_pylist()
