"""Per-turn vectors of conversation segments: a segment is found by its best turn.

A topical segment's single vector averages several turns, so a question about one line of
it matches weakly. The turn vectors are computed anyway to find the topic boundaries; kept
here (derived data, like Tantivy), they let dense retrieval score a segment by its closest
turn as well. Rows point at their unit; a unit that is not committed is never returned
(hits are fetched from ``units`` by id), so a crash between writes leaves at most harmless
rows, which the next write of that source replaces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from memcli.store.query import chunks, in_list
from memcli.store.schema_cache import cache_schema

TABLE = "turn_vectors"
# How a turn's text opens: "[time] Speaker:" (the speaker boost of retrieve/speakers.py reads it).
TURN_SPEAKER = re.compile(r"^\s*(?:\[[^\]]*\]\s*)?([^:\n]{1,40}):")


def turn_head(text: str) -> str:
    """The part of a turn's text that names its speaker ("[8 May] Caroline:"; "" if none):
    all the speaker boost reads of it."""
    m = TURN_SPEAKER.match(text or "")
    return m.group(0) if m else ""


class TurnStore:
    def __init__(self, db) -> None:
        self.db = db
        self._t = None
        self._absent = False  # looked, and there was none: not listed again every search

    def table(self):
        if self._t is None and not self._absent:
            if TABLE in self.db.list_tables(limit=1000).tables:
                self._t = cache_schema(self.db.open_table(TABLE))
            else:
                self._absent = True
        return self._t

    def look_again(self) -> None:
        """Another process may have made the table since (LanceStore.refresh)."""
        self._absent = False

    def add(self, unit_ids: Sequence[str], source_ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray) -> None:
        import pyarrow as pa

        if not len(unit_ids):
            return
        dim = int(vectors.shape[1])
        data = pa.table({
            "unit_id": pa.array(list(unit_ids), pa.string()),
            "source_id": pa.array(list(source_ids), pa.string()),
            "text": pa.array(list(texts), pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.astype(np.float32).reshape(-1)), dim),
        })
        t = self.table()
        if t is None:
            self._t = cache_schema(self.db.create_table(TABLE, data=data, exist_ok=True))
        else:
            t.add(data)

    def delete_sources(self, source_ids: Sequence[str]) -> None:
        t = self.table()
        if t is not None and source_ids:
            t.delete(in_list("source_id", source_ids))

    def search(self, vector: np.ndarray, n: int, boost: Callable[[str], float] = lambda text: 0.0
               ) -> list[tuple[str, float]]:
        """Units by their best turn's cosine to ``vector`` (+ ``boost(turn text)``), best first."""
        t = self.table()
        if t is None:
            return []
        rows = (t.search(np.asarray(vector, dtype=np.float32), vector_column_name="vector").metric("cosine")
                .select(["unit_id", "text", "_distance"]).limit(n).to_arrow().to_pylist())
        best: dict[str, float] = {}
        for r in rows:
            sc = 1.0 - float(r["_distance"]) + boost(r["text"])
            best[r["unit_id"]] = max(best.get(r["unit_id"], -9.0), sc)
        return sorted(best.items(), key=lambda x: -x[1])

    def best_of(self, unit_ids: Sequence[str], vector: np.ndarray,
                boost: Callable[[str], float] = lambda text: 0.0) -> dict[str, float]:
        """Each unit's best turn cosine (+ ``boost``); units without turn rows are absent."""
        t = self.table()
        if t is None or not unit_ids:
            return {}
        q = np.asarray(vector, dtype=np.float32)
        q = q / max(float(np.linalg.norm(q)), 1e-9)
        out: dict[str, float] = {}
        for part in chunks(unit_ids):
            rows = (t.search().where(in_list("unit_id", part))
                    .select(["unit_id", "text", "vector"]).limit(None).to_arrow())
            if not rows.num_rows:
                continue
            vecs = np.asarray(rows.column("vector").to_pylist(), dtype=np.float32)
            sims = vecs @ q / np.linalg.norm(vecs, axis=1).clip(min=1e-9)
            for u, text, s in zip(rows.column("unit_id").to_pylist(), rows.column("text").to_pylist(), sims):
                out[u] = max(out.get(u, -9.0), float(s) + boost(text))
        return out

    def reembed(self, embed: Callable[[list[str]], np.ndarray]) -> int:
        """New vectors for every turn (`mem reindex`: another vector space)."""
        t = self.table()
        if t is None:
            return 0
        data = t.to_arrow()
        texts = data.column("text").to_pylist()
        vecs = np.asarray(embed(texts), dtype=np.float32) if texts else np.zeros((0, 1), np.float32)
        self.db.drop_table(TABLE)
        self._t = None
        self.add(data.column("unit_id").to_pylist(), data.column("source_id").to_pylist(), texts, vecs)
        return len(texts)
