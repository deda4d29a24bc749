"""What kind of answer a question asks for, and whether a sentence holds one.

A "when" question is answered by a date, "how many" by a number, "which flag" by a code
term, "why" by a reason. A sentence that has the right kind of thing — beyond what the
question itself already says — is a better answer than one that only repeats its words.
"""

from __future__ import annotations

import re

from memcli.answer.dates import has_time_expression

_Q = [
    ("when", re.compile(r"^\s*(when\b|what (date|day|year|month|time)\b|(in )?which (year|month)\b|how long ago\b)", re.I)),
    ("number", re.compile(r"\b(how (many|much|long|often|old|far|big|large|fast)|what (is|'s|are) the (maximum|minimum|max|min|number|default (number|limit|size|timeout))|"
                          r"what percentage|how many)\b", re.I)),
    ("why", re.compile(r"^\s*(why\b|what (is|'s) the (reason|point|purpose)\b|for what reason\b)", re.I)),
    ("who", re.compile(r"^\s*(who|whom|whose)\b", re.I)),
    ("where", re.compile(r"^\s*where\b|\bwhere (does|do|is|are|did|will|can|should)\b", re.I)),
    ("term", re.compile(r"\b(which|what)\s+(\w+\s+){0,2}(flag|option|setting|command|variable|exception|error|class|attribute|"
                        r"argument|parameter|method|function|field|key|value|strategy|mode|file|name|type|module|package|"
                        r"header|keyword|property|env|environment variable)s?\b|\bwhat (is|was|are) .{0,40}\bcalled\b|"
                        r"\bwhat command\b|\bwhat should i (run|set|pass|use)\b|\bhow do i (set|pass|enable|disable|turn)\b", re.I)),
    ("how", re.compile(r"^\s*(how (do|can|should|would) (i|you|we)|how to|is there a way to|what('s| is) the (way|command) to)\b", re.I)),
]

# A quantity: not an enumerator "(1)", not part of a version or a version constraint (">=3.8", "v0.4.2").
_NUMBER = re.compile(r"(?<![(<>=~^.\w])(?<!\bv)\d+(\.\d+)?\b(?![.)]\d|\))|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
                     r"thirty|forty|fifty|hundred|thousand|once|twice|several|dozen)\b", re.I)
_CODE = re.compile(r"`[^`]+`|(?<![\w-])--?[a-z][\w-]+|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|\b[a-z]+_[a-z_]+\b|\b[A-Z][a-z]+[A-Z]\w+\b|\b\w+\.\w+\(?\)?")
_REASON = re.compile(r"\b(because|so that|in order to|to (prevent|avoid|ensure|protect|guard)|intent|the reason|due to|"
                     r"as a result|this (means|ensures|prevents|avoids))\b", re.I)
_INSTRUCTION = re.compile(r"\bby (\w+ing)\b|\b(use|set|pass|run|call|add|enable|disable|install|configure|specify)\b", re.I)
_WHERE = re.compile(r"\b(adjacent|next to|alongside|beside|inside|under|within|directory|folder|path)\b|[\w~.]*/[\w.-]+|"
                    r"\b(in|at|from|to|near)\s+[A-Z][a-z]+")
_CODE_IN_Q = re.compile(r"`[^`]+`")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+\b")


_LIST = re.compile(r"^\s*(what|which)\s+(\w+\s+){0,2}\w{3,}s\s+(has|have|does|do|did|are|were)\b|"
                   r"^\s*what (are|were) (some|all)\b|\bwhat (kinds?|types?|sorts?) of\b", re.I)
_COUNT = re.compile(r"\bhow many times\b|\bhow often\b", re.I)


def aggregate_kind(question: str) -> str | None:
    """"count" (how many times), "list" (what activities has she done): the answer gathers
    several pieces of evidence instead of quoting one."""
    if _COUNT.search(question):
        return "count"
    if _LIST.search(question):
        return "list"
    return None


_CLAUSE = re.compile(r"(?:^|[.!?:;]\s+|,\s+|\s[-–—]\s+)(?=(?:what|which|how|where|when|why|who|whom|whose|is|are|does|do|"
                     r"did|can|could|should|will|would)\b)", re.I)


def focus(question: str) -> str:
    """The clause that asks: people set the scene first ("When I lock a script with uv,
    where does the lockfile end up?", "I turned on http2=True. How can I check …?"), and the
    kind of answer wanted is the last clause-initial question word's."""
    text = question.strip()
    starts = [m.end() for m in _CLAUSE.finditer(text)]
    # The last clause that opens with a question word and runs to the question mark.
    for at in reversed(starts):
        clause = text[at:]
        if clause.endswith("?") or at == 0:
            return clause
    return text


def question_type(question: str) -> str | None:
    question = focus(question)
    for name, rx in _Q:
        if rx.search(question):
            return name
    # "what replaced `response.next`?": a question about a code term wants a code term.
    if _CODE_IN_Q.search(question) and re.match(r"^\s*(what|which)\b", question, re.I):
        return "term"
    return None


_NOT_NAMES = frozenset(
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday the a an i it he she they we you this that these those my our "
    "his her their in on at for and but or if when after before".split())


def _names(text: str) -> list[str]:
    """Capitalised words that can be names (not month or day names, not function words)."""
    return [w for w in _NAME.findall(text) if w.lower() not in _NOT_NAMES]


def _new(matches: list[str], question: str) -> list[str]:
    q = question.lower()
    return [m for m in matches if m.lower().strip("`") not in q]


def type_fit(qtype: str | None, sentence: str, question: str, *, code: bool = False) -> float:
    """1 when the sentence holds the kind of thing the question asks for (and the question
    does not), 0 when it does not, 0.5 when the question type has no test. A code block
    (``code``) answers "which flag" and "how do I", never "when", "how many" or "why"."""
    if qtype is None:
        return 0.5
    if code and qtype not in ("term", "how"):
        return 0.0
    if qtype == "where":
        return 1.0 if _WHERE.search(sentence) else 0.0
    if qtype == "how":
        return 1.0 if new_code_terms(sentence, question) or _INSTRUCTION.search(sentence) else 0.0
    if qtype == "when":
        return 1.0 if has_time_expression(sentence) else 0.0
    if qtype == "number":
        return 1.0 if new_numbers(sentence, question) else 0.0
    if qtype == "term":
        return 1.0 if new_code_terms(sentence, question) else 0.0
    if qtype == "why":
        return 1.0 if _REASON.search(sentence) else 0.0
    if qtype == "who":
        return 1.0 if _new(_names(sentence), question) else 0.0
    return 1.0


def new_code_terms(text: str, question: str) -> list[str]:
    """Code-looking terms (`spans`, --flags, ENV_VARS, snake_case, CamelCase, dotted.names)
    the question does not already say."""
    return _new([m.group(0) for m in _CODE.finditer(text)], question)


def new_numbers(text: str, question: str) -> list[str]:
    """Quantities the question does not already say."""
    return _new([m.group(0) for m in _NUMBER.finditer(text)], question)
