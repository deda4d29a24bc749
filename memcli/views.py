"""What memory shows, as methods of Memory: a unit and its history, an entity of the graph,
and what the page (`mem ui`) reads — a source in order, the timeline, one day, graph
neighbourhoods, what is not committed. Plain reads over the stores in JSON-ready shapes (the
CLI's --json, MCP and the page's API return them); kept apart from memory.py, which composes
the parts and runs the writes."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from memcli.errors import NotFoundError

if TYPE_CHECKING:
    from memcli.types import EntityView, Source, UnitRecord

_TIMELINE_COLUMNS = ["id", "source_id", "session", "event_time", "ingested_at", "status", "superseded_by",
                     "valid_from", "valid_to", "text", "speaker", "section", "time_source"]


class Views:
    """Mixed into Memory (it uses ``_reads``, ``_graph``, ``home``, ``_uris``, ``_records``): the
    reads that list and explain what memory holds."""

    def sources(self, ref: str | None = None, *, tags: "list[str] | None" = None) -> "list[Source]":
        """The files and chats memory holds.

        Args:
            ref: only the sources it names: a source id (or a prefix of 6+ characters), a
                file's path, or a folder holding sources.
            tags: only the sources holding a unit with any of these tags.

        Returns:
            ``Source`` records (``uri``, ``source_id``, ``kind``, ``units``, …), the shape of
            `mem sources --json`.

        Raises:
            NotFoundError: ``ref`` names no source in memory.
        """
        srcs = self._reads.sources() if ref is None else self._resolve(ref)
        if not tags:
            return srcs
        from memcli.store.query import units
        from memcli.types import SearchFilters

        hit = units(status="committed").and_(search=SearchFilters(tags=tuple(tags)))
        ids = {r["source_id"] for r in self._reads.units_where(hit, ["source_id"])}
        return [s for s in srcs if s.source_id in ids]

    def _resolve(self, ref: str) -> "list[Source]":
        """Sources named by id (prefix), exact path, or a directory containing them."""
        srcs = self._reads.sources()
        p = str(Path(ref).expanduser().absolute())
        try:
            real = str(Path(ref).expanduser().resolve())
        except (OSError, RuntimeError):
            real = p
        exact = [s for s in srcs if s.uri in (p, real) or s.source_id == ref]
        if exact:
            return exact
        under = [s for s in srcs if s.uri.startswith(p.rstrip("/") + "/") or s.uri.startswith(real.rstrip("/") + "/")]
        if under:
            return under
        byid = [s for s in srcs if len(ref) >= 6 and s.source_id.startswith(ref)]
        if byid:
            return byid
        raise NotFoundError(f"no source in memory matches {ref!r}", hint="see `mem sources`")

    def unit(self, unit_id: str) -> dict:
        """One unit with its provenance (no vector): what `mem mcp` serves as a resource.

        Raises:
            NotFoundError: no unit has that id.
        """
        from memcli.store.schema import UNIT_COLUMNS

        rows = self._reads.units_by_ids([unit_id], [c for c in UNIT_COLUMNS if c != "vector"])
        if unit_id not in rows:
            raise NotFoundError(f"no unit {unit_id!r}", hint="unit ids are in `mem search --json`")
        row = dict(rows[unit_id])
        src = self._reads.sources_by_ids([row["source_id"]]).get(row["source_id"])
        row["uri"] = src.uri if src else None
        return row

    def history(self, unit_id: str) -> "list[UnitRecord]":
        """A unit's chain of knowledge updates and edits, oldest first (superseded and
        replaced ones included).

        Returns:
            ``UnitRecord`` s, each with its validity window (``valid_from`` .. ``valid_to``).

        Raises:
            NotFoundError: no unit has that id.
        """
        from memcli.store.query import KEPT, REPLACED, units

        cols = ["id", "status", "text", "ingested_at", "event_time", "valid_from", "valid_to", "superseded_by", "source_id"]
        rows = {r["id"]: r for r in self._reads.units_where(units(status=(*KEPT, REPLACED), level=0), cols)}
        if unit_id not in rows:
            hit = [u for u in rows if u.startswith(unit_id)] if len(unit_id) >= 6 else []
            if len(hit) != 1:
                raise NotFoundError(f"no unit {unit_id!r}", hint="unit ids are in `mem search --json`")
            unit_id = hit[0]
        older = {r["superseded_by"]: u for u, r in rows.items() if r["superseded_by"]}
        start, seen = unit_id, {unit_id}
        while start in older and older[start] not in seen:
            start = older[start]
            seen.add(start)
        chain, cur = [], start
        while cur in rows and all(c["id"] != cur for c in chain):
            chain.append(rows[cur])
            cur = rows[cur]["superseded_by"]
        return self._records(chain)

    @cached_property
    def graph(self) -> "GraphView":
        """The knowledge graph: ``show``, ``stats``, ``export``, ``build``, ``suggest``,
        ``neighbourhood``, ``overview`` (see :class:`GraphView`)."""
        return GraphView(self)

    # -- the page (mem ui) ------------------------------------------------------------------

    def source_units(self, source_id: str) -> dict:
        """A source and its kept segment units in reading order (segment boundaries and
        lines): the page's "open the source at this line".

        Returns:
            ``{"source": …, "units": [...]}``.

        Raises:
            NotFoundError: no source has that id.
        """
        from memcli.store.query import KEPT, units

        src = self._reads.sources_by_ids([source_id]).get(source_id)
        if src is None:
            raise NotFoundError(f"no source {source_id!r}", hint="source ids are in `mem sources --json`")
        cols = ["id", "ord", "status", "section", "text", "line_start", "line_end", "event_time", "speaker",
                "pinned", "superseded_by"]
        rows = sorted(self._reads.units_where(units(source_ids=[source_id], status=KEPT, level=0), cols),
                      key=lambda r: (r["ord"], r["line_start"]))
        return {"source": src.to_dict(), "units": rows}

    def timeline(self) -> dict:
        """Dated memory for a time axis: each conversation session as a span; each document's
        units at their content dates (a journal's entries, an invoice's date), one event per
        source and day, with where the date came from; each supersession ("was … → now …")
        when it happened. Documents with no date are listed apart (``undated``), never drawn
        at the moment they were ingested."""
        from memcli.store.query import KEPT, units

        rows = self._reads.units_where(units(status=KEPT, level=0), _TIMELINE_COLUMNS)
        srcs = {s.source_id: s for s in self.sources()}
        by_id = {r["id"]: r for r in rows}
        items, sessions, events = [], {}, {}
        for r in rows:
            if r["session"] and r["event_time"]:
                s = sessions.setdefault((r["source_id"], r["session"]), [r["event_time"], r["event_time"], 0])
                s[0], s[1], s[2] = min(s[0], r["event_time"]), max(s[1], r["event_time"]), s[2] + 1
            elif r["event_time"]:
                key = (r["source_id"], r["event_time"].date())
                ev = events.setdefault(key, {"start": r["event_time"], "units": 0, "sections": [],
                                             "time_source": r.get("time_source")})
                ev["units"] += 1
                sec = (r.get("section") or "").split(" › ")[-1]
                # A section names the event only where its heading is the date ("12 April"); an
                # outliner's entries under one heading are named by their note.
                if sec and sec not in ev["sections"] and _names_day(sec, r["event_time"]):
                    ev["sections"].append(sec)
        for (sid, session), (start, end, n) in sessions.items():
            items.append({"kind": "session", "source_id": sid, "session": session, "start": start, "end": end,
                          "units": n, "uri": srcs[sid].uri if sid in srcs else sid})
        for (sid, _), ev in events.items():
            src = srcs.get(sid)
            items.append({"kind": "event", "source_id": sid, "uri": src.uri if src else sid,
                          "title": src.title if src else "", **ev})
        dated = {sid for sid, _ in sessions} | {sid for sid, _ in events}
        undated = sorted(({"source_id": s.source_id, "uri": s.uri, "title": s.title, "units": s.n_units}
                          for s in srcs.values() if s.source_id not in dated), key=lambda x: x["uri"])
        from memcli.store.query import REPLACED

        # A fact a newer one superseded, or a passage an edit replaced: a span from when memory
        # first held it to when it was replaced ("was … → now …").
        old = rows + self._reads.units_where(units(status=REPLACED, level=0), _TIMELINE_COLUMNS)
        for r in old:
            new = by_id.get(r["superseded_by"]) if r["superseded_by"] else None
            if new is not None:
                end = r["valid_to"] or new["event_time"] or new["ingested_at"]
                items.append({"kind": "supersession", "start": r["valid_from"] or r["event_time"] or r["ingested_at"],
                              "end": end, "was": r["text"], "now": new["text"], "unit_id": new["id"],
                              "old_unit_id": r["id"], "source_id": r["source_id"]})
        items.sort(key=lambda i: str(i["start"]))
        return {"items": items, "undated": undated, "undated_count": len(undated)}

    def units_between(self, since, until, limit: int | None = 200) -> "dict":
        """The units whose event falls in [since, until], in time order: the timeline's
        "what is in view", or one day (``since`` its start, ``until`` its end).

        Args:
            since, until: datetimes (UTC), inclusive.
            limit: at most this many units (None: all).

        Returns:
            ``{"count": all there are, "units": [...]}``, each unit with its ``uri``.
        """
        from memcli.store.query import KEPT, units
        from memcli.types import SearchFilters

        rows = self._reads.units_where(units(status=KEPT, level=0).and_(search=SearchFilters(since=since, until=until)),
                                      _TIMELINE_COLUMNS)
        rows.sort(key=lambda r: r["event_time"])
        uris = self._uris(r["source_id"] for r in rows[:limit])
        return {"count": len(rows), "units": [dict(r, uri=uris[r["source_id"]]) for r in rows[:limit]]}

    def why_empty(self, filters) -> str | None:
        """Why ``filters`` (--since/--until/--tag) match no unit at all, and what would
        ("none of the 598 notes carries a date", "no note has the tag #recipes; 12 tags
        exist: …").

        Returns:
            The sentence, or None when the filters match some units (the query itself found
            nothing there).
        """
        from memcli.retrieve.filters import why_empty
        from memcli.store.query import KEPT, units

        if not filters or self._reads.units_table() is None:
            return None
        if self._reads.units_where(units(status=KEPT, level=0).and_(search=filters), ["id"], limit=1):
            return None
        rows = self._reads.units_where(units(status=KEPT, level=0), ["event_time", "tags", "source_id"])
        return why_empty(filters, rows, len(self._reads.sources()))

    def _ingest_failures(self) -> list[dict]:
        """Files the last ingests could not read, with the reason (ingest/failures.py)."""
        from memcli.ingest.failures import FailureLog

        return list(FailureLog(self.home).by_path().values())

    def ingest_status(self) -> dict:
        """What is not committed.

        Returns:
            ``failed``: the files the last ingests could not read, with the reason;
            ``pending_units``: units a write left pending (the next write or
            `mem doctor --repair` finishes or undoes them).
        """
        from memcli.store.query import units

        pending = self._reads.units_where(units(status="pending"), ["id"]) if self._reads.units_table() is not None else []
        return {"failed": self._ingest_failures(), "pending_units": len(pending)}


class GraphView:
    """``Memory.graph``: the knowledge graph as `mem graph`, MCP and the page read it.

    Entities are shown as written ("Maya Lindqvist") and looked up by their folded id; each
    relation and mention carries the file it came from. Building is a write: it takes the
    home's write lock, as ingest does.
    """

    def __init__(self, mem) -> None:
        self._mem = mem

    def show(self, name: str, limit: int = 20) -> "EntityView":
        """One entity and what memory links it to.

        Args:
            name: the entity as written, or any case or spacing of it.
            limit: at most this many neighbours and relations (links and typed relations first).

        Returns:
            An ``EntityView`` (``entity``, ``type``, ``neighbours``, ``relations``, ``units``),
            each relation and unit with its ``source`` file.

        Raises:
            NotFoundError: no entity of that name, or no graph yet.
        """
        view = self._mem._graph.show(name, limit)
        uris = self._mem._uris(r["source_id"] for r in view.relations + view.units)
        for r in view.relations + view.units:
            r["source"] = uris[r["source_id"]]
        return view

    def stats(self) -> dict:
        """Counts: entities, units with mentions, relations, edges (`mem graph stats`)."""
        return self._mem._graph.stats()

    def export(self, output: Path) -> dict:
        """Write the graph as GraphML (Gephi, Cytoscape).

        Returns:
            Its sizes (entities, units, edges).

        Raises:
            NotFoundError: this memory has no graph yet.
        """
        from memcli.graph.graph import export_graphml

        mg = self._mem._graph.load()
        if mg is None:
            raise NotFoundError("this memory has no graph yet", hint="mem ingest --graph PATH")
        export_graphml(mg, output)
        return dict(mg.stats)

    def build(self, batch: int = 512, on_progress=None) -> dict:
        """Extract entities and relations for the units that have none (after turning the
        graph on for a memory ingested without it).

        Args:
            batch: units extracted per write.
            on_progress: called with (done, total) after each batch.

        Returns:
            ``units`` read, ``unusable`` ones, and the graph's counts after.

        Raises:
            LockBusyError: another writer holds the home.
        """
        return self._mem._graph_build(batch, on_progress)

    def suggest(self, prefix: str, limit: int = 12) -> list[str]:
        """Entity names that start like ``prefix`` (the page's graph search box)."""
        from memcli.graph.extract import normalise

        return self._mem._graph.reads.entities_starting(normalise(prefix), limit) if prefix.strip() else []

    def neighbourhood(self, name: str, limit: int = 30) -> dict:
        """An entity, its neighbours (sized by mentions) and the relations between them as
        labelled edges, each with the sentence-bearing unit that asserted it: the page's
        graph view, as ``nodes`` and ``edges``.

        Raises:
            NotFoundError: no entity of that name.
        """
        mem = self._mem
        view = self.show(name, limit)
        texts = mem._reads.units_by_ids(list({r["unit_id"] for r in view.relations}), ["id", "text"])
        edges = [{"source": r["subject"], "target": r["object"], "label": r["relation"], "unit_id": r["unit_id"],
                  "uri": r["source"], "text": texts.get(r["unit_id"], {}).get("text", "")} for r in view.relations]
        ends = [r[end] for r in view.relations for end in ("subject", "object")]
        shown = mem._graph.reads.display(ends) | {view.id: (view.entity, view.type)}
        names = {i: shown.get(i, (i, "")) for i in dict.fromkeys([view.id, *ends])}
        sizes = {nb["id"]: nb["weight"] for nb in view.neighbours} | {view.id: view.mentioned_in}
        nodes = [{"id": i, "label": n, "type": k, "mentions": sizes.get(i, 1), "center": i == view.id}
                 for i, (n, k) in names.items()]
        notes = {u["source"]: None for u in view.units}  # the notes that mention it, first mention first
        return {"entity": view.entity, "id": view.id, "type": view.type, "nodes": nodes, "edges": edges,
                "notes": list(notes)}

    def overview(self, limit: int = 40) -> dict:
        """The page's first look: the most connected entities and the relations between them,
        in the same shape as :meth:`neighbourhood` (no centre)."""
        from memcli.graph.extract import LOOSE_RELATIONS

        mem = self._mem
        hubs = dict(mem._graph.hubs(limit))
        rows = mem._graph.reads.relations_among(list(hubs))
        pairs: dict[tuple[str, str], dict] = {}
        for r in rows:  # one edge per pair: the stated relation over a co-mention
            key = (r["subject"], r["object"])
            if key not in pairs or pairs[key]["label"] in LOOSE_RELATIONS:
                pairs[key] = {"source": r["subject"], "target": r["object"], "label": r["relation"],
                              "unit_id": r["unit_id"], "source_id": r["source_id"]}
        uris = mem._uris(e["source_id"] for e in pairs.values())
        texts = mem._reads.units_by_ids(list({e["unit_id"] for e in pairs.values()}), ["id", "text"])
        edges = [dict(e, uri=uris[e.pop("source_id")], text=texts.get(e["unit_id"], {}).get("text", ""))
                 for e in pairs.values()]
        shown = mem._graph.reads.display(list(hubs))
        nodes = [{"id": i, "label": shown.get(i, (i, ""))[0], "type": shown.get(i, ("", ""))[1],
                  "mentions": round(w, 1), "center": False} for i, w in hubs.items()]
        return {"entity": "", "id": "", "type": "", "nodes": nodes, "edges": edges, "notes": []}


def _names_day(heading: str, when) -> bool:
    from memcli.ingest.dates import heading_date

    got = heading_date(heading.replace("[[", "").replace("]]", ""), when.year)
    return got is not None and got.date() == when.date()
