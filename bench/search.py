"""Warm search latency on a synthetic 100k-unit store (random vectors, generated text).

Prints p50/p95 in ms for bm25, dense and hybrid, measured in one run on the same store.
Target: hybrid p50 <= 30 ms. Query embedding time is excluded (a fixed random vector per
query) so the number is the retrieval cost; the MiniLM query encode is measured beside it.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _corpus import sentence  # noqa: E402

DIM = 384


def build(home: Path, n: int):
    from memcli.config import SearchSettings
    from memcli.retrieve.hybrid import Retriever
    from memcli.store.catalog import Catalog
    from memcli.store.lance import LanceStore
    from memcli.store.lexical import LexicalIndex
    from memcli.types import Source, Unit

    rng = random.Random(1)
    nrng = np.random.default_rng(1)
    lance, lex = LanceStore(home / "lance"), LexicalIndex(home / "tantivy")
    cat = Catalog(home, lance, lex)
    fp = {"embed_model": "random", "embed_dim": DIM}
    now = datetime.now(timezone.utc)
    per_source = 1000
    for s in range(n // per_source):
        sid = f"s{s:05d}"
        units = []
        for i in range(per_source):
            text = " ".join(sentence(rng) for _ in range(4))
            units.append(Unit(id=f"{sid}u{i:05d}", source_id=sid, source_hash="h", ord=i, title=f"doc {s}",
                              section="", text=text, index_text=text, char_start=0, char_end=len(text),
                              byte_start=0, byte_end=len(text), line_start=1, line_end=1, tokens=60,
                              ingested_at=now))
        vecs = nrng.standard_normal((per_source, DIM)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        src = Source(source_id=sid, uri=f"/bench/{sid}.md", kind="markdown", content_hash="h", size=1,
                     mtime=0.0, title=sid, n_units=per_source, ingested_at=now)
        cat.write([src], units, vecs, fp)
    t = time.perf_counter()
    lance.maintain(ann_min_units=10**12)  # compaction + scalar indexes, as after an ingest
    print(f"compaction + scalar indexes: {time.perf_counter() - t:.1f}s")
    return lance, lex, Retriever, SearchSettings


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    queries = 200
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        lance, lex, Retriever, SearchSettings = build(Path(tmp), n)
        print(f"built {n} units in {time.perf_counter() - t:.1f}s")
        rng = random.Random(2)
        nrng = np.random.default_rng(2)
        qtexts = [" ".join(sentence(rng).split()[:6]) for _ in range(queries)]
        qvecs = {q: v / np.linalg.norm(v) for q, v in zip(qtexts, nrng.standard_normal((queries, DIM)).astype(np.float32))}
        results = {}
        for label in ("exact", "ann"):
            if label == "ann":
                t = time.perf_counter()
                lance.maintain(ann_min_units=SearchSettings().ann_min_units)
                print(f"IVF-SQ index build: {time.perf_counter() - t:.1f}s")
                lance._ann = None
            r = Retriever(SearchSettings(), lance, lex, lambda q: qvecs[q])
            for q in qtexts[:10]:  # warm caches
                r.search(q, k=10, mode="hybrid")
            for mode in ("bm25", "dense", "hybrid"):
                if label == "ann" and mode == "bm25":
                    continue
                times = []
                for q in qtexts:
                    t = time.perf_counter()
                    hits = r.search(q, k=10, mode=mode)
                    times.append((time.perf_counter() - t) * 1000)
                    assert hits, "no hits"
                results[(label, mode)] = times
                print(f"{label:>5} {mode:>7}: p50={statistics.median(times):6.1f} ms  p95={pct(times, 95):6.1f} ms")
    from memcli.embed.st import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder()
    emb.embed_query("warm")
    times = []
    for q in qtexts[:50]:
        t = time.perf_counter()
        emb.embed_query(q)
        times.append((time.perf_counter() - t) * 1000)
    print(f"MiniLM query encode: p50={statistics.median(times):.1f} ms")
    for label in ("exact", "ann"):
        p50 = statistics.median(results[(label, "hybrid")])
        print(f"{label} hybrid p50 {p50:.1f} ms, target <= 30 ms: {'met' if p50 <= 30 else 'NOT met'}")


if __name__ == "__main__":
    main()
