"""BM25 for a home on object storage: a per-machine Tantivy cache (what memcli does) vs
LanceDB's own full-text index on the remote table. SciFact (BEIR layout in ../shared),
one home on an S3-compatible server (moto on localhost), the same units for both:

  nDCG@10 and Recall@100 of BM25 alone (passages scored at their best unit), and the
  p50 / p95 latency of one query, warm.

The Lance index covers the same text Tantivy indexes (title, section path and body, put
in one column for it); English stemming and stop words on both sides. Vectors play no part
(a hashing embedder keeps the ingest short).

    python bench/remote_lexical.py [--data ../shared/data/scifact] [--queries 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from _corpus import scratch  # noqa: E402
import s3server  # noqa: E402

from memcli.config import Settings  # noqa: E402
from memcli.embed.fake import FakeEmbedder  # noqa: E402
from memcli.eval.datasets import load_beir  # noqa: E402
from memcli.eval.metrics import dedupe, mean, ndcg_at_k, recall_at_k  # noqa: E402
from memcli.eval.runner import _unit_map, write_corpus  # noqa: E402
from memcli.memory import Memory  # noqa: E402
from memcli.store.lexical import safe_query  # noqa: E402


def measure(name: str, search, queries, unit_to_passage) -> None:
    ndcg, rec, times = [], [], []
    for q in queries:
        t = time.perf_counter()
        ids = search(q.text)
        times.append(time.perf_counter() - t)
        ranked = dedupe([unit_to_passage[u] for u in ids if u in unit_to_passage])
        ndcg.append(ndcg_at_k(ranked, q.gold, 10))
        rec.append(recall_at_k(ranked, {d for d, g in q.gold.items() if g > 0}, 100))
    times.sort()
    print(f"{name:<34} nDCG@10 {mean(ndcg):.4f}  R@100 {mean(rec):.4f}  "
          f"p50 {statistics.median(times) * 1000:6.1f} ms  p95 {times[int(0.95 * len(times))] * 1000:6.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data" / "scifact")
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    passages, queries = load_beir(args.data)
    queries = queries[: args.queries]
    with scratch("mem-fts-") as tmp:
        work = Path(tmp)
        files = write_corpus(passages, work / "corpus")
        os.environ.update(s3server.CREDENTIALS)
        os.environ["XDG_CACHE_HOME"] = str(work / "cache")
        proc, endpoint = s3server.start("fts")
        try:
            s = Settings(home="s3://fts/home", embed={"model": "fake:64"},
                         storage={"endpoint": endpoint, "allow_http": True, "region": "us-east-1"})
            mem = Memory(s, embedder=FakeEmbedder(64))
            t = time.perf_counter()
            rep = mem.ingest([work / "corpus"])
            print(f"SciFact: {len(passages)} passages -> {rep.units_written} units on the S3 server in "
                  f"{time.perf_counter() - t:.0f} s; {len(queries)} queries")
            u2p = _unit_map(mem, files)
            mem.search("warm up", mode="bm25")
            measure("Tantivy cache on this machine", lambda q: [u for u, _ in mem._lexical.search(q, 100)], queries, u2p)
            t = time.perf_counter()
            table = mem._lance.units_table()
            table.add_columns({"fts_text": "concat_ws(' ', title, section, text)"})
            table.create_fts_index("fts_text", replace=True, language="English", stem=True, remove_stop_words=True)
            print(f"Lance FTS index built on the remote table in {time.perf_counter() - t:.1f} s")

            def lance_fts(q: str) -> list[str]:
                text = safe_query(q)
                if not text:
                    return []
                rows = (table.search(text, query_type="fts", fts_columns="fts_text").where("status = 'committed'")
                        .select(["id"]).limit(100).to_arrow())
                return rows.column("id").to_pylist()
            lance_fts("warm up")
            measure("LanceDB native FTS on the S3 table", lance_fts, queries, u2p)
        finally:
            proc.terminate()


if __name__ == "__main__":
    main()
