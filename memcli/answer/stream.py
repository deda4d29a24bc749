"""An answer you iterate: the text as the model writes it, then the whole ``Answer``.

As simonw/llm's ``Response``: ``for piece in mem.ask(q, stream=True)`` prints as the model
writes, and ``result()`` gives the finished answer with its citations. The pipeline is one
generator (memcli.answer.ask.Asker.stream) that yields text and returns the Answer, so nothing
runs on another thread and nothing is computed twice; a callback is no longer threaded
through the layers.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memcli.answer.result import Answer


class AnswerStream:
    """Iterate for the generated text (an extractive answer yields nothing: it is one quoted
    line, in ``result().answer``); ``result()`` runs the rest and returns the ``Answer``."""

    def __init__(self, steps: "Generator[str, None, Answer]",
                 finish: "Callable[[Answer], Answer] | None" = None) -> None:
        self._steps = steps
        self._finish = finish
        self._answer: "Answer | None" = None

    def __iter__(self) -> Iterator[str]:
        while self._answer is None:
            try:
                yield next(self._steps)
            except StopIteration as done:
                ans = done.value
                self._answer = self._finish(ans) if self._finish else ans

    def result(self) -> "Answer":
        """The finished answer (its text, citations, evidence, refusal, timings)."""
        for _ in self:
            pass
        assert self._answer is not None
        return self._answer
