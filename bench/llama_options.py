"""Prompt processing of a ~1,100-token prompt (the size of a 1,024-token `mem ask` prompt)
under llama.cpp options, to see what moves the first token on this machine's CPU.

    python bench/llama_options.py [MODEL]   # MODEL: a name `mem models` knows or a GGUF path
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from memcli.llm.llama import physical_cores
from memcli.llm.models import resolve_gguf

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = [{}, {"flash_attn": True}, {"n_batch": 1024, "n_ubatch": 1024}, {"n_ubatch": 128},
           {"flash_attn": True, "n_batch": 2048, "n_ubatch": 2048},
           {"flash_attn": True, "type_k": 8, "type_v": 8}]  # 8 = GGML_TYPE_Q8_0 KV cache


def main() -> None:
    from llama_cpp import Llama

    path = str(resolve_gguf(sys.argv[1] if len(sys.argv) > 1 else "smollm2"))
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "recipes" / "sample").rglob("*.md")))
    threads = physical_cores()
    for opts in OPTIONS:
        try:
            llm = Llama(model_path=path, n_ctx=4096, n_threads=threads, verbose=False, **opts)
        except (ValueError, RuntimeError) as e:
            print(f"{opts}: cannot load ({e})")
            continue
        tokens = llm.tokenize(text.encode("utf-8"))[:1100]
        times = []
        for _ in range(4):  # the first pass warms caches and is dropped
            llm.reset()
            t = time.perf_counter()
            llm.eval(tokens)
            times.append(time.perf_counter() - t)
        p50 = statistics.median(times[1:])
        print(f"{opts or 'defaults'}: {len(tokens)} tokens p50 {p50:.3f}s ({len(tokens) / p50:.0f} tokens/s, {threads} threads)",
              flush=True)
        del llm


if __name__ == "__main__":
    main()
