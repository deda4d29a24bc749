"""Dates written in evidence: the answer to a "when" question.

A date written in the sentence wins over the timestamp of the turn that holds it ("my passport
expires on 14 August 2025", said on 2 March 2024). Relative expressions ("yesterday", "last
week", "next Friday", "two years ago") resolve against the turn's date. Only when the sentence
names no time at all is the turn's own date the answer. Plain regexes rather than dateparser's
search: the phrasings people use for events are few, and this runs on every `mem ask`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december"]
_MON = {m: i + 1 for i, m in enumerate(MONTHS)} | {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
_MON_RE = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DAY_RE = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR_RE = r"((?:19|20)\d{2})"
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_NUM = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
        "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3}

_EXPLICIT = [
    ("iso", re.compile(r"\b" + _YEAR_RE + r"-(\d{2})-(\d{2})\b")),
    ("dmy", re.compile(r"\b" + _DAY_RE + r"\s+(?:of\s+)?" + _MON_RE + r"\.?,?\s+" + _YEAR_RE + r"\b", re.I)),
    ("mdy", re.compile(r"\b" + _MON_RE + r"\.?\s+" + _DAY_RE + r",?\s+" + _YEAR_RE + r"\b", re.I)),
    ("my", re.compile(r"\b" + _MON_RE + r"\.?,?\s+(?:of\s+)?" + _YEAR_RE + r"\b", re.I)),
    ("dm", re.compile(r"\b" + _DAY_RE + r"\s+(?:of\s+)?" + _MON_RE + r"\b(?!\s*,?\s*(?:19|20)\d{2})", re.I)),
    ("md", re.compile(r"\b" + _MON_RE + r"\.?\s+" + _DAY_RE + r"\b(?!\s*,?\s*(?:19|20)\d{2})", re.I)),
    ("y", re.compile(r"\b(?:in|since|until|by|during|of)\s+" + _YEAR_RE + r"\b", re.I)),
]
_RELATIVE = re.compile(
    r"\b(yesterday|today|tonight|tomorrow|this morning|this evening|last night"
    r"|(last|this|next|past)\s+(week(?:end)?|month|year|summer|winter|spring|fall|autumn|" + "|".join(_WEEKDAYS) + r")"
    r"|(a|an|one|two|three|four|five|six|seven|eight|nine|ten|couple of|few|\d+)\s+(day|week|month|year)s?\s+(ago|later|from now)"
    r"|(?:on\s+)?(" + "|".join(_WEEKDAYS) + r"))\b", re.I)


@dataclass(frozen=True)
class FoundDate:
    text: str  # as written in the evidence
    answer: str  # how the answer states it ("14 August 2025", "the week before 8 May 2023")
    start: int
    end: int


def fmt_day(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def month_number(name: str) -> int:
    n = name.lower().rstrip(".")
    return _MON.get(n, _MON.get(n[:3], 0))


def _explicit(sentence: str, base: date | None) -> FoundDate | None:
    for kind, rx in _EXPLICIT:
        m = rx.search(sentence)
        if not m:
            continue
        g = m.groups()
        try:
            if kind == "iso":
                text = fmt_day(date(int(g[0]), int(g[1]), int(g[2])))
            elif kind == "dmy":
                text = fmt_day(date(int(g[2]), month_number(g[1]), int(g[0])))
            elif kind == "mdy":
                text = fmt_day(date(int(g[2]), month_number(g[0]), int(g[1])))
            elif kind == "my":
                text = f"{calendar.month_name[month_number(g[0])]} {g[1]}"
            elif kind in ("dm", "md"):
                day, mon = (g[0], g[1]) if kind == "dm" else (g[1], g[0])
                year = base.year if base else None
                text = fmt_day(date(year, month_number(mon), int(day))) if year else f"{int(day)} {calendar.month_name[month_number(mon)]}"
            else:
                text = g[0]
        except ValueError:
            continue  # "31 February", "April 42"
        return FoundDate(m.group(0), text, m.start(), m.end())
    return None


def _relative(sentence: str, base: date) -> FoundDate | None:
    m = _RELATIVE.search(sentence)
    if not m:
        return None
    t = m.group(0).lower()
    words = t.split()
    if t in ("today", "tonight", "this morning", "this evening"):
        return FoundDate(m.group(0), fmt_day(base), m.start(), m.end())
    if t in ("yesterday", "last night"):
        return FoundDate(m.group(0), fmt_day(base - timedelta(days=1)), m.start(), m.end())
    if t == "tomorrow":
        return FoundDate(m.group(0), fmt_day(base + timedelta(days=1)), m.start(), m.end())
    if words[-1] in ("ago", "later", "now"):
        raw = m.group(4).lower()
        n = int(raw) if raw.isdigit() else _NUM.get(raw, 1)
        unit = m.group(5).lower()
        sign = -1 if words[-1] == "ago" else 1
        if unit == "day":
            return FoundDate(m.group(0), fmt_day(base + sign * timedelta(days=n)), m.start(), m.end())
        if unit == "week":
            return FoundDate(m.group(0), f"the week of {fmt_day(base + sign * timedelta(weeks=n))}", m.start(), m.end())
        if unit == "month":
            y, mo = divmod(base.month - 1 + sign * n, 12)
            return FoundDate(m.group(0), f"{calendar.month_name[mo + 1]} {base.year + y}", m.start(), m.end())
        return FoundDate(m.group(0), str(base.year + sign * n), m.start(), m.end())
    if m.group(2):
        which, what = m.group(2).lower(), m.group(3).lower()
        shift = {"last": -1, "past": -1, "this": 0, "next": 1}[which]
        if what in _WEEKDAYS:
            target = _WEEKDAYS.index(what)
            delta = (target - base.weekday()) % 7
            if shift < 0:
                delta = delta - 7 if delta > 0 else -7
            elif shift > 0:
                delta = delta if delta > 0 else 7
            return FoundDate(m.group(0), fmt_day(base + timedelta(days=delta)), m.start(), m.end())
        if what in ("week", "weekend"):
            label = "weekend" if what == "weekend" else "week"
            rel = {-1: "before", 0: "of", 1: "after"}[shift]
            return FoundDate(m.group(0), f"the {label} {rel} {fmt_day(base)}", m.start(), m.end())
        if what == "month":
            y, mo = divmod(base.month - 1 + shift, 12)
            return FoundDate(m.group(0), f"{calendar.month_name[mo + 1]} {base.year + y}", m.start(), m.end())
        if what == "year":
            return FoundDate(m.group(0), str(base.year + shift), m.start(), m.end())
        return FoundDate(m.group(0), f"{what} {base.year + (shift if what != 'winter' else 0)}", m.start(), m.end())
    day = m.group(7).lower()  # a bare weekday: the latest one up to the turn's date
    delta = (_WEEKDAYS.index(day) - base.weekday()) % 7
    return FoundDate(m.group(0), fmt_day(base - timedelta(days=(7 - delta) % 7)), m.start(), m.end())


def date_in(sentence: str, turn_date: str | None = None) -> FoundDate | None:
    """The date a sentence states: written explicitly, else relative to ``turn_date`` (ISO)."""
    base = None
    if turn_date:
        try:
            base = date.fromisoformat(turn_date[:10])
        except ValueError:
            base = None
    found = _explicit(sentence, base)
    if found is None and base is not None:
        found = _relative(sentence, base)
    return found


def has_time_expression(sentence: str) -> bool:
    return _explicit(sentence, None) is not None or _RELATIVE.search(sentence) is not None
