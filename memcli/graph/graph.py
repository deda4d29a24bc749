"""The igraph graph built from the graph tables, cached on disk without pickle.

Nodes: entities, then units (HippoRAG 2's passage nodes). Edges, undirected and weighted:
relation (entity-entity, weight = how many units state it), mention (entity-unit), and
synonym (entity-entity when their name embeddings have cosine >= ``synonym_threshold``).
The cache (``graph/graph.npz`` + ``graph/graph.json``) is keyed by the table versions and
the settings that shape it, and rebuilt when stale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from memcli.graph.extract import LOOSE_RELATIONS

CACHE_VERSION = 2


@dataclass
class MemGraph:
    graph: object  # igraph.Graph
    entity_ids: list[str]
    entity_names: list[str]
    unit_ids: list[str]
    entity_vectors: np.ndarray
    mentions_per_entity: np.ndarray  # units that mention each entity (node specificity)
    stats: dict
    entity_types: list[str] = field(default_factory=list)  # person, place, note, … ("" untyped)

    @property
    def n_entities(self) -> int:
        return len(self.entity_ids)

    def entity_index(self) -> dict[str, int]:
        if not hasattr(self, "_eidx"):
            self._eidx = {e: i for i, e in enumerate(self.entity_ids)}
        return self._eidx

    def transition(self):
        """Column-stochastic W D^-1 as a sparse matrix, built once per graph (for PPR)."""
        if not hasattr(self, "_walk"):
            import scipy.sparse as sp

            g = self.graph
            n = g.vcount()
            el = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
            w = np.asarray(g.es["weight"] if g.ecount() else [], dtype=np.float64)
            rows = np.concatenate([el[:, 0], el[:, 1]])
            cols = np.concatenate([el[:, 1], el[:, 0]])
            vals = np.concatenate([w, w])
            m = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
            deg = np.asarray(m.sum(axis=1)).ravel()
            inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
            self._walk = (m @ sp.diags(inv)).tocsr(), deg == 0
        return self._walk

    def unit_index(self) -> dict[str, int]:
        if not hasattr(self, "_uidx"):
            self._uidx = {u: self.n_entities + i for i, u in enumerate(self.unit_ids)}
        return self._uidx


def synonym_pairs(vectors: np.ndarray, threshold: float, top: int = 5, chunk: int = 2048) -> list[tuple[int, int, float]]:
    """Pairs (i < j) of entities whose normalised name vectors are this close."""
    n = len(vectors)
    if n < 2:
        return []
    v = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    out = []
    k = min(top + 1, n)
    for s in range(0, n, chunk):
        sims = v[s:s + chunk] @ v.T
        idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        for r, row in enumerate(idx):
            i = s + r
            for j in row:
                if j > i and sims[r, j] >= threshold:
                    out.append((i, int(j), float(sims[r, j])))
    return out


def relation_weight(relation: str) -> float:
    """A stated relation (a link, an alias, an LLM's triple) counts twice a co-occurrence or a
    title's mention: the writer chose it."""
    return 1.0 if relation in LOOSE_RELATIONS else 2.0


def build(store, synonym_threshold: float) -> MemGraph:
    import igraph as ig

    from memcli.graph.store import display_names

    eids, names, vecs = store.entity_vectors()
    eidx = {e: i for i, e in enumerate(eids)}
    men = store.all("mentions", ["entity_id", "unit_id", "name", "type"])
    rel = store.all("relations", ["subject", "relation", "object"])
    shown = display_names(men)
    names = [shown.get(e, (n, ""))[0] for e, n in zip(eids, names)]
    types = [shown.get(e, ("", ""))[1] for e in eids]
    unit_ids: list[str] = []
    uidx: dict[str, int] = {}
    edges: dict[tuple[int, int], float] = {}
    kinds: dict[tuple[int, int], int] = {}  # 0 relation, 1 mention, 2 synonym
    per_entity = np.zeros(len(eids), dtype=np.float64)
    if men is not None:
        for e, u in zip(men.column("entity_id").to_pylist(), men.column("unit_id").to_pylist()):
            if e not in eidx:
                continue
            if u not in uidx:
                uidx[u] = len(unit_ids)
                unit_ids.append(u)
            key = (eidx[e], len(eids) + uidx[u])
            if key not in edges:
                per_entity[eidx[e]] += 1
            edges[key] = 1.0
            kinds[key] = 1
    if rel is not None:
        for a, r, b in zip(rel.column("subject").to_pylist(), rel.column("relation").to_pylist(),
                           rel.column("object").to_pylist()):
            if a in eidx and b in eidx and a != b:
                key = tuple(sorted((eidx[a], eidx[b])))
                edges[key] = edges.get(key, 0.0) + relation_weight(r)
                kinds[key] = 0
    syn = synonym_pairs(vecs, synonym_threshold) if len(eids) else []
    for i, j, sim in syn:
        if (i, j) not in edges:
            edges[(i, j)] = sim
            kinds[(i, j)] = 2
    g = ig.Graph(n=len(eids) + len(unit_ids), edges=list(edges), directed=False)
    g.es["weight"] = list(edges.values())
    counts = np.bincount(np.fromiter(kinds.values(), dtype=np.int64, count=len(kinds)), minlength=3)
    stats = {"entities": len(eids), "units": len(unit_ids), "edges": g.ecount(),
             "relation_edges": int(counts[0]), "mention_edges": int(counts[1]), "synonym_edges": int(counts[2])}
    return MemGraph(g, eids, names, unit_ids, vecs, np.maximum(per_entity, 1.0), stats, types)


def save(mg: MemGraph, folder: Path, stamp: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    el = np.asarray(mg.graph.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    tmp = folder / "graph.tmp.npz"
    np.savez(tmp, edges=el, weights=np.asarray(mg.graph.es["weight"] if mg.graph.ecount() else [], dtype=np.float64),
             vectors=mg.entity_vectors, mentions=mg.mentions_per_entity)
    meta = {"version": CACHE_VERSION, "stamp": stamp, "entity_ids": mg.entity_ids, "entity_names": mg.entity_names,
            "entity_types": mg.entity_types, "unit_ids": mg.unit_ids, "stats": mg.stats}
    (folder / "graph.tmp.json").write_text(json.dumps(meta), encoding="utf-8")
    tmp.replace(folder / "graph.npz")
    (folder / "graph.tmp.json").replace(folder / "graph.json")


def load(folder: Path, stamp: dict) -> MemGraph | None:
    import igraph as ig

    try:
        meta = json.loads((folder / "graph.json").read_text(encoding="utf-8"))
        if meta.get("version") != CACHE_VERSION or meta.get("stamp") != stamp:
            return None
        with np.load(folder / "graph.npz", allow_pickle=False) as z:
            edges, weights, vectors, mentions = z["edges"], z["weights"], z["vectors"], z["mentions"]
    except (OSError, ValueError, KeyError):
        return None
    n = len(meta["entity_ids"]) + len(meta["unit_ids"])
    g = ig.Graph(n=n, edges=edges.tolist(), directed=False)
    g.es["weight"] = weights.tolist()
    return MemGraph(g, meta["entity_ids"], meta["entity_names"], meta["unit_ids"], vectors, mentions, meta["stats"],
                    meta["entity_types"])


def export_graphml(mg: MemGraph, path: Path) -> None:
    g = mg.graph.copy()
    g.vs["label"] = list(mg.entity_names) + list(mg.unit_ids)
    g.vs["kind"] = ["entity"] * mg.n_entities + ["unit"] * len(mg.unit_ids)
    g.vs["type"] = list(mg.entity_types or [""] * mg.n_entities) + [""] * len(mg.unit_ids)
    g.write_graphml(str(path))
