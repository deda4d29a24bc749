"""llama.cpp builds side by side: prompt processing and decode tokens/s, ratios to the first.

Each build is a directory holding an installed ``llama_cpp`` package (``pip install --target
DIR --no-deps WHEEL``); each runs in its own child process, so a build that crashes on this
CPU is reported as such instead of ending the benchmark. A runtime-dispatch build
(``GGML_BACKEND_DL=ON``) needs its CPU backends loaded first, and llama-cpp-python 0.3.36 does
not: the child does it through ``ggml_backend_load_all_from_path`` (ctypes), from the wheel's
``bin/`` folder, where that build installs its kernel variants.

    python bench/llama_builds.py                       # the build installed in this venv
    python bench/llama_builds.py native=/tmp/t-native portable=/tmp/t-portable dispatch=/tmp/t-dispatch
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROMPT_TOKENS = 1100  # the size of a 1,024-token `mem ask` prompt
DECODE_TOKENS = 64
CHILD = r"""
import ctypes, json, statistics, sys, time
from pathlib import Path
import llama_cpp
lib = Path(llama_cpp.__file__).parent / "lib"
ggml = ctypes.CDLL(str(lib / "libggml.so.0"))  # the instance libllama links (same SONAME)
# The dispatch wheel puts its CPU variants in <site-packages>/bin, outside the package.
for d in (lib, Path(llama_cpp.__file__).parents[1] / "bin"):
    if any(d.glob("libggml-cpu-*.so")):
        ggml.ggml_backend_load_all_from_path(str(d).encode())
        break
from llama_cpp import Llama
from memcli.llm.llama import physical_cores
from memcli.llm.models import resolve_gguf
text = sys.stdin.read()
llm = Llama(model_path=str(resolve_gguf("smollm2")), n_ctx=4096, n_threads=physical_cores(), verbose=False)
tokens = llm.tokenize(text.encode())[:%d]
pp = []
for _ in range(4):  # the first pass warms caches and is dropped
    llm.reset(); t = time.perf_counter(); llm.eval(tokens); pp.append(time.perf_counter() - t)
dec = []
for _ in range(3):
    llm.reset(); llm.eval(tokens[:64]); t = time.perf_counter()
    for i in range(%d):
        tok = llm.sample(temp=0.0); llm.eval([tok])
    dec.append(time.perf_counter() - t)
print(json.dumps({"pp_tps": len(tokens) / statistics.median(pp[1:]), "decode_tps": %d / statistics.median(dec),
                  "threads": physical_cores()}))
""" % (PROMPT_TOKENS, DECODE_TOKENS, DECODE_TOKENS)


def measure(path: str | None, text: str) -> dict:
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = os.pathsep.join([path, str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    proc = subprocess.run([sys.executable, "-c", CHILD], input=text, capture_output=True, text=True, env=env)
    if proc.returncode < 0:
        return {"error": f"crashed (signal {-proc.returncode})"}
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    builds = [a.split("=", 1) for a in sys.argv[1:]] or [["installed", ""]]
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "recipes" / "sample").rglob("*.md"))) * 3
    base = None
    for name, path in builds:
        r = measure(path or None, text)
        if "error" in r:
            print(f"{name:>10}: {r['error']}", flush=True)
            continue
        base = base or r
        print(f"{name:>10}: prompt {r['pp_tps']:7.0f} tokens/s ({r['pp_tps'] / base['pp_tps']:.2f}x)   "
              f"decode {r['decode_tps']:6.1f} tokens/s ({r['decode_tps'] / base['decode_tps']:.2f}x)   "
              f"{r['threads']} threads", flush=True)


if __name__ == "__main__":
    main()
