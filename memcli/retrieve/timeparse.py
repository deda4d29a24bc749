"""Time expressions in questions ("last March", "in 2022", "two weeks ago", "before May")
become a range on event time, relative to now or to ``as_of``.

dateparser finds the expression and a point in time; the wording decides the span (a year,
a month, a week or a day) and the direction ("before"/"until" -> up to its start,
"after"/"since" -> from its start).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

_MONTHS = "january february march april may june july august september october november december"
_MONTH_RE = re.compile(r"\b(" + "|".join(_MONTHS.split() + [m[:3] for m in _MONTHS.split()]) + r")\b", re.I)
_YEAR_RE = re.compile(r"\b(19|20)\d{2}\b")
_DAYNUM_RE = re.compile(r"\b\d{1,2}(st|nd|rd|th)?\b")
_BEFORE = re.compile(r"\b(before|until|till|prior to|by)\s*$", re.I)
_AFTER = re.compile(r"\b(after|since|from)\s*$", re.I)
# Words dateparser would read as dates but that are not time expressions in questions.
_NOISE = {"may", "march", "sat", "sun", "mon", "wed", "now", "today"}
# Every time expression dateparser finds in English holds a digit or one of these words; a
# question with neither skips dateparser, whose first call costs ~0.4 s of regex building in
# a cold process (most questions name no time at all).
_TIME_WORD = re.compile(
    r"\d|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)"
    r"[a-z]*\b|\b(ago|yesterday|today|tomorrow|tonight|now|noon|midnight|second|minute|hour|day|week"
    r"|weekend|fortnight|month|year|decade|century|last|next|this|morning|evening|afternoon|night)s?\b", re.I)


@dataclass(frozen=True)
class TimeRange:
    since: datetime | None
    until: datetime | None
    text: str


def _span(text: str, dt: datetime) -> tuple[datetime, datetime]:
    t = text.lower()
    if "week" in t:
        start = dt - timedelta(days=dt.weekday()) if "last week" in t or "this week" in t else dt
        return start, start + timedelta(days=7)
    if "year" in t or (_YEAR_RE.search(t) and not _MONTH_RE.search(t)):
        return dt.replace(month=1, day=1), dt.replace(month=12, day=31) + timedelta(days=1)
    if "month" in t or (_MONTH_RE.search(t) and not _DAYNUM_RE.search(_YEAR_RE.sub("", t))):
        last = calendar.monthrange(dt.year, dt.month)[1]
        return dt.replace(day=1), dt.replace(day=last) + timedelta(days=1)
    return dt, dt + timedelta(days=1)


def mentions_time(query: str) -> bool:
    """Whether ``query`` could hold a time expression at all (a cheap superset test)."""
    return _TIME_WORD.search(query) is not None


def parse_time_expression(query: str, now: datetime | None = None) -> TimeRange | None:
    if not mentions_time(query):
        return None
    from dateparser.search import search_dates

    base = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)
    found = search_dates(query, languages=["en"], settings={
        "RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False})
    for text, dt in found or []:
        if text.strip().lower() in _NOISE and not re.search(r"\b(in|last|this|before|after|since)\s+" + re.escape(text),
                                                             query, re.I):
            continue  # "may" as a verb, a bare "March" without context
        start, end = _span(text, dt.replace(hour=0, minute=0, second=0, microsecond=0))
        start, end = start.replace(tzinfo=timezone.utc), end.replace(tzinfo=timezone.utc)
        before = query[: query.lower().find(text.lower())]
        if _BEFORE.search(before):
            return TimeRange(None, start, text)
        if _AFTER.search(before):
            return TimeRange(start, None, text)
        return TimeRange(start, end, text)
    return None
