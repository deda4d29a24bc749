"""The extractive answer, one straight line:

    excerpts → candidates (stage 1) → cheap shortlist (2) → reader (3) → span (4) → Extract

Refusal (stage 5, memcli.answer.refusal) is the asker's, since it needs the memory's term
statistics. The cheap hand ranker orders every candidate; the best few per question part go
to the reader (memcli.answer.reader: a cross-encoder trained here, P(this line answers)),
which picks among them. Without the shipped reader (or with ``llm.pick: hand``) the
shortlist is encoded instead and the full hand ranker picks with the question–sentence
similarity added. The span head (stage 4) then reads the pick's line and the next best few
together with the question; a line where it finds the asked-for short answer more surely wins.
Compound questions get one sentence per part; "how many times" / listing questions gather
every close piece of evidence; conversation questions that name one participant prefer that
participant's own turn.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from memcli.answer.candidates import (TURN_PREFIX, Candidate, addressed, candidates, pool as candidate_pool, split_question,
                                      terms, unaddressed)
from memcli.answer.context import Excerpt
from memcli.answer.dates import date_in, fmt_day, has_time_expression
from memcli.answer.features import table
from memcli.answer.qtypes import aggregate_kind, question_type, type_fit
from memcli.answer.policy import HAND as HAND_POLICY, AnswerPolicy, for_reader
from memcli.answer.ranker import Ranker, load
from memcli.answer.span import answer_span
from memcli.retrieve.speakers import names


def is_when_question(question: str) -> bool:
    return question_type(question) == "when"


def format_date(iso: str) -> str:
    from datetime import date

    return fmt_day(date.fromisoformat(iso[:10]))


@dataclass
class Scored:
    score: float
    cand: Candidate
    features: dict[str, float]


@dataclass
class Extract:
    sentence: str  # the evidence
    excerpt: Excerpt
    score: float
    date: str | None  # the evidence's date: written in it, else the turn's
    answer: str = ""  # the answer line: a date for "when" questions, a value, else the sentence
    span: tuple[int, int] | None = None  # where the answer sits in the sentence
    speaker: str | None = None
    signals: dict | None = None
    # The participant the question names, when the evidence is about someone else: said by
    # another who does not name them ("What did Melanie realise after the race?" from
    # Caroline's turn), or their own words about the one they talk to.
    other_speaker: str | None = None
    ranked: list[Scored] = field(default_factory=list)  # the feature table, best first (--explain)
    also: list[Excerpt] = field(default_factory=list)  # where further lines joined into the answer come from


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n else v


def _ranked(ranker_model, question: str, part: str, cands: list[Candidate], sims, top: float) -> list[Scored]:
    X, names = table(question, question_type(part), cands, sims, top)
    s = ranker_model.score(X, names)
    out = [Scored(float(v), c, dict(zip(names, map(float, x)))) for v, c, x in zip(s, cands, X)]
    out.sort(key=lambda x: -x.score)
    return out


@dataclass(frozen=True)
class Pick:
    """What picks the evidence: the hand (or fitted) ranker, and the reader when it ships."""

    name: str  # reader | hand
    ranker: Ranker  # its cheap model orders every candidate (the shortlist)
    policy: AnswerPolicy
    reader: object | None = None  # memcli.answer.reader.Reader
    span: object | None = None  # memcli.answer.span_head.SpanHead: the short answer inside the line


def load_pick(kind: str = "hand", span: str = "head") -> Pick:
    """``reader`` falls back to the hand weights when the reader's file or its base model is
    missing; ``span`` "head" to span.py's rules alone when the span head's file or base is."""
    from dataclasses import replace

    head = None
    if span == "head":
        from memcli.answer.span_head import load as load_span

        head = load_span()
    if kind == "reader":
        from memcli.answer.reader import load as load_reader

        reader = load_reader()
        if reader is not None:
            return Pick("reader", Ranker.hand(), for_reader(reader.threshold), reader, head)
    return replace(_as_pick(None), span=head)


def _as_pick(ranker: "Ranker | Pick | None") -> Pick:
    """A Pick as given, or the hand pick around a (hand) ranker."""
    if isinstance(ranker, Pick):
        return ranker
    ranker = ranker or load()
    return Pick(ranker.name, ranker, HAND_POLICY)


def _shortlist(cheap: list[list[Scored]], n: int) -> list[Candidate]:
    short: list[Candidate] = []
    for ranked in cheap:
        for r in ranked[:n]:
            if all(r.cand is not o for o in short):
                short.append(r.cand)
    return short


def score_candidates(question: str, excerpts: Sequence[Excerpt], embed: Callable[[list[str]], np.ndarray] | None = None,
                     parts: Sequence[str] | None = None, ranker: "Ranker | Pick | None" = None) -> list[list[Scored]]:
    """Candidates ranked for the whole question, then for each further part of a compound one."""
    if not set(terms(question)):
        return []
    pick = _as_pick(ranker)
    cands = candidate_pool(question, excerpts)
    if not cands:
        return []
    top = max((e.score for e in excerpts), default=0.0) or 1.0
    parts = list(parts or [question])
    # Later parts ("and what's the catch?") lean on the first for their subject.
    texts = [question] + [f"{p} {parts[0]}" for p in parts[1:]]
    cheap = [_ranked(pick.ranker.cheap, text, part, cands, None, top) for text, part in zip(texts, parts)]
    if pick.reader is not None:
        from memcli.answer.reader import candidate_text

        short = _shortlist(cheap, pick.policy.shortlist)
        # The reader adds to MiniLM's question-line cosine and the cheap score: both go in.
        cos = np.zeros((len(texts), len(short)), np.float32)
        if embed is not None and short:
            vecs = embed(texts + [candidate_text(c) for c in short])
            cos = np.asarray(vecs[:len(texts)]) @ np.asarray(vecs[len(texts):]).T
        out = []
        for i, (text, ranked_cheap) in enumerate(zip(texts, cheap)):
            by_cand = {id(r.cand): r for r in ranked_cheap}
            scores = [by_cand[id(c)].score for c in short]
            p = pick.reader.score(text, short, cos[i], scores)
            ranked = [Scored(float(v), c, {"reader": float(v), "similarity": float(s)} | by_cand[id(c)].features)
                      for v, c, s in zip(p, short, cos[i])]
            ranked.sort(key=lambda x: -x.score)
            out.append(ranked)
        return out
    if embed is None:
        return cheap
    # Encoding is the cost (MiniLM is compute-bound: ~1 s per 2,000 tokens on 2 cores), so only
    # the cheap ranker's best few per part are encoded and ranked again with similarity.
    short = _shortlist(cheap, pick.policy.shortlist)
    ranker = pick.ranker
    # Sentences are encoded once each; a pair's vector is the sum of its two sentences'
    # (normalised), which keeps the batch short (padding follows the longest text).
    pieces = {s: None for c in short for s in (c.parts or [c.text])}
    vecs = embed(texts + list(pieces))
    qv = vecs[:len(texts)]
    for s_, v in zip(pieces, vecs[len(texts):]):
        pieces[s_] = v
    cv = np.stack([_unit(sum(pieces[s_] for s_ in (c.parts or [c.text]))) for c in short])
    return [_ranked(ranker.full, text, part, short, cv @ qv[i], top) for i, (text, part) in enumerate(zip(texts, parts))]


def _read_lines(best: Scored, ranked: list[Scored], question: str, head, policy: AnswerPolicy,
                named: str | None) -> tuple[Scored, tuple | None]:
    """The span head reads the picked line and the next few together with the question: a line
    where it finds the short answer the question asks for beats one where it finds none, or a
    weaker one. The ranker judges lines from the outside (words, rarity, similarity); the head
    reads them, so the topical line that only talks about the subject gives way to the line that
    states the answer. Returns the line and the head's read of it (None: not read)."""
    if head is None or is_when_question(question):
        # A "when" is answered by a date, often the note's or the turn's own, which the head
        # does not see: the ranker's line stands.
        return best, None
    # Another line, not the pick's own sentence inside a pair (or the pick's pair around it).
    pool = [best] + [r for r in ranked[:policy.head_lines]
                     if r.cand.text not in best.cand.text and best.cand.text not in r.cand.text
                     and (named is None or _about(r.cand, named))]
    reads = head.best_many(question, [r.cand.text for r in pool])
    qtype = question_type(question)
    # The picked line's own gain is the bar, whatever its span's form: a line the head reads as
    # answering keeps its place unless another answers more surely.
    bar = max(reads[0][1], head.margin)
    alt = max((i for i in range(1, len(pool)) if _shown(head, question, qtype, pool[i].cand.text, reads[i])),
              key=lambda i: reads[i][1], default=None)
    if alt is not None and reads[alt][1] > bar:
        return pool[alt], reads[alt]
    return best, reads[0]


def _dated(r: Scored, question: str, head=None, read: tuple | None = None) -> Extract:
    c = r.cand
    turn_date = c.date or (c.excerpt.first.event_time or "")[:10] or None
    found = date_in(c.text, turn_date)
    ex = Extract(c.text, c.excerpt, r.score, found.answer if found else turn_date, answer=c.text,
                 speaker=c.speaker, signals=r.features)
    if is_when_question(question):
        if found is not None:
            ex.answer, ex.span = found.answer, (found.start, found.end)
        elif c.date:
            ex.answer = format_date(c.date)  # nothing written: the turn's own date
        return ex
    grounded = max(r.features.get("overlap", 0.0), r.features.get("context", 0.0))
    # The rules where they fire (the one new name, number, version, default: precise on what
    # they know), the head for the rest (the phrase an open "what" asks for).
    qtype = question_type(question)
    span = answer_span(qtype, c.text, question, grounded)
    if span is None and head is not None:
        read = read if read is not None else head.best(question, c.text)
        if _shown(head, question, qtype, c.text, read):
            span = read[0]
    if span is not None:
        ex.answer, ex.span = c.text[span[0]:span[1]].strip(" ,.;:"), span
    return ex


def _shown(head, question: str, qtype: str | None, line: str, read: tuple, margin: float | None = None) -> bool:
    """Whether the head's read of ``line`` (its best span and gain) is a short answer to show:
    the head allows it (over its margin, or ``margin``) and it is of the kind the question asks for."""
    got, gain = read
    return head.allows(question, line, got, gain, margin) and _kind_fits(qtype, line[got[0]:got[1]], question)


def _kind_fits(qtype: str | None, short: str, question: str) -> bool:
    """A short answer of the kind the question asks for: a "how much" a number, a "which
    flag" a code term, a "who" someone (anyone but a date: "her mentor" is a who)."""
    if qtype in ("number", "term"):
        return type_fit(qtype, short, question) > 0
    if qtype == "who":
        return not has_time_expression(short) and re.search(r"[^\W\d]", short) is not None
    return True


def best_sentence(question: str, excerpts: Sequence[Excerpt], embed: Callable[[list[str]], np.ndarray] | None = None,
                  ranker: "Ranker | Pick | None" = None) -> Extract | None:
    pick = _as_pick(ranker)
    policy = pick.policy
    parts = split_question(question)
    ranked = score_candidates(question, excerpts, embed, parts, pick)
    if not ranked or not ranked[0]:
        return None
    best = ranked[0][0]
    named = _named_speaker(question, excerpts)
    if named and not _about(best.cand, named):
        # The question asks about one participant: their own turn (or one naming them) wins
        # when it scores close to the best; otherwise the evidence is about someone else.
        alt = next((r for r in ranked[0] if _about(r.cand, named) and r.score >= best.score - policy.speaker_margin), None)
        if alt is not None:
            best = alt
    first = parts[0] if len(parts) > 1 else question
    kind = aggregate_kind(question)
    read = None
    if kind is None:
        best, read = _read_lines(best, ranked[0], first, pick.span, policy, named)
    ex = _dated(best, first, pick.span, read)
    ex.ranked = ranked[0]
    if kind is not None:
        return _mismatch(_aggregate(ex, ranked[0], kind, policy), named, question)
    c = best.cand
    for more in ranked[1:]:
        # The best evidence for the next part, unless the first answer already holds it.
        other = next((r for r in more if r.cand.text not in c.text and c.text not in r.cand.text), None)
        if other is None or other.score < best.score - policy.speaker_margin * policy.part_margins:
            continue
        add = other.cand
        if len(ex.answer) + len(add.text) + 1 <= policy.max_answer_chars:
            # A short answer with another part's sentence after it reads as one run-on line:
            # the two parts are then the two sentences.
            ex.answer = f"{ex.sentence if ex.span else ex.answer} {add.text}"
            ex.sentence = f"{ex.sentence} {add.text}"
            ex.span = None
            ex.also.append(add.excerpt)
    return _mismatch(ex, named, question)


# "based in what state?", "what Australian city?", "which crime family?": the kind asked for.
_ASKED_KIND = re.compile(r"\b(?:what|which)\s+(?!(?:is|are|was|were|did|does|do|has|have|had|can|could|will|would)\b)"
                         r"((?:[A-Za-z][\w-]*\s+){0,2}?)([a-z][\w-]*)"
                         r"(?=\s+(?:is|are|was|were|did|does|do|has|have|had|in|of|that|for|to)\b|\s*\?|$)", re.I)


def asked_kind(question: str) -> str | None:
    """The noun of a "what X" / "which X" question ("state", "city", "genre"), or None."""
    m = _ASKED_KIND.search(question)
    return m.group(2).lower() if m else None


def onward(question: str, best: Extract, excerpts: Sequence[Excerpt], head) -> tuple[str, Extract] | None:
    """(the name, the line that answers) when the line's short answer names the subject of
    another note in the context, which then answers the question: asked "From 1945 Dick
    Humbert played for an NFL team based in what state?", the first line gives *Philadelphia
    Eagles*, and the Eagles' own note says where they are based. The span head reads that
    note's lines; its surest short answer of the asked-for kind, other than the name, wins.
    When the question asks for a kind of thing ("what state") that the name's own note does
    not say it is (the Eagles are a franchise, not a state), the name is surely not the
    answer, so the head's best read there is taken even under its calibrated margin; a name
    whose note says it is one ("The Aristocats is a 1970 animated film", asked "in what
    film") stays the answer unless the head reads a surer one."""
    from memcli.answer.compare import mentions
    from memcli.text import WORD, stem_key

    qtype = question_type(question)
    if head is None or not best.span or qtype in ("when", "who"):
        return None  # a "who" answered with a name is answered ("Who is the director of X?")
    name = best.answer
    pages = [ex for ex in excerpts if ex is not best.excerpt and (title := ex.first.title)
             and not mentions(question, title) and (mentions(name, title) or mentions(title, name))]
    cands = [c for ex in pages for c in candidates(ex) if not c.pair][:12]
    if not cands:
        return None
    kind = asked_kind(question)
    defining = cands[0].text  # the first line of the name's own note
    other_kind = kind is not None and stem_key(kind) not in {stem_key(w) for w in WORD.findall(defining)}
    reads = head.best_many(question, [c.text for c in cands])
    margin = -math.inf if other_kind else None  # None: the head's own calibrated margin
    ok = [(read[1], i) for i, read in enumerate(reads)
          if _shown(head, question, qtype, cands[i].text, read, margin)
          and not mentions(cands[i].text[read[0][0]:read[0][1]], name)]
    if not ok:
        return None
    _, i = max(ok)
    c, (a, b) = cands[i], reads[i][0]
    return name, Extract(c.text, c.excerpt, best.score, None, answer=c.text[a:b].strip(" ,.;:"), span=(a, b))


def _aggregate(ex: Extract, ranked: list[Scored], kind: str, policy: AnswerPolicy) -> Extract:
    """"How many times…" and "what activities…": every distinct piece of evidence that scores
    close to the best one and shares the question's words (one per unit or turn; by the same
    speaker as the best in conversations)."""
    best = ranked[0]
    seen_units: set[str] = set()
    picked: list[Candidate] = []
    for r in ranked:
        if r.score < best.score - policy.aggregate_margin or len(picked) >= policy.aggregate_max:
            break
        c = r.cand
        if r.features.get("overlap", 0.0) == 0:
            continue
        unit = c.excerpt.first.unit_id + (c.date or "")
        if c.pair or unit in seen_units or (best.cand.speaker and c.speaker != best.cand.speaker):
            continue
        seen_units.add(unit)
        picked.append(c)
    if len(picked) < 2:
        return ex
    items = "; ".join(c.text for c in picked)
    ex.answer = f"{len(picked)} times: {items}" if kind == "count" else items
    cap = policy.max_answer_chars
    ex.answer = ex.answer if len(ex.answer) <= cap else ex.answer[:cap - 1].rstrip() + "…"
    ex.sentence, ex.span = items, None
    ex.also = [c.excerpt for c in picked]
    return ex


def _named_speaker(question: str, excerpts: Sequence[Excerpt]) -> str | None:
    """The one conversation participant the question names, if any."""
    speakers = {m.group(2).strip() for ex in excerpts for line in ex.text.splitlines()
                if (m := TURN_PREFIX.match(line.strip()))}
    named = [sp for sp in speakers if names(question, sp)]
    return named[0] if len(named) == 1 else None


def _about(c: Candidate, person: str) -> bool:
    return not c.speaker or c.speaker == person or names(unaddressed(c.text), person)


def _mismatch(ex: Extract, named: str | None, question: str = "") -> Extract:
    """Mark evidence that is about someone other than the participant the question names
    (conversations only): said by someone else without naming them (a greeting is no naming),
    or their own turn about the one they talk to. The asker abstains on it."""
    if named and ex.speaker and named != ex.speaker and not names(unaddressed(ex.sentence), named):
        ex.other_speaker = named
    elif named and ex.speaker == named and question_type(question) not in ("who", "when") \
            and _to_the_other(ex.sentence, named):
        # Their own turn, but about the one they talk to: "That charity race sounds great,
        # Mel!" is Melanie's race, not Caroline's. (A "who" may be answered by the name they
        # call, "Thanks for the invite, Joanna!"; a "when" by the turn's date.)
        ex.other_speaker = named
    return ex


_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|myself|we|we're|we've|us|our|ours)\b", re.I)


def _to_the_other(text: str, speaker: str) -> bool:
    """A turn that speaks to someone else about them: it calls another by name and says
    nothing of its speaker (no I, my, we). ("your" alone was tried: LoCoMo category 5 refused
    0.62, but 6.5 % of answerable questions refused.)"""
    if _FIRST_PERSON.search(text):
        return False
    others = [text[a:b] for a, b in addressed(text) if not names(text[a:b], speaker)]
    return bool(others)
