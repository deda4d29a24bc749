"""bench/million.py --ingest: homes built the way a user builds them, with `mem ingest`.

The dev passages become Markdown files of 50 sections each (``## <title> (<copy>)`` and the
passage), N/50 files in folders of 1,000; one `mem ingest -r` process writes the home with
the deterministic ``fake:384`` embedder, so the time measured is the stores', not a model's.
Its peak RSS is sampled from /proc every 0.2 s, with the table's versions and data files.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from million import PER_FILE, ROOT, dir_size, passages

MEM = [str(ROOT / ".venv" / "bin" / "mem")] if (ROOT / ".venv" / "bin" / "mem").exists() else ["mem"]
HOME_CONFIG = "embed:\n  model: fake:384\nsegment:\n  min_tokens: 16\n"


def write_corpus(root: Path, n: int, docs) -> Path:
    for f in range(n // PER_FILE):
        parts = []
        for i in range(PER_FILE):
            j = f * PER_FILE + i
            _, title, text = docs[j % len(docs)]
            parts.append(f"## {title} ({j // len(docs)})\n\n{text}\n")
        d = root / f"d{f // 1000:03d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{f:06d}.md").write_text("\n".join(parts))
    return root


def _rss_mb(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        return 0.0


def _count(p: Path) -> int:
    return sum(1 for _ in p.iterdir()) if p.is_dir() else 0


def ingest(home: Path, corpus: Path) -> dict:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.yaml").write_text(HOME_CONFIG)
    env = os.environ | {"MEM_HOME": str(home), "MEM_NO_SERVER": "1", "HF_HUB_OFFLINE": "1"}
    units = home / "lance" / "units.lance"
    t0 = time.perf_counter()
    report = open(home.parent / f"{home.name}.ingest.json", "w+")  # a pipe would fill and block it
    p = subprocess.Popen([*MEM, "ingest", str(corpus), "-r", "--json"], env=env,
                         stdout=report, stderr=subprocess.DEVNULL, text=True)
    peak = versions = files = 0
    while p.poll() is None:
        peak = max(peak, _rss_mb(p.pid))
        versions, files = max(versions, _count(units / "_versions")), max(files, _count(units / "data"))
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    report.seek(0)
    out = report.read()
    report.close()
    if p.returncode:
        raise SystemExit(f"mem ingest failed ({p.returncode})")
    rep = json.loads(out)
    size = dir_size(home)
    return {"wall_s": wall, "units": rep["units"], "peak_rss_mb": peak, "max_versions": versions,
            "max_data_files": files, "versions_after": _count(units / "_versions"),
            "data_files_after": _count(units / "data"), "home_mb": size / 2**20,
            "maintenance": rep.get("maintenance", {})}


def served_search(home: Path, queries: list[str], runs: int = 20) -> dict:
    """Whole-process `mem search` wall time (client included) against a running `mem serve`."""
    env = os.environ | {"MEM_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    env.pop("MEM_NO_SERVER", None)
    subprocess.run([*MEM, "serve", "--detach"], env=env, check=True, capture_output=True)
    try:
        times = []
        for i in range(runs + 3):
            t = time.perf_counter()
            subprocess.run([*MEM, "search", queries[i % len(queries)], "--json"], env=env, check=True,
                           capture_output=True)
            if i >= 3:
                times.append((time.perf_counter() - t) * 1000)
        status = json.loads(subprocess.run([*MEM, "serve", "--status", "--json"], env=env,
                                           capture_output=True, text=True).stdout or "{}")
        pid = status.get("pid")
        rss = _rss_mb(int(pid)) if pid else 0.0
    finally:
        subprocess.run([*MEM, "serve", "--stop"], env=env, capture_output=True)
    return {"p50_ms": statistics.median(times), "server_rss_mb": rss}


def run_ingest(sizes: list[int], keep: Path | None, measure) -> None:
    docs, questions = passages()
    work = keep or Path(tempfile.mkdtemp(prefix="mem-million-ingest-"))
    queries = [q["question"] for q in questions[:40]]
    try:
        small = work / "home-2000"
        if not small.exists():
            ingest(small, write_corpus(work / "corpus-2000", 2000, docs))
        base = served_search(small, queries)
        print(f"2,000-unit home: served `mem search` p50 {base['p50_ms']:.0f} ms (whole process)", flush=True)
        for n in sizes:
            corpus = work / f"corpus-{n}"
            if not corpus.exists():
                write_corpus(corpus, n, docs)
            home = work / f"home-{n}"
            shutil.rmtree(home, ignore_errors=True)
            b = ingest(home, corpus)
            print(f"\n{b['units']:,} units ({n // PER_FILE:,} files): `mem ingest` {b['wall_s']:.0f} s "
                  f"({b['units'] / b['wall_s']:.0f} units/s), peak RSS {b['peak_rss_mb']:.0f} MB, "
                  f"home {b['home_mb']:.0f} MB", flush=True)
            print(f"  table versions at most {b['max_versions']} during the ingest ({b['versions_after']} after), "
                  f"data files at most {b['max_data_files']} ({b['data_files_after']} after); "
                  f"maintenance {b['maintenance']}", flush=True)
            gold = gold_units(home, docs)
            measure(home, [d[0] for d in docs], questions, None, gold_unit=gold)
            s = served_search(home, queries)
            print(f"  served `mem search` p50 {s['p50_ms']:.0f} ms = {s['p50_ms'] / base['p50_ms']:.2f}x the 2k home; "
                  f"server RSS {s['server_rss_mb']:.0f} MB", flush=True)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def gold_units(home: Path, docs) -> dict[str, str]:
    """Dev passage id -> the unit holding its first copy (its section is "<title> (0)")."""
    from memcli.config import load_settings
    from memcli.memory import Memory
    from memcli.store.query import units

    mem = Memory(load_settings({"home": str(home)}))
    want = {f"{title} (0)": pid for pid, title, _ in docs}
    out = {}
    for r in mem._lance.units_where(units(status="committed"), ["id", "section"]):
        pid = want.get(r["section"])
        if pid is not None:
            out.setdefault(pid, r["id"])
    return out


def run_s3(n: int) -> None:
    """A home on the local S3-compatible server (moto): `mem ingest` of the same files, then
    searches on another machine with the read cache (cold, then warm) and without it: times
    and the HTTP requests each makes (counted from the server's log)."""
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    import s3server

    from memcli.config import Settings
    from memcli.embed.fake import FakeEmbedder
    from memcli.memory import Memory

    docs, questions = passages()
    work = Path(tempfile.mkdtemp(prefix="mem-million-s3-"))
    log = open(work / "moto.log", "w")
    port = s3server.free_port()
    os.environ.update(s3server.CREDENTIALS)
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        import urllib.request

        for _ in range(100):
            try:
                urllib.request.urlopen(urllib.request.Request(f"{endpoint}/scale", method="PUT"), timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        corpus = write_corpus(work / "corpus", n, docs)
        s = Settings(home="s3://scale/home", embed={"model": "fake:384"}, segment={"min_tokens": 16},
                     storage={"endpoint": endpoint, "allow_http": True, "region": "us-east-1"})
        mem = Memory(s, embedder=FakeEmbedder(384))
        t = time.perf_counter()
        rep = mem.ingest([corpus], recursive=True)
        print(f"\nS3 home (moto on localhost): {rep.units_written:,} units ingested in {time.perf_counter() - t:.0f} s",
              flush=True)
        # moto answers a ranged GET in ~70 ms (it reads the object each time): few searches,
        # and the number that matters is the requests, which a real S3 answers in ~10-30 ms each.

        def requests_since(mark: int) -> int:
            time.sleep(0.05)  # the server writes its log line after answering
            log.flush()
            return (work / "moto.log").read_text().count("HTTP/1.1") - mark

        def mark() -> int:
            log.flush()
            return (work / "moto.log").read_text().count("HTTP/1.1")

        def searches(m, qs):
            times, requests = [], []
            for q in qs:
                before = mark()
                t = time.perf_counter()
                m.search(q)
                times.append((time.perf_counter() - t) * 1000)
                requests.append(requests_since(before))
            return times, requests

        qs = [q["question"] for q in questions[:12]]
        # This machine with the read cache (storage.read_cache, the default): the first search
        # in a fresh process with an empty cache fetches the tables (cold), then warm ones.
        os.environ["XDG_CACHE_HOME"] = str(work / "machine-b")
        reader = Memory(s, embedder=FakeEmbedder(384))
        before = mark()
        t = time.perf_counter()
        reader.search(qs[0])
        cold_ms, cold_req = (time.perf_counter() - t) * 1000, requests_since(before)
        m = reader._mirror
        first = m.last
        times, requests = searches(reader, qs[1:8])
        print(f"  read cache: first search on a new machine {cold_ms:.0f} ms, {cold_req} requests "
              f"(fetched {first.fetched} files, {first.bytes / 1e6:.0f} MB in {first.seconds:.1f} s; cache "
              f"{m.disk_bytes() / 1e6:.0f} MB on disk); "
              f"warm p50 {statistics.median(times):.0f} ms, max {max(times):.0f} ms; requests per warm search: "
              f"median {statistics.median(requests):.0f}, max {max(requests)} (storage.consistency_s "
              f"{s.storage.consistency_s:g} s: a listing at most that often)", flush=True)
        direct = Memory(s.model_copy(update={"storage": s.storage.model_copy(update={"read_cache": False})}),
                        embedder=FakeEmbedder(384))
        direct.search(qs[8])
        times, requests = searches(direct, qs[9:12])
        print(f"  without it (storage.read_cache false): warm hybrid search p50 {statistics.median(times):.0f} ms, "
              f"max {max(times):.0f} ms; S3 requests per search: median {statistics.median(requests):.0f}, "
              f"max {max(requests)}", flush=True)
    finally:
        proc.terminate()
        log.close()
        shutil.rmtree(work, ignore_errors=True)
