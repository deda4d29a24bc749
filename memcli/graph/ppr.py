"""Query -> seed nodes -> Personalized PageRank -> unit scores (HippoRAG / HippoRAG 2).

Seeds: graph entities the query names (word n-grams of the query that are entity ids, and
capitalised query spans matched by name embedding), each weighted by its specificity
(1 / units mentioning it); plus the dense top hits' unit nodes at a small weight. The PPR
mass that lands on unit nodes ranks the units.

``hops > 1`` runs the iterative variant: the entities of a round's top units that the
query did not name (bridge entities) seed the next round; it stops early when the top units
already cover the question's content words, or when nothing new turns up.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence

import numpy as np

from memcli.graph.extract import _NOT_NAMES, capitalised_spans, normalise
from memcli.graph.graph import MemGraph
from memcli.text import STOP
from memcli.types import GraphTrace

_WORD = re.compile(r"[\w'’.\-&]+")


def personalized_pagerank(mg: MemGraph, reset: np.ndarray, damping: float, tol: float = 1e-10,
                          max_iter: int = 200) -> np.ndarray:
    """Power iteration on the cached sparse walk matrix: x = (1-d) r + d (W D^-1 x + dangling r).

    Same fixed point as igraph's PRPACK (a test checks), but PRPACK re-preprocesses the
    whole graph on every call; this costs one sparse mat-vec per iteration, and with
    HippoRAG's damping of 0.5 the error halves each step (tens of iterations).
    """
    walk, dangling = mg.transition()
    r = reset / reset.sum()
    x = r.copy()
    for _ in range(max_iter):
        nxt = damping * (walk @ x) + (damping * x[dangling].sum() + 1.0 - damping) * r
        if np.abs(nxt - x).sum() < tol:
            return nxt
        x = nxt
    return x


class GraphRanker:
    def __init__(self, mg: MemGraph, *, damping: float = 0.5, passage_weight: float = 0.05,
                 link_threshold: float = 0.8, embed: Callable[[list[str]], np.ndarray] | None = None,
                 hit_seeds: int = 0, hit_entity_weight: float = 0.5) -> None:
        self.mg = mg
        self.hit_seeds = hit_seeds
        self.hit_entity_weight = hit_entity_weight
        self.damping = damping
        self.passage_weight = passage_weight
        self.link_threshold = link_threshold
        self.embed = embed
        self._norm_vectors = None

    # -- seeds --------------------------------------------------------------------------
    def query_entities(self, query: str) -> dict[int, float]:
        """Entity node -> seed weight (specificity), for the entities the query names."""
        idx = self.mg.entity_index()
        words = [w.strip(".'’") for w in _WORD.findall(query)]
        any_caps = any(w[:1].isupper() for w in words[1:])
        found: set[int] = set()
        used = [False] * len(words)
        # Longest match first; a word inside a matched name does not match again on its own
        # ("North" inside "North Carolina"), and a name counts only where the query writes it
        # as one (a word of it capitalised: "tornado outbreak" in a question is not the
        # "Tornado Outbreak" one passage capitalised), unless the whole query is lower case.
        for n in range(min(6, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                if any(used[i:i + n]):
                    continue
                key = normalise(" ".join(words[i:i + n]))
                if key not in idx or len(key.split()) < n:  # "the film" is the word "film"
                    continue
                if any_caps and not any(w[:1].isupper() for w in words[i:i + n]):
                    continue
                if n == 1 and (key in STOP or key in _NOT_NAMES or len(key) <= 2):
                    continue
                found.add(idx[key])
                used[i:i + n] = [True] * n
        spans = [s for s in capitalised_spans(query) if normalise(s) not in idx]
        if spans and self.embed is not None and self.mg.n_entities:
            if self._norm_vectors is None:
                v = self.mg.entity_vectors
                self._norm_vectors = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
            q = self.embed(spans)
            q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-9)
            sims = q @ self._norm_vectors.T
            for row in sims:
                j = int(np.argmax(row))
                if row[j] >= self.link_threshold:
                    found.add(j)
        return {i: 1.0 / float(self.mg.mentions_per_entity[i]) for i in found}

    def hit_entities(self, dense: Sequence[tuple[str, float]], seeds: dict[int, float]) -> dict[int, float]:
        """The entities of the best first-stage hits that the query did not name: the bridge a
        two-hop question leaves unsaid ("the director of Night Harbour" is Tove Ahlgren, named
        by the film's note), at ``hit_entity_weight`` x specificity."""
        uidx = self.mg.unit_index()
        out: dict[int, float] = {}
        for u, _ in sorted(dense, key=lambda x: -x[1])[:self.hit_seeds]:
            if u not in uidx:
                continue
            for nb in self.mg.graph.neighbors(uidx[u]):
                if nb < self.mg.n_entities and nb not in seeds:
                    out[nb] = self.hit_entity_weight / float(self.mg.mentions_per_entity[nb])
        return out

    # -- ranking ------------------------------------------------------------------------
    def ppr(self, entity_seeds: dict[int, float], dense: Sequence[tuple[str, float]]) -> np.ndarray:
        n = self.mg.graph.vcount()
        reset = np.zeros(n, dtype=np.float64)
        total = sum(entity_seeds.values())
        for i, w in entity_seeds.items():
            reset[i] += w / total
        uidx = self.mg.unit_index()
        if dense:
            top = max(s for _, s in dense)
            low = min(s for _, s in dense)
            span = (top - low) or 1.0
            for u, s in dense:
                if u in uidx:
                    reset[uidx[u]] += self.passage_weight * ((s - low) / span if len(dense) > 1 else 1.0)
        if reset.sum() <= 0:
            return np.zeros(len(self.mg.unit_ids))
        return personalized_pagerank(self.mg, reset, self.damping)[self.mg.n_entities:]

    def rank(self, query: str, dense: Sequence[tuple[str, float]], n: int, *, hops: int = 1,
             texts: Callable[[list[str]], dict[str, str]] | None = None, trace: GraphTrace | None = None
             ) -> list[tuple[str, float]]:
        trace = trace or GraphTrace()
        seeds = self.query_entities(query)
        trace.seeds = [self.mg.entity_names[i] for i in seeds]
        if self.hit_seeds and dense:
            seeds = seeds | self.hit_entities(dense, seeds)
        qterms = {w for w in re.findall(r"\w+", query.lower()) if w not in STOP}
        t = time.perf_counter()
        scores = self.ppr(seeds, dense)
        trace.rounds = 1
        for _ in range(1, max(1, hops)):
            top = [int(i) for i in np.argsort(-scores)[:3] if scores[i] > 0]
            if texts is not None and qterms:
                got = texts([self.mg.unit_ids[i] for i in top])
                covered = {w for txt in got.values() for w in re.findall(r"\w+", txt.lower())}
                if len(qterms & covered) / len(qterms) >= 0.9:
                    trace.stopped = "sufficient"
                    break
            new = {}
            for i in top:
                for nb in self.mg.graph.neighbors(self.mg.n_entities + i):
                    if nb < self.mg.n_entities and nb not in seeds:
                        new[nb] = 0.5 / float(self.mg.mentions_per_entity[nb])
            if not new:
                trace.stopped = "nothing new"
                break
            seeds = seeds | new
            scores = self.ppr(seeds, dense)
            trace.rounds += 1
        trace.ppr_ms = (time.perf_counter() - t) * 1000
        order = np.argsort(-scores)[:n]
        return [(self.mg.unit_ids[i], float(scores[i])) for i in order if scores[i] > 0]
