"""Comparison questions: "Which film came out first, Night Harbour or Low Tide?"

No single sentence answers these: each of the two things has its own page with its own date.
So each is looked up on its own, the date its best sentence gives is read (for "died", the
second date of a "(born – died)" pair), and the answer is the one that came first (or last),
citing both sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memcli.answer.candidates import candidates
from memcli.answer.dates import MONTHS, month_number
from memcli.answer.hops import ROLES

_EARLY = r"first|earlier|older|oldest|sooner"
_LATE = r"later|last|younger|youngest|more recently|most recently"
_Q = re.compile(rf"^\s*(?:which|who|what)\b(?P<ask>.*?\b(?P<dir>{_EARLY}|{_LATE})\b.*?)"
                rf"(?:,|\bout of\b|\bbetween\b)\s*(?P<a>[^,?]+?)\s+(?:or|and)\s+(?P<b>[^?]+?)\s*\??\s*$", re.I)
# "Which band was formed first The Exies or Circus Diablo?": the two names follow the direction word.
_Q_BARE = re.compile(rf"^\s*(?i:which|who|what)\b(?P<ask>.*?\b(?P<dir>{_EARLY}|{_LATE}))\s*,?\s+"
                     rf"(?P<a>[A-Z0-9][^?]*?)\s+or\s+(?P<b>[A-Z0-9][^?]+?)\s*\??\s*$")
_DATE = re.compile(r"\b(?:(\d{1,2})\s+(" + "|".join(MONTHS) + r")\s+)?(?:(" + "|".join(MONTHS) +
                   r")\s+(\d{1,2}),?\s+)?(1[0-9]\d\d|20\d\d)\b", re.I)


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    earliest: bool  # the answer is the one that came first
    died: bool  # the dates to compare are deaths
    ask: str  # what the question compares ("film was released first")

    def query(self, entity: str) -> str:
        """What to search for one side: the entity and what the question compares."""
        return f"{entity} {self.ask}".strip()


def comparison(question: str) -> Comparison | None:
    m = _Q.match(question) or _Q_BARE.match(question)
    if not m or len(m.group("a")) < 2 or len(m.group("b")) < 2:
        return None
    if re.search(rf"\b(?:{ROLES})\s+(?:who|whose|that)\b", m.group("ask"), re.I):
        return None  # "the film whose director died first": a comparison through a bridge, not handled
    early = re.fullmatch(_EARLY, m.group("dir"), re.I) is not None
    return Comparison(m.group("a").strip(" \"'"), m.group("b").strip(" \"'"), early,
                      re.search(r"\bdie[ds]?\b|\bdeath\b", m.group("ask"), re.I) is not None, m.group("ask").strip())


def date_key(sentence: str, died: bool) -> tuple[int, int, int] | None:
    """The (year, month, day) the sentence gives: its first date, or for deaths the second
    of a born–died pair."""
    found = []
    for m in _DATE.finditer(sentence):
        day = int(m.group(1) or m.group(4) or 0)
        month = month_number(m.group(2) or m.group(3) or "")
        found.append((int(m.group(5)), month, day))
    if not found:
        return None
    return found[1] if died and len(found) > 1 else found[0]


def dated_mention(entity: str, excerpts, died: bool):
    """The best excerpts' first sentence that names ``entity`` and gives a date: (candidate, date key)."""
    name = entity.lower()
    for ex in sorted(excerpts, key=lambda e: -e.score):
        for c in candidates(ex):
            if name in c.text.lower() and not c.pair and (key := date_key(c.text, died)) is not None:
                return c, key
    return None


def decide(c: Comparison, sides: list[tuple[str, tuple[int, int, int]]]) -> str | None:
    """The side that came first (or last); None when the dates cannot tell them apart."""
    (a, ka), (b, kb) = sides
    if ka[0] != kb[0]:
        first = a if ka[0] < kb[0] else b
    elif all(ka[1:]) and all(kb[1:]) and ka != kb:
        first = a if ka < kb else b
    else:
        return None
    return first if c.earliest else (b if first == a else a)
