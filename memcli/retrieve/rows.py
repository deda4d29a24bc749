"""The candidates' unit rows, read from LanceDB once per search.

Bridging reads the top hits' text, the time boost their event times, neighbour expansion
their positions, and the final hits everything a Hit shows. Each used to fetch its own rows
by id (four to six lookups a search); one fetch of the candidates with the union of those
columns serves them all, and only ids that appear later (a bridged or neighbouring unit) are
fetched again. Rows follow the search's filter: a unit it excludes is never shown anyway.
"""

from __future__ import annotations

from collections.abc import Iterable

from memcli.store.lance import LanceStore
from memcli.store.lexical import ROW_COLUMNS as _COLUMNS, LexicalIndex
from memcli.store.query import UnitFilter

ROW_COLUMNS = list(_COLUMNS)


class Rows:
    """``stored``: the lexical index, whose document store holds these columns; LanceDB then
    only says which candidates are live (ids only), unless a query with this search's filter
    already returned them (``vouch``)."""

    def __init__(self, lance: LanceStore, where: UnitFilter | None = None, stored: LexicalIndex | None = None) -> None:
        self.lance = lance
        self.where = where
        self.stored = stored if stored is not None and stored.has_rows else None
        self.rows: dict[str, dict] = {}
        self._asked: set[str] = set()
        self._live: set[str] = set()

    def add(self, rows: dict[str, dict]) -> None:
        """Rows read elsewhere in the search (bridging's linked units) with every column."""
        self.rows.update(rows)
        self._asked.update(rows)

    def vouch(self, ids: Iterable[str]) -> None:
        """Ids a LanceDB query under this search's filter returned: live and matching."""
        self._live.update(ids)

    def get(self, ids: Iterable[str]) -> dict[str, dict]:
        """Live units among ``ids`` that match the filter, by id (one lookup for the new ones)."""
        ids = list(dict.fromkeys(ids))
        missing = [u for u in ids if u not in self._asked]
        if missing:
            self.rows.update(self._read(missing))
            self._asked.update(missing)
        return {u: self.rows[u] for u in ids if u in self.rows}

    def _read(self, ids: list[str]) -> dict[str, dict]:
        if self.stored is None:
            return self.lance.units_by_ids(ids, ROW_COLUMNS, where=self.where)
        unsure = [u for u in ids if u not in self._live]
        if unsure:
            keep = self.lance.units_by_ids(unsure, ["id"], where=self.where)
            ids = [u for u in ids if u in self._live or u in keep]
        # Each row opens with its source's content hash (sources are cached per table version:
        # the hits read them anyway to show where they come from).
        found = self.stored.open_rows(ids, self.lance.sources_by_ids)
        # Not in the index (yet), or sealed with a key its source no longer has (an edit
        # under way; a summary): LanceDB has them.
        lost = [u for u in ids if u not in found]
        if lost:
            found.update(self.lance.units_by_ids(lost, ROW_COLUMNS, where=self.where))
        return found
