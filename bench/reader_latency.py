"""What the reader costs a user: the extractive answer on top of retrieval (warm, in process)
and a cold `mem ask` (a fresh process, no server), hand pick vs reader, rule spans vs the span
head, in one run.

    python bench/reader_latency.py [--runs 5]

The sample corpus in a fresh home, the real MiniLM. Goals (issue #35): on top of retrieval
<= 100 ms served; cold `mem ask` <= 1.2 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
QUESTIONS = [
    "what prize did the honey win?", "who called about the swarm in the apple tree?",
    "how much did the hive kit cost?", "when is the oxalic acid treatment done?",
    "what goes into the compost?", "which tomato variety is for sauce?",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    from memcli.config import Settings
    from memcli.memory import Memory

    with tempfile.TemporaryDirectory() as d:
        shutil.copytree(ROOT / "recipes" / "sample", Path(d) / "sample")
        home = Path(d) / "home"
        base = Memory(Settings(home=home))
        base.ingest([Path(d) / "sample"], recursive=True)
        for pick, span in (("hand", "rules"), ("hand", "head"), ("reader", "rules")):
            s = Settings(home=home, llm={"pick": pick, "span": span})
            mem = Memory(s, embedder=base._embedder)
            mem.ask(QUESTIONS[0])  # loads the reader / encoder once, as a server has
            on_top, total = [], []
            for _ in range(3):
                for q in QUESTIONS:
                    t = time.perf_counter()
                    ans = mem.ask(q)
                    total.append(time.perf_counter() - t)
                    on_top.append(total[-1] - ans.timings["retrieve"])
            cold = []
            env = dict(os.environ, MEM_HOME=str(home), MEM_NO_SERVER="1", MEM_LLM__PICK=pick, MEM_LLM__SPAN=span)
            for i in range(a.runs):
                t = time.perf_counter()
                subprocess.run([str(Path(sys.executable).parent / "mem"), "ask", QUESTIONS[i % len(QUESTIONS)]],
                               env=env, capture_output=True, check=True)
                cold.append(time.perf_counter() - t)
            print(f"{pick:6s} {span:5s}: warm ask p50 {statistics.median(total) * 1000:.0f} ms, on top of retrieval "
                  f"p50 {statistics.median(on_top) * 1000:.0f} ms (p95 {sorted(on_top)[int(0.95 * len(on_top))] * 1000:.0f}); "
                  f"cold mem ask p50 {statistics.median(cold):.2f} s over {a.runs}", flush=True)


if __name__ == "__main__":
    main()
