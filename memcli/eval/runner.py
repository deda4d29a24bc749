"""Retrieval evals: ingest a corpus through the normal `mem ingest` path into a throw-away
home, then run every query through each mode and score the ranked passages.

Passages are written as one Markdown file each (title as heading), so segmentation,
embedding and indexing are exactly what a user gets. A passage cut into several units
counts once, at its best rank. Gold labels are read only when scoring.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from memcli.config import Settings
from memcli.errors import ConfigError
from memcli.eval.datasets import Passage, Query
from memcli.eval.metrics import dedupe, mean, ndcg_at_k, recall_at_k

# Row name -> (retrieval mode, fusion override).
MODE_SPECS: dict[str, tuple[str, str | None]] = {
    "bm25": ("bm25", None),
    "dense": ("dense", None),
    "hybrid": ("hybrid", None),
    "hybrid/rrf": ("hybrid", "rrf"),
    "hybrid/convex": ("hybrid", "convex"),
    "hybrid+nb1": ("hybrid", None),  # + one neighbouring unit each side (conversations)
    "hybrid+nb2": ("hybrid", None),
    "hybrid-time": ("hybrid", None),  # hybrid without the time-expression boost (LoCoMo)
    "hybrid+features": ("hybrid", None),  # + the feature reranker over the top rerank_top
    "hybrid+cross": ("hybrid", None),  # + the cross-encoder in search.rerank_model
    "hybrid+llm": ("hybrid", None),  # + yes/no relevance by llm.model
    "graph": ("graph", None),  # Personalized PageRank over the entity/unit graph alone
    "hybrid+graph": ("hybrid", None),  # bm25 + dense + graph, convex fusion
    "graph/hops3": ("graph", None),  # iterative: up to 3 rounds of bridge-entity seeding
    "hybrid+graph/hops3": ("hybrid", None),
    "hybrid/tree": ("hybrid", None),  # after `--consolidate`: summaries first, then their children
    "hybrid/unprotected": ("hybrid", "convex"),  # without keeping a sure retriever's outlier top hit
    "hybrid/rrf-unprotected": ("hybrid", "rrf"),
    "hybrid+bridge": ("hybrid", None),  # + documents the top hits name by title (second hop)
    "dense+bridge": ("dense", None),
    "graph+bridge": ("graph", None),
    "hybrid/segment-vectors": ("hybrid", None),  # conversation segments by their own vector only
    "dense/segment-vectors": ("dense", None),
    "hybrid/no-speaker-boost": ("hybrid", None),  # turn vectors without the named-speaker boost
    "hybrid+graph+bridge": ("hybrid", None),
}
# Row name -> (graph in hybrid fusion, PPR rounds).
GRAPH_OPTS = {"graph": (None, 1), "hybrid+graph": (True, 1), "graph/hops3": (None, 3),
              "hybrid+graph/hops3": (True, 3), "graph+bridge": (None, 1), "hybrid+graph+bridge": (True, 1)}


def consolidate_for_eval(mem) -> dict:
    """Dedupe, knowledge updates, summaries and compaction (decay needs time to pass): the
    before/after unit counts and disk bytes go into the result."""
    rep = mem.consolidate(only=["dedupe", "supersede", "summarize", "compact"])
    return {"before": rep.before["units"] | {"disk_bytes": rep.before["disk_bytes"]},
            "after": rep.after["units"] | {"disk_bytes": rep.after["disk_bytes"]},
            "steps": {st.step: st.counts for st in rep.steps}}


def with_graph(settings: Settings, modes: Sequence[str]) -> Settings:
    """Settings with graph extraction on when a row needs the graph."""
    if settings.graph.enabled or not any(m in GRAPH_OPTS for m in modes):
        return settings
    return settings.model_copy(update={"graph": settings.graph.model_copy(update={"enabled": True})})


def ranked_for(retriever, name: str, query: str, n: int):
    """The fused list for one eval row (mode, fusion and graph options of that row)."""
    mode, fusion = MODE_SPECS[name]
    graph, hops = GRAPH_OPTS.get(name, (False, 1))
    if name == "hybrid/tree":
        r = retriever.ranked(query, mode, n, fusion=fusion)
        return retriever.descend(query, r.fused, top=n), r.per
    # Every other row searches leaves only (summaries exist only after --consolidate).
    where = retriever.level_filter() if retriever.s.levels == "leaves" else None
    r = retriever.ranked(query, mode, n, fusion=fusion, graph=graph, hops=hops, where=where,
                         protect=not name.endswith("unprotected"), bridge=name.endswith("+bridge") or None,
                         turns=not name.endswith("segment-vectors"), speaker=not name.endswith("no-speaker-boost"))
    return r.fused, r.per
RERANKERS = {"hybrid+features": "features", "hybrid+cross": "cross-encoder", "hybrid+llm": "llm"}


def rerankers_for(modes: Sequence[str], settings: Settings, generator=None) -> dict:
    """One reranker per reranking row; the GGUF (llm row) loads once, on first use."""
    from memcli.retrieve.rerank import make_reranker

    holder: dict = {}

    def gen():
        if "g" not in holder:
            holder["g"] = generator or _load_generator(settings)
        return holder["g"]
    return {m: make_reranker(RERANKERS[m], settings.search.rerank_model, generator=gen)
            for m in modes if m in RERANKERS}


def _load_generator(settings: Settings):
    from memcli.memory import Memory

    return Memory(settings)._generator
NEIGHBOURS = {"hybrid+nb1": 1, "hybrid+nb2": 2}
DEFAULT_MODES = ["bm25", "dense", "hybrid", "hybrid/rrf"]


@dataclass
class EvalProgress:
    phase: str  # "ingest" | mode name
    done: int
    total: int


def parse_modes(modes: str | Sequence[str] | None) -> list[str]:
    if not modes:
        return list(DEFAULT_MODES)
    names = [m.strip() for m in (modes.split(",") if isinstance(modes, str) else modes) if m.strip()]
    bad = [m for m in names if m not in MODE_SPECS]
    if bad:
        raise ConfigError(f"unknown eval mode {bad[0]!r}; choose from {', '.join(MODE_SPECS)}")
    return names


@contextlib.contextmanager
def eval_workdir(workdir: Path | None, prefix: str) -> Iterator[Path]:
    """The given work dir, kept; or a throw-away one, removed afterwards."""
    if workdir is not None:
        yield workdir
        return
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        yield Path(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_corpus(passages: Sequence[Passage], root: Path) -> dict[str, str]:
    """One file per passage; returns file path -> passage id."""
    root.mkdir(parents=True, exist_ok=True)
    mapping: dict[str, str] = {}
    for n, p in enumerate(passages):
        path = root / f"p{n:07d}.md"
        body = f"# {p.title.strip()}\n\n{p.text.strip()}\n" if p.title.strip() else f"{p.text.strip()}\n"
        if not path.exists() or path.read_text(encoding="utf-8") != body:
            path.write_text(body, encoding="utf-8")
        mapping[str(path.resolve())] = p.id
    return mapping


def retrieval_eval(
    *, benchmark: str, dataset: str, passages: Sequence[Passage], queries: Sequence[Query],
    settings: Settings, modes: Sequence[str], score: Callable[[list[str], Query], dict[str, float]],
    depth: int, workdir: Path | None = None,
    on_progress: Callable[[EvalProgress], None] | None = None, embedder=None, consolidate: bool = False,
    answers: Sequence[str] = (),
) -> dict:
    """Run ``queries`` through each of ``modes`` and return the `mem eval --json` object.
    ``answers`` (extractive, generate) adds answer rows: EM and token F1 against each
    query's ``answer`` (multi-hop sets), through `mem ask` with the default search."""
    from memcli.memory import Memory

    progress = on_progress or (lambda p: None)
    with eval_workdir(workdir, "mem-eval-") as workdir:
        files = write_corpus(passages, workdir / "corpus")
        s = with_graph(settings.model_copy(update={"home": workdir / "home"}), modes)
        mem = Memory(s, embedder=embedder)
        t0 = time.perf_counter()
        rep = mem.ingest([workdir / "corpus"],
                         on_progress=lambda p: progress(EvalProgress("ingest", p.files_done, p.files_total)))
        if s.graph.enabled:
            mem.graph.build()  # a kept workdir first ingested without the graph
        ingest_s = time.perf_counter() - t0
        consolidated = consolidate_for_eval(mem) if consolidate else None
        unit_to_passage = _unit_map(mem, files)
        if any(MODE_SPECS[m][0] != "bm25" for m in modes):
            mem._prime_queries([q.text for q in queries])  # one batch instead of one pass per query
        retriever = mem._retriever  # the product's retriever: eval measures what users run
        n = max(s.search.candidates, 2 * depth)
        rerankers = rerankers_for(modes, s)
        rows, per_query = [], {q.id: {"id": q.id, "query": q.text, "gold": sorted(q.gold), "modes": {}}
                               for q in queries}
        for name in modes:
            t = time.perf_counter()
            scores: list[dict[str, float]] = []
            for i, q in enumerate(queries):
                fused, _ = ranked_for(retriever, name, q.text, n)
                if name in rerankers:
                    fused = retriever.rerank(q.text, fused, rerankers[name])
                ranked = dedupe([unit_to_passage[u] for u, _ in fused if u in unit_to_passage])[:depth]
                sc = score(ranked, q)
                scores.append(sc)
                per_query[q.id]["modes"][name] = {"ranked": ranked[:10], **{k: round(v, 4) for k, v in sc.items()}}
                progress(EvalProgress(name, i + 1, len(queries)))
            metrics = {k: round(mean([sc[k] for sc in scores]), 4) for k in (scores[0] if scores else {})}
            rows.append({"name": name, "metrics": metrics, "seconds": round(time.perf_counter() - t, 3)})
        for how in answers:
            rows.append(_answer_rows(mem, how, queries, per_query, progress))
        return {
            "benchmark": benchmark, "dataset": dataset, "queries": len(queries), "rows": rows,
            "per_query": list(per_query.values()),
            "ingest": {"passages": len(passages), "units": mem._lance.count_units(),
                       "seconds": round(ingest_s, 3), "failed": len(rep.failed),
                       "graph": mem.graph.stats() if s.graph.enabled else None, "consolidate": consolidated},
            "settings": {"embed_model": s.embed.model, "fusion_default": s.search.fusion,
                         "weights": {"dense": s.search.weight_dense, "bm25": s.search.weight_bm25},
                         "candidates": n},
        }


def _answer_rows(mem, how: str, queries: Sequence[Query], per_query: dict, progress) -> dict:
    from memcli.eval.metrics import exact_match, token_f1

    t = time.perf_counter()
    scored = []
    for i, q in enumerate(queries):
        gold = str(q.meta.get("answer") or "")
        if not gold:
            continue
        ans = mem.ask(q.text, answer=how)
        said = "" if ans.abstained else ans.answer
        sc = {"em": exact_match(said, gold), "f1": token_f1(said, gold), "contains": float(_contains(said, gold)),
              "abstained": float(ans.abstained)}
        scored.append(sc)
        per_query[q.id]["modes"][f"answer/{how}"] = {"answer": said, "gold": gold, **{k: round(v, 4) for k, v in sc.items()}}
        progress(EvalProgress(f"answer/{how}", i + 1, len(queries)))
    metrics = {k: round(mean([sc[k] for sc in scored]), 4) for k in ("em", "f1", "contains", "abstained")}
    return {"name": f"answer/{how}", "metrics": metrics, "seconds": round(time.perf_counter() - t, 3),
            "answered": len(scored)}


def _contains(said: str, gold: str) -> bool:
    """The gold answer appears in the (sentence-long) extractive answer, normalised."""
    from memcli.eval.metrics import normalize_answer

    g = normalize_answer(gold)
    return bool(g) and g in normalize_answer(said)


def _unit_map(mem, files: dict[str, str]) -> dict[str, str]:
    src_to_passage = {s.source_id: files[s.uri] for s in mem.sources() if s.uri in files}
    tbl = mem._lance.committed(["id", "source_id"])
    if tbl is None:
        return {}
    return {u: src_to_passage[s] for u, s in zip(tbl.column("id").to_pylist(), tbl.column("source_id").to_pylist())
            if s in src_to_passage}


def multihop_scorer(ks: Sequence[int]) -> Callable[[list[str], Query], dict[str, float]]:
    def score(ranked: list[str], q: Query) -> dict[str, float]:
        return {f"recall@{k}": recall_at_k(ranked, q.gold, k) for k in ks}
    return score


def beir_scorer(ks: Sequence[int]) -> Callable[[list[str], Query], dict[str, float]]:
    def score(ranked: list[str], q: Query) -> dict[str, float]:
        out = {f"ndcg@{k}": ndcg_at_k(ranked, q.gold, k) for k in ks}
        out["recall@100"] = recall_at_k(ranked, {d for d, g in q.gold.items() if g > 0}, 100)
        return out
    return score
