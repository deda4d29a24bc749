"""Upkeep of the LanceDB tables: indexes, compaction, disk use, re-embedding and export
(a part of LanceStore: store/lance.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np

from memcli.store.schema import UNIT_COLUMNS, ann_index_config, units_schema, vector_array


class LanceMaintenance:
    """Needs from LanceStore: ``db``, ``units_table()``, ``sources_table()``, ``turns``,
    ``committed()``, ``_exists()``, ``vector_dtype`` and the ``_units``/``_ann`` handles it resets."""

    def dump(self) -> dict:
        """Every source and every settled unit (with its vector): what `mem export` writes."""
        out = {"sources": self.sources_table().to_arrow()}
        t = self.units_table()
        if t is not None:
            out["units"] = t.search().where("status != 'pending'").limit(None).to_arrow()
        turns = self.turns.table()
        if turns is not None:
            out["turn_vectors"] = turns.to_arrow()
        return out

    def tables(self) -> list:
        """Every open table of this store (units, sources, turn vectors)."""
        return [t for t in (self.sources_table(), self.units_table(), self.turns.table()) if t is not None]

    def maintain(self, ann_min_units: int | None, keep_s: float | None = None) -> dict[str, object]:
        """Compact small fragments, drop old table versions, keep scalar indexes current, and
        build the ANN index once the table is large enough for exact search to be slow.

        Every ingest batch leaves a small fragment and a table version; without this, reads
        slow down with each batch (100 batches: sources() 37 ms -> 3 ms after) and each
        commit's manifest lists ever more fragments. The scalar indexes come first: Lance
        never merges indexed fragments with unindexed ones, so once they exist a compaction
        rewrites only the new tail, not the whole table. ``ann_min_units`` None: no new ANN
        index (mid-ingest: it is trained once, on everything, at the end; an existing one is
        extended). ``keep_s``: versions older than this go (None: Lance's 7 days).
        """
        import warnings

        from lancedb.index import BTree, Bitmap

        done: dict[str, object] = {}
        t = self.units_table()
        if t is not None and t.count_rows() > 0:
            have = {tuple(i.columns) for i in t.list_indices()}
            for col, cfg in (("id", BTree()), ("source_id", BTree()), ("status", Bitmap())):
                if (col,) not in have:
                    t.create_index(col, config=cfg)
                    done[f"index:{col}"] = True
        keep = None if keep_s is None else timedelta(seconds=keep_s)
        with warnings.catch_warnings():  # "removes every version but the latest": meant
            warnings.simplefilter("ignore", UserWarning)
            for table in self.tables():
                table.optimize(cleanup_older_than=keep)
        if (t is not None and ann_min_units is not None and ("vector",) not in {tuple(i.columns) for i in t.list_indices()}
                and t.count_rows() >= ann_min_units):
            t.create_index("vector", config=ann_index_config())
            self._ann = None
            done["index:vector"] = True
        return done

    def disk_usage(self) -> tuple[int, int]:
        """(bytes on disk under the tables, bytes the latest versions use): the difference is
        what a compaction would give back (old versions, deleted rows, superseded indexes).
        Local homes only; an object-store home reports (0, 0)."""
        from memcli.paths import is_remote

        uri = str(self.db.uri)
        if is_remote(uri):
            return 0, 0
        on_disk = sum(f.stat().st_size for f in Path(uri).rglob("*") if f.is_file())
        live = 0
        for t in self.tables():
            st = t.stats()
            live += int(st["total_bytes"] if isinstance(st, dict) else st.total_bytes)
        return on_disk, live

    def reindex(self, embed, fp: dict[str, object], on_progress=None, chunk: int = 256) -> int:
        """Re-embed every committed unit with another embedder (a new vector space).

        The new rows go to ``units_reindex`` first; only then is ``units`` replaced, so a crash
        in between leaves a complete copy that ``Catalog.recover`` restores.
        """
        import pyarrow as pa

        from memcli.text import index_text

        data = self.committed(UNIT_COLUMNS)
        if data is None:
            return 0
        texts = [index_text(t, sct, x) for t, sct, x in zip(
            data.column("title").to_pylist(), data.column("section").to_pylist(), data.column("text").to_pylist())]
        dim = int(fp["embed_dim"])
        vecs = np.zeros((len(texts), dim), dtype=np.float32)
        for i in range(0, len(texts), chunk):
            vecs[i:i + chunk] = embed(texts[i:i + chunk])
            if on_progress:
                on_progress(min(i + chunk, len(texts)), len(texts))
        schema = units_schema(dim, fp, self.vector_dtype)
        table = pa.Table.from_arrays(
            [data.column(c).cast(schema.field(c).type) for c in UNIT_COLUMNS]
            + [vector_array(vecs, schema.field("vector").type)], schema=schema)
        if self._exists("units_reindex"):
            self.db.drop_table("units_reindex")
        self.db.create_table("units_reindex", data=table, schema=schema)
        self.db.drop_table("units")
        self._units, self._ann = None, None
        self.db.create_table("units", data=table, schema=schema)
        self.db.drop_table("units_reindex")
        return len(texts)

    def restore_reindex(self) -> bool:
        """After a crash inside ``reindex``: bring back ``units`` from the complete copy."""
        if not self._exists("units_reindex"):
            return False
        if not self._exists("units"):
            copy = self.db.open_table("units_reindex")
            self.db.create_table("units", data=copy.to_arrow(), schema=copy.schema)
        self.db.drop_table("units_reindex")
        self._units, self._ann = None, None
        return True

    def has_ann(self) -> bool:
        t = self.units_table()
        return t is not None and any(tuple(i.columns) == ("vector",) for i in t.list_indices())

    def ann_known(self) -> bool:
        """has_ann, asked once per store (maintain and reindex forget the answer)."""
        if self._ann is None:
            self._ann = self.has_ann()
        return self._ann
