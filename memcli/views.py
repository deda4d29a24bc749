"""What memory shows, as methods of Memory: a unit and its history, an entity of the graph,
and what the page (`mem ui`) reads — a source in order, the timeline, one day, graph
neighbourhoods, what is not committed. Plain reads over the stores in JSON-ready shapes (the
CLI's --json, MCP and the page's API return them); kept apart from memory.py, which composes
the parts and runs the writes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from memcli.errors import NotFoundError

if TYPE_CHECKING:
    from memcli.types import EntityView, Source, UnitRecord

_TIMELINE_COLUMNS = ["id", "source_id", "session", "event_time", "ingested_at", "status", "superseded_by",
                     "valid_from", "valid_to", "text", "speaker", "section", "time_source"]


class Views:
    """Mixed into Memory (it uses ``reads``, ``graph``, ``home``, ``_uris``, ``_records``): the reads
    that list and explain what memory holds."""

    def sources(self, tags: "list[str] | None" = None) -> "list[Source]":
        """Every source; with ``tags``, those holding a unit with any of them."""
        srcs = self.reads.sources()
        if not tags:
            return srcs
        from memcli.store.query import units
        from memcli.types import SearchFilters

        hit = units(status="committed").and_(search=SearchFilters(tags=tuple(tags)))
        ids = {r["source_id"] for r in self.reads.units_where(hit, ["source_id"])}
        return [s for s in srcs if s.source_id in ids]

    def resolve_sources(self, ref: str) -> "list[Source]":
        """Sources named by id (prefix), exact path, or a directory containing them."""
        srcs = self.sources()
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
        """One unit with its provenance (no vector): what `mem mcp` serves as a resource."""
        from memcli.store.schema import UNIT_COLUMNS

        rows = self.reads.units_by_ids([unit_id], [c for c in UNIT_COLUMNS if c != "vector"])
        if unit_id not in rows:
            raise NotFoundError(f"no unit {unit_id!r}", hint="unit ids are in `mem search --json`")
        row = dict(rows[unit_id])
        src = self.reads.sources_by_ids([row["source_id"]]).get(row["source_id"])
        row["uri"] = src.uri if src else None
        return row

    def history(self, unit_id: str) -> "list[UnitRecord]":
        """A unit's chain of knowledge updates and edits, oldest first (superseded and
        replaced ones included), each with its validity window (valid_from .. valid_to)."""
        from memcli.store.query import KEPT, REPLACED, units

        cols = ["id", "status", "text", "ingested_at", "event_time", "valid_from", "valid_to", "superseded_by", "source_id"]
        rows = {r["id"]: r for r in self.reads.units_where(units(status=(*KEPT, REPLACED), level=0), cols)}
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

    # -- the knowledge graph --------------------------------------------------------------
    def graph_show(self, name: str, limit: int = 20) -> "EntityView":
        """An entity's neighbours and relations, each row with the file it came from."""
        view = self.graph.show(name, limit)
        uris = self._uris(r["source_id"] for r in view.relations + view.units)
        for r in view.relations + view.units:
            r["source"] = uris[r["source_id"]]
        return view

    def graph_stats(self) -> dict:
        return self.graph.stats()

    def graph_export(self, output: Path) -> dict:
        """Write the graph as GraphML (Gephi, Cytoscape); returns its sizes."""
        from memcli.graph.graph import export_graphml

        mg = self.graph.load()
        if mg is None:
            raise NotFoundError("this memory has no graph yet", hint="mem ingest --graph PATH")
        export_graphml(mg, output)
        return dict(mg.stats)

    # -- the page (mem ui) ------------------------------------------------------------------

    def source_units(self, source_id: str) -> dict:
        """A source and its kept segment units in reading order (segment boundaries and
        lines): the page's "open the source at this line"."""
        from memcli.store.query import KEPT, units

        src = self.reads.sources_by_ids([source_id]).get(source_id)
        if src is None:
            raise NotFoundError(f"no source {source_id!r}", hint="source ids are in `mem sources --json`")
        cols = ["id", "ord", "status", "section", "text", "line_start", "line_end", "event_time", "speaker",
                "pinned", "superseded_by"]
        rows = sorted(self.reads.units_where(units(source_ids=[source_id], status=KEPT, level=0), cols),
                      key=lambda r: (r["ord"], r["line_start"]))
        return {"source": src.to_dict(), "units": rows}

    def timeline(self) -> dict:
        """Dated memory for a time axis: each conversation session as a span; each document's
        units at their content dates (a journal's entries, an invoice's date), one event per
        source and day, with where the date came from; each supersession ("was … → now …")
        when it happened. Documents with no date are listed apart (``undated``), never drawn
        at the moment they were ingested."""
        from memcli.store.query import KEPT, units

        rows = self.reads.units_where(units(status=KEPT, level=0), _TIMELINE_COLUMNS)
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
        old = rows + self.reads.units_where(units(status=REPLACED, level=0), _TIMELINE_COLUMNS)
        for r in old:
            new = by_id.get(r["superseded_by"]) if r["superseded_by"] else None
            if new is not None:
                end = r["valid_to"] or new["event_time"] or new["ingested_at"]
                items.append({"kind": "supersession", "start": r["valid_from"] or r["event_time"] or r["ingested_at"],
                              "end": end, "was": r["text"], "now": new["text"], "unit_id": new["id"],
                              "old_unit_id": r["id"], "source_id": r["source_id"]})
        items.sort(key=lambda i: str(i["start"]))
        return {"items": items, "undated": undated, "undated_count": len(undated)}

    def units_on(self, day: str) -> "list[dict]":
        """The units whose event happened on ``day`` (YYYY-MM-DD, UTC), in time order: the
        store filters by event time, as `mem search --since/--until` does."""
        from memcli.retrieve.filters import parse_day

        return self.units_between(parse_day(day), parse_day(day, end=True), limit=None)["units"]

    def units_between(self, since, until, limit: int | None = 200) -> "dict":
        """The units whose event falls in [since, until], in time order (the timeline's "what is
        in view"): at most ``limit``, with how many there are."""
        from memcli.store.query import KEPT, units
        from memcli.types import SearchFilters

        rows = self.reads.units_where(units(status=KEPT, level=0).and_(search=SearchFilters(since=since, until=until)),
                                      _TIMELINE_COLUMNS)
        rows.sort(key=lambda r: r["event_time"])
        uris = self._uris(r["source_id"] for r in rows[:limit])
        return {"count": len(rows), "units": [dict(r, uri=uris[r["source_id"]]) for r in rows[:limit]]}

    def entity_suggestions(self, prefix: str, limit: int = 12) -> list[str]:
        """Entity names that start like ``prefix`` (the page's graph search box)."""
        from memcli.graph.extract import normalise

        return self.graph.reads.entities_starting(normalise(prefix), limit) if prefix.strip() else []

    def graph_neighbourhood(self, name: str, limit: int = 30) -> dict:
        """An entity, its neighbours (sized by mentions) and the relations between them as
        labelled edges, each with the sentence-bearing unit that asserted it."""
        view = self.graph_show(name, limit)
        texts = self.reads.units_by_ids(list({r["unit_id"] for r in view.relations}), ["id", "text"])
        edges = [{"source": r["subject"], "target": r["object"], "label": r["relation"], "unit_id": r["unit_id"],
                  "uri": r["source"], "text": texts.get(r["unit_id"], {}).get("text", "")} for r in view.relations]
        ends = [r[end] for r in view.relations for end in ("subject", "object")]
        shown = self.graph.reads.display(ends) | {view.id: (view.entity, view.type)}
        names = {i: shown.get(i, (i, "")) for i in dict.fromkeys([view.id, *ends])}
        sizes = {nb["id"]: nb["weight"] for nb in view.neighbours} | {view.id: view.mentioned_in}
        nodes = [{"id": i, "label": n, "type": k, "mentions": sizes.get(i, 1), "center": i == view.id}
                 for i, (n, k) in names.items()]
        notes = {u["source"]: None for u in view.units}  # the notes that mention it, first mention first
        return {"entity": view.entity, "id": view.id, "type": view.type, "nodes": nodes, "edges": edges,
                "notes": list(notes)}

    def graph_overview(self, limit: int = 40) -> dict:
        """The page's first look: the most connected entities and the relations between them,
        in the same shape as :meth:`graph_neighbourhood` (no centre)."""
        from memcli.graph.extract import LOOSE_RELATIONS

        hubs = dict(self.graph.hubs(limit))
        rows = self.graph.reads.relations_among(list(hubs))
        pairs: dict[tuple[str, str], dict] = {}
        for r in rows:  # one edge per pair: the stated relation over a co-mention
            key = (r["subject"], r["object"])
            if key not in pairs or pairs[key]["label"] in LOOSE_RELATIONS:
                pairs[key] = {"source": r["subject"], "target": r["object"], "label": r["relation"],
                              "unit_id": r["unit_id"], "source_id": r["source_id"]}
        uris = self._uris(e["source_id"] for e in pairs.values())
        texts = self.reads.units_by_ids(list({e["unit_id"] for e in pairs.values()}), ["id", "text"])
        edges = [dict(e, uri=uris[e.pop("source_id")], text=texts.get(e["unit_id"], {}).get("text", ""))
                 for e in pairs.values()]
        shown = self.graph.reads.display(list(hubs))
        nodes = [{"id": i, "label": shown.get(i, (i, ""))[0], "type": shown.get(i, ("", ""))[1],
                  "mentions": round(w, 1), "center": False} for i, w in hubs.items()]
        return {"entity": "", "id": "", "type": "", "nodes": nodes, "edges": edges, "notes": []}

    def why_empty(self, filters) -> str | None:
        """Why ``filters`` (--since/--until/--tag) match no unit at all, and what would; None
        when they match some (the query found nothing there)."""
        from memcli.retrieve.filters import why_empty
        from memcli.store.query import KEPT, units

        if not filters or self.reads.units_table() is None:
            return None
        if self.reads.units_where(units(status=KEPT, level=0).and_(search=filters), ["id"], limit=1):
            return None
        rows = self.reads.units_where(units(status=KEPT, level=0), ["event_time", "tags", "source_id"])
        return why_empty(filters, rows, len(self.reads.sources()))

    def ingest_failures(self) -> list[dict]:
        """Files the last ingests could not read, with the reason (ingest/failures.py)."""
        from memcli.ingest.failures import FailureLog

        return list(FailureLog(self.home).by_path().values())

    def ingest_status(self) -> dict:
        """What is not committed: files that failed to ingest (with the reason) and units a
        write left pending (the next write or `mem doctor --repair` finishes or undoes them)."""
        from memcli.store.query import units

        pending = self.reads.units_where(units(status="pending"), ["id"]) if self.reads.units_table() is not None else []
        return {"failed": self.ingest_failures(), "pending_units": len(pending)}


def _names_day(heading: str, when) -> bool:
    from memcli.ingest.dates import heading_date

    got = heading_date(heading.replace("[[", "").replace("]]", ""), when.year)
    return got is not None and got.date() == when.date()
