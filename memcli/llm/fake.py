"""A deterministic generator for tests: answers with the first memory line it was given.

It records every prompt, so tests can check the prompt structure (quoting, order, budget).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from memcli.llm.base import Message


class FakeGenerator:
    def __init__(self, n_ctx: int = 2048, reply: str | None = None) -> None:
        self.name = "fake-llm"
        self.n_ctx = n_ctx or 8192  # 0 means "the model's own window", as for a GGUF
        self.reply = reply
        self.prompts: list[list[Message]] = []

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float) -> Iterator[str]:
        self.prompts.append(list(messages))
        if self.reply is not None:
            text = self.reply
        else:
            m = re.search(r"^\[(\d+)\][^\n]*\n> (.+)$", messages[-1]["content"], re.M)
            text = f"{m.group(2)} [{m.group(1)}]" if m else "Not in your memory."
        for word in text.split(" "):
            yield word + " "

    def relevance(self, question: str, passage: str) -> float:
        """Share of the question's words the passage contains: deterministic, and monotone
        in the evidence a real judge would look at."""
        q = set(re.findall(r"\w+", question.lower()))
        p = set(re.findall(r"\w+", passage.lower()))
        return len(q & p) / len(q) if q else 0.0

    def complete_json(self, messages: Sequence[Message], schema: dict, *, max_tokens: int = 256) -> str:
        """Capitalised words of the last message as entities, chained into triples."""
        import json

        body = re.sub(r"^Title: ", "", messages[-1]["content"])
        words = list(dict.fromkeys(re.findall(r"\b[A-Z][a-z]+\b", body)))[:8]
        return json.dumps({"entities": words, "triples": [[a, "related to", b] for a, b in zip(words, words[1:])]})

    def info(self) -> dict[str, object]:
        return {"name": self.name, "n_ctx": self.n_ctx, "gpu_offload": False}
