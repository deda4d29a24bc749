"""Context assembly: dedupe, merge neighbours, fit the token budget, order for long context.

- near-duplicates (same normalised text, or word Jaccard >= 0.9) are dropped;
- adjacent units of one source merge into one excerpt (fewer, more coherent excerpts);
- excerpts are taken best-first while they fit ``budget`` tokens, counted with the model's
  own tokenizer (the question is never cut: it is outside this budget);
- the best excerpts go to both ends ("lost in the middle"): ranks 1, 3, 5, ... then ..., 4, 2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from memcli.text import WORD
from memcli.types import Hit



@dataclass
class Excerpt:
    hits: list[Hit]
    text: str
    score: float
    number: int = 0
    tokens: int = 0
    meta: dict = field(default_factory=dict)

    @property
    def first(self) -> Hit:
        return self.hits[0]


def _words(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


def _near_duplicate(a: set[str], b: set[str]) -> bool:
    if not a or not b:
        return a == b
    return len(a & b) / len(a | b) >= 0.9


def dedupe(hits: Sequence[Hit]) -> list[Hit]:
    kept: list[tuple[Hit, set[str]]] = []
    for h in hits:
        w = _words(h.text)
        if not any(_near_duplicate(w, kw) for _, kw in kept):
            kept.append((h, w))
    return [h for h, _ in kept]


def merge_adjacent(hits: Sequence[Hit]) -> list[Excerpt]:
    """Group hits of one source whose spans touch; the group keeps its best rank and score."""
    groups: list[list[Hit]] = []
    for h in hits:
        for g in groups:
            if g[0].source_id == h.source_id and any(
                    abs(h.char_start - o.char_end) <= 2 or abs(o.char_start - h.char_end) <= 2 for o in g):
                g.append(h)
                break
        else:
            groups.append([h])
    out = []
    for g in groups:
        ordered = sorted(g, key=lambda x: x.char_start)
        out.append(Excerpt(ordered, "\n".join(x.text for x in ordered), max(x.score for x in g)))
    return out


def lost_in_the_middle(items: Sequence[Excerpt]) -> list[Excerpt]:
    return list(items[0::2]) + list(items[1::2])[::-1]


def build_context(hits: Sequence[Hit], *, budget: int, count_tokens: Callable[[str], int]) -> list[Excerpt]:
    excerpts = merge_adjacent(dedupe(hits))
    chosen: list[Excerpt] = []
    used = 0
    for ex in excerpts:
        ex.tokens = count_tokens(ex.text)
        if used + ex.tokens <= budget:
            chosen.append(ex)
            used += ex.tokens
    ordered = lost_in_the_middle(chosen)
    for i, ex in enumerate(ordered, start=1):
        ex.number = i
    return ordered
