"""LanceDB tables ``sources`` and ``units``: the source of truth for memory.

Units are written ``pending`` and flipped to ``committed`` only after the lexical index
holds them too; readers only ever see committed units.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from memcli.errors import StoreError
from memcli.store.history import keep_replaced
from memcli.store.lance_maintain import LanceMaintenance
from memcli.store.lance_reads import LanceReads
from memcli.store.query import REPLACED, chunks, in_list, lit
from memcli.store.schema import (UNIT_COLUMNS, add_missing_columns, sources_schema, sql_list, units_schema, utcnow,
                                 vector_array)
from memcli.store.schema_cache import cache_schema
from memcli.types import Source, Unit

class LanceStore(LanceReads, LanceMaintenance):
    """The tables and their writes; reads in store/lance_reads.py, upkeep in store/lance_maintain.py."""

    def __init__(self, path: Path | str, storage_options: dict[str, str] | None = None,
                 consistency_s: float = 0.0, vector_dtype: str = "float32", read_only: bool = False) -> None:
        """``path``: a directory, or an object-store URI (s3://bucket/prefix/lance).

        ``consistency_s``: how stale a read may be. 0 (local homes): every read sees the
        latest committed version, so a long-lived reader (a chat, a server, a search during
        another process's ingest) never reads a version whose files compaction removed, nor
        misses what was committed since. On object storage each such check is a request
        (~30 per search), so a remote home allows a little staleness (its own writes are
        seen at once: they go through the same table handles).

        ``read_only``: a copy of another store's tables (store/mirror.py): never migrated
        here (the writer migrates the original, and the copy follows)."""
        from memcli.paths import is_remote
        from memcli.store.lazy_import import import_lancedb

        lancedb = import_lancedb()

        if not is_remote(path):
            Path(path).mkdir(parents=True, exist_ok=True)
        self.db = lancedb.connect(str(path), read_consistency_interval=timedelta(seconds=consistency_s),
                                  storage_options=storage_options or None)
        self._units = None
        self._sources = None
        self._ann: bool | None = None
        self.read_only = read_only
        self.vector_dtype = vector_dtype  # for a units table created here (an existing one keeps its own)
        self._summaries: tuple[int | None, bool] = (None, False)  # (units version, any live summary)
        self._source_rows: tuple[int | None, dict[str, Source]] = (None, {})  # (sources version, cache)

    def refresh(self) -> None:
        """Read the latest version of every open table now (a writer on a remote home does,
        right after taking the lock, whatever ``consistency_s`` allows readers)."""
        if getattr(self, "_turns", None) is not None:
            self._turns.look_again()
        for t in (self._units, self._sources, getattr(self, "_turns", None) and self._turns.table()):
            if t is not None:
                t.checkout_latest()

    def _exists(self, name: str) -> bool:
        # table_exists() needs a namespace-capable connection; listing works on every kind.
        return name in self.db.list_tables(limit=1000).tables

    def sources_table(self):
        if self._sources is None:
            if self._exists("sources"):
                self._sources = cache_schema(self.db.open_table("sources"))
                if not self.read_only:
                    add_missing_columns(self._sources, sources_schema())
            else:
                self._sources = cache_schema(self.db.create_table("sources", schema=sources_schema(), exist_ok=True))
        return self._sources

    def units_table(self, fp: dict[str, object] | None = None, *, create: bool = False):
        """The units table; ``fp`` (embedder fingerprint) must match what the vectors were made with."""
        if self._units is None:
            if self._exists("units"):
                self._units = cache_schema(self.db.open_table("units"))
                if not self.read_only:
                    add_missing_columns(self._units, units_schema(1, {}), skip=("vector",))
            elif create and fp is not None:
                self._units = cache_schema(self.db.create_table(
                    "units", schema=units_schema(int(fp["embed_dim"]), fp, self.vector_dtype), exist_ok=True
                ))
            else:
                return None
        if fp is not None:  # every search asks: the handle reads its schema once (store/schema_cache.py)
            stored = self.fingerprint()
            if stored and stored != {k: str(v) for k, v in fp.items()}:
                raise StoreError(
                    f"this memory was embedded with {stored.get('embed_model')} "
                    f"(dim {stored.get('embed_dim')}), but the configured embedder is "
                    f"{fp['embed_model']} (dim {fp['embed_dim']})",
                    hint=f"run `mem reindex` to re-embed everything with the new model, or set "
                         f"embed.model back to {stored.get('embed_model')}",
                )
        return self._units

    def fingerprint(self) -> dict[str, str]:
        t = self._units if self._units is not None else (
            self.db.open_table("units") if self._exists("units") else None)
        if t is None:
            return {}
        meta = t.schema.metadata or {}
        return {k.decode(): v.decode() for k, v in meta.items() if k.decode().startswith("embed_")}

    def add_units(self, units: Sequence[Unit], vectors: np.ndarray, fp: dict[str, object],
                  status: str = "pending") -> None:
        """One append (one table version). ``status``: committed only when every other store
        already holds these units (Catalog.write's path for sources that are new)."""
        import pyarrow as pa

        t = self.units_table(fp, create=True)
        schema = t.schema
        cols: dict[str, Any] = {c: [getattr(u, c) if c != "status" else status for u in units]
                                for c in UNIT_COLUMNS}
        arrays = {c: pa.array(cols[c], type=schema.field(c).type) for c in UNIT_COLUMNS}
        arrays["vector"] = vector_array(vectors, schema.field("vector").type)
        # In the table's own column order: a home migrated from an older version has its
        # newer columns after the vector.
        t.add(pa.Table.from_arrays([arrays[f.name] for f in schema], schema=schema))

    def add_rows(self, rows, fp: dict[str, object]) -> None:
        """Whole unit rows (an Arrow table with every column and the vector, as ``dump``
        gives them), written ``pending`` whatever state they had: the caller commits."""
        import pyarrow as pa

        t = self.units_table(fp, create=True)
        schema = t.schema
        n = rows.num_rows
        cols = []
        for f in schema:
            if f.name == "status":
                cols.append(pa.array(["pending"] * n, pa.string()))
            elif f.name in rows.column_names:
                cols.append(rows.column(f.name).cast(f.type))
            else:
                cols.append(pa.nulls(n, f.type))
        t.add(pa.Table.from_arrays(cols, schema=schema))

    def commit_units(self, source_ids: Sequence[str], keep_history: bool = False) -> None:
        """Replace the committed units of these sources with their pending ones.

        ``keep_history`` (an edited file): a passage whose text is gone is kept as
        ``replaced``, valid until now, for `--as-of`; a passage still there keeps the time it
        first entered memory (``valid_from``). Earlier replaced units stay; every other old
        state goes."""
        t = self.units_table()
        if t is None or not source_ids:
            return
        ids = sql_list(source_ids)
        if keep_history:
            keep_replaced(t, ids)
        # The sources' old units go in every state (live, merged, superseded, archived).
        t.delete(f"source_id IN {ids} AND status != 'pending' AND status != {lit(REPLACED)}")
        t.update(where=f"source_id IN {ids} AND status = 'pending'", values={"status": "committed"})

    def commit_ids(self, ids: Sequence[str]) -> None:
        """Flip these pending units (derived ones: summaries) to committed."""
        t = self.units_table()
        for part in chunks(ids):
            t.update(where=f"{in_list('id', part)} AND status = 'pending'", values={"status": "committed"})

    def set_status(self, ids: Sequence[str], status: str, **values) -> None:
        """One state change (and its bookkeeping columns) for these units, one commit per 500."""
        self.update_units(ids, status=status, **values)

    def update_units(self, ids: Sequence[str], **values) -> None:
        """Set columns of these units, one commit per 500."""
        t = self.units_table()
        if t is None:
            return
        for part in chunks(ids):
            t.update(where=in_list("id", part), values=values)

    def set_pinned(self, ids: Sequence[str], pinned: bool) -> None:
        self.update_units(ids, pinned=pinned)

    def delete_units(self, ids: Sequence[str]) -> None:
        t = self.units_table()
        if t is None:
            return
        for part in chunks(ids):
            t.delete(in_list("id", part))

    def record_access(self, ids: Sequence[str], when: datetime | None = None, times: int = 1) -> None:
        """Cited in an answer (``times`` answers): recall strengthens a memory (decay reads these)."""
        t = self.units_table()
        if t is None or not ids:
            return
        when = (when or utcnow()).astimezone(timezone.utc)
        t.update(where=f"id IN {sql_list(ids)}",
                 values_sql={"access_count": f"coalesce(access_count, 0) + {int(times)}",
                             "last_access": f"arrow_cast('{when.strftime('%Y-%m-%dT%H:%M:%S')}', 'Timestamp(Microsecond, Some(\"UTC\"))')"})

    def upsert_sources(self, sources: Sequence[Source]) -> None:
        import pyarrow as pa

        if not sources:
            return
        schema = sources_schema()
        rows = [s.to_dict() | {"ingested_at": s.ingested_at} for s in sources]
        data = pa.Table.from_pylist(rows, schema=schema)
        t = self.sources_table()
        (t.merge_insert("source_id").when_matched_update_all().when_not_matched_insert_all().execute(data))

    def add_sources(self, sources: Sequence[Source]) -> None:
        """Rows for sources this table does not hold yet: a plain append, where an upsert
        would join against every source row (O(sources) per ingest batch)."""
        import pyarrow as pa

        if sources:
            rows = [s.to_dict() | {"ingested_at": s.ingested_at} for s in sources]
            self.sources_table().add(pa.Table.from_pylist(rows, schema=sources_schema()))

    @property
    def turns(self):
        """Per-turn vectors of conversation segments (store/turns.py)."""
        if getattr(self, "_turns", None) is None:
            from memcli.store.turns import TurnStore

            self._turns = TurnStore(self.db)
        return self._turns

    def delete_sources(self, source_ids: Sequence[str]) -> None:
        if not source_ids:
            return
        ids = sql_list(source_ids)
        self.turns.delete_sources(source_ids)
        t = self.units_table()
        if t is not None:
            t.delete(f"source_id IN {ids}")
        self.sources_table().delete(f"source_id IN {ids}")

    def delete_pending(self) -> int:
        t = self.units_table()
        if t is None:
            return 0
        n = t.count_rows("status = 'pending'")
        if n:
            t.delete("status = 'pending'")
        return n
