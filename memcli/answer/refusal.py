"""Stage 5: refuse when memory does not hold what the question asks about.

A question about something memory does not hold still retrieves the nearest topic ("what
is the maximum number of redirects?" finds the page on redirects). Two tells, each cheap:

- **absent term**: the question names a specific term — a setting, a file format, an API
  name, an error class (code-like: `quoted`, dashed, dotted, CamelCase, ACRONYM) — that
  appears in no unit of this memory (the BM25 index's own document frequency);
- **missing answer type**: the question asks for a number ("how many", "what is the maximum
  …") and none of the best candidates states one.

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


@dataclass
class Refusal:
    absent: list[str] = field(default_factory=list)  # specific terms memory never mentions
    missing_type: str | None = None  # the kind of answer asked for that no candidate states

    @property
    def refuse(self) -> bool:
        return bool(self.absent) or self.missing_type is not None

    def reason(self) -> str:
        if self.absent:
            return "memory never mentions " + ", ".join(f"'{t}'" for t in self.absent)
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


def check(question: str, ranked_types: Sequence[float], doc_freq: Callable[[Sequence[str]], dict[str, int]]) -> Refusal:
    """``ranked_types``: the answer-type fit (-1 .. 1) of the best candidates, best first."""
    out = Refusal(absent_terms(question, doc_freq))
    # "How many times…" is answered by counting the evidence, not by a number written in it.
    if (_NUMBER_Q.search(question) and aggregate_kind(question) is None and ranked_types
            and max(ranked_types[:STAGES.type_top]) <= 0):
        out.missing_type = "number"
    return out
