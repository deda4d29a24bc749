"""Questions about time, answered from the units' dates (issue #37).

- "What did I do on 12 April?", "What happened in September 2025?", "What changed since
  last month?": the units dated in that range (ingest/dates.py), in time order, each with its
  date. A day or month without a year is the latest one memory holds ("12 April": last year's
  if this year's has nothing).
- "When did I last service the boiler?", "When did we first …?": among the units about it,
  the latest (or earliest) dated one, answered with its date.

Anything else goes down the usual pipeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from memcli.text import STOP

# A question about the user's own days, with the time right after the verb ("what did I do on
# 12 April", "what happened in September"); "what happened to John's job in August" is not one.
_SCOPED = re.compile(r"^\s*(?:so\s+)?what\s+(?:did\s+(?:i|we)\s+(?:do|write|note|log)|happened|changed|"
                     r"was\s+(?:i|we)\s+(?:doing|up to)|went on)\s+(?:on|in|during|since|between|over|last|this)\b", re.I)
# "When did I last …", "when was the first time we …": last/first is when, not which
# ("when did John have his first call-out" asks for a date, down the usual pipeline).
_WHEN = re.compile(r"^\s*when\s+(?:(?:did|have|had)\s+(?:i|we)\s+(?:last|first)|"
                   r"was\s+the\s+(?:last|first)\s+time\s+(?:i|we))\b", re.I)
_LAST = re.compile(r"\b(?:last|latest|most recently|recently)\b", re.I)
_FIRST = re.compile(r"\b(?:first|earliest)\b", re.I)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_MONTH = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.I)
_WORD = re.compile(r"[a-z0-9]+")
_FILLER = STOP | {"when", "did", "last", "first", "latest", "earliest", "time", "most", "recently", "ever",
                  "i", "we", "my", "our", "the", "a", "what", "happened", "changed", "doing", "since", "during"}


@dataclass(frozen=True)
class TimeQuestion:
    kind: str  # "range": what happened then | "last" | "first": when did … (last/first)
    since: datetime | None = None
    until: datetime | None = None
    yearless: bool = False  # "12 April": the year is memory's latest such day
    topic: str = ""


def time_question(question: str, now: datetime | None = None) -> TimeQuestion | None:
    from memcli.retrieve.timeparse import parse_time_expression

    if _SCOPED.match(question):
        tr = parse_time_expression(question, now)
        if tr is None:
            return None
        said = tr.text or ""
        # "12 April" names a day of some year; "last month" is already relative to now.
        return TimeQuestion("range", tr.since, tr.until, yearless=bool(_MONTH.search(said)) and not _YEAR.search(said),
                            topic=topic_words(question.replace(tr.text or "", " ")))
    if _WHEN.match(question) and (_LAST.search(question) or _FIRST.search(question)):
        topic = topic_words(question)
        if topic:
            return TimeQuestion("first" if _FIRST.search(question) and not _LAST.search(question) else "last",
                                topic=topic)
    return None


def topic_words(text: str) -> str:
    return " ".join(w for w in _WORD.findall(text.lower()) if w not in _FILLER and len(w) > 2)


def about(text: str, topic: str) -> float:
    """The share of the topic's words (or their first five letters: "service" ~ "serviced")
    that ``text`` holds."""
    words = topic.split()
    if not words:
        return 1.0
    have = set(_WORD.findall(text.lower()))
    stems = {w[:5] for w in have}
    return sum(1 for w in words if w in have or w[:5] in stems) / len(words)


def shifted_years(tq: TimeQuestion, years: int) -> TimeQuestion:
    def back(t):
        try:
            return t.replace(year=t.year - years) if t else t
        except ValueError:  # 29 February
            return t.replace(year=t.year - years, day=28) if t else t
    return TimeQuestion(tq.kind, back(tq.since), back(tq.until), tq.yearless, tq.topic)


def when_text(t: datetime) -> str:
    return f"{t.day} {t:%B %Y}"
