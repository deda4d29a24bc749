"""Where an ingest's memory goes: peak RSS per stage of one real `mem ingest` process.

    python bench/ingest_memory.py [mem ingest arguments]     # e.g. -r --graph ~/notes

Runs the CLI in this process with a sampler thread (every 10 ms) that charges the RSS to the
stage running at that moment: reading and segmenting a file, embedding, graph extraction,
the store write, table maintenance, the compaction after the run, and everything else ("other": imports, model loads, the
report). Prints each stage's peak and the RSS when it was first entered, so a stage that
*raises* the floor stands out from one that merely runs on top of it.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PAGE = os.sysconf("SC_PAGE_SIZE")
_stage = ["other"]
_peak: dict[str, float] = {}
_first: dict[str, float] = {}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def _sample() -> None:
    while True:
        r, s = rss_mb(), _stage[-1]
        _peak[s] = max(_peak.get(s, 0.0), r)
        time.sleep(0.01)


def _charge(owner, name: str, label: str) -> None:
    f = getattr(owner, name)

    @functools.wraps(f)
    def g(*a, **k):
        _first.setdefault(label, rss_mb())
        _stage.append(label)
        try:
            return f(*a, **k)
        finally:
            _stage.pop()

    setattr(owner, name, g)


def main() -> None:
    from memcli.graph.index import GraphIndex
    from memcli.ingest.pipeline import IngestPipeline
    from memcli.memory import Memory
    from memcli.store.catalog import Catalog

    _charge(IngestPipeline, "_prepare", "read + segment")
    _charge(IngestPipeline, "_embed", "embed")
    _charge(GraphIndex, "prepare", "graph extraction")
    _charge(Catalog, "write", "store write")
    _charge(Catalog, "maintain", "maintenance")
    _charge(Memory, "_auto_compact", "compaction")
    threading.Thread(target=_sample, daemon=True).start()
    os.environ.setdefault("MEM_NO_SERVER", "1")  # this process's memory, not a server's
    from memcli.cli import run

    t0 = time.perf_counter()
    try:
        run(["ingest", *sys.argv[1:]])
    except SystemExit:
        pass
    seconds = time.perf_counter() - t0
    time.sleep(0.02)
    print(f"\n{'stage':<18} {'RSS on entry':>13} {'peak RSS':>9}   ({seconds:.1f} s)", file=sys.stderr)
    for s in sorted(_peak, key=lambda s: _first.get(s, 0.0)):
        entry = f"{_first[s]:.0f} MB" if s in _first else "—"
        print(f"{s:<18} {entry:>13} {_peak[s]:>6.0f} MB", file=sys.stderr)
    print(f"{'whole process':<18} {'':>13} {max(_peak.values()):>6.0f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
