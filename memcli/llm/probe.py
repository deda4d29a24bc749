"""Is this llama.cpp build safe on this CPU? One token generated in a child process.

llama.cpp's default native build (`-march=native`) has crashed with SIGSEGV in decode on
AVX-512/AMX Xeons. In-process, that kills `mem` (or pytest) with a bare "Segmentation
fault"; in a child it becomes a verdict and a one-line message. A verdict is cached in the
memory home, keyed by everything that can change it: the llama_cpp version, its native
library file, the GGUF and the CPU's flags.

    python -m memcli.llm.probe [MODEL]   # exit 0: the build generates; 1: it does not
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from memcli.errors import ModelError

CACHE_FILE = "llama-probe.json"
REBUILD_HINT = "run `make rebuild-llama` (a portable build), or use --extractive answers"


@dataclass
class Verdict:
    ok: bool
    detail: str  # "ok", "crashed with SIGSEGV", or the child's last error line
    seconds: float = 0.0
    cached: bool = False

    def message(self) -> str:
        if self.ok:
            return "the llama.cpp build generates on this CPU"
        if self.detail.startswith("crashed"):
            return f"the llama.cpp build {self.detail} on this CPU"
        return f"the llama.cpp build cannot generate: {self.detail}"


def cpu_flags() -> str:
    """The CPU's feature flags (what decides which kernels a native build runs)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return " ".join(sorted(line.split(":", 1)[1].split()))
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def library_files() -> list[Path]:
    """llama_cpp's native libraries (found without importing llama_cpp, which loads them)."""
    import importlib.util

    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    return sorted(p for p in (root / "lib").glob("*") if p.suffix in (".so", ".dylib", ".dll"))


def llama_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("llama_cpp_python")
    except PackageNotFoundError:
        return "not installed"


def probe_key(gguf: Path) -> str:
    def stat(p: Path) -> list:
        try:
            st = p.stat()
            return [str(p), st.st_size, int(st.st_mtime)]
        except OSError:
            return [str(p)]

    parts = {"llama_cpp": llama_version(), "libs": [stat(p) for p in library_files()],
             "gguf": stat(Path(gguf)), "cpu": hashlib.sha256(cpu_flags().encode()).hexdigest()[:16]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def child_command(gguf: Path) -> list[str]:
    """The child that loads the model and generates one token (tests replace it)."""
    return [sys.executable, "-m", "memcli.llm.probe", "--child", str(gguf)]


def run_probe(gguf: Path, *, timeout: float = 300.0) -> Verdict:
    t = time.perf_counter()
    try:
        proc = subprocess.run(child_command(gguf), capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Verdict(False, f"no token within {timeout:.0f} s", time.perf_counter() - t)
    took = time.perf_counter() - t
    if proc.returncode == 0:
        return Verdict(True, "ok", took)
    if proc.returncode < 0:
        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = f"signal {-proc.returncode}"
        return Verdict(False, f"crashed with {name}", took)
    lines = [ln for ln in (proc.stderr or proc.stdout or "").splitlines() if ln.strip()]
    return Verdict(False, lines[-1].strip() if lines else f"exit status {proc.returncode}", took)


def _read_cache(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def check(gguf: Path, cache_dir: Path | None = None, *, force: bool = False) -> Verdict:
    """The cached verdict for this build/model/CPU, probing once when there is none."""
    key = probe_key(gguf)
    cache = cache_dir / CACHE_FILE if cache_dir is not None else None
    if cache is not None and not force:
        hit = _read_cache(cache).get(key)
        if isinstance(hit, dict) and "ok" in hit:
            return Verdict(bool(hit["ok"]), str(hit.get("detail", "")), float(hit.get("seconds", 0.0)), cached=True)
    verdict = run_probe(gguf)
    if cache is not None and cache_dir.is_dir():
        data = _read_cache(cache)
        data[key] = {k: v for k, v in asdict(verdict).items() if k != "cached"}
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, cache)
    return verdict


def ensure_safe(gguf: Path, cache_dir: Path | None) -> Verdict:
    """Raise ModelError (exit 7) instead of letting a crashing build take the process down."""
    verdict = check(gguf, cache_dir)
    if not verdict.ok:
        raise ModelError(verdict.message(), hint=REBUILD_HINT)
    return verdict


def _child(gguf: str) -> int:
    from memcli.llm.llama import _quiet_stderr, physical_cores

    from llama_cpp import Llama

    with _quiet_stderr():
        llm = Llama(model_path=gguf, n_ctx=256, n_threads=physical_cores(), n_gpu_layers=-1, verbose=False)
    out = llm.create_completion("The capital of France is", max_tokens=1, temperature=0.0)
    print(json.dumps({"token": out["choices"][0]["text"]}))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--child"]:
        return _child(args[1])
    from memcli.llm.models import resolve_gguf

    try:
        gguf = resolve_gguf(args[0] if args else "smollm2")
    except ModelError as e:
        print(f"llama.cpp probe: {e.message}", file=sys.stderr)
        return 1
    verdict = run_probe(gguf)
    print(f"llama.cpp probe ({llama_version()}, {gguf.name}): {verdict.message()} ({verdict.seconds:.1f} s)")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
