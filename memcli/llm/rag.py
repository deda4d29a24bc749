"""Ask: retrieve -> assemble context -> answer (extractive or generated) -> citations.

Every answer carries the excerpts it used. When retrieval finds nothing close enough, or the
model says the memory does not hold the answer, the result is "Not in your memory" with the
closest hits shown.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from memcli.embed.base import UNCALIBRATED_FLOOR
from memcli.text import estimate_tokens
from memcli.llm.context import Excerpt, build_context
from memcli.llm.extractive import _terms, best_sentence
from memcli.llm.prompts import NOT_IN_MEMORY, messages
from memcli.types import Hit

_CITE = re.compile(r"\[(\d{1,3})\]")


@dataclass
class Citation:
    number: int
    unit_id: str
    uri: str
    section: str
    line_start: int
    line_end: int
    score: float
    event_time: str | None = None
    trust: str = "normal"


@dataclass
class Answer:
    question: str
    answer: str
    mode: str  # extractive | generate
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    evidence: str | None = None
    evidence_date: str | None = None
    context: list[dict] = field(default_factory=list)
    closest: list[Hit] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    model: str | None = None
    answer_span: list[int] | None = None  # [start, end) of the answer inside ``evidence``, when it is a part of it
    evidence_unit: str | None = None  # the unit that holds the evidence sentence

    def to_dict(self) -> dict:
        d = asdict(self)
        d["closest"] = [h.to_dict() for h in self.closest]
        return d


def _citations(excerpts: list[Excerpt]) -> list[Citation]:
    out = []
    for ex in excerpts:
        h = ex.first
        last = ex.hits[-1]
        out.append(Citation(ex.number, h.unit_id, h.uri, h.section, h.line_start, last.line_end,
                            round(ex.score, 4), h.event_time, h.trust))
    return out


def _evidence_unit(best) -> str:
    """The unit of the excerpt whose text holds the evidence (an excerpt can merge several)."""
    probe = best.sentence[:40]
    for h in best.excerpt.hits:
        if probe and probe in h.text:
            return h.unit_id
    return best.excerpt.first.unit_id


def used_excerpts(answer: str, excerpts: list[Excerpt]) -> list[Excerpt]:
    """Excerpts the answer cites with [n]; failing that, those sharing its content words."""
    by_num = {e.number: e for e in excerpts}
    cited = [by_num[int(n)] for n in dict.fromkeys(_CITE.findall(answer)) if int(n) in by_num]
    if cited:
        return cited
    words = set(_terms(answer))
    overlap = sorted(((len(words & set(_terms(e.text))), e) for e in excerpts), key=lambda x: -x[0])
    return [e for n, e in overlap if n >= 2][:2] or excerpts[:1]


class Asker:
    def __init__(self, settings, search: Callable[..., list[Hit]], generator: Callable[[], object],
                 floor: Callable[[], float] | None = None, embed: Callable[[list[str]], object] | None = None) -> None:
        self.s = settings  # LLMSettings
        self.search = search
        self.generator = generator
        self.embed = embed  # question/sentence similarity for the extractive pick
        self.floor = floor or (lambda: UNCALIBRATED_FLOOR)  # the embedder's calibrated abstention floor

    def _extract(self, question: str, hits: list[Hit]):
        """The extractive context and its best evidence (kept: the extractive answer reuses them)."""
        excerpts = build_context(hits, budget=self.s.context_tokens, count_tokens=estimate_tokens)
        return excerpts, best_sentence(question, excerpts, self.embed)

    def ask(self, question: str, *, k: int | None = None, mode: str | None = None, answer: str | None = None,
            on_token: Callable[[str], None] | None = None) -> Answer:
        how = answer or self.s.answer
        t0 = time.perf_counter()
        hits = self.search(question, k=k or self.s.k, mode=mode)
        timings = {"retrieve": time.perf_counter() - t0}
        top_dense = max((h.scores.get("dense", 1.0) for h in hits), default=0.0)
        floor = self.s.min_similarity if self.s.min_similarity is not None else self.floor()
        extracted = None
        if hits and top_dense < floor and self.embed is not None:
            # A short question can sit far from every whole unit ("What does Rc stand for?") and
            # close to the one sentence that answers it: the best sentence's own similarity counts.
            extracted = self._extract(question, hits)
            top_dense = max(top_dense, (extracted[1].signals or {}).get("similarity", 0.0) if extracted[1] else 0.0)
        if not hits or top_dense < floor:
            return Answer(question, NOT_IN_MEMORY, how, True, closest=hits[:3], timings=timings)
        t = time.perf_counter()
        gen = self.generator() if how == "generate" else None
        timings["model_load"] = time.perf_counter() - t
        if gen is not None:
            budget = min(self.s.generate_context_tokens or self.s.context_tokens,
                         gen.n_ctx - self.s.max_tokens - 256)
            count = gen.count_tokens
        else:
            budget, count = self.s.context_tokens, estimate_tokens
        t = time.perf_counter()
        if gen is None:
            excerpts, best = extracted or self._extract(question, hits)
        else:
            excerpts = build_context(hits, budget=budget, count_tokens=count)
            best = best_sentence(question, excerpts, self.embed)
        timings["context"] = time.perf_counter() - t
        context = [{"number": e.number, "unit_ids": [h.unit_id for h in e.hits], "tokens": e.tokens,
                    "uri": e.first.uri, "section": e.first.section, "line_start": e.first.line_start,
                    "line_end": e.hits[-1].line_end, "text": e.text} for e in excerpts]
        ans = Answer(question, "", how, False, context=context, timings=timings,
                     evidence=best.sentence if best else None, evidence_date=best.date if best else None)
        if best is not None:
            ans.answer_span = list(best.span) if best.span else None
            ans.evidence_unit = _evidence_unit(best)
            if best.other_speaker:
                # Memory holds what someone else said about it, not what the question asks.
                ans.answer, ans.abstained, ans.closest = NOT_IN_MEMORY, True, hits[:3]
                return ans
        if gen is None:
            if best is None:
                ans.answer, ans.abstained, ans.closest = NOT_IN_MEMORY, True, hits[:3]
            else:
                ans.answer = best.answer
                # No prompt to order for: the cited excerpt is [1], the rest follow by rank.
                rest = sorted((e for e in excerpts if e is not best.excerpt), key=lambda e: -e.score)
                for i, e in enumerate([best.excerpt] + rest, start=1):
                    e.number = i
                number = {e.first.unit_id: e.number for e in excerpts}
                for c in context:
                    c["number"] = number[c["unit_ids"][0]]
                ans.context = sorted(context, key=lambda c: c["number"])
                ans.citations = _citations([best.excerpt])
            timings["answer"] = time.perf_counter() - t
            return ans
        ans.model = gen.name
        t = time.perf_counter()
        parts: list[str] = []
        first = None
        for piece in gen.stream(messages(question, excerpts), max_tokens=self.s.max_tokens,
                                temperature=self.s.temperature):
            if first is None:
                first = time.perf_counter() - t
            parts.append(piece)
            if on_token:
                on_token(piece)
        text = "".join(parts).strip()
        timings["first_token"] = first or 0.0
        timings["generate"] = time.perf_counter() - t
        ans.answer = text
        if not text or "not in your memory" in text.lower():
            ans.abstained, ans.answer, ans.closest = True, NOT_IN_MEMORY, hits[:3]
        else:
            ans.citations = _citations(used_excerpts(text, excerpts))
        return ans
