"""Questions that compare two things: "Which film came out first, Night Harbour or Low Tide?",
"Who lived longer, A or B?", "Are A and B both film directors?", "Are A and B in the same country?"

No single sentence answers these: each of the two things has its own page. So each side is
looked up on its own and read: the date its best sentence gives (for "died", the second date
of a "(born – died)" pair; for "lived longer", the span between the two), whether its defining
sentence says what the question asks ("both film directors"), or the short answer its page
gives to the one-sided question ("What is the country of A?"). The answer is the side that
came first (or last, or lived longer), or yes / no, citing both sides' sentences. A side asked
about through someone ("the film whose director was born first") is read through that person:
the bridge is answered first, as for two-hop questions (memcli.answer.hops).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from memcli.answer.candidates import candidates
from memcli.answer.dates import MONTHS, month_number
from memcli.answer.hops import ROLES
from memcli.text import words

_EARLY = r"first|earlier|older|oldest|sooner"
_LATE = r"later|last|younger|youngest|more recently|most recently"
_LONG = r"longer|shorter"
_DIR = rf"{_EARLY}|{_LATE}|{_LONG}"
_Q = re.compile(rf"^\s*(?:which|who|what)\b(?P<ask>.*?\b(?P<dir>{_DIR})\b.*?)"
                rf"(?:,|\bout of\b|\bbetween\b)\s*(?P<a>[^?]+?)\s+(?:or|and)\s+(?P<b>[^?]+?)\s*\??\s*$", re.I)
# "Which band was formed first The Exies or Circus Diablo?": the two names follow the direction word.
_Q_BARE = re.compile(rf"^\s*(?i:which|who|what)\b(?P<ask>.*?\b(?P<dir>{_DIR}))\s*,?\s+"
                     rf"(?P<a>[A-Z0-9][^?]*?)\s+or\s+(?P<b>[A-Z0-9][^?]+?)\s*\??\s*$")
# "the film whose director was born first", "the film that has the director who died first"
_THROUGH = re.compile(rf"\b(?:whose|has\s+the|with\s+the|by\s+the)\s+(?P<role>{ROLES})\b", re.I)
_DATE = re.compile(r"\b(?:(\d{1,2})\s+(" + "|".join(MONTHS) + r")\s+)?(?:(" + "|".join(MONTHS) +
                   r")\s+(\d{1,2}),?\s+)?(1[0-9]\d\d|20\d\d)\b", re.I)


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    earliest: bool  # the answer is the one that came first (for "lived longer": the one that lived less)
    died: bool  # the dates to compare are deaths
    ask: str  # what the question compares ("film was released first")
    lifespan: bool = False  # "who lived longer": the span from birth to death
    role: str | None = None  # each side is read through this person ("the film whose director …")

    def query(self, entity: str) -> str:
        """What to search for one side: the entity and what the question compares."""
        return f"{entity} {self.ask}".strip()


def comparison(question: str) -> Comparison | None:
    m = _Q.match(question) or _Q_BARE.match(question)
    if not m or len(m.group("a")) < 2 or len(m.group("b")) < 2:
        return None
    ask = m.group("ask")
    through = _THROUGH.search(ask)
    if through is None and re.search(rf"\b(?:{ROLES})\s+(?:who|whose|that)\b", ask, re.I):
        return None  # a bridge this does not read ("the film that the director who …")
    d = m.group("dir").lower()
    lifespan = d in ("longer", "shorter")
    if lifespan and not re.search(r"\blived?\b|\blife\b", ask, re.I):
        return None  # "which bridge is longer": a length, not a life
    early = d == "shorter" if lifespan else re.fullmatch(_EARLY, d, re.I) is not None
    return Comparison(m.group("a").strip(" \"'"), m.group("b").strip(" \"'"), early,
                      re.search(r"\bdie[ds]?\b|\bdeath\b", ask, re.I) is not None, ask.strip(),
                      lifespan, through.group("role").lower() if through else None)


def _dates(sentence: str) -> list[tuple[int, int, int]]:
    out = []
    for m in _DATE.finditer(sentence):
        day = int(m.group(1) or m.group(4) or 0)
        out.append((int(m.group(5)), month_number(m.group(2) or m.group(3) or ""), day))
    return out


def _days(k: tuple[int, int, int]) -> int:
    return date(k[0], k[1] or 7, min(k[2] or 1, 28)).toordinal()


def date_key(sentence: str, died: bool, lifespan: bool = False) -> tuple[int, int, int] | None:
    """What the sentence gives to compare: its first date, or for deaths the second of a
    born–died pair, or for a lifespan the days between the two (as (days, 1, 1))."""
    found = _dates(sentence)
    if lifespan:
        if len(found) < 2 or found[1] < found[0]:
            return None
        exact = all(found[0][1:]) and all(found[1][1:])
        return (_days(found[1]) - _days(found[0]), 1, 1 if exact else 0)
    if not found:
        return None
    return found[1] if died and len(found) > 1 else found[0]


def mentions(sentence: str, name: str) -> bool:
    """The sentence names ``name``: its last word and at least half of its words, in any order
    ('Vakhtang "Vic" Darchinyan' names Vic Darchinyan, "Charles Day" Charlie Day)."""
    have, want = set(words(sentence)), words(name)
    return bool(want) and want[-1] in have and 2 * sum(w in have for w in want) >= len(want)


def _named_before_date(sentence: str, name: str) -> bool:
    """The name comes before the sentence's first date: "Sid Haig (born 1939)", not "a 1982
    film directed by Wes Craven" (the film's date, not his)."""
    at = [m.start() for w in words(name) if (m := re.search(rf"\b{re.escape(w)}\b", sentence, re.I))]
    date_at = _DATE.search(sentence)
    return bool(at) and date_at is not None and min(at) < date_at.start()


def dated_mention(entity: str, excerpts, died: bool, lifespan: bool = False):
    """The best excerpts' first sentence that names ``entity`` and gives a date: (candidate, date
    key); one that names it before the date first ("Julie Dash (born 1952)" before "a 1982 film
    directed by Julie Dash"). A lifespan may read on into the next sentence ("– d. March 28, 2003")."""
    ranked = sorted(excerpts, key=lambda e: -e.score)
    for strict in (True, False):
        for ex in ranked:
            for c in candidates(ex):
                if (not c.pair or lifespan) and mentions(c.text, entity) \
                        and (not strict or _named_before_date(c.text, entity)) \
                        and (key := date_key(c.text, died, lifespan)) is not None:
                    return c, key
    return None


def decide(c: Comparison, sides: list[tuple[str, tuple[int, int, int]]]) -> str | None:
    """The side that came first (or last, or lived longer); None when the dates cannot tell them apart."""
    (a, ka), (b, kb) = sides
    if c.lifespan:
        # Years alone leave a lifespan uncertain by up to two years.
        if not (ka[2] and kb[2]) and abs(ka[0] - kb[0]) <= 2 * 366:
            return None
        if ka[0] == kb[0]:
            return None
        first = a if ka[0] < kb[0] else b
    elif ka[0] != kb[0]:
        first = a if ka[0] < kb[0] else b
    elif all(ka[1:]) and all(kb[1:]) and ka != kb:
        first = a if ka < kb else b
    else:
        return None
    return first if c.earliest else (b if first == a else a)


# ---- yes / no: "Are A and B both …?", "… in the same country?"

_WORD = r"[A-Z0-9\"'“(][\w'’.:&!()-]*"
_NAME = rf"{_WORD}(?:\s+(?:(?:of|and|the|a|an|de|in|on|to|for|with|&)\s+)*?{_WORD})*?"
_NAME_LONG = rf"{_WORD}(?:\s+(?:(?:of|the|a|an|de|in|on|to|for|with|&)\s+)*{_WORD})*"
_AUX = r"(?:are|is|were|was|do|does|did|have|has)"
# "Are both magazines, the Woman's Viewpoint and Pick Me Up, British publications?"
_PAIR = re.compile(rf"^\s*(?i:{_AUX})\s+(?:(?i:both)\s+(?:(?i:the)\s+)?(?P<pre>(?:[a-z][\w-]*\s+){{0,3}}?)(?:(?i:of)\s+)?"
                   rf"(?:(?:[a-z][\w-]*)\s*,\s*)?)?(?:the\s+)?(?P<a>{_NAME})\s+and\s+(?:the\s+)?(?P<b>{_NAME_LONG})\s*,?\s+"
                   rf"(?P<rest>[^?]+?)\s*\??\s*$")
_SAME = re.compile(r"\bsame\s+(?P<attr>[a-z][\w-]*(?:\s+of\s+[a-z]+)?)", re.I)
_ROLE_WORD = re.compile(rf"\b(?P<role>{ROLES})s?\b", re.I)
_STOP = frozenset("a an the of in on at to for from by and or with is are was were be been both located "
                  "based same also do does did have has".split())
# A name and its adjective share a stem: Russia / Russian, Iran / Iranian, Britain / British.
_SUFFIX = re.compile(r"(?:ians|ian|ans|an|ish|ese|ain|and|ia|en|y|a|e|i|s)$")


@dataclass(frozen=True)
class Agreement:
    """A yes/no question about two things: both have a property, or share a value."""
    a: str
    b: str
    prop: str  # "film directors"; for a shared value, the attribute ("country")
    same: bool  # share a value (True) or both have the property (False)
    role: str | None = None  # each side is read through this person ("the directors of films A and B")
    origin: bool = False  # "from the same country": where it comes from, not where it is

    def value_question(self, subject: str) -> str:
        """The one-sided question whose short answer is the side's value."""
        if self.prop in ("nationality", "citizenship"):
            return f"What nationality is {subject}?"
        return f"Which {self.prop} is {subject} {'from' if self.origin else 'in'}?"


def agreement(question: str) -> Agreement | None:
    """"Are A and B both P?" / "… from the same country?"; None for other questions."""
    m = _PAIR.match(question)
    if not m:
        return None
    a, b = (m.group(x).strip(" ,\"'“”") for x in ("a", "b"))
    if len(a) < 2 or len(b) < 2:
        return None
    head = question[:m.start("a")]
    rest = m.group("rest")
    role = _ROLE_WORD.search(head) or _ROLE_WORD.search(rest)
    role_name = role.group("role").lower() if role else None
    same = _SAME.search(rest)
    if same:
        return Agreement(a, b, same.group("attr").lower(), True, role_name,
                         re.search(r"\bfrom\s+(?:the\s+)?same\b", rest, re.I) is not None)
    prop = re.sub(r"^(?:both|also|each|all)\s+", "", rest.strip(), flags=re.I)
    prop = re.sub(r"\s+(?:both|each)$", "", prop, flags=re.I)
    if not prop or len(prop) > 60 or not re.search(r"\bboth\b", question, re.I):
        return None
    return Agreement(a, b, prop, False, None)


def stem(word: str) -> str:
    w = word.lower()
    s = _SUFFIX.sub("", w)
    return s if len(s) >= 3 else w


def holds(sentence: str, prop: str) -> bool:
    """The sentence says ``prop`` of its subject: every capitalised word of it ("British"),
    and half of its other words, read by stem ("film directors" in "a film director")."""
    have = {stem(w) for w in re.findall(r"\w+", sentence)}
    words = [w for w in re.findall(r"[\w-]+", prop) if w.lower() not in _STOP]
    if not words:
        return False
    named = [w for w in words if w[0].isupper()]
    other = [w for w in words if not w[0].isupper()]
    if not all(stem(w) in have for w in named):
        return False
    return sum(stem(w) in have for w in other) >= len(other) // 2 + (len(other) % 2 and not named)


def value_words(value: str, question: str) -> set[str]:
    """A value's own words, by stem, without the question's ("Isfahan Province, Iran" → isfah, provinc, iran)."""
    asked = {stem(w) for w in re.findall(r"\w+", question)}
    # Names only: a year or a count is no country ("Algiers is a 1938 American film").
    return {stem(w) for w in re.findall(r"[^\W\d_][\w']*", value) if w.lower() not in _STOP} - asked


def defining(entity: str, excerpts):
    """What ``entity``'s own note says it is: (the first sentence of the best excerpt titled
    with its name that names it, [it, it with the next sentence]) — a sentence cut short at
    "St." goes on in the next. None when no note is about it: a manual's passing mention of
    two terms is no page of either, and a yes or no from it would be a guess."""
    for ex in sorted(excerpts, key=lambda e: -e.score):
        if not any(mentions(t, entity) for t in (ex.first.title, ex.first.section) if t):
            continue
        cands = [c for c in candidates(ex) if not c.pair]
        for i, c in enumerate(cands):
            if mentions(c.text, entity):
                return c, [c.text] + [f"{c.text} {n.text}" for n in cands[i + 1:i + 2]]
    return None
