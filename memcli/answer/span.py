"""Stage 4: the part of the picked sentence that answers — a name, a number, a value.

"Who…" wants the one new name, "how many/much" the one new number, "what is the default X",
"which option / exception / mode…" the literal or code term, "since which version" the
version. A span is given only when it is unambiguous (one such thing beyond what the question
says) *and* the sentence carries the question's key terms (``grounded``); otherwise the
sentence itself is the answer — a bare "37%" lifted from a sentence on another topic is worse
than no span.
"""

from __future__ import annotations

import re

from memcli.answer.policy import STAGES
from memcli.answer.qtypes import _CODE, _NOT_NAMES

_NAME_SPAN = re.compile(r"\b[A-Z][\w'’-]+(?:\s+(?:of|de|van|von|da|del|la|le|the)?\s*[A-Z][\w'’-]+)*")
_COUNT_SPAN = re.compile(r"([£$€]?\d[\d,.]*\d|[£$€]?\d)(\s*(?:%|[a-z]+))?", re.I)
_VERSION = re.compile(r"\bv?\d+\.\d+(?:\.\d+)*\b")
_VERSION_Q = re.compile(r"\b(which|what) (\w+ )?version\b|\bsince when\b", re.I)
_DEFAULT_Q = re.compile(r"\bdefault\b", re.I)
_DEFAULT_AT = re.compile(r"\b(?:defaults? (?:is|to|of|value is)|by default(?:,)?(?: is| uses)?|default:)\s*", re.I)
_VALUE = re.compile(r"`[^`]+`|\"[^\"]+\"|'[^']+'|\b\d[\d.,]*\s*(?:%|s|ms|seconds?|minutes?|MB|GB|KB)?\b|\b(?:True|False|None|true|false|null)\b")
_TERM_Q = re.compile(r"\b(which|what)\s+(\w+\s+){0,2}(flag|option|setting|command|variable|exception|error|class|attribute|"
                     r"argument|parameter|method|function|field|key|strategy|mode|header|keyword|property|env)s?\b", re.I)


def _one(spans: list[re.Match]) -> tuple[int, int] | None:
    return (spans[0].start(), spans[0].end()) if len(spans) == 1 else None


def _new(spans: list[re.Match], question: str) -> list[re.Match]:
    q = question.lower()
    return [m for m in spans if m.group(0).lower().strip("`\"'") not in q]


def answer_span(qtype: str | None, sentence: str, question: str, grounded: float) -> tuple[int, int] | None:
    """[start, end) of the answer inside ``sentence``, or None (the sentence is the answer).
    ``grounded``: the share of the question's key terms the sentence (or its lead-in) holds."""
    if grounded < STAGES.grounded:
        return None
    if qtype == "who":
        q = {w.lower() for w in re.findall(r"[\w'’-]+", question)}
        # A capitalised first word is only a name when more capitalised words follow it.
        return _one([m for m in _NAME_SPAN.finditer(sentence) if (m.start() > 0 or " " in m.group(0))
                     and not any(w.lower() in q or w.lower() in _NOT_NAMES for w in m.group(0).split())])
    if qtype == "number" and re.search(r"\bhow (many|much)\b", question, re.I):
        q = question.lower()
        return _one([m for m in _COUNT_SPAN.finditer(sentence) if m.group(1).lower() not in q])
    if _VERSION_Q.search(question):
        return _one(_new(list(_VERSION.finditer(sentence)), question))
    if _DEFAULT_Q.search(question):
        at = _DEFAULT_AT.search(sentence)
        if at:
            m = _VALUE.match(sentence, at.end())
            if m and m.group(0).strip().lower().strip("`\"'") not in question.lower():
                return m.start(), m.end()
    if qtype == "term" and _TERM_Q.search(question):
        return _one(_new(list(_CODE.finditer(sentence)), question))
    return None

