"""The generation runtime: the Generator protocol, llama.cpp (and a fake for tests), the CPU
probe, the prompts. The answer pipeline that calls it is memcli/answer/."""

from __future__ import annotations

from pathlib import Path


def make_generator(llm, home: Path):
    """The answer model that ``llm`` (LLMSettings) names: llama.cpp over a GGUF, or the
    deterministic fake for tests. The CPU probe runs first: a llama.cpp build that crashes
    on this CPU must not take the process down with it."""
    if llm.model == "fake":
        from memcli.llm.fake import FakeGenerator

        return FakeGenerator(n_ctx=llm.n_ctx)
    from memcli.llm.llama import LlamaGenerator
    from memcli.llm.models import resolve_gguf
    from memcli.llm.probe import ensure_safe

    path = resolve_gguf(llm.model)
    ensure_safe(path, home)
    return LlamaGenerator(path, n_ctx=llm.n_ctx, n_threads=llm.n_threads, n_gpu_layers=llm.n_gpu_layers,
                          prompt_style=llm.prompt_style, repeat_penalty=llm.repeat_penalty)
