"""Stage 2: one row of named features per candidate.

The hand ranker scores these columns; its cheap score orders the reader's shortlist, and
bench/reader_data.py records it for every candidate, so a column's meaning must not change
without re-making that data. ``mem ask --explain`` prints this same table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from memcli.answer.candidates import Candidate, terms, unaddressed
from memcli.answer.qtypes import new_code_terms, new_numbers, type_fit

# Cheap columns (no model); "similarity" is added for the shortlist the encoder sees.
CHEAP = ("overlap", "context", "type", "retrieval", "rank", "pair", "code", "item", "turn",
         "length", "novelty", "new_code", "new_number", "heading", "position", "bias")
FULL = CHEAP + ("similarity",)


def idf_weights(question: str, pool: Sequence[Candidate]) -> dict[str, float]:
    """Rarity of each question term among the candidates (a term every sentence has says
    little about which sentence answers)."""
    q_terms = set(terms(question))
    df: dict[str, int] = {}
    for c in pool:
        for t in set(terms(c.text)):
            df[t] = df.get(t, 0) + 1
    n = len(pool)
    return {t: math.log(1 + n / df.get(t, 0.5)) for t in q_terms}


def table(question: str, qtype: str | None, pool: Sequence[Candidate], sims: np.ndarray | None,
          top: float) -> tuple[np.ndarray, tuple[str, ...]]:
    """The feature table: rows follow ``pool``; columns are CHEAP, or FULL when ``sims``
    (question–candidate cosines) is given."""
    weight = idf_weights(question, pool)
    total = sum(weight.values()) or 1.0
    q_terms = set(weight)

    def cover(text: str) -> float:
        return sum(weight[t] for t in q_terms & set(terms(text))) / total

    names = FULL if sims is not None else CHEAP
    rows = np.zeros((len(pool), len(names)), dtype=np.float32)
    for i, c in enumerate(pool):
        own = set(terms(c.text))
        head = c.excerpt.first.section or c.excerpt.first.title or ""
        fit = type_fit(qtype, c.text, question, code=c.kind == "code") if qtype else 0.5
        # Calling someone by name is not talking about them: "That's awesome, Melanie!" says
        # nothing of what Melanie's kids like, so the name a turn addresses gives no credit.
        said = unaddressed(c.text) if c.kind == "turn" else c.text
        row = [cover(said), cover(c.prev) if c.prev else 0.0, (fit - 0.5) * 2,
               c.excerpt.score / (top or 1.0), 1.0 / (1 + c.rank), float(c.pair),
               float(c.kind == "code"), float(c.kind == "item"), float(c.kind == "turn"),
               math.log1p(len(c.text.split())) / 5, len(own - q_terms) / len(own) if own else 0.0,
               min(len(new_code_terms(c.text, question)), 3) / 3,
               float(bool(new_numbers(c.text, question))), cover(head), 1.0 / (1 + c.position), 1.0]
        if sims is not None:
            row.append(float(sims[i]))
        rows[i] = row
    return rows, names
