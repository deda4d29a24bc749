"""The write protocol across stores, and crash recovery.

Every write names the sources it touches in a journal file first. Order:
Lance units (pending) -> Tantivy (replace + commit) -> Lance (pending -> committed,
old units dropped) -> Lance sources row -> journal cleared. If a process dies anywhere in
between, the next writer finds the journal and wipes those sources from every store; their
files are then simply ingested again by the rerun. No half-written unit is ever visible.

Catalog is the only writer of the stores: ingest, forget, pin, consolidation's state
changes and derived summaries, the graph backfill and doctor's repairs all come through it,
each under the journal, so ``recover`` knows what a killed writer was doing.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from memcli.store.lance import LanceStore
from memcli.store.interrupts import deferred_interrupts
from memcli.store.journal import Journal
from memcli.store.lexical import KEY_COLUMN, ROW_COLUMNS, LexicalIndex
from memcli.store.lexical_cache import LexicalCache
from memcli.store.query import KEPT, chunks, in_list, units
from memcli.types import Source, Unit

# Ops that change which units are live without going through a source: after a kill, the
# lexical index is reconciled with LanceDB (the source of truth) instead of wiping sources.
RESYNC_OPS = ("unknown", "consolidate", "pin", "forget-units")


class Catalog(LexicalCache):
    """Writes that keep LanceDB and Tantivy in agreement. Call only under the write lock."""

    def __init__(self, home: Path, lance: LanceStore, lexical: LexicalIndex, graph=None, journal=None) -> None:
        self.home = home
        self.lance = lance
        self.lexical = lexical
        self.graph = graph  # GraphStore or None
        # A file in the home; for a home on object storage, the cross-machine one (store/remote.py).
        self.journal = journal or Journal(home)
        self._open = 0  # depth of journaled() blocks
        self.keep_history = True  # an edited file's replaced passages stay for --as-of (ingest.keep_history)

    @contextmanager
    def journaled(self, op: str, source_ids: Sequence[str] = ()):
        """One journal entry around a block; nested blocks share the outer one."""
        if self._open:
            self._open += 1
            try:
                yield
            finally:
                self._open -= 1
            return
        with deferred_interrupts():  # Ctrl-C lands after the write, not inside LanceDB's commit
            self.journal.begin(op, source_ids)
            self._open = 1
            try:
                yield
            finally:
                self._open = 0
            self.journal.end()  # not reached when the block raised: the next writer recovers

    def write(self, sources: Sequence[Source], units: Sequence[Unit], vectors: np.ndarray,
              fp: dict[str, object], graph_rows=None, updated: bool = False, turns=()) -> None:
        """``turns``: (unit, turn texts, turn vectors) of conversation segments (store/turns.py).

        ``updated``: some of these sources have units already. Their units go in ``pending``,
        and one flip to committed replaces the old ones (a delete and an update that each scan
        the sources' rows). Sources that are all new take the bulk path: the lexical index and
        the graph first, then the units appended already committed — one LanceDB version per
        batch and nothing rewritten. A reader meanwhile may get a BM25 id that LanceDB does not
        hold yet; the final row fetch drops it, as it drops any crash leftover. A kill in
        between leaves the journal naming the sources, and recovery wipes them everywhere.
        """
        sids = [s.source_id for s in sources]
        bulk = not updated and len(set(sids)) == len(sids)
        with self.journaled("ingest", sids):
            if units and not bulk:
                self.lance.add_units(units, vectors, fp)
            if not bulk:
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
            self.lexical.replace(sids, ((u.id, u.source_id, u.index_text, u) for u in units))
            if bulk:
                if units:
                    self.lance.add_units(units, vectors, fp, status="committed")
                self.lance.add_sources(sources)
            else:
                self.lance.commit_units(sids, keep_history=updated and self.keep_history)
                self.lance.upsert_sources(sources)

    def reindex(self, embed, fp: dict[str, object], on_progress=None) -> int:
        """New vectors for every unit; ids, text and the lexical index stay as they are. The
        search snapshot goes first: it holds the old vectors under the same ids."""
        from memcli.store import snapshot

        snapshot.drop(self.home)
        with self.journaled("reindex"):
            n = self.lance.reindex(embed, fp, on_progress)
            self.lance.turns.reembed(embed)
        return n

    def maintain(self, ann_min_units: int | None, keep_s: float | None = None) -> dict[str, object]:
        """Fragment compaction, old versions, scalar/ANN indexes (store/lance.py maintain)."""
        return self.lance.maintain(ann_min_units, keep_s)

    def forget(self, source_ids: Sequence[str]) -> None:
        with self.journaled("forget", source_ids):
            self.lexical.delete_sources(source_ids)
            self._delete_graph(source_ids)
            self._revive_duplicates(source_ids)
            self._drop_summaries(source_ids)
            self.lance.delete_sources(source_ids)

    # -- state changes of single units (pin, consolidation, forget --weak) -------------------
    def pin(self, ids: Sequence[str], pinned: bool = True) -> int:
        """Mark units evergreen (or not); pinned archived units come back to the live set
        and into the lexical index. Returns how many came back."""
        with self.journaled("pin"):
            self.lance.set_pinned(ids, pinned)
            back = (self.lance.units_where(units(ids=ids, status="archived"), [*ROW_COLUMNS, KEY_COLUMN])
                    if ids and pinned else [])
            if back:
                self.lance.set_status([r["id"] for r in back], "committed")
                self.index_rows(back)
        return len(back)

    def merge(self, keep: str, merged_from: Sequence[str], dups: Sequence[str]) -> None:
        """``dups`` become copies of ``keep`` (dedupe); ``merged_from`` is keep's full list."""
        with self.journaled("consolidate"):
            self.lance.set_status(dups, "merged", merged_into=keep)
            self.lance.update_units([keep], merged_from=list(merged_from))
            self.lexical.delete_ids(list(dups))

    def supersede(self, newer_of: dict[str, tuple[str, object]]) -> int:
        """old id -> (new id, valid_to): old units leave the live set, pointing at the new
        ones; summaries built on them go (the summarize step rewrites them)."""
        with self.journaled("consolidate"):
            for old, (new, valid_to) in newer_of.items():
                self.lance.set_status([old], "superseded", superseded_by=new, valid_to=valid_to)
            stale = sorted(newer_of)
            self.lexical.delete_ids(stale)
            return drop_summaries_of(self.lance, self.lexical, stale)

    def archive(self, ids: Sequence[str]) -> None:
        """Decayed units leave the live set (they stay in LanceDB; a pin brings them back)."""
        with self.journaled("consolidate"):
            self.lance.set_status(ids, "archived")
            self.lexical.delete_ids(list(ids))
            drop_summaries_of(self.lance, self.lexical, ids)

    def drop_summaries_of(self, ids: Sequence[str]) -> int:
        with self.journaled("consolidate"):
            return drop_summaries_of(self.lance, self.lexical, ids)

    def add_derived(self, new_units: Sequence[Unit], vectors: np.ndarray, fp: dict[str, object],
                    source: Source | None = None) -> None:
        """Summaries: written pending, indexed, then committed (a kill leaves them pending,
        and recovery drops them). ``source``: their synthetic source row, if new."""
        with self.journaled("consolidate"):
            if source is not None:
                self.lance.upsert_sources([source])
            self.lance.add_units(new_units, vectors, fp)
            self.lexical.replace([], ((u.id, u.source_id, u.index_text, u) for u in new_units))
            self.lance.commit_ids([u.id for u in new_units])

    def forget_units(self, rows: Sequence[dict]) -> None:
        """Delete single units (``rows``: id, source_id) everywhere; their sources' unit
        counts follow, so doctor still finds every source whole."""
        ids = [r["id"] for r in rows]
        sids = sorted({r["source_id"] for r in rows})
        # The journal names the sources so that recovery recounts them (it must not wipe them).
        with self.journaled("forget-units", sids):
            if self.graph is not None:
                self.graph.delete_units(ids)
            self.lance.delete_units(ids)
            self.lexical.delete_ids(ids)
            self.recount(sids)

    def recount(self, source_ids: Sequence[str]) -> None:
        """Sources' unit counts from the units LanceDB keeps for them (leaves, any settled state)."""
        kept: dict[str, int] = {}
        for r in self.lance.units_where(units(source_ids=source_ids, status=KEPT, level=0), ["source_id"]):
            kept[r["source_id"]] = kept.get(r["source_id"], 0) + 1
        srcs = self.lance.sources_by_ids(list(source_ids))
        for sid, s in srcs.items():
            s.n_units = kept.get(sid, 0)
        self.lance.upsert_sources(list(srcs.values()))

    def fold_access(self) -> int:
        """Answers' recall noted since the last write (store/access.py) goes into LanceDB:
        a few updates, nothing to journal (a crash mid-fold folds the same notes again)."""
        from memcli.store.access import fold

        return fold(self.home, self.lance.record_access)

    def write_graph(self, rows, dim: int) -> None:
        """Graph rows for units that are already committed (`mem graph build`)."""
        with self.journaled("graph"):
            rows.write(self.graph, dim)

    def compact(self, tables, keep_s: float) -> None:
        """Old table versions (which still hold forgotten data) and merged-away index
        segments are removed. Writers are locked out by the caller."""
        import warnings
        from datetime import timedelta

        keep = timedelta(seconds=keep_s)
        for t in tables:
            if t is not None:
                # A reader mid-query on an old version would see one error: a fair price for
                # forgotten data being gone (raise consolidate.compact_keep_s to trade back).
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    t.optimize(cleanup_older_than=keep, delete_unverified=keep.total_seconds() == 0)
        self.lexical.compact()

    # -- export / import ---------------------------------------------------------------------
    def dump(self) -> dict:
        """Every table that is memory rather than derived data (store/archive.py)."""
        out = self.lance.dump()
        if self.graph is not None and self.graph.exists():
            out.update(self.graph.dump())
        return out

    def restore(self, tables: dict, fp: dict[str, object]) -> dict[str, int]:
        """Write an archive's tables through the same pending -> Tantivy -> committed path as
        ingest: a kill leaves a journal naming the archive's sources, and the next writer
        wipes them (the import is then simply run again). Sources this home already has are
        replaced by the archive's version; states, supersede links and pins come back as
        they were."""
        sources = [Source(**r) for r in tables["sources"].to_pylist()]
        sids = [s.source_id for s in sources]
        units = tables.get("units")
        with self.journaled("import", sids):
            have = set(self.lance.source_map()) & set(sids)
            if have:  # replaced, as a re-ingest of a changed file replaces it
                self.lexical.delete_sources(sorted(have))
                self._delete_graph(sorted(have), drop_entities=False)
                self.lance.delete_sources(sorted(have))
            n_units = 0
            if units is not None and units.num_rows:
                self.lance.add_rows(units, fp)
                n_units = units.num_rows
            turns = tables.get("turn_vectors")
            if turns is not None and turns.num_rows:
                self.lance.turns.add(turns.column("unit_id").to_pylist(), turns.column("source_id").to_pylist(),
                                     turns.column("text").to_pylist(),
                                     np.asarray(turns.column("vector").to_pylist(), dtype=np.float32))
            if self.graph is not None and any(n in tables for n in ("entities", "mentions", "relations")):
                self.graph.restore(tables, int(fp["embed_dim"]))
            if units is not None and units.num_rows:
                rows = units.select([*ROW_COLUMNS, KEY_COLUMN, "status"]).to_pylist()
                self.index_rows([r for r in rows if r["status"] == "committed"])
                self.lance.commit_units(sids)  # every pending row of these sources -> committed
                for status in KEPT:
                    ids = [r["id"] for r in rows if r["status"] == status]
                    if status != "committed" and ids:
                        self.lance.set_status(ids, status)
            self.lance.upsert_sources(sources)
        return {"sources": len(sources), "units": n_units, "replaced": len(have)}

    # -- doctor's repairs ------------------------------------------------------------------
    def delete_pending(self) -> int:
        return self.lance.delete_pending()

    def drop_orphan_units(self, ids: Sequence[str]) -> None:
        """Units whose source row is gone or names other content."""
        with self.journaled("forget-units"):
            self.lance.delete_units(ids)
            self.lexical.delete_ids(list(ids))

    def sync_lexical(self, extra: Sequence[str], missing_rows) -> None:
        """Make Tantivy hold exactly LanceDB's live units again."""
        if extra:
            self.lexical.delete_ids(sorted(extra))
        if missing_rows:
            self.index_rows(missing_rows)

    def reembed_graph(self, embed) -> int:
        return self.graph.reembed(embed) if self.graph is not None and self.graph.exists() else 0

    def _drop_summaries(self, source_ids: Sequence[str]) -> None:
        """Summaries of other sources (cross-source topics) that include forgotten units go too."""
        if self.lance.units_table() is None:
            return
        dying = [r["id"] for r in self.lance.units_where(units(source_ids=source_ids), ["id"])]
        if dying:
            drop_summaries_of(self.lance, self.lexical, dying)

    def _revive_duplicates(self, source_ids: Sequence[str]) -> int:
        """Duplicates merged into units of the forgotten sources come back (one per group
        becomes the canonical unit), so the other sources keep that memory."""
        if self.lance.units_table() is None:
            return 0
        dying = {r["id"] for r in self.lance.units_where(units(source_ids=source_ids), ["id"])}
        if not dying:
            return 0
        orphans = [r for r in self.lance.units_where(
            units(status="merged", not_source_ids=source_ids),
            [*ROW_COLUMNS, KEY_COLUMN, "merged_into", "ingested_at"]) if r["merged_into"] in dying]
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
                t.delete(in_list("source_id", source_ids))
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
        if j.get("op") == "forget-units":  # single units went: their sources stay, recounted
            self.recount(sids)
            sids = []
        if sids:
            self.lexical.delete_sources(sids)
            self._delete_graph(sids)
            self.lance.delete_sources(sids)
        dropped = self.lance.delete_pending()
        orphans = 0
        if j.get("op") in RESYNC_OPS:
            # A killed consolidation may have flipped units out of (or back into) the live set
            # without the lexical index following: make Tantivy match LanceDB again.
            orphans = self.drop_lexical_orphans() + self.add_lexical_missing()
        if dropped or j.get("op") in ("unknown", "graph", "forget-units"):
            orphans += self.drop_graph_orphans()
        self.journal.end()
        return {"op": j.get("op"), "sources": len(sids), "pending_units": dropped, "orphans": orphans}

    def drop_graph_orphans(self) -> int:
        """Graph rows whose unit is not committed (left by a writer killed mid-batch)."""
        if self.graph is None or not self.graph.exists():
            return 0
        live = {r["id"] for r in self.lance.units_where(units(status=KEPT), ["id"])}
        n = 0
        for name in ("mentions", "relations"):
            t = self.graph.table(name)
            if t is None:
                continue
            ids = set(t.search().select(["unit_id"]).limit(None).to_arrow().column("unit_id").to_pylist())
            dead = sorted(ids - live)
            for part in chunks(dead):
                t.delete(in_list("unit_id", part))
            n += len(dead)
        if n:
            self.graph.drop_unmentioned()
        return n


def drop_summaries_of(lance, lexical, ids) -> int:
    """Summaries that include any of ``ids`` (and the levels above them) are removed; the
    next summarize step writes fresh ones from the live units."""
    gone: set[str] = set()
    frontier = set(ids)
    rows = lance.units_where(units(min_level=1, status=KEPT), ["id", "children"])
    while frontier:
        hit = [r["id"] for r in rows if set(r["children"] or []) & frontier and r["id"] not in gone]
        gone.update(hit)
        frontier = set(hit)
    if gone:
        lance.delete_units(sorted(gone))
        lexical.delete_ids(sorted(gone))
    return len(gone)
