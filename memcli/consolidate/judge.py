"""Pure functions the consolidation steps decide with: text normalisation, near-duplicate
tests, "does the newer unit update the older one's fact", extractive summaries, and the
forgetting curve. Kept free of stores so tests can pin each rule down."""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import datetime

from memcli.retrieve.snippet import STOP
from memcli.text import WORD

_SENT = re.compile(r"(?<=[.!?])\s+|\n+")
# Words with which people state that a fact changed ("my new number", "moved to", "no longer").
UPDATE_CUES = re.compile(
    r"\b(now|new|newly|changed?|moved|switched|no longer|not .{0,20} anymore|anymore|instead|updated?|"
    r"currently|these days|replaced|became|got a new|since then)\b", re.I)


def normalise_text(text: str) -> str:
    return " ".join(WORD.findall(text.lower()))


def body(text: str) -> str:
    """A unit's text without its heading lines: the same paragraph saved under "# Budget" and
    "# Budget (copy)" is the same memory."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def words(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else float(a == b)


# Function words (and the change cues themselves) say nothing about which fact a text states.
FUNCTION = STOP | set("""any all some just very so too also got get gets getting been being am can could would
should not no yes there then than them they he she him her his hers us im it's i'm now new newly still
really much many more most one ones thing things lot lots""".split())


def content(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in FUNCTION and not w.isdigit()}


def values(text: str) -> set[str]:
    """Tokens that carry a fact's value: numbers, dates, names (capitalised, not sentence-initial)."""
    out = set(re.findall(r"\b[\w-]*\d[\w-]*\b", text))
    for sent in _SENT.split(text):
        toks = re.findall(r"\b\w+\b", sent)
        out.update(t for t in toks[1:] if t[:1].isupper())
    return {v.lower() for v in out}


_META = re.compile(r"^\s*(\[\d{4}-\d{2}-\d{2}\]\s*)?([A-Z][\w .'-]{0,40}:\s)?", re.M)


def statement(text: str) -> str:
    """The unit's words without the rendered ``[date] Speaker:`` prefixes (metadata, not values)."""
    return _META.sub("", text)


def updates(older: str, newer: str, *, min_overlap: float = 0.5) -> bool:
    """Heuristic judge, precision first (a superseded unit leaves default retrieval):

    - the newer text restates most of the older one (content words of the older unit,
      ``min_overlap``), so a multi-topic segment is never replaced for one changed detail;
    - it states a value the older one did not, and drops one the older one had;
    - the sentence carrying the new value says that something changed ("now", "new",
      "moved", "no longer", ...).
    """
    older, newer = statement(older), statement(newer)
    a, b = content(older), content(newer)
    if not a or not b or len(a & b) / len(a) < min_overlap:
        return False
    va, vb = values(older), values(newer)
    fresh = vb - va
    if not fresh or not (va - vb):
        return False
    for sent in _SENT.split(newer):
        if UPDATE_CUES.search(sent) and values(sent) & fresh:
            return True
    return False


def extractive_summary(texts: list[str], sentences: int = 3, max_chars: int = 600) -> str:
    """The group's most central sentences (by shared content words), in reading order."""
    sents = [s.strip() for t in texts for s in _SENT.split(t) if len(s.strip()) > 20]
    if not sents:
        return " ".join(t.strip() for t in texts)[:max_chars]
    freq = Counter(w for s in sents for w in content(s))
    scored = [(sum(freq[w] for w in content(s)) / (1 + len(content(s))) ** 0.5, i) for i, s in enumerate(sents)]
    keep = sorted(i for _, i in sorted(scored, reverse=True)[:sentences])
    out = " ".join(sents[i] for i in keep)
    return out[:max_chars]


def strength(now: datetime, ingested: datetime, last_access: datetime | None, access_count: int,
             half_life_days: float) -> float:
    """MemoryBank's forgetting curve: exp decay since the last recall, each recall making the
    memory last longer (half-life scales with 1 + recalls)."""
    ref = max(t for t in (ingested, last_access) if t is not None)
    age_days = max(0.0, (now - ref).total_seconds() / 86400)
    half = half_life_days * (1 + max(0, access_count or 0))
    return math.pow(0.5, age_days / half)
