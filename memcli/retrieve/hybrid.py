"""One orchestrator for search, shared by every front end (CLI, --json, Python).

bm25 and dense each return ``search.candidates`` units; hybrid fuses them (convex or RRF),
then the survivors' rows are fetched once from LanceDB, the source of truth, so a unit the
lexical index still holds but LanceDB does not (a crash leftover) is never shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from memcli.config import SearchSettings
from memcli.markup import navigation
from memcli.retrieve.explain import explain as explain_rank
from memcli.retrieve.fusion import convex, max_merge, protect_outliers, rrf
from memcli.retrieve.policy import POLICY
from memcli.retrieve.rows import ROW_COLUMNS, Rows
from memcli.retrieve.speakers import speaker_boost
from memcli.store.lance import LanceStore
from memcli.store.lexical import LexicalIndex
from memcli.store.query import Near, UnitFilter, units
from memcli.types import GraphTrace, Hit, SearchFilters


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / max(float(np.linalg.norm(v)), 1e-9)




@dataclass
class Ranking:
    """One query's ranking and how it was reached: returned to the caller, never kept on the
    retriever (a resident process serves many questions through one)."""

    fused: list[tuple[str, float]]  # (unit id, score), best first
    per: dict[str, dict[str, float]]  # each retriever's own scores (bm25, dense, graph)
    ranks: dict[str, dict[str, int]]  # each retriever's rank of a unit, from 1
    stages: dict[str, dict[str, float]] = field(default_factory=dict)  # the list after each later step
    graph_trace: GraphTrace | None = None  # the graph walk's seeds and paths, when it ran


class Retriever:
    def __init__(self, settings: SearchSettings, lance: LanceStore, lexical: LexicalIndex,
                 embed_query: Callable[[str], object], reranker=None,
                 generator: Callable[[], object] | None = None, graph: Callable[[], object] | None = None,
                 graph_settings=None, aliases: Callable[[], tuple[int, list[tuple[str, str]]]] | None = None) -> None:
        self.s = settings
        self.lance = lance
        self.lexical = lexical
        self.embed_query = embed_query
        self._reranker = reranker
        self._generator = generator  # for the llm reranker, loaded only if it is used
        self._graph = graph  # -> GraphRanker | None (no graph tables yet)
        self.g = graph_settings
        self._aliases = aliases  # -> (version, [(alias, title)]): notes' other names, for bridging
        self._last_query: tuple[str, object] | None = None  # dense, bridging and tree search share it
        self._titles = (None, None)  # ((sources version, aliases version), TitleIndex)

    def query_vector(self, query: str):
        """The query's embedding, computed once per search however many steps need it."""
        if self._last_query is None or self._last_query[0] != query:
            self._last_query = (query, self.embed_query(query))
        return self._last_query[1]

    @property
    def reranker(self):
        if self._reranker is None and self.s.rerank != "none":
            from memcli.retrieve.rerank import make_reranker

            self._reranker = make_reranker(self.s.rerank, self.s.rerank_model, generator=self._generator)
        return self._reranker

    def rerank(self, query: str, fused: list[tuple[str, float]], reranker=None, rows: Rows | None = None
               ) -> list[tuple[str, float]]:
        """Reorder the top ``rerank_top`` candidates; the rest keep their place after them."""
        rr = reranker or self.reranker
        if rr is None or not fused:
            return fused
        head = fused[: self.s.rerank_top]
        rows = (rows or Rows(self.lance)).get(u for u, _ in head)
        return rr.rerank(query, head, rows) + fused[self.s.rerank_top:]

    def bm25(self, query: str, n: int) -> list[tuple[str, float]]:
        return self.lexical.search(query, n)

    def dense(self, query: str, n: int, where: UnitFilter | None = None, turns: bool = True, speaker: bool = True
              ) -> list[tuple[str, float]]:
        # Only ids and distances: LanceDB reads each selected column of the hits apart, ~0.8 ms
        # a column at 1M units whatever the number of rows, so the vector query with the rows
        # cost twice the one without (27 vs 13 ms), and BM25's candidates needed their own read
        # by id after it. The search reads every candidate's row once, after fusion.
        qv = self.query_vector(query)
        found = self.lance.dense_search(qv, n, ["id"], ann_nprobes=self.s.ann_nprobes,
                                        ann_refine=self.s.ann_refine, where=where)
        seg = [(r["id"], 1.0 - float(r["_distance"])) for r in found]
        w = self.s.turn_weight if turns else 0.0
        if w <= 0 or self.lance.turns.table() is None:
            return seg
        return self._with_turns(query, qv, seg, n, where, w, self.s.speaker_boost if speaker else 0.0)

    def _with_turns(self, query: str, qv, seg: list[tuple[str, float]], n: int, where: UnitFilter | None, w: float,
                    speaker: float) -> list[tuple[str, float]]:
        """Conversation segments scored by their best turn as well: (1 - w) · segment cosine
        + w · best turn cosine. Units without turn rows keep their segment cosine."""
        boost = speaker_boost(query, speaker)
        by_turn = dict(self.lance.turns.search(qv, n * POLICY.turn_pool, boost))
        have = {u for u, _ in seg}
        extra = [u for u in by_turn if u not in have]
        if extra:  # found by a turn only: their segment cosine, through the same filters
            keep = self.lance.units_by_ids(extra, ["id"], where=where)
            vecs = self.lance.vectors_of([u for u in extra if u in keep])
            q = _unit(qv)
            seg = seg + [(u, float(_unit(v) @ q)) for u, v in vecs.items()]
        missing = [u for u, _ in seg if u not in by_turn]
        by_turn.update(self.lance.turns.best_of(missing, qv, boost))
        scored = [(u, (1 - w) * s + w * by_turn[u]) if u in by_turn else (u, s) for u, s in seg]
        return sorted(scored, key=lambda x: (-x[1], x[0]))[:n]

    def graph_list(self, query: str, dense: list[tuple[str, float]], n: int, hops: int | None = None
                   ) -> tuple[list[tuple[str, float]] | None, GraphTrace | None]:
        """PPR over the entity/unit graph, seeded by the query's entities and the dense hits;
        with the walk's trace (None, None: no graph tables yet)."""
        ranker = self._graph() if self._graph else None
        if ranker is None:
            return None, None
        trace = GraphTrace()
        hops = hops or (self.g.hops if self.g else 1)
        texts = (lambda ids: {u: r["text"] for u, r in self.lance.units_by_ids(ids, ["id", "text"]).items()})
        return ranker.rank(query, dense, n, hops=hops, texts=texts, trace=trace), trace

    def ranked(self, query: str, mode: str, n: int, *, fusion: str | None = None, where: UnitFilter | None = None,
               graph: bool | None = None, hops: int | None = None, protect: bool = True,
               bridge: bool | None = None, turns: bool = True, speaker: bool = True, rows: Rows | None = None
               ) -> Ranking:
        """The fused (id, score) list, best first, each retriever's own scores and ranks.

        With a filter, dense search applies it before ranking; BM25 (which cannot see the
        columns) over-fetches and the final row fetch drops what does not match. The graph
        list joins hybrid fusion when ``graph`` is true, or by default when graph.weight > 0.
        """
        weight_graph = self.g.weight if self.g else 0.0
        if graph is None:
            graph = weight_graph > 0 or (hops or 1) > 1
        elif graph and weight_graph <= 0:
            weight_graph = POLICY.graph_weight_asked
        lists: dict[str, list[tuple[str, float]]] = {}
        trace = None
        seed_bm25 = self.g is not None and self.g.seed_bm25  # the graph walk is also seeded by BM25's hits
        if mode in ("bm25", "hybrid") or (mode == "graph" and seed_bm25):
            hits = self.bm25(query, n * POLICY.filtered_bm25_pool if where else n)
            if where:
                keep = self.lance.units_by_ids([u for u, _ in hits], ["id"], where=where)
                hits = [(u, s) for u, s in hits if u in keep][:n]
                if rows is not None:
                    rows.vouch(u for u, _ in hits)
            lists["bm25"] = hits
        if mode in ("dense", "hybrid", "graph"):
            lists["dense"] = self.dense(query, n, where, turns=turns, speaker=speaker)
            if rows is not None:  # queried under the search's filter: live and matching
                rows.vouch(u for u, _ in lists["dense"])
        if mode == "graph" or (mode == "hybrid" and graph):
            seeds = lists["dense"]
            if "bm25" in lists and seed_bm25:  # what either first stage ranks high
                seeds = max_merge(lists["dense"], lists["bm25"])
            g, trace = self.graph_list(query, seeds, n, hops)
            if g is not None:
                lists["graph"] = g
        if mode == "hybrid":
            if (fusion or self.s.fusion) == "rrf":
                fused = rrf(lists, k=self.s.rrf_k)
            else:
                fused = convex(lists, {"dense": self.s.weight_dense, "bm25": self.s.weight_bm25,
                                       "graph": weight_graph})
            if protect:
                sure = {k: v for k, v in lists.items() if k in ("bm25", "dense")}
                fused = protect_outliers(fused, sure, self.s.outlier_z)
        elif mode == "graph" and trace is not None and not trace.seeds:
            # The question names nothing the graph knows: the walk would only smear the first
            # stages' hits over their neighbours, so rank as they do (HippoRAG 2 falls back to
            # dense retrieval when it finds no fact to seed).
            fused = convex({k: v for k, v in lists.items() if k != "graph"},
                           {"dense": self.s.weight_dense, "bm25": self.s.weight_bm25})
        elif mode == "graph":
            fused = lists.get("graph") or lists["dense"]  # no graph yet: dense alone
        else:
            fused = lists[mode]
        stages = {"fused": dict(fused)}
        if rows is not None:  # the candidates' rows in one lookup: every later step reads them
            rows.get(u for u, _ in fused[:n])
        if (self.s.bridge if bridge is None else bridge) and mode != "bm25":
            fused = self.bridged(query, fused, rows)
            stages["bridge"] = dict(fused)
        return Ranking(fused, {name: dict(r) for name, r in lists.items()},
                       {name: {u: i + 1 for i, (u, _) in enumerate(r)} for name, r in lists.items()},
                       stages, trace)

    def bridged(self, query: str, fused: list[tuple[str, float]], rows: Rows | None = None
                ) -> list[tuple[str, float]]:
        """Second hop by title links (retrieve/bridge.py): documents the top hits name."""
        from memcli.retrieve.bridge import TitleIndex, bridge

        if self.lance.units_table() is None or not fused:
            return fused
        rows = rows or Rows(self.lance)
        alias_version, aliases = self._aliases() if self._aliases else (0, [])
        version = (self.lance.sources_table().version, alias_version)
        if self._titles[0] != version:
            titled = [{"id": sid, "title": title} for sid, title in self.lance.source_titles()]
            self._titles = (version, TitleIndex(titled, aliases=aliases))
        head = rows.get([u for u, _ in fused[:POLICY.bridge_head]])

        def leaves(source_ids):
            # Every column a hit shows comes along, so a linked unit needs no second lookup.
            found = self.lance.leaves_of(source_ids, [*ROW_COLUMNS, "vector"], limit=POLICY.bridge_units)
            if rows.where is None:  # leaves_of does not apply the search's filter
                rows.add({r["id"]: r for r in found})
            out: dict[str, list] = {}
            for r in sorted(found, key=lambda r: r["ord"]):
                out.setdefault(r["source_id"], []).append((r["id"], _unit(r["vector"])))
            return out
        return bridge(fused, self._titles[1], head, _unit(self.query_vector(query)), leaves)

    def time_boost(self, query: str, fused: list[tuple[str, float]], *, now=None, weight: float | None = None,
                   rows: Rows | None = None) -> list[tuple[str, float]]:
        """Lift units whose event time falls in the range a time expression in the query names
        ("last March", "in 2022", "before May"), relative to ``now``."""
        weight = self.s.time_boost if weight is None else weight
        if weight <= 0 or not fused:
            return fused
        from memcli.retrieve.timeparse import parse_time_expression

        tr = parse_time_expression(query, now)
        if tr is None:
            return fused
        rows = (rows or Rows(self.lance)).get(u for u, _ in fused)

        def inside(u: str) -> bool:
            t = (rows.get(u) or {}).get("event_time")
            return t is not None and (tr.since is None or t >= tr.since) and (tr.until is None or t < tr.until)

        # Relative to the best score, so the lift means the same for BM25, cosine and fused scores.
        lift = weight * max(abs(fused[0][1]), 1e-9)
        return sorted(((u, sc + lift * inside(u)) for u, sc in fused), key=lambda x: -x[1])

    def expand_neighbours(self, fused: list[tuple[str, float]], window: int, top: int = 10,
                          rows: Rows | None = None) -> list[tuple[str, float]]:
        """Bring each top conversation hit's temporally adjacent units (same session, ``ord``
        within ``window``) right after it, scored just below it (EM-LLM's temporal contiguity)."""
        if window <= 0 or not fused:
            return fused
        head = fused[:top]
        rows = (rows or Rows(self.lance)).get(u for u, _ in head)
        around = [Near(r["source_id"], r["session"], r["ord"], window)
                  for u, _ in head if (r := rows.get(u)) and r["session"]]
        if not around:
            return fused
        near = self.lance.units_where(units(status="committed", near=around), ["id", "source_id", "ord", "session"])
        by_pos = {(n["source_id"], n["session"], n["ord"]): n["id"] for n in near}
        seen = {u for u, _ in fused[:top]}
        out: list[tuple[str, float]] = []
        for u, sc in head:
            out.append((u, sc))
            r = rows.get(u)
            if not r or not r["session"]:
                continue
            for d in sorted(range(-window, window + 1), key=abs):
                nid = by_pos.get((r["source_id"], r["session"], r["ord"] + d))
                if d and nid and nid not in seen:
                    seen.add(nid)
                    out.append((nid, sc - 1e-6 * abs(d)))
        out.extend((u, sc) for u, sc in fused[top:] if u not in seen)
        return out

    def level_filter(self, filters: SearchFilters | None = None, as_of=None) -> UnitFilter | None:
        """The user's filters, memory as it was at ``as_of``, and leaves only (the default)
        once summaries exist."""
        leaves = self.s.levels == "leaves" and self.lance.units_table() is not None and self.lance.has_summaries()
        if not filters and not leaves and as_of is None:
            return None
        return units(search=filters or None, level=0 if leaves else None, as_of=as_of)

    def descend(self, query: str, fused: list[tuple[str, float]], top: int = 10) -> list[tuple[str, float]]:
        """Tree search: each summary among the top hits is replaced by its live children,
        best (dense cosine to the query) first, down to the leaves. One fetch per level."""
        head = list(fused[:top])
        qv = None
        for _ in range(POLICY.max_levels):
            rows = self.lance.units_by_ids([u for u, _ in head], ["id", "level", "children"])
            kids_of = {u: [c for c in (r["children"] or [])] for u, r in rows.items() if r["level"] and r["children"]}
            if not kids_of:
                break
            kids = sorted({c for cs in kids_of.values() for c in cs})
            live = self.lance.units_by_ids(kids, ["id"])
            vec = self.lance.vectors_of([c for c in kids if c in live])
            if qv is None:
                qv = _unit(self.query_vector(query))
            out, seen = [], set()
            for u, sc in head:
                if u not in kids_of:
                    if u not in seen and u in rows:
                        seen.add(u)
                        out.append((u, sc))
                    continue
                cs = [c for c in kids_of[u] if c in vec and c not in seen]
                sims = [float(_unit(vec[c]) @ qv) for c in cs]
                for i, (c, _) in enumerate(sorted(zip(cs, sims), key=lambda x: -x[1])):
                    seen.add(c)
                    out.append((c, sc - 1e-6 * (i + 1)))
            head = out
        seen = {u for u, _ in head}
        return head + [(u, sc) for u, sc in fused[top:] if u not in seen]

    def search(self, query: str, *, k: int | None = None, mode: str | None = None,
               filters: SearchFilters | None = None, as_of=None, reranker=None, hops: int | None = None,
               explain: bool = False, now=None) -> list[Hit]:
        k = k or self.s.k
        mode = mode or self.s.mode
        n = max(self.s.candidates, k)
        # ``as_of``: memory as it was then (units live at that moment, replaced or superseded
        # since included), and "last March" read relative to it (or to ``now``, when given).
        where = self.level_filter(filters, as_of)
        rows = Rows(self.lance, where, self.lexical)
        ranking = self.ranked(query, mode, n, where=where, hops=hops, rows=rows)
        fused, per, stages = ranking.fused, ranking.per, ranking.stages
        fused = self.time_boost(query, fused, now=now or as_of, rows=rows)
        stages["time"] = dict(fused)
        fused = self.rerank(query, fused, reranker, rows=rows)
        stages["rerank"] = dict(fused)
        if self.s.levels == "tree":
            fused = self.descend(query, fused, top=k + POLICY.rows_extra)
        if self.s.neighbours and not filters:
            fused = self.expand_neighbours(fused, self.s.neighbours, rows=rows)
        # Over-fetch a little: ids the lexical index holds but LanceDB no longer commits drop out
        # (and, with a per-source cap, a long page's further units make room for other files).
        cap = self.s.max_per_source
        want = fused[: k * POLICY.capped_pool + POLICY.rows_extra if cap else k + POLICY.rows_extra]
        per_source: dict[str, int] = {}
        rows = rows.get(u for u, _ in want)
        sources = self.lance.sources_by_ids({r["source_id"] for r in rows.values()})
        hits: list[Hit] = []
        later: list[Hit] = []  # navigation (an index page, a list of links): after what it points to
        for uid, score in want:
            r = rows.get(uid)
            if r is None:
                continue
            src = sources.get(r["source_id"])
            if src is None:
                continue
            if cap and not r.get("session"):  # a conversation is one source: never capped
                per_source[src.source_id] = per_source.get(src.source_id, 0) + 1
                if per_source[src.source_id] > cap:
                    continue
            (later if navigation(r["text"]) else hits).append(Hit(
                unit_id=uid, score=round(float(score), 6), text=r["text"], uri=src.uri,
                title=r["title"], section=r["section"], line_start=r["line_start"],
                line_end=r["line_end"], char_start=r["char_start"], char_end=r["char_end"],
                source_id=r["source_id"], rank=0,
                scores={name: round(float(p[uid]), 6) for name, p in per.items() if uid in p},
                event_time=r["event_time"].isoformat() if r.get("event_time") else None,
                time_source=r.get("time_source"),
                updated_at=r["updated_at"].isoformat() if r.get("updated_at") else None,
                speaker=r.get("speaker"), trust=src.trust,
                explain=explain_rank(uid, score, ranking.ranks, per, stages) if explain else None,
            ))
            if len(hits) >= k:
                break
        hits = (hits + later)[:k]
        for i, h in enumerate(hits, start=1):
            h.rank = i
        return hits
