"""Cold wall time of `mem --help` (a fresh interpreter each run). Target <= 0.3 s."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

MEM = Path(sys.executable).with_name("mem")


def main(runs: int = 10) -> None:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([str(MEM), "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    base = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)
        base.append(time.perf_counter() - t)
    p50 = statistics.median(times)
    print(f"mem --help: p50={p50 * 1000:.0f} ms  max={max(times) * 1000:.0f} ms  "
          f"(bare python: {statistics.median(base) * 1000:.0f} ms; ratio {p50 / statistics.median(base):.1f}x)")
    print(f"target <= 300 ms: {'met' if p50 <= 0.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
