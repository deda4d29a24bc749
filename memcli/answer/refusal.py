"""Stage 5: refuse when memory does not hold what the question asks about.

A question about something memory does not hold still retrieves the nearest topic ("what
is the maximum number of redirects?" finds the page on redirects). Three tells, each cheap:

- **absent term**: the question names a specific term — a setting, a file format, an API
  name, an error class (code-like: `quoted`, dashed, dotted, CamelCase, ACRONYM) — that
  appears in no unit of this memory (the BM25 index's own document frequency);
- **missing answer type**: the question asks for a number ("how many", "what is the maximum
  …") and none of the best candidates states one;
- **another owner**: the question asks about something's ("uv's HTTP timeout") and the note
  the answer would come from never names it (httpx's timeouts page): the closest topic in
  someone else's manual. Names written with a possessive ("Schindler's List") are not owners.

Rare *words* missing from the evidence are not a tell: measured on docsqa, paraphrase words
("stale", "wipe", "bother", "honouring") are as absent from the manuals as the subjects of
the unanswerable questions, and refusing on them refused 22 of 36 answerable questions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from memcli.answer.policy import STAGES
from memcli.answer.qtypes import aggregate_kind


_SPECIFIC = re.compile(r"`([^`]+)`|\b([A-Za-z]+[-_.][\w.-]*\w|[a-z]+[A-Z]\w*|[A-Z][a-z]+[A-Z]\w*|[A-Z]{2,}\w*)\b")
_WORDS = re.compile(r"[A-Za-z][A-Za-z'’]+")


def specific_terms(question: str) -> list[str]:
    """Code-like terms the question names: `spans`, dashed or dotted names, CamelCase, ACRONYMS."""
    out = []
    for m in _SPECIFIC.finditer(question):
        t = (m.group(1) or m.group(2)).strip()
        if t and t not in out:
            out.append(t)
    return out


# Not before a capitalised word ("Schindler's List", "the Woman's Viewpoint": names); an acronym may follow ("uv's HTTP timeout").
_OWNER = re.compile(r"\b([A-Za-z][\w.-]*?)['’]s\b(?!\s+[A-Z][a-z])")
# "what's", "it's", "there's": a verb, not an owner.
_NOT_OWNERS = frozenset("it that what who where when how there here let he she one why which this".split())


def owners(question: str) -> list[str]:
    """What the question says a thing belongs to: "uv's HTTP timeout" -> uv."""
    out = []
    for m in _OWNER.finditer(question):
        w = m.group(1)
        if w.lower() not in _NOT_OWNERS and w not in out:
            out.append(w)
    return out


@dataclass
class Refusal:
    absent: list[str] = field(default_factory=list)  # specific terms memory never mentions
    missing_type: str | None = None  # the kind of answer asked for that no candidate states
    other_owner: list[str] = field(default_factory=list)  # "uv's timeout", answered from a note never naming uv

    @property
    def refuse(self) -> bool:
        return bool(self.absent) or self.missing_type is not None or bool(self.other_owner)

    def reason(self) -> str:
        if self.absent:
            return "memory never mentions " + ", ".join(f"'{t}'" for t in self.absent)
        if self.other_owner:
            return ("the closest note is about something else: it never mentions "
                    + ", ".join(f"'{t}'" for t in self.other_owner))
        if self.missing_type:
            return f"no passage close to the question states a {self.missing_type}"
        return ""


def absent_terms(question: str, doc_freq: Callable[[Sequence[str]], dict[str, int]]) -> list[str]:
    """The question's specific terms with a word (3+ letters) found in no unit."""
    specific = specific_terms(question)
    words = list(dict.fromkeys(w.lower() for t in specific for w in _WORDS.findall(t) if len(w) >= 3))
    df = doc_freq(words) if words else {}
    return [t for t in specific if any(df.get(w.lower(), 0) == 0 for w in _WORDS.findall(t) if len(w) >= 3)]


_NUMBER_Q = re.compile(r"\bhow (many|much)\b|\bwhat(\s+is|'s|\s+are)\s+the\s+(maximum|minimum|max|min|number)\b", re.I)


def check(question: str, ranked_types: Sequence[float], doc_freq: Callable[[Sequence[str]], dict[str, int]],
          in_evidence: Callable[[Sequence[str]], dict[str, int]] | None = None) -> Refusal:
    """``ranked_types``: the answer-type fit (-1 .. 1) of the best candidates, best first.
    ``in_evidence``: doc_freq within the evidence's own note."""
    out = Refusal(absent_terms(question, doc_freq))
    if in_evidence is not None:
        named = owners(question)
        if named:
            df = in_evidence(named)
            out.other_owner = [w for w in named if w in df and df[w] == 0]
    # "How many times…" is answered by counting the evidence, not by a number written in it.
    if (_NUMBER_Q.search(question) and aggregate_kind(question) is None and ranked_types
            and max(ranked_types[:STAGES.type_top]) <= 0):
        out.missing_type = "number"
    return out
