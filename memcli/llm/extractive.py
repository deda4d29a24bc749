"""Extractive answers: the best-supported sentence (or turn) from the excerpts, cited.

A tiny model writes poor answers; the sentence that shares the most informative words with
the question is often better, and it is always faithful. Words are matched by a 5-letter
prefix (light stemming) and weighted by rarity within the excerpts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from memcli.llm.context import Excerpt
from memcli.retrieve.snippet import STOP

_WORD = re.compile(r"\w+")
_SENT_END = re.compile(r"(?<=[.!?])\s+")
_TURN_PREFIX = re.compile(r"^\[(\d{4}-\d{2}-\d{2})\]\s+([^:]{1,60}):\s*")


def _key(w: str) -> str:
    w = w.lower()
    return w[:5] if len(w) > 5 else w


def _terms(text: str) -> list[str]:
    return [_key(w) for w in _WORD.findall(text) if w.lower() not in STOP]


_WHEN = re.compile(r"^\s*(when|what (date|day|year|month|time))\b", re.I)


def is_when_question(question: str) -> bool:
    return bool(_WHEN.search(question))


def format_date(iso: str) -> str:
    from datetime import date

    d = date.fromisoformat(iso[:10])
    return f"{d.day} {d:%B %Y}"


@dataclass
class Extract:
    sentence: str
    excerpt: Excerpt
    score: float
    date: str | None


def candidates(ex: Excerpt) -> list[tuple[str, str | None]]:
    """Sentences of an excerpt; a conversation turn stays whole, with its date."""
    out = []
    prose: list[str] = []

    def flush() -> None:
        # Hard-wrapped prose: join a paragraph's lines before cutting it into sentences.
        if prose:
            para = " ".join(prose)
            out.extend((s.strip(), None) for s in _SENT_END.split(para) if len(s.split()) >= 3)
            prose.clear()

    for line in ex.text.splitlines():
        line = line.strip()
        m = _TURN_PREFIX.match(line)
        if not line or line.startswith("#") or m:
            flush()
            if m:
                # A turn: its sentences are the candidates; the date comes along.
                said = line[m.end():]
                parts = [p.strip() for p in _SENT_END.split(said) if p.strip()]
                out.extend((p, m.group(1)) for p in (parts or [said]))
            continue
        prose.append(line.lstrip("-*> ").strip())
    flush()
    return out


def best_sentence(question: str, excerpts: Sequence[Excerpt]) -> Extract | None:
    q = set(_terms(question))
    if not q:
        return None
    cands = [(s, d, ex) for ex in excerpts for s, d in candidates(ex)]
    if not cands:
        return None
    df: dict[str, int] = {}
    for s, _, _ in cands:
        for t in set(_terms(s)):
            df[t] = df.get(t, 0) + 1
    n = len(cands)
    top = max(ex.score for _, _, ex in cands) or 1.0
    weight = {t: math.log(1 + n / df.get(t, 0.5)) for t in q}
    total = sum(weight.values())
    best = None
    for s, d, ex in cands:
        ts = set(_terms(s))
        coverage = sum(weight[t] for t in q & ts) / total
        if coverage == 0:
            continue
        # How much of the question the sentence covers, and how relevant its excerpt was.
        score = coverage + 0.5 * ex.score / top
        if best is None or score > best.score:
            best = Extract(s, ex, score, d or (ex.first.event_time or "")[:10] or None)
    return best
