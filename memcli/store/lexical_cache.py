"""Catalog's upkeep of the Tantivy index against LanceDB (the source of truth): docs whose
unit is gone are dropped, live units it lacks are added; a remote home's per-machine index
catches up with other machines' writes this way. A part of Catalog (the only writer), kept
in its own module."""

from __future__ import annotations

from pathlib import Path

from memcli.store.lexical import KEY_COLUMN, ROW_COLUMNS
from memcli.text import index_text


class LexicalCache:
    """Mixed into Catalog (it uses ``lance`` and ``lexical``)."""

    def index_rows(self, rows) -> None:
        """Put unit rows (every column of ``ROW_COLUMNS``, and ``KEY_COLUMN``) back into the lexical index."""
        self.lexical.replace([], ((r["id"], r["source_id"], index_text(r["title"], r["section"], r["text"]), r)
                                  for r in rows))

    def add_lexical_missing(self, reads=None) -> int:
        tbl = (reads or self.lance).committed([*ROW_COLUMNS, KEY_COLUMN])
        if tbl is None:
            return 0
        have = self.lexical.all_ids()
        rows = [r for r in tbl.to_pylist() if r["id"] not in have]
        if rows:
            self.index_rows(rows)
        return len(rows)

    def sync_lexical_cache(self, marker: Path, reads=None) -> int:
        """A remote home's per-machine Tantivy cache follows LanceDB: when the units table
        moved since ``marker`` was written, docs of units no longer live go and live units it
        lacks are added (other machines' writes, or recoveries). Returns docs changed.
        ``reads``: where to read the units (this machine's copy of the tables), else the store."""
        reads = reads or self.lance
        t = reads.units_table()
        if t is None:
            return 0
        version = str(t.version)
        try:
            if marker.read_text() == version:
                return 0
        except OSError:
            pass
        n = self.drop_lexical_orphans(reads) + self.add_lexical_missing(reads)
        marker.write_text(version)
        return n

    def drop_lexical_orphans(self, reads=None) -> int:
        """Remove index docs whose unit is not committed in LanceDB (the source of truth)."""
        extra = self.lexical.all_ids() - (reads or self.lance).committed_ids()
        if extra:
            self.lexical.delete_ids(sorted(extra))
        return len(extra)
