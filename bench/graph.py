"""Graph memory costs, measured in one run.

1. Ingest cost of each extraction path on the same corpus (real MiniLM), each path in its
   own process so that its peak RSS is its own: no graph, rules, ner (spaCy) — seconds,
   seconds per 1k units, the share of ingest time the graph adds, peak RSS, entities; the
   LLM path (bundled GGUF under a JSON grammar) on the first N units only, as units/s.
2. Personalized PageRank on a synthetic graph with >= 100k edges: walk-matrix build once,
   then per-query PPR p50/p95 (our sparse power iteration vs igraph's PRPACK).

    python bench/graph.py [CORPUS_DIR | files] [llm_units]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _corpus import make_corpus  # noqa: E402


def one_path(name: str, corpus: str, home: str) -> None:
    """Child process: ingest ``corpus`` with one extraction path, print one JSON line."""
    import json
    import resource

    from memcli.config import Settings
    from memcli.embed import make_embedder
    from memcli.memory import Memory

    e = Settings().embed
    emb = make_embedder(e.model, batch_size=e.batch_size)  # the product's encoder (ONNX when exported)
    emb.embed(["warm up"] * 8)
    graph = name != "no graph"
    s = Settings(home=Path(home), graph={"enabled": graph, "extractor": name if graph else "rules"})
    mem = Memory(s, embedder=emb)
    t = time.perf_counter()
    rep = mem.ingest([corpus], recursive=True, graph=graph)
    secs = time.perf_counter() - t
    counts = mem._graph.store.counts() if graph else {}
    print(json.dumps({"path": name, "seconds": secs, "units": rep.units_written, **counts,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def ingest_paths(files: int, llm_units: int) -> None:
    import json
    import subprocess

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(CORPUS) if CORPUS else make_corpus(Path(tmp) / "corpus", files=files)
        rows = {}
        for name in ("no graph", "rules", "ner"):
            out = subprocess.run([sys.executable, __file__, "--one", name, str(corpus), str(Path(tmp) / name.replace(" ", "-"))],
                                 capture_output=True, text=True, check=True).stdout
            rows[name] = json.loads(out.strip().splitlines()[-1])
        base = rows["no graph"]["seconds"]
        for name, r in rows.items():
            per_k = r["seconds"] / max(r["units"], 1) * 1000
            extra = "" if name == "no graph" else (
                f"  graph share {(r['seconds'] - base) / r['seconds']:.0%}  ratio {r['seconds'] / base:.2f}x  "
                f"entities {r['entities']}  mentions {r['mentions']}  relations {r['relations']}")
            print(f"ingest {name:9s}: {r['seconds']:7.1f} s  {per_k:5.1f} s/1k units  units={r['units']}  "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB{extra}")
        if llm_units:
            from memcli.config import Settings
            from memcli.graph.extract import LLMExtractor
            from memcli.memory import Memory

            mem = Memory(Settings(home=Path(tmp) / "rules"))
            units = mem._lance.committed(["id", "title", "text"]).to_pylist()
            gen = mem._generator
            ex = LLMExtractor(gen)
            t = time.perf_counter()
            usable = sum(ex.extract(u["text"], u["title"]).ok for u in units[:llm_units])
            s = time.perf_counter() - t
            print(f"llm extraction ({gen.name}): {llm_units / s:.2f} units/s over {llm_units} units; "
                  f"usable {usable}/{llm_units}")


def ppr_scale(edges_target: int = 100_000, queries: int = 50) -> None:
    import igraph as ig

    from memcli.graph.graph import MemGraph
    from memcli.graph.ppr import personalized_pagerank

    rng = np.random.default_rng(0)
    n_ent, n_unit = 25_000, 12_000
    mentions = np.stack([rng.integers(0, n_ent, edges_target // 2), n_ent + rng.integers(0, n_unit, edges_target // 2)], 1)
    rel = rng.integers(0, n_ent, (edges_target // 2, 2))
    rel = rel[rel[:, 0] != rel[:, 1]]
    el = np.unique(np.sort(np.concatenate([mentions, rel]), axis=1), axis=0)
    g = ig.Graph(n=n_ent + n_unit, edges=el.tolist(), directed=False)
    g.es["weight"] = rng.uniform(0.5, 2.0, g.ecount()).tolist()
    mg = MemGraph(g, [str(i) for i in range(n_ent)], [], [str(i) for i in range(n_unit)],
                  np.zeros((n_ent, 4)), np.ones(n_ent), {})
    t = time.perf_counter()
    mg.transition()
    build_ms = (time.perf_counter() - t) * 1000
    ours, ref = [], []
    for _ in range(queries):
        reset = np.zeros(g.vcount())
        reset[rng.integers(0, n_ent, 3)] = 1.0
        reset[n_ent + rng.integers(0, n_unit, 20)] += 0.05
        t = time.perf_counter()
        personalized_pagerank(mg, reset, 0.5)
        ours.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        g.personalized_pagerank(directed=False, damping=0.5, reset=reset.tolist(), weights="weight")
        ref.append((time.perf_counter() - t) * 1000)
    q = statistics.quantiles
    print(f"PPR graph: {g.vcount()} nodes, {g.ecount()} edges; walk matrix built once in {build_ms:.1f} ms")
    print(f"PPR per query (power iteration): p50 {statistics.median(ours):.2f} ms  p95 {q(ours, n=20)[18]:.2f} ms")
    print(f"PPR per query (igraph PRPACK):   p50 {statistics.median(ref):.2f} ms  p95 {q(ref, n=20)[18]:.2f} ms")


CORPUS = None

if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        one_path(*sys.argv[2:5])
        sys.exit(0)
    if len(sys.argv) > 1 and Path(sys.argv[1]).is_dir():  # a real corpus directory instead
        CORPUS = sys.argv.pop(1)
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    llm_units = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    ingest_paths(files, llm_units)
    ppr_scale()
