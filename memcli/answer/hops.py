"""Two-hop questions: answer the bridge first, then the question about it.

"Which city did the author of Night Harbour grow up in?" names its answer through a bridge —
*the author of Night Harbour*. Search finds both pages, but one sentence answers only the
first hop (the sentence naming the author). So the bridge becomes its own question ("Who is
the author of Night Harbour?"), its answer — a name — replaces the bridge in the question
("Which city did Tove Ahlgren grow up in?"), and that question is answered from a second
retrieval. Both pieces of evidence are cited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memcli.text import words

ROLES = ("author|director|writer|composer|performer|singer|producer|creator|founder|co-founder|father|mother|"
         "wife|husband|spouse|son|daughter|child|brother|sister|owner|publisher|designer|architect|"
         "president|chairman|ceo|coach|captain|manager|developer|manufacturer|inventor|illustrator|"
         "editor|screenwriter|lyricist|painter|sculptor|star|leader|head|maker|"
         "(?:paternal|maternal) (?:grandfather|grandmother)|grandfather|grandmother|stepfather|stepmother|"
         "father-in-law|mother-in-law")
KINDS = r"(?:film|movie|song|album|book|novel|poem|play|opera|band|company|game|series|show|magazine|newspaper|painting|single)"
_WORD_T = r"[A-Z0-9\"'“][\w'’.:&!-]*"
# A title: capitalised words, with the small words titles keep inside ("Me And Bobby Mcgee"),
# and the disambiguation a wiki adds after it ("Come Dance With Me (Song)").
_TITLE = rf"{_WORD_T}(?:\s+(?:(?:of|and|the|a|an|de|in|on|to|for|with|&)\s+)*{_WORD_T})*(?:\s+\([^()]{{1,30}}\))?"
_OF = re.compile(rf"\b(?:the\s+)?(?P<role>{ROLES})\s+of\s+(?:the\s+)?(?:(?P<kind>{KINDS})\s+)?(?P<entity>{_TITLE})")
# "Maurice, Prince Of Orange's father": a title after a comma is part of the name.
_POSSESSIVE = re.compile(rf"(?P<entity>[A-Z][\w'.-]*(?:(?:,\s+|\s+)(?:[A-Z][\w'.-]*|of|de|the|and|von|van))*?)'s\s+(?P<role>{ROLES})\b")
# "… rapper and singer Nicki Minaj": the name after a few lowercase words of description.
_DESCRIBED = re.compile(r"(?:\s+[a-z][\w'-]*){1,5}\s+([A-Z][\w'’.-]+(?:\s+(?:[A-Z][\w'’.-]+|de|van|von|da|del|le|la|bin|ibn))+)")
_BY = re.compile(r"\bby\s+([A-Z][\w'’.-]+(?:\s+(?:[A-Z][\w'’.-]+|de|van|von|da|del|le|la|bin|ibn))*)")


# What is left of "Who is the director of X?" once the bridge phrase is taken out.
_ONE_HOP = frozenset("who whom what which is was are were the name of".split())


@dataclass(frozen=True)
class Bridge:
    phrase: str  # the words of the question that name the bridge entity
    question: str  # the first hop, asked on its own
    entity: str = ""  # what the first hop is about ("Night Harbour")
    role: str = ""  # who the bridge is to it ("author")

    def substitute(self, question: str, answer: str) -> str:
        return question.replace(self.phrase, answer, 1)


def bridge(question: str) -> Bridge | None:
    """The bridge phrase of a two-hop question, or None for a one-hop question."""
    for rx in (_OF, _POSSESSIVE):
        m = rx.search(question)
        if not m:
            continue
        entity = m.group("entity").strip(" \"'“”")
        if len(entity) < 2:
            continue
        role = m.group("role")
        kind = (m.groupdict().get("kind") or "").strip()
        phrase = m.group(0).strip()
        if not set(words(question.replace(phrase, " "))) - _ONE_HOP:
            return None  # "Who is the director of X?" asks the bridge itself: one hop

        of = f"{kind} {entity}".strip()
        return Bridge(phrase, f"Who is the {role} of {of}?", entity, role.lower())
    return None


_RUN = r"[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|[IVX]+|of|de|the|von|van|da|del|le|la|bin|ibn))*"
# "the second son of Emperor Lothair I and Ermengarde of Tours": the father, then the mother.
_CHILD_OF = re.compile(rf"\b(?:son|daughter|child|heir)\s+of\s+(?:the\s+late\s+)?(?P<a>{_RUN})"
                       rf"(?:\s+and\s+(?:his\s+wife\s+|her\s+husband\s+)?(?P<b>{_RUN}))?")
_SPOUSE = re.compile(rf"\b(?:married(?:\s+to)?|wife\s+of|husband\s+of|marriage\s+to|widow(?:er)?\s+of|"
                     rf"(?:his|her)\s+(?:wife|husband),?)\s+(?:the\s+)?(?P<a>[A-Z][\w'’.-]*)")
_PARENT = {"father": "a", "mother": "b"}


def _described(sentence: str, at: int, name: str) -> str | None:
    """The name at ``at``, past one capitalised word that describes it ("Swedish prime minister
    Olof Palme" → Olof Palme); None when only a description is there."""
    if " " not in name and re.match(r"\s+[a-z]", sentence[at + len(name):]):
        after = _DESCRIBED.match(sentence, at + len(name))
        return after.group(1).rstrip(".") if after else None
    return name.rstrip(".")


def family_name(sentence: str, role: str) -> str | None:
    """The father, mother, husband or wife a line names: "son of A and B" (A the father, B
    the mother), "married to A", "the wife of A", "by marriage to A"; else None."""
    if role in _PARENT:
        m = _CHILD_OF.search(sentence)
        if m and m.group(_PARENT[role]):
            return _described(sentence, m.start(_PARENT[role]), m.group(_PARENT[role]))
    elif role in ("husband", "wife", "spouse"):
        m = _SPOUSE.search(sentence)
        if m:
            run = re.match(_RUN, sentence[m.start("a"):])
            return _described(sentence, m.start("a"), run.group(0)) if run else None
    return None


def named_by(sentence: str, question: str, verb: str = "") -> str | None:
    """The name a first-hop sentence gives for the bridge ("a 1998 film directed by Tove
    Ahlgren" → Tove Ahlgren): the name after "by" (with ``verb``, a word's start, only the
    "by" after that verb: "written by Kris Kristofferson …, originally performed by Roger
    Miller" for the performer; with ``verb`` "kind", only a "by" right after the work's kind:
    "a song by Nicki Minaj"), else None. One capitalised word before a lowercase one describes
    the name that follows ("by Trinidadian-American rapper Nicki Minaj")."""
    q = question.lower()
    for m in _BY.finditer(sentence):
        before = sentence[:m.start()]
        if verb == "kind":
            if not re.search(rf"\b{KINDS}\s+$", before, re.I):
                continue
        elif verb and not re.search(rf"\b{re.escape(verb)}\w*(?:\s+(?:and|or|\w+ly))?(?:\s+\w+)?\s+$", before, re.I):
            continue
        name = _described(sentence, m.start(1), m.group(1))
        if name and name.lower() not in q:
            return name
    return None
