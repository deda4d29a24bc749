"""llama.cpp generator via llama-cpp-python (imported lazily; it loads native code).

``n_threads`` defaults to the machine's physical cores (llama-cpp-python's default of 1 is
several times slower); ``n_gpu_layers=-1`` offloads every layer when the build has a GPU
backend and is harmless on a CPU build. The chat template comes from the GGUF.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from memcli.errors import ModelError
from memcli.llm.base import Message


def physical_cores() -> int:
    try:
        cores = set()
        with open("/proc/cpuinfo") as f:
            phys = core = None
            for line in f:
                if line.startswith("physical id"):
                    phys = line.split(":")[1].strip()
                elif line.startswith("core id"):
                    core = line.split(":")[1].strip()
                    cores.add((phys, core))
        if cores:
            return len(cores)
    except OSError:
        pass
    return max(1, (os.cpu_count() or 2) // 2)


def gpu_offload_supported() -> bool:
    try:
        import llama_cpp

        return bool(llama_cpp.llama_supports_gpu_offload())
    except (ImportError, AttributeError, OSError):
        return False


class LlamaGenerator:
    def __init__(self, path: Path, *, n_ctx: int = 4096, n_threads: int | None = None,
                 n_gpu_layers: int = -1, seed: int = 0) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as e:
            raise ModelError("llama-cpp-python is not installed", hint="make install (builds it once)") from e
        self.path = Path(path)
        self.name = self.path.name
        self.n_threads = n_threads or physical_cores()
        self.n_gpu_layers = n_gpu_layers
        try:
            self._llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=self.n_threads,
                              n_gpu_layers=n_gpu_layers, seed=seed, verbose=False)
        except (ValueError, RuntimeError, OSError) as e:
            raise ModelError(f"cannot load GGUF model {path}: {e}") from e
        self.n_ctx = int(self._llm.n_ctx())

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float) -> Iterator[str]:
        out = self._llm.create_chat_completion(messages=list(messages), max_tokens=max_tokens,
                                               temperature=temperature, stream=True)
        for chunk in out:
            delta = chunk["choices"][0].get("delta", {})
            if delta.get("content"):
                yield delta["content"]

    def info(self) -> dict[str, object]:
        return {"name": self.name, "path": str(self.path), "n_ctx": self.n_ctx, "n_threads": self.n_threads,
                "n_gpu_layers": self.n_gpu_layers, "gpu_offload": gpu_offload_supported()}
