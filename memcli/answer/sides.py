"""Reading each side of a question about two things (memcli.answer.compare reads the question).

"Who lived longer, A or B?", "Which film has the director who was born first, A or B?", "Are
A and B both painters?", "Are A and B in the same country?": no one line answers these, so each
side is looked up and read on its own note — its date, its defining sentence, the value the
span head reads there — through the person the question names it by when it does ("the film's
director"). The asker searches; this module decides what to read and how the two compare.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from memcli.answer.candidates import candidates
from memcli.answer.compare import (agreement, comparison, dated_mention, decide, defining, holds, mentions,
                                   value_words)
from memcli.answer.context import Excerpt
from memcli.answer.hops import family_name, named_by
from memcli.answer.pick import Extract

# "St. Petersburg" goes on to ", Russia": the rest of a place's comma list.
_PLACE_LIST = re.compile(r"(?:,\s+[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)+")


@dataclass(frozen=True)
class Hop:
    """How a side was reached through someone: the name, the line naming them, the question."""
    name: str
    line: Extract
    question: str


@dataclass(frozen=True)
class Side:
    text: str  # the line read
    excerpt: Excerpt  # where it is
    via: Hop | None = None


@dataclass(frozen=True)
class Versus:
    answer: str  # the side that wins, or "Yes" / "No"
    sides: list[Side]
    note: str  # what was compared, in words


class Sides:
    def __init__(self, excerpts: Callable[[str], list[Excerpt]], extract: Callable[[str], Extract | None]) -> None:
        self.excerpts = excerpts  # a query's context, as the asker builds it
        self.extract = extract  # a question's best line, as the asker picks it

    def answer(self, question: str) -> Versus | None:
        """The reading of a question about two things; None for any other question, or when
        memory cannot read both sides (the usual answer follows then)."""
        return self.compare(question) or self.agree(question)

    def bridge_name(self, question: str) -> tuple[str, Extract] | None:
        """(the name that answers "Who is the director of X?", its line), or None."""
        first = self.extract(question)
        if first is None:
            return None
        name = named_by(first.sentence, question) or (first.answer if first.span else None)
        if not name or len(name) > 60:
            return None
        return name, first

    def subject(self, side: str, role: str | None, question: str = "") -> tuple[str, Hop | None] | None:
        """Who or what a side is read as: the side itself, or its ``role`` ("the director of
        A") with the hop that named them; None when memory does not name them."""
        if not role:
            return side, None
        q = question or f"Who is the {role} of {side}?"
        got = self.named_on_page(q, side, role) or self.bridge_name(q)
        if got is None or not mentions(got[1].excerpt.text, side):
            return None  # memory's answer is about something else
        return got[0], Hop(got[0], got[1], q)

    def named_on_page(self, question: str, side: str, role: str) -> tuple[str, Extract] | None:
        """(name, its line) from the side's own note: the first line that says the role's verb
        and who ("It was directed by Robert North Bradbury"), not the note's first "by"
        ("produced by …") nor another note's; for a parent or a spouse, the line that says
        whose son or whose wife ("the second son of Lothair I and Ermengarde of Tours")."""
        def whole(name: str | None) -> bool:  # "S. R" is a name cut at its initials
            return bool(name) and not re.search(r"\b\w$", name)

        stem = role[:4].lower()
        own = None  # the side's own note, whose first line may say "a song by …" without a verb
        for ex in sorted(self.excerpts(question), key=lambda e: -e.score):
            if not mentions(ex.text, side):
                continue
            is_own = bool(ex.first.title) and mentions(ex.first.title, side)
            cands = candidates(ex)  # sentences, then pairs: "directed by S. R." goes on in a pair
            for c in cands:
                name = family_name(c.text, role) if is_own else None
                name = name or (named_by(c.text, question, stem) if stem in c.text.lower() else None)
                if whole(name):
                    return name, Extract(c.text, ex, 0.0, None)
            if own is None and is_own and cands:
                own = (cands[0], ex)
        if own is not None and whole(name := named_by(own[0].text, question, "kind")):
            return name, Extract(own[0].text, own[1], 0.0, None)
        return None

    def _both(self, names: tuple[str, str], role: str | None, read: Callable) -> list | None:
        """``read(name, subject, hop)`` of each side; None as soon as one side cannot be read."""
        out = []
        for name in names:
            got = self.subject(name, role)
            got = got and read(name, *got)
            if not got:
                return None
            out.append(got)
        return out

    def compare(self, question: str) -> Versus | None:
        """"Which came first / lived longer, A or B?" when memory dates both sides."""
        c = comparison(question)
        if c is None:
            return None

        def dated(name: str, subject: str, via: Hop | None):
            query = f"{subject} {'died' if c.died else 'born'}" if c.role else c.query(name)
            found = dated_mention(subject, self.excerpts(query), c.died, c.lifespan)
            return None if found is None else (name, *found, via)

        read = self._both((c.a, c.b), c.role, dated)
        winner = read and decide(c, [(name, key) for name, _, key, _ in read])
        if not winner:
            return None

        def said(name, key, via) -> str:
            if c.lifespan:
                return f"{name} lived {key[0] // 365} years"
            if via:
                return f"{name}: its {c.role} {via.name}, {'died' if c.died else 'born'} {key[0]}"
            return f"{name} {key[0]}"

        return Versus(winner, [Side(cand.text, cand.excerpt, via) for _, cand, _, via in read],
                      "compared: " + "; ".join(said(name, key, via) for name, _, key, via in read))

    def agree(self, question: str) -> Versus | None:
        """"Are A and B both P?" / "… in the same country?" when memory reads both sides."""
        y = agreement(question)
        if y is None:
            return None

        def reading(name: str, subject: str, via: Hop | None):
            found = defining(subject, self.excerpts(subject))
            if found is None:
                return None
            cand, lines = found
            if y.same:
                value = value_of(y.value_question(subject), lines, country=y.prop == "country")
            else:
                value = holds(cand.text, y.prop)
            return None if value is None else (subject, value, Side(cand.text, cand.excerpt, via))

        read = self._both((y.a, y.b), y.role, reading)
        if read is None:
            return None
        if y.same:
            words = [value_words(v, question) for _, v, _ in read]
            if not all(words):
                return None
            yes = bool(words[0] & words[1])
            note = f"compared, {y.prop}: " + "; ".join(f"{s} — {v}" for s, v, _ in read)
        else:
            yes = all(v for _, v, _ in read)
            note = f"checked, {y.prop}: " + "; ".join(f"{s} — {'yes' if v else 'not said'}" for s, v, _ in read)
        return Versus("Yes" if yes else "No", [side for _, _, side in read], note)


def value_of(question: str, lines: list[str], country: bool = False) -> str | None:
    """The short answer the span head reads in the first of ``lines`` that holds one; for a
    country, the last name of the place list it starts ("St. Petersburg, Russia")."""
    from memcli.answer.span_head import load

    head = load()
    for line in lines if head is not None else ():
        got = head.span(question, line)
        if got:
            more = _PLACE_LIST.match(line, got[1]) if country else None
            value = line[got[0]:more.end() if more else got[1]]
            return value.rsplit(",", 1)[-1].strip() if country else value
    return None
