"""Graph memory's two sides: rows for new units at ingest, and the cached graph at query time."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from memcli.graph import graph as G
from memcli.graph.extract import (RELATION_ALIAS, RELATION_LINKS, TYPE_NOTE, Extraction, default_workers, make_extractor,
                                  normalise)
from memcli.graph.store import GraphStore
from memcli.types import EntityView


@dataclass
class GraphRows:
    entities: dict[str, str] = field(default_factory=dict)  # new entity id -> display name
    vectors: np.ndarray | None = None
    mentions: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # entity, unit, source, as written, type
    relations: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    cache: list[tuple[str, str, bool, str]] = field(default_factory=list)
    unusable: int = 0  # units the extractor returned nothing usable for

    def write(self, store: GraphStore, dim: int) -> None:
        store.add(self.entities, self.vectors, self.mentions, self.relations, dim)
        store.cache(self.cache, dim)


class GraphIndex:
    def __init__(self, home: Path, db, settings, embed: Callable[[list[str]], np.ndarray],
                 generator: Callable[[], object] | None = None,
                 reads: Callable[[], GraphStore] | None = None) -> None:
        """``db``: where the graph tables are written; ``reads``: the store queries read (a
        remote home's copy on this machine, store/mirror.py), else the written one."""
        self.folder = home / "graph"
        self.store = GraphStore(db)
        self._reads = reads
        self.s = settings  # GraphSettings
        self.embed = embed
        self._generator = generator
        self._extractor = None
        self._mg: G.MemGraph | None = None
        self._stamp: dict | None = None

    @property
    def extractor(self):
        if self._extractor is None:
            gen = self._generator() if self.s.extractor == "llm" and self._generator else None
            self._extractor = make_extractor(self.s.extractor, gen, self.s.workers or default_workers())
        return self._extractor

    # -- ingest -----------------------------------------------------------------------
    def prepare(self, units: Sequence, notes: dict[str, dict] | None = None) -> GraphRows:
        """Extract every unit, in one batch (LLM results come from the cache when the text is
        unchanged); ``notes`` (source id -> title, file stem, aliases, path of a Markdown note)
        adds the vault's structure: its links, and the other names its links may use. Each
        mention keeps the entity as written and its type: `mem graph show` names an entity by
        its most frequent spelling."""
        rows = GraphRows()
        ex = self.extractor
        keys = [hashlib.sha256(f"{u.title}\n{u.text}".encode()).hexdigest()[:32] for u in units]
        cached = self.store.cached(keys, ex.name) if ex.name == "llm" else {}
        titles = ["" if u.speaker or u.session else u.title for u in units]  # a conversation's title is no topic
        todo = [i for i, key in enumerate(keys) if key not in cached]
        fresh = dict(zip(todo, ex.extract_many([(units[i].text, titles[i]) for i in todo])))
        names: dict[str, str] = {}
        for i, (u, key) in enumerate(zip(units, keys)):
            if i in fresh:
                got = fresh[i]
                if ex.name == "llm":
                    rows.cache.append((key, ex.name, got.ok, json.dumps(
                        {"entities": got.entities, "triples": got.triples}, ensure_ascii=False)))
            else:
                ok, raw = cached[key]
                data = json.loads(raw)
                got = Extraction(data["entities"], [tuple(t) for t in data["triples"]], ok)
            if not got.ok:
                rows.unusable += 1
            ids = []
            for name in got.entities:
                n = normalise(name)
                if n and n not in ids:
                    names.setdefault(n, name)
                    ids.append(n)
                    rows.mentions.append((n, u.id, u.source_id, name, got.types.get(name, "")))
            for s, r, o in got.triples:
                a, b = normalise(s), normalise(o)
                if a and b and a != b:
                    names.setdefault(a, s)
                    names.setdefault(b, o)
                    rows.relations.append((a, r, b, u.id, u.source_id))
        if self.s.links:
            self._links(units, notes or {}, rows, names)
        new = sorted(set(names) - self.store.known_entities(sorted(names)))
        if new:
            rows.entities = {n: names[n] for n in new}
            rows.vectors = np.asarray(self.embed([names[n] for n in new]), dtype=np.float32)
        return rows

    def _links(self, units: Sequence, notes: dict[str, dict], rows: GraphRows, names: dict[str, str]) -> None:
        """Every link between notes -> (note, "links to", target), the target mentioned by the
        unit: ``[[Target]]``, ``[[./folder/note|shown]]``, ``[text](../other/note.md#part)``.
        A link with a path is resolved by path, so it reaches the note whatever its title;
        one the batch cannot resolve names the target's file name, which reaches the note
        through its "alias of" edge whichever of the two notes was ingested first. A note's
        aliases and file name -> (name, "alias of", title), once per note."""
        from memcli.markup import note_links

        by_path = {info["path"]: info.get("title") or "" for info in notes.values() if info.get("path")}
        paths = {sid: info.get("path") or "" for sid, info in notes.items()}
        first: dict[str, object] = {}
        mentioned: dict[str, set[str]] = {}  # unit id -> entities it already mentions (one pass)
        for m in rows.mentions:
            mentioned.setdefault(m[1], set()).add(m[0])
        for u in units:
            if u.speaker or u.session or ("[" not in u.text and u.source_id not in notes):
                continue
            first.setdefault(u.source_id, u)
            note = normalise(u.title)
            if not note:
                continue
            names.setdefault(note, u.title)
            seen = mentioned.setdefault(u.id, set())
            for target in note_links(u.text, paths.get(u.source_id, ""), by_path):
                t = normalise(target)
                if t and t != note:
                    names.setdefault(t, target)
                    rows.relations.append((note, RELATION_LINKS, t, u.id, u.source_id))
                    if t not in seen:
                        seen.add(t)
                        rows.mentions.append((t, u.id, u.source_id, target, TYPE_NOTE))
        for sid, info in notes.items():
            u = first.get(sid)
            title = normalise(info.get("title") or "")
            if u is None or not title:
                continue
            for other in [*info.get("aliases", []), info.get("stem") or ""]:
                a = normalise(other)
                if a and a != title:
                    names.setdefault(a, other)
                    rows.relations.append((a, RELATION_ALIAS, title, u.id, sid))

    # -- query ------------------------------------------------------------------------
    @property
    def reads(self) -> GraphStore:
        """The tables queries read (see __init__)."""
        return self._reads() if self._reads is not None else self.store

    def load(self) -> G.MemGraph | None:
        """The graph, from memory, the disk cache, or rebuilt from the tables when stale."""
        reads = self.reads
        if not reads.exists():
            return None
        stamp = {"tables": reads.versions(), "synonym_threshold": self.s.synonym_threshold}
        if self._mg is not None and self._stamp == stamp:
            return self._mg
        mg = G.load(self.folder, stamp)
        if mg is None:
            mg = G.build(reads, self.s.synonym_threshold)
            try:
                G.save(mg, self.folder, stamp)
            except OSError:
                pass  # a read-only home still answers, it just rebuilds next time
        self._mg, self._stamp = mg, stamp
        return mg

    def ranker(self):
        from memcli.graph.ppr import GraphRanker

        mg = self.load()
        if mg is None or mg.n_entities == 0:
            return None
        return GraphRanker(mg, damping=self.s.damping, passage_weight=self.s.passage_weight,
                           link_threshold=self.s.link_threshold, embed=self.embed, hit_seeds=self.s.hit_seeds,
                           hit_entity_weight=self.s.hit_entity_weight)

    def show(self, name: str, limit: int = 20) -> "EntityView":
        """An entity, named as it is most often written, with its type; its neighbours ranked by
        relation strength (a link or a stated relation counts twice a co-occurrence); its
        relations, links and stated ones before co-mentions; and the units that mention it."""
        from memcli.errors import NotFoundError
        from memcli.graph.extract import LOOSE_RELATIONS
        from memcli.graph.graph import relation_weight

        n = normalise(name)
        reads = self.reads
        if reads.entity_name(n) is None:
            raise NotFoundError(f"no entity {name!r} in the graph", hint="see `mem graph stats`; names are case-folded")
        rows = reads.relations_of(n)
        # A note's backlinks include those made by one of its other names ([[Alias]], [[file]]).
        for alias in sorted({r["subject"] for r in rows if r["relation"] == RELATION_ALIAS and r["object"] == n}):
            rows += [r for r in reads.relations_of(alias) if r["relation"] != RELATION_ALIAS]
        weights: dict[str, float] = {}
        for r in rows:
            other = r["object"] if r["subject"] == n else r["subject"]
            weights[other] = weights.get(other, 0.0) + relation_weight(r["relation"])
        rows.sort(key=lambda r: (r["relation"] in LOOSE_RELATIONS, -weights.get(r["object"] if r["subject"] == n else r["subject"], 0)))
        top = sorted(weights.items(), key=lambda x: -x[1])[:limit]
        rows = rows[:limit]
        shown = reads.display([n, *(i for i, _ in top), *(e for r in rows for e in (r["subject"], r["object"]))])
        for r in rows:
            r["subject_name"] = shown.get(r["subject"], (r["subject"], ""))[0]
            r["object_name"] = shown.get(r["object"], (r["object"], ""))[0]
        neighbours = [{"id": i, "name": shown.get(i, (i, ""))[0], "type": shown.get(i, ("", ""))[1], "weight": w}
                      for i, w in top]
        units = reads.mentions_of(n)
        entity, kind = shown.get(n, (n, ""))
        return EntityView(entity=entity, id=n, type=kind, mentioned_in=len(units), neighbours=neighbours,
                          relations=rows, units=units[:limit])

    def hubs(self, limit: int = 40) -> list[tuple[str, float]]:
        """The most connected entities (summed relation strength to other entities; mentions
        by units do not count), for a first look at a memory's graph."""
        mg = self.load()
        if mg is None or mg.n_entities == 0 or mg.graph.ecount() == 0:
            return []
        el = np.asarray(mg.graph.get_edgelist(), dtype=np.int64).reshape(-1, 2)
        w = np.asarray(mg.graph.es["weight"], dtype=np.float64)
        inner = (el < mg.n_entities).all(axis=1)
        strength = np.bincount(el[inner].ravel(), weights=np.repeat(w[inner], 2), minlength=mg.n_entities)
        top = np.argsort(-strength, kind="stable")[:limit]
        return [(mg.entity_ids[i], float(strength[i])) for i in top if strength[i] > 0]

    def stats(self) -> dict:
        reads = self.reads
        out = reads.counts() | {"unusable_extractions": reads.extraction_failures(),
                                     "extractor": self.s.extractor}
        mg = self.load()
        if mg is not None:
            out["graph"] = mg.stats
        return out
