"""When a unit happened, from the content itself (issue #37).

A person's folder dates things in the text, not in front matter: journal sections under
dated headings ("## 12 April", "### 2025-06-03", "Monday 3 June"), dated file names and
folders (``2023-11-02-boiler.md``, ``2025/06/…``, ``2025-04-spring.md``), a leading dated
line ("Invoice date: 28 April 2025", "Posted on …"). Each unit gets the most specific of
these, with where it came from (``time_source``):

    heading      a dated heading above the unit (the year from an enclosing heading, the
                 note's own dates, or its file name)
    front matter ``date`` / ``created`` / ``updated`` / ``modified`` (ISO or epoch ms); the
                 source names the key ("front matter updated": when it last changed)
    text         a dated line among the note's first lines
    file name    a date in the file's name or folders
    chat         a conversation turn's timestamp

A unit with none of these has no time. The file's modification time is never used: a
checkout, a copy or a sync gives every file the same minute, so it would date a whole
folder to the day it was copied.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

_MONTHS = {m: i + 1 for i, m in enumerate(
    "january february march april may june july august september october november december".split())}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MON = r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_WEEKDAY = r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?\.?,?\s+)?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
# One date, most specific first; ``year`` may be missing ("12 April").
_PATTERNS = [
    re.compile(rf"\b{_YEAR}-(?P<m>[01]\d)-(?P<d>[0-3]\d)\b"),
    re.compile(rf"\b{_WEEKDAY}{_DAY}\s+(?:of\s+)?{_MON}\.?(?:,?\s+{_YEAR})?\b", re.I),
    re.compile(rf"\b{_WEEKDAY}{_MON}\.?\s+{_DAY}(?:,?\s+{_YEAR})?\b", re.I),
]
_MONTH_YEAR = re.compile(rf"\b{_MON}\.?\s+{_YEAR}\b", re.I)
_ANY_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_FILE_DAY = re.compile(r"(?<!\d)((?:19|20)\d\d)[-_.]?([01]\d)[-_.]?([0-3]\d)(?!\d)")
_FILE_MONTH = re.compile(r"(?<!\d)((?:19|20)\d\d)[-_.]([01]\d)(?![\d])")
_LEADING = re.compile(r"^\W{0,3}[\w ]{0,30}?\b(?:date|dated|posted(?: on)?|published(?: on)?|written(?: on)?|"
                      r"created(?: on)?|updated(?: on)?|last updated|sent|issued(?: on)?|on)\b\s*[:\-–]?\s*", re.I)
LEADING_LINES = 5


def _utc(y: int, m: int, d: int = 1) -> datetime | None:
    try:
        return datetime(y, m, d, tzinfo=timezone.utc)
    except ValueError:
        return None


def find_date(text: str, year: int | None = None) -> tuple[datetime, int, int] | None:
    """The first full date in ``text`` (day precision), with its span; a date without a
    year takes ``year`` (none: no date)."""
    found = sorted((m for rx in _PATTERNS for m in rx.finditer(text)), key=lambda m: (m.start(), -m.end()))
    for m in found:  # the first that is a whole date ("0.10.14 May 7th, 2025": not "14 May")
        g = m.groupdict()
        if g.get("m"):
            t = _utc(int(g["year"]), int(g["m"]), int(g["d"]))
        else:
            y = int(g["year"]) if g.get("year") else year
            t = _utc(y, _MONTHS[g["mon"].lower().rstrip(".")], int(g["day"])) if y is not None else None
        if t is not None:
            return t, m.start(), m.end()
    return None


def heading_date(heading: str, year: int | None) -> datetime | None:
    """A dated heading: one that opens with a date ("12 April", "Monday 3 June",
    "2025-06-03 — boiler", "April 2025"), or holds a full date with its year anywhere
    ("Version 1.6.0 (2024-04-20)"). A yearless date inside a heading ("Plans for 12 April")
    does not date the section."""
    h = heading.strip().strip("#*_ ").strip()
    got = find_date(h, year)
    if got and got[1] <= 1:
        return got[0]
    full = find_date(h, None)
    if full:
        return full[0]
    return _month_year(_MONTH_YEAR.match(h))


def _month_year(m: re.Match | None) -> datetime | None:
    """The first of the month a "February 2025" match names."""
    return _utc(int(m.group("year")), _MONTHS[m.group("mon").lower().rstrip(".")]) if m else None


def heading_year(heading: str) -> int | None:
    """The year a heading sets for the dated headings below it ("# 2025", "## April 2025",
    "# Hive inspection log 2025"): a hint for "## 12 April", never a date by itself."""
    m = _ANY_YEAR.findall(heading)
    return int(m[-1]) if len(set(m)) == 1 else None


# A line that is only a date: an outliner's dated bullet ("- [[Mar 11th, 2022]]", Logseq),
# a bold date ("**12 April**"), a date alone on its line.
_DATE_LINE = re.compile(r"^\s*(?:[-*+]\s+)?(?:\*\*|__|\[\[)?([^\[\]*_]{4,40}?)(?:\*\*|__|\]\])?\s*:?\s*$")


_BULLET_HEADING = re.compile(r"^\s*[-*+]\s+#{1,6}\s+(.+)$")


def line_dates(text: str, year: int | None) -> list[tuple[int, datetime]]:
    """(line number, date) of the lines of ``text`` that date what follows them, as a dated
    heading would where an outliner or a plain journal writes none: a line that is nothing
    but a date ("- [[Mar 11th, 2022]]", "**12 April**"), or an outliner's heading bullet
    ("- ## Beta 0.10.2 [[Dec 22nd, 2023]]")."""
    out = []
    for i, line in enumerate(text.splitlines()):
        b = _BULLET_HEADING.match(line)
        if b:
            got = heading_date(b.group(1).replace("[[", "").replace("]]", ""), year)
            if got:
                out.append((i, got))
            continue
        m = _DATE_LINE.match(line)
        if m:
            got = find_date(m.group(1), year)
            if got and got[1] <= 1 and len(m.group(1)) - got[2] <= 2:
                out.append((i, got[0]))
    return out


def file_date(path: Path | str | None) -> datetime | None:
    """A date in the file's name, else in its last folders (``2025/06/03/``, ``2025/06/``)."""
    if not path:
        return None
    p = Path(path)
    m = _FILE_DAY.search(p.stem)
    if m:
        return _utc(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _FILE_MONTH.search(p.stem)
    if m:
        return _utc(int(m.group(1)), int(m.group(2)))
    parts = [x.name for x in list(p.parents)[:3]][::-1]
    joined = "/".join(parts)
    m = re.search(r"(?<!\d)((?:19|20)\d\d)/([01]\d)(?:/([0-3]\d))?(?:/|$)", joined + "/")
    if m:
        return _utc(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    return None


def leading_date(text: str, year: int | None = None) -> datetime | None:
    """A dated line among the first lines ("Invoice date: 28 April 2025", "Posted on 3 June
    2024", "Date: 2025-01-02"): the line must say it is a date, and the date must be full."""
    seen = 0
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        seen += 1
        if seen > LEADING_LINES:
            break
        m = _LEADING.match(line.strip())
        if m:
            got = find_date(line.strip()[m.end():], None)
            if got and got[1] <= 2:
                return got[0]
    return None


def title_date(title: str) -> datetime | None:
    """A full date anywhere in a title, else a month and year ("February 2025")."""
    got = find_date(title)
    if got:
        return got[0]
    return _month_year(_MONTH_YEAR.search(title))


class Dater:
    """Dates the units of one document: ``at(section)`` -> (time, source) or (None, None)."""

    def __init__(self, doc, path: Path | str | None = None) -> None:
        self.front = doc.time
        self.front_key = doc.time_key  # "updated": the time it last changed, said so
        prose_kind = doc.kind in ("markdown", "text", "docx", "html", "pdf")
        # A title that holds a date ("Swarm catch, 7 June 2025", "Soil test — February 2025")
        # dates the document.
        self.text_date = (title_date(doc.title or "") or leading_date(doc.text)) if prose_kind else None
        self.file = file_date(path)
        base = self.front or self.text_date or self.file
        self.year = base.year if base else heading_year(doc.title or "")
        self._cache: dict[tuple[str, ...], tuple[tuple[datetime | None, str | None], int | None]] = {}
        self._carry: tuple[tuple[str, ...], datetime] | None = None  # the last date line, and its section

    def doc_time(self) -> tuple[datetime | None, str | None]:
        front = f"front matter {self.front_key}" if self.front_key else "front matter"
        for t, src in ((self.front, front), (self.text_date, "text"), (self.file, "file name")):
            if t is not None:
                return t, src
        return None, None

    def at(self, section: tuple[str, ...], text: str = "") -> tuple[datetime | None, str | None]:
        """A unit's time: a date line in its own text (an outliner's "- [[Mar 11th, 2022]]"),
        else its deepest dated heading, else the document's time."""
        if section not in self._cache:
            year, found = self.year, None
            for h in section:  # outermost first: a "# 2025" above "## 12 April"
                year = heading_year(h) or year
                found = heading_date(h, year) or found
            self._cache[section] = ((found, "heading") if found else self.doc_time(), year)
        (when, src), year = self._cache[section]
        carried = self._carry[1] if self._carry and self._carry[0] == section else None
        lines = line_dates(text, year) if text and ("[[" in text or "**" in text or "\n" in text) else []
        if lines:  # units come in reading order: the next ones of this section follow the last date
            self._carry = (section, lines[-1][1])
        lead = len(text) - len(text.lstrip())
        first_line = text[:lead].count("\n")
        if lines and lines[0][0] == first_line:  # the unit opens with its date
            return lines[0][1], "heading"
        if carried:  # it continues the entry the previous unit's last date line opened
            return carried, "heading"
        if lines and src != "heading":  # no dated heading above: its first date line
            return lines[0][1], "heading"
        return when, src
