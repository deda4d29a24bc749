"""Extractive answers: the sentence (or turn) that answers, picked from the top excerpts.

Retrieval usually finds the right file; the hard part is the sentence. Word overlap alone
picks sentences that restate the question (headings, the question itself saved in a chat);
embedding similarity alone picks topical sentences that say nothing new. So each candidate
is scored on several signals:

- **overlap**: rarity-weighted share of the question's words in the sentence (5-letter
  prefixes: light stemming);
- **similarity**: MiniLM cosine between question and sentence (it was trained on
  question-answer pairs), one batch for all candidates;
- **context**: overlap of the sentence before it — an answer often follows the sentence
  that restates the question ("requests has `response.next`. In HTTPX it is named ...");
- **answer type**: a "when" question wants a date, "how many" a number, "which flag" a code
  term, "why" a reason (memcli.llm.qtypes);
- **retrieval**: the excerpt's own search score.

A candidate must add something: question-shaped sentences, headings, the user's own saved
questions and sentences made almost only of the question's words are never answers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from memcli.llm.context import Excerpt
from memcli.llm.dates import date_in, fmt_day
from memcli.llm.qtypes import aggregate_kind, question_type, short_span, type_fit
from memcli.text import STOP, WORD

_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[`\"'(\[A-Z0-9*_])")
_TURN_PREFIX = re.compile(r"^\[(\d{4}-\d{2}-\d{2})\]\s+([^:]{1,60}):\s*")
_LIST_ITEM = re.compile(r"^([-*+]|\d{1,2}[.)])\s+")
_ADMONITION = re.compile(r"^(!!!|\?\?\?\+?)\s*\w+")
_FENCE = re.compile(r"^(```|~~~)")
# Speakers whose turns are questions, never answers (a saved `mem chat` writes its questions so).
QUESTION_SPEAKERS = frozenset({"you asked"})
MAX_EXCERPTS = 6  # candidates come from the best excerpts only (latency; the answer is nearly always there)
MAX_CANDIDATES = 120
SIM_TOP = 8  # candidates per question part that are encoded for the similarity signal
PAIR_CHARS = 320  # two sentences shown together stay a short answer
MAX_ANSWER_CHARS = 400  # a compound question's answer: one sentence per part, within this
WEIGHTS = {"overlap": 1.0, "similarity": 1.0, "context": 0.35, "type": 0.3, "retrieval": 0.25, "pair": -0.1}


def _key(w: str) -> str:
    w = w.lower()
    return w[:5] if len(w) > 5 else w


def _terms(text: str) -> list[str]:
    return [_key(w) for w in WORD.findall(text) if w.lower() not in STOP]


def is_when_question(question: str) -> bool:
    return question_type(question) == "when"


def format_date(iso: str) -> str:
    from datetime import date

    return fmt_day(date.fromisoformat(iso[:10]))


@dataclass
class Candidate:
    text: str
    excerpt: Excerpt
    rank: int = 0  # the excerpt's place in retrieval order (0: best)
    date: str | None = None  # the turn's date (ISO day), conversations only
    speaker: str | None = None
    prev: str = ""  # the sentence before it in its paragraph or turn
    kind: str = "prose"  # prose | turn | code | item
    pair: bool = False  # two adjacent sentences
    parts: tuple[str, ...] = ()  # a pair's two sentences


@dataclass
class Extract:
    sentence: str  # the evidence
    excerpt: Excerpt
    score: float
    date: str | None  # the evidence's date: written in it, else the turn's
    answer: str = ""  # the answer line: a date for "when" questions, else the sentence
    span: tuple[int, int] | None = None  # where the answer sits in the sentence
    speaker: str | None = None
    signals: dict | None = None
    # The participant the question names, when the evidence was said by someone else and does
    # not mention them ("What did Melanie realise after the race?" from Caroline's turn).
    other_speaker: str | None = None


def _sentences(para: str) -> list[str]:
    return [s.strip() for s in _SENT_END.split(para) if s.strip()]


def candidates(ex: Excerpt, rank: int = 0) -> list[Candidate]:
    """Sentences, list items, short code blocks (with their lead-in) and turns of an excerpt."""
    out: list[Candidate] = []
    prose: list[str] = []
    last = ""  # the last sentence seen: a code block's lead-in, a sentence's context
    code: list[str] | None = None

    def add(text: str, kind: str, **kw) -> None:
        nonlocal last
        out.append(Candidate(text, ex, rank, prev=last, kind=kind, **kw))
        last = text

    def pairs(sents: list[str], **kw) -> None:
        # A sentence that restates the question is often followed by the one that answers
        # it: adjacent pairs are candidates too (scored as one text, shown as one answer).
        for a, b in zip(sents, sents[1:]):
            if len(a) + len(b) <= PAIR_CHARS and not a.endswith("?") and not b.endswith("?"):
                out.append(Candidate(f"{a} {b}", ex, rank, pair=True, parts=(a, b), **kw))

    def flush(kind: str = "prose") -> None:
        if prose:
            sents = _sentences(" ".join(prose))
            for s in sents:
                add(s, kind)
            pairs(sents)
            prose.clear()

    for raw in ex.text.splitlines():
        line = raw.strip()
        if code is not None:
            if _FENCE.match(line):
                body = [c.lstrip("$> ").strip() for c in code if c.strip()]
                if body and len(body) <= 4 and sum(map(len, body)) <= 240:
                    snippet = "`" + " ; ".join(body) + "`"
                    lead = last if last.endswith(":") else ""
                    add(f"{lead} {snippet}".strip(), "code")
                code = None
            else:
                code.append(line)
            continue
        if _FENCE.match(line):
            flush()
            code = []
            continue
        m = _TURN_PREFIX.match(line)
        if not line or line.startswith("#") or m or _ADMONITION.match(line) or line.startswith("|"):
            flush()
            if m:
                if m.group(2).strip().lower() in QUESTION_SPEAKERS:
                    continue
                last = ""
                said = _sentences(line[m.end():]) or [line[m.end():]]
                who = m.group(2).strip()
                for s in said:
                    add(s, "turn", date=m.group(1), speaker=who)
                pairs(said, kind="turn", date=m.group(1), speaker=who)
            elif line.startswith("|") and line.count("|") >= 3 and not set(line) <= set("|-: "):
                add(" | ".join(c.strip() for c in line.strip("|").split("|")), "item")
            continue
        if _LIST_ITEM.match(line):
            flush()
            prose.append(_LIST_ITEM.sub("", line))
            continue
        prose.append(line.lstrip("> ").strip())
    flush()
    return out


def _answerable(c: Candidate, q_terms: set[str]) -> bool:
    """Not a question, not a heading, and not made of the question's words alone."""
    if c.text.rstrip().endswith("?") or len(WORD.findall(c.text)) < 3 and c.kind != "code":
        return False
    own = set(_terms(c.text))
    if not own:
        return False
    return len(own - q_terms) / len(own) >= 0.3


_SECOND_PART = re.compile(r"^(.{12,}?)(?:[,;]?\s+and\s+|\?\s+(?:and\s+)?)((?:what|which|how|where|when|why|who|whose|"
                          r"can|could|do|does|is|are|will|should|would)\b.{6,})$", re.I)


def split_question(question: str) -> list[str]:
    """"Will uv download Python itself, and what setting turns that off?" asks two things;
    each part gets its own evidence sentence."""
    m = _SECOND_PART.match(question.strip())
    return [m.group(1).strip(), m.group(2).strip()] if m else [question]


def _pool(question: str, excerpts: Sequence[Excerpt]) -> tuple[list[Candidate], float]:
    q_terms = set(_terms(question))
    best_first = sorted(excerpts, key=lambda e: -e.score)[:MAX_EXCERPTS]
    cands = [c for r, ex in enumerate(best_first) for c in candidates(ex, r)]
    kept = [c for c in cands if _answerable(c, q_terms)][:MAX_CANDIDATES]
    return kept, max((e.score for e in best_first), default=0.0) or 1.0


def _rank(question: str, qtype: str | None, pool: list[Candidate], sims, top: float) -> list[tuple[float, Candidate, dict]]:
    q_terms = set(_terms(question))
    if not q_terms:
        return []
    df: dict[str, int] = {}
    for c in pool:
        for t in set(_terms(c.text)):
            df[t] = df.get(t, 0) + 1
    n = len(pool)
    weight = {t: math.log(1 + n / df.get(t, 0.5)) for t in q_terms}
    total = sum(weight.values())

    def cover(text: str) -> float:
        return sum(weight[t] for t in q_terms & set(_terms(text))) / total

    out = []
    for c, sim in zip(pool, sims):
        sig = {"overlap": cover(c.text), "similarity": float(sim), "context": cover(c.prev) if c.prev else 0.0,
               "type": (type_fit(qtype, c.text, question, code=c.kind == "code") - 0.5) * 2 if qtype else 0.0,
               "retrieval": c.excerpt.score / top, "pair": 1.0 if c.pair else 0.0}
        out.append((sum(WEIGHTS[k] * v for k, v in sig.items()), c, sig))
    out.sort(key=lambda x: -x[0])
    return out


def score_candidates(question: str, excerpts: Sequence[Excerpt],
                     embed: Callable[[list[str]], np.ndarray] | None = None,
                     parts: Sequence[str] | None = None) -> list[list[tuple[float, Candidate, dict]]]:
    """Candidates ranked for the whole question, then for each further part of a compound one."""
    if not set(_terms(question)):
        return []
    pool, top = _pool(question, excerpts)
    if not pool:
        return []
    parts = list(parts or [question])
    # Later parts ("and what's the catch?") lean on the first for their subject.
    texts = [question] + [f"{p} {parts[0]}" for p in parts[1:]]
    cheap = [_rank(text, question_type(part), pool, np.zeros(len(pool)), top) for text, part in zip(texts, parts)]
    if embed is None:
        return cheap
    # Encoding is the cost (MiniLM is compute-bound: ~1 s per 2,000 tokens on 2 cores), so only
    # the cheap signals' best few per part are encoded and re-ranked with similarity.
    short: list[Candidate] = []
    for ranked in cheap:
        for _, c, _ in ranked[:SIM_TOP]:
            if all(c is not o for o in short):
                short.append(c)
    # Sentences are encoded once each; a pair's vector is the sum of its two sentences'
    # (normalised), which keeps the batch short (padding follows the longest text).
    pieces = {s: None for c in short for s in (c.parts or [c.text])}
    vecs = embed(texts + list(pieces))
    qv = vecs[:len(texts)]
    for s_, v in zip(pieces, vecs[len(texts):]):
        pieces[s_] = v
    cv = np.stack([_unit(sum(pieces[s_] for s_ in (c.parts or [c.text]))) for c in short])
    return [_rank(text, question_type(part), short, cv @ qv[i], top) for i, (text, part) in enumerate(zip(texts, parts))]


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n else v


def _dated(c: Candidate, question: str, score: float, sig: dict) -> Extract:
    turn_date = c.date or (c.excerpt.first.event_time or "")[:10] or None
    found = date_in(c.text, turn_date)
    ex = Extract(c.text, c.excerpt, score, found.answer if found else turn_date, answer=c.text,
                 speaker=c.speaker, signals=sig)
    if is_when_question(question):
        if found is not None:
            ex.answer, ex.span = found.answer, (found.start, found.end)
        elif c.date:
            ex.answer = format_date(c.date)  # nothing written: the turn's own date
    elif (span := short_span(question_type(question), c.text, question)) is not None:
        ex.answer, ex.span = c.text[span[0]:span[1]].strip(" ,.;:"), span
    return ex


def best_sentence(question: str, excerpts: Sequence[Excerpt],
                  embed: Callable[[list[str]], np.ndarray] | None = None) -> Extract | None:
    parts = split_question(question)
    ranked = score_candidates(question, excerpts, embed, parts)
    if not ranked or not ranked[0]:
        return None
    score, c, sig = ranked[0][0]
    named = _named_speaker(question, excerpts)
    if named and not _about(c, named):
        # The question asks about one participant: their own turn (or one naming them) wins
        # when it scores close to the best; otherwise the evidence is about someone else.
        alt = next(((s, o, g) for s, o, g in ranked[0] if _about(o, named) and s >= score - SPEAKER_MARGIN), None)
        if alt is not None:
            score, c, sig = alt
    ex = _dated(c, parts[0] if len(parts) > 1 else question, score, sig)
    kind = aggregate_kind(question)
    if kind is not None:
        return _mismatch(_aggregate(ex, ranked[0], kind), named)
    for more in ranked[1:]:
        # The best evidence for the next part, unless the first answer already holds it.
        other = next(((s, o) for s, o, _ in more if o.text not in c.text and c.text not in o.text), None)
        if other is None or other[0] < score / 2:
            continue
        add = other[1]
        if len(ex.answer) + len(add.text) + 1 <= MAX_ANSWER_CHARS:
            ex.answer = f"{ex.answer} {add.text}"
            ex.sentence = f"{ex.sentence} {add.text}"
    return _mismatch(ex, named)


AGGREGATE_MARGIN = 0.3  # evidence scoring within this of the best counts as another occurrence
AGGREGATE_MAX = 5


def _aggregate(ex: Extract, ranked: list[tuple[float, Candidate, dict]], kind: str) -> Extract:
    """"How many times…" and "what activities…": every distinct piece of evidence that scores
    close to the best one and shares the question's words (one per unit or turn; by the same
    speaker as the best in conversations)."""
    best_score, best, _ = ranked[0]
    seen_units: set[str] = set()
    picked: list[Candidate] = []
    for score, c, sig in ranked:
        if score < best_score - AGGREGATE_MARGIN or len(picked) >= AGGREGATE_MAX:
            break
        if sig["overlap"] == 0:
            continue
        unit = c.excerpt.first.unit_id + (c.date or "")
        if c.pair or unit in seen_units or (best.speaker and c.speaker != best.speaker):
            continue
        seen_units.add(unit)
        picked.append(c)
    if len(picked) < 2:
        return ex
    items = "; ".join(c.text for c in picked)
    ex.answer = f"{len(picked)} times: {items}" if kind == "count" else items
    ex.answer = ex.answer if len(ex.answer) <= MAX_ANSWER_CHARS else ex.answer[:MAX_ANSWER_CHARS - 1].rstrip() + "…"
    ex.sentence = items
    return ex


SPEAKER_MARGIN = 0.3  # how much lower the named speaker's own turn may score and still be preferred


def _named_speaker(question: str, excerpts: Sequence[Excerpt]) -> str | None:
    """The one conversation participant the question names, if any."""
    speakers = {m.group(2).strip() for ex in excerpts for line in ex.text.splitlines()
                if (m := _TURN_PREFIX.match(line.strip()))}
    named = [sp for sp in speakers if re.search(rf"\b{re.escape(sp)}\b", question, re.I)]
    return named[0] if len(named) == 1 else None


def _about(c: Candidate, person: str) -> bool:
    return not c.speaker or c.speaker == person or re.search(rf"\b{re.escape(person)}\b", c.text, re.I) is not None


def _mismatch(ex: Extract, named: str | None) -> Extract:
    """Mark evidence said by someone other than the participant the question names, unless it
    mentions them (conversations only): the asker abstains on it."""
    if named and ex.speaker and named != ex.speaker and not re.search(rf"\b{re.escape(named)}\b", ex.sentence, re.I):
        ex.other_speaker = named
    return ex
