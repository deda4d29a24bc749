"""llama.cpp generator via llama-cpp-python (imported lazily; it loads native code).

``n_threads`` defaults to the machine's physical cores (llama-cpp-python's default of 1 is
several times slower); ``n_gpu_layers=-1`` offloads every layer when the build has a GPU
backend and is harmless on a CPU build. The chat template comes from the GGUF.
"""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def _quiet_stderr():
    """Silence native writes to fd 2 (Python's own stderr object is left alone)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def gpu_offload_supported() -> bool:
    try:
        import llama_cpp

        return bool(llama_cpp.llama_supports_gpu_offload())
    except (ImportError, AttributeError, OSError):
        return False


class LlamaGenerator:
    def __init__(self, path: Path, *, n_ctx: int = 4096, n_threads: int | None = None,
                 n_gpu_layers: int = -1, seed: int = 0, prompt_style: str = "auto",
                 repeat_penalty: float = 1.1) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as e:
            raise ModelError("llama-cpp-python is not installed", hint="make install (builds it once)") from e
        self.path = Path(path)
        self.name = self.path.name
        self.n_threads = n_threads or physical_cores()
        self.n_gpu_layers = n_gpu_layers
        self.repeat_penalty = repeat_penalty
        try:
            with _quiet_stderr():  # llama.cpp prints context notes even with verbose=False
                self._llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=self.n_threads,
                                  n_gpu_layers=n_gpu_layers, seed=seed, verbose=False)
        except (ValueError, RuntimeError, OSError) as e:
            raise ModelError(f"cannot load GGUF model {path}: {e}") from e
        self.n_ctx = int(self._llm.n_ctx())
        # A GGUF without a chat template is a base model: it gets a completion-style prompt.
        has_template = "tokenizer.chat_template" in (self._llm.metadata or {})
        self.completion = prompt_style == "completion" or (prompt_style == "auto" and not has_template)

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def relevance(self, question: str, passage: str) -> float:
        """P(yes) that ``passage`` helps answer ``question``: one forward pass, no sampling.

        The question comes first so the 30 candidates of one query share a cached prefix;
        only the passage tokens are evaluated per candidate.
        """
        import numpy as np

        from memcli.retrieve.rerank import relevance_messages  # the prompt lives with its reranker

        msgs = relevance_messages(question, passage)
        if self.completion:
            prompt = "\n\n".join(m["content"] for m in msgs) + "\nAnswer (yes or no):"
        else:
            prompt = self._chat_prompt(msgs)
        llm = self._llm
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        tokens = tokens[-(self.n_ctx - 1):]  # a passage longer than the window keeps its end
        cached = llm.input_ids[: llm.n_tokens].tolist()
        keep = 0
        for a, b in zip(cached, tokens[:-1]):
            if a != b:
                break
            keep += 1
        llm.n_tokens = keep
        llm.eval(tokens[keep:])
        logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),))
        yes, no = self._yes_no_ids()
        m = float(logits[yes + no].max())
        py = float(np.exp(logits[yes] - m).sum())
        pn = float(np.exp(logits[no] - m).sum())
        return py / (py + pn)

    def complete_json(self, messages: Sequence[Message], schema: dict, *, max_tokens: int = 256) -> str:
        """A reply constrained by a grammar built from ``schema``: it always parses (unless cut
        by ``max_tokens``, which the caller treats as nothing usable)."""
        import json

        from llama_cpp import LlamaGrammar

        if not hasattr(self, "_grammars"):
            self._grammars: dict[str, object] = {}
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            with _quiet_stderr():
                self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        grammar = self._grammars[key]
        if self.completion:
            prompt = "\n\n".join(m["content"] for m in messages) + "\nJSON:"
            out = self._llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, grammar=grammar)
            return out["choices"][0]["text"]
        out = self._llm.create_chat_completion(messages=list(messages), max_tokens=max_tokens, temperature=0.0,
                                               grammar=grammar)
        return out["choices"][0]["message"]["content"] or ""

    def _yes_no_ids(self) -> tuple[list[int], list[int]]:
        if not hasattr(self, "_yn"):
            def first(words):
                ids = {self._llm.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words}
                return sorted(ids)
            self._yn = (first(["yes", "Yes", " yes", " Yes"]), first(["no", "No", " no", " No"]))
        return self._yn

    def _chat_prompt(self, msgs) -> str:
        if not hasattr(self, "_fmt"):
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            meta = self._llm.metadata or {}
            vocab = self._llm._model

            def tok(i):
                return vocab.token_get_text(i) if i >= 0 else ""
            self._fmt = Jinja2ChatFormatter(meta["tokenizer.chat_template"], eos_token=tok(self._llm.token_eos()),
                                            bos_token=tok(self._llm.token_bos()), add_generation_prompt=True)
        return self._fmt(messages=list(msgs)).prompt

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float) -> Iterator[str]:
        if self.completion:
            prompt = "\n\n".join(m["content"] for m in messages) + "\nAnswer:"
            for chunk in self._llm.create_completion(prompt, max_tokens=max_tokens, temperature=temperature,
                                                     stop=["\n\n", "\nQuestion:"], stream=True,
                                                     repeat_penalty=self.repeat_penalty):
                text = chunk["choices"][0].get("text")
                if text:
                    yield text
            return
        out = self._llm.create_chat_completion(messages=list(messages), max_tokens=max_tokens,
                                               temperature=temperature, stream=True,
                                               repeat_penalty=self.repeat_penalty)
        for chunk in out:
            delta = chunk["choices"][0].get("delta", {})
            if delta.get("content"):
                yield delta["content"]

    def info(self) -> dict[str, object]:
        return {"name": self.name, "path": str(self.path), "n_ctx": self.n_ctx, "n_threads": self.n_threads,
                "prompt": "completion" if self.completion else "chat",
                "n_gpu_layers": self.n_gpu_layers, "gpu_offload": gpu_offload_supported()}
