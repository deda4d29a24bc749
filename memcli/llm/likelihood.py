"""Query likelihood with a small GGUF: score = mean log P(question | passage) (UPR, Sachan et
al. 2022). No instruction following is needed — only the logits of the question's tokens
after the passage — so a 135M model can judge which sentence the question is about.

Measured as a feature for the extractive pick by bench/query_likelihood.py (docs/evaluation.md
has the numbers); not on the default path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

PROMPT = "Passage: {passage}\nA question this passage answers: "


class QueryLikelihood:
    def __init__(self, path: Path, *, n_ctx: int = 512, n_threads: int | None = None) -> None:
        from llama_cpp import Llama

        from memcli.llm.llama import _quiet_stderr, physical_cores

        with _quiet_stderr():
            self._llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads or physical_cores(),
                              logits_all=True, verbose=False)
        self.n_ctx = n_ctx
        self.name = Path(path).name

    def score(self, question: str, passages: Sequence[str]) -> list[float]:
        """Mean log-probability per question token after each passage (higher: the passage
        makes the question more likely)."""
        q = self._llm.tokenize((" " + question.strip()).encode(), add_bos=False, special=False)
        out = []
        for p in passages:
            head = self._llm.tokenize(PROMPT.format(passage=p.strip()).encode(), add_bos=True, special=False)
            head = head[: max(8, self.n_ctx - len(q) - 1)]
            tokens = head + q
            self._llm.reset()
            self._llm.eval(tokens)
            logits = np.asarray(self._llm.scores[len(head) - 1:len(tokens) - 1], dtype=np.float64)
            logits -= logits.max(axis=1, keepdims=True)
            logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            out.append(float(np.mean(logp[np.arange(len(q)), q])))
        return out
