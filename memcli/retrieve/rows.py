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
from memcli.store.query import UnitFilter

ROW_COLUMNS = ["id", "source_id", "title", "section", "text", "line_start", "line_end",
               "char_start", "char_end", "event_time", "speaker", "session", "ord", "time_source", "updated_at"]


class Rows:
    def __init__(self, lance: LanceStore, where: UnitFilter | None = None) -> None:
        self.lance = lance
        self.where = where
        self.rows: dict[str, dict] = {}
        self._asked: set[str] = set()

    def add(self, rows: dict[str, dict]) -> None:
        """Rows read elsewhere in the search (bridging's linked units) with every column."""
        self.rows.update(rows)
        self._asked.update(rows)

    def get(self, ids: Iterable[str]) -> dict[str, dict]:
        """Live units among ``ids`` that match the filter, by id (one lookup for the new ones)."""
        ids = list(dict.fromkeys(ids))
        missing = [u for u in ids if u not in self._asked]
        if missing:
            self.rows.update(self.lance.units_by_ids(missing, ROW_COLUMNS, where=self.where))
            self._asked.update(missing)
        return {u: self.rows[u] for u in ids if u in self.rows}
