"""The Generator protocol: a chat model that streams text."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}


@runtime_checkable
class Generator(Protocol):
    name: str
    n_ctx: int

    def count_tokens(self, text: str) -> int: ...

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float) -> Iterator[str]: ...

    def info(self) -> dict[str, object]: ...

    def relevance(self, question: str, passage: str) -> float:
        """P(yes) that ``passage`` helps answer ``question`` (the llm reranker and the
        llm supersede judge call it)."""
        ...
