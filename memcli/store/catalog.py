"""The write protocol across stores, and crash recovery.

Every write names the sources it touches in a journal file first. Order:
Lance units (pending) -> Tantivy (replace + commit) -> Lance (pending -> committed,
old units dropped) -> Lance sources row -> journal cleared. If a process dies anywhere in
between, the next writer finds the journal and wipes those sources from every store; their
files are then simply ingested again by the rerun. No half-written unit is ever visible.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from memcli.store.lance import LanceStore, sql_list
from memcli.store.lexical import LexicalIndex
from memcli.types import Source, Unit


class Journal:
    def __init__(self, home: Path) -> None:
        self.path = home / "journal.json"

    def begin(self, op: str, source_ids: Sequence[str]) -> None:
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"op": op, "pid": os.getpid(), "sources": list(source_ids)}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def pending(self) -> dict | None:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"op": "unknown", "sources": []}

    def end(self) -> None:
        self.path.unlink(missing_ok=True)


class Catalog:
    """Writes that keep LanceDB and Tantivy in agreement. Call only under the write lock."""

    def __init__(self, home: Path, lance: LanceStore, lexical: LexicalIndex, graph=None) -> None:
        self.lance = lance
        self.lexical = lexical
        self.graph = graph  # GraphStore or None
        self.journal = Journal(home)

    def write(self, sources: Sequence[Source], units: Sequence[Unit], vectors: np.ndarray,
              fp: dict[str, object], graph_rows=None, updated: bool = False, turns=()) -> None:
        """``turns``: (unit, turn texts, turn vectors) of conversation segments (store/turns.py)."""
        sids = [s.source_id for s in sources]
        self.journal.begin("ingest", sids)
        if units:
            self.lance.add_units(units, vectors, fp)
        self.lance.turns.delete_sources(sids)
        if turns:
            self.lance.turns.add([u.id for u, texts, _ in turns for _ in texts],
                                 [u.source_id for u, texts, _ in turns for _ in texts],
                                 [t for _, texts, _ in turns for t in texts],
                                 np.concatenate([v for _, _, v in turns]))
        if self.graph is not None:
            if updated:  # the sources' old graph rows go with their old units
                self._delete_graph(sids, drop_entities=False)
            if graph_rows is not None:
                graph_rows.write(self.graph, int(fp["embed_dim"]))
            if updated:
                self.graph.drop_unmentioned()
        self.lexical.replace(sids, ((u.id, u.source_id, u.index_text) for u in units))
        self.lance.commit_units(sids)
        self.lance.upsert_sources(sources)
        self.journal.end()

    def reindex(self, embed, fp: dict[str, object], on_progress=None) -> int:
        """New vectors for every unit; ids, text and the lexical index stay as they are."""
        self.journal.begin("reindex", [])
        n = self.lance.reindex(embed, fp, on_progress)
        self.lance.turns.reembed(embed)
        self.journal.end()
        return n

    def forget(self, source_ids: Sequence[str]) -> None:
        self.journal.begin("forget", source_ids)
        self.lexical.delete_sources(source_ids)
        self._delete_graph(source_ids)
        self._revive_duplicates(source_ids)
        self._drop_summaries(source_ids)
        self.lance.delete_sources(source_ids)
        self.journal.end()

    def _drop_summaries(self, source_ids: Sequence[str]) -> None:
        """Summaries of other sources (cross-source topics) that include forgotten units go too."""
        from memcli.store.lance import sql_list

        if self.lance.units_table() is None:
            return
        dying = [r["id"] for r in self.lance.units_where(f"source_id IN {sql_list(source_ids)}", ["id"])]
        if dying:
            drop_summaries_of(self.lance, self.lexical, dying)

    def _revive_duplicates(self, source_ids: Sequence[str]) -> int:
        """Duplicates merged into units of the forgotten sources come back (one per group
        becomes the canonical unit), so the other sources keep that memory."""
        from memcli.store.lance import sql_list

        t = self.lance.units_table()
        if t is None:
            return 0
        dying = {r["id"] for r in self.lance.units_where(f"source_id IN {sql_list(source_ids)}", ["id"])}
        if not dying:
            return 0
        orphans = [r for r in self.lance.units_where(
            f"status = 'merged' AND source_id NOT IN {sql_list(source_ids)}",
            ["id", "merged_into", "source_id", "title", "section", "text", "ingested_at"]) if r["merged_into"] in dying]
        groups: dict[str, list[dict]] = {}
        for r in orphans:
            groups.setdefault(r["merged_into"], []).append(r)
        revived = []
        for members in groups.values():
            members.sort(key=lambda r: (r["ingested_at"], r["id"]))
            head, rest = members[0], [r["id"] for r in members[1:]]
            self.lance.set_status([head["id"]], "committed", merged_into=None, merged_from=rest or None)
            if rest:
                self.lance.set_status(rest, "merged", merged_into=head["id"])
            revived.append(head)
        if revived:
            self.index_rows(revived)
        return len(revived)

    def _delete_graph(self, source_ids: Sequence[str], drop_entities: bool = True) -> None:
        if self.graph is None or not source_ids or not self.graph.exists():
            return
        for name in ("mentions", "relations"):
            t = self.graph.table(name)
            if t is not None:
                from memcli.store.lance import sql_list

                t.delete(f"source_id IN {sql_list(source_ids)}")
        if drop_entities:
            self.graph.drop_unmentioned()

    def recover(self) -> dict | None:
        """Finish what a killed writer left: wipe its in-flight sources and any pending units."""
        j = self.journal.pending()
        if j is None:
            return None
        if j.get("op") == "reindex":
            self.lance.restore_reindex()
            self.journal.end()
            return {"op": "reindex", "sources": 0, "pending_units": 0, "orphans": 0}
        sids = list(j.get("sources") or [])
        if sids:
            self.lexical.delete_sources(sids)
            self._delete_graph(sids)
            self.lance.delete_sources(sids)
        dropped = self.lance.delete_pending()
        orphans = 0
        if j.get("op") in ("unknown", "consolidate"):
            # A killed consolidation may have flipped units out of (or back into) the live set
            # without the lexical index following: make Tantivy match LanceDB again.
            orphans = self.drop_lexical_orphans() + self.add_lexical_missing()
        if dropped or j.get("op") == "unknown":
            orphans += self.drop_graph_orphans()
        self.journal.end()
        return {"op": j.get("op"), "sources": len(sids), "pending_units": dropped, "orphans": orphans}

    def drop_graph_orphans(self) -> int:
        """Graph rows whose unit is not committed (left by a writer killed mid-batch)."""
        if self.graph is None or not self.graph.exists():
            return 0
        from memcli.store.lance import sql_list

        live = {r["id"] for r in self.lance.units_where("status != 'pending'", ["id"])}
        n = 0
        for name in ("mentions", "relations"):
            t = self.graph.table(name)
            if t is None:
                continue
            ids = set(t.search().select(["unit_id"]).limit(None).to_arrow().column("unit_id").to_pylist())
            dead = sorted(ids - live)
            for i in range(0, len(dead), 500):
                t.delete(f"unit_id IN {sql_list(dead[i:i + 500])}")
            n += len(dead)
        if n:
            self.graph.drop_unmentioned()
        return n

    def index_rows(self, rows) -> None:
        """Put unit rows (id, source_id, title, section, text) back into the lexical index."""
        from memcli.text import index_text

        self.lexical.replace([], ((r["id"], r["source_id"], index_text(r["title"], r["section"], r["text"]))
                                  for r in rows))

    def add_lexical_missing(self) -> int:
        tbl = self.lance.committed(["id", "source_id", "title", "section", "text"])
        if tbl is None:
            return 0
        have = self.lexical.all_ids()
        rows = [r for r in tbl.to_pylist() if r["id"] not in have]
        if rows:
            self.index_rows(rows)
        return len(rows)

    def drop_lexical_orphans(self) -> int:
        """Remove index docs whose unit is not committed in LanceDB (the source of truth)."""
        extra = self.lexical.all_ids() - self.lance.committed_ids()
        if extra:
            self.lexical.delete_ids(sorted(extra))
        return len(extra)


def drop_summaries_of(lance, lexical, ids) -> int:
    """Summaries that include any of ``ids`` (and the levels above them) are removed; the
    next summarize step writes fresh ones from the live units."""
    gone: set[str] = set()
    frontier = set(ids)
    rows = lance.units_where("level > 0 AND status != 'pending'", ["id", "children"])
    while frontier:
        hit = [r["id"] for r in rows if set(r["children"] or []) & frontier and r["id"] not in gone]
        gone.update(hit)
        frontier = set(hit)
    if gone:
        lance.units_table().delete(f"id IN {sql_list(sorted(gone))}")
        lexical.delete_ids(sorted(gone))
    return len(gone)
