"""One orchestrator for search, shared by every front end (CLI, --json, Python).

bm25 and dense each return ``search.candidates`` units; hybrid fuses them (convex or RRF),
then the survivors' rows are fetched once from LanceDB, the source of truth, so a unit the
lexical index still holds but LanceDB does not (a crash leftover) is never shown.
"""

from __future__ import annotations

from collections.abc import Callable

from memcli.config import SearchSettings
from memcli.retrieve.filters import SearchFilters
from memcli.retrieve.fusion import convex, rrf
from memcli.store.lance import LanceStore
from memcli.store.lexical import LexicalIndex
from memcli.types import Hit

HIT_COLUMNS = ["id", "source_id", "title", "section", "text", "line_start", "line_end",
               "char_start", "char_end", "event_time", "speaker"]
MODES = ("hybrid", "bm25", "dense")


class Retriever:
    def __init__(self, settings: SearchSettings, lance: LanceStore, lexical: LexicalIndex,
                 embed_query: Callable[[str], object]) -> None:
        self.s = settings
        self.lance = lance
        self.lexical = lexical
        self.embed_query = embed_query

    def bm25(self, query: str, n: int) -> list[tuple[str, float]]:
        return self.lexical.search(query, n)

    def dense(self, query: str, n: int, where: str | None = None) -> list[tuple[str, float]]:
        # Only ids and distances here: materialising text for every candidate doubles the
        # cost of a flat scan; the final top-k rows are fetched by id afterwards.
        rows = self.lance.dense_search(self.embed_query(query), n, ["id"],
                                       ann_nprobes=self.s.ann_nprobes, ann_refine=self.s.ann_refine, where=where)
        return [(r["id"], 1.0 - float(r["_distance"])) for r in rows]

    def ranked(self, query: str, mode: str, n: int, *, fusion: str | None = None, where: str | None = None
               ) -> tuple[list[tuple[str, float]], dict]:
        """Fused (id, score) list, best first, and each retriever's own scores.

        With a filter, dense search applies it before ranking; BM25 (which cannot see the
        columns) over-fetches and the final row fetch drops what does not match.
        """
        lists: dict[str, list[tuple[str, float]]] = {}
        if mode in ("bm25", "hybrid"):
            hits = self.bm25(query, n * 4 if where else n)
            if where:
                keep = self.lance.units_by_ids([u for u, _ in hits], ["id"], where=where)
                hits = [(u, s) for u, s in hits if u in keep][:n]
            lists["bm25"] = hits
        if mode in ("dense", "hybrid"):
            lists["dense"] = self.dense(query, n, where)
        if mode == "hybrid":
            if (fusion or self.s.fusion) == "rrf":
                fused = rrf(lists, k=self.s.rrf_k)
            else:
                fused = convex(lists, {"dense": self.s.weight_dense, "bm25": self.s.weight_bm25})
        else:
            fused = lists[mode]
        per = {name: dict(r) for name, r in lists.items()}
        return fused, per

    def search(self, query: str, *, k: int | None = None, mode: str | None = None,
               filters: SearchFilters | None = None) -> list[Hit]:
        k = k or self.s.k
        mode = mode or self.s.mode
        n = max(self.s.candidates, k)
        where = filters.to_sql() if filters else None
        fused, per = self.ranked(query, mode, n, where=where)
        # Over-fetch a little: ids the lexical index holds but LanceDB no longer commits drop out.
        want = fused[: k + 10]
        rows = self.lance.units_by_ids([u for u, _ in want], HIT_COLUMNS, where=where)
        sources = self.lance.sources_by_ids({r["source_id"] for r in rows.values()})
        hits: list[Hit] = []
        for uid, score in want:
            r = rows.get(uid)
            if r is None:
                continue
            src = sources.get(r["source_id"])
            if src is None:
                continue
            hits.append(Hit(
                unit_id=uid, score=round(float(score), 6), text=r["text"], uri=src.uri,
                title=r["title"], section=r["section"], line_start=r["line_start"],
                line_end=r["line_end"], char_start=r["char_start"], char_end=r["char_end"],
                source_id=r["source_id"], rank=len(hits) + 1,
                scores={name: round(float(p[uid]), 6) for name, p in per.items() if uid in p},
                event_time=r["event_time"].isoformat() if r.get("event_time") else None,
                speaker=r.get("speaker"), trust=src.trust,
            ))
            if len(hits) >= k:
                break
        return hits
