"""What a generated answer may say: grounding checks against the lines it was shown.

``supported``: a generated answer whose content words the excerpts mostly do not contain is
replaced by the extractive answer. ``invented``: code, identifiers and imports it writes that
the excerpts never do. ``carries``: an answer built only of the question's own words and the
excerpts' headings ("The honey won the prize of 2025." where the line says "second prize in
the light honey class") has not said what the reader's line says, so the line is shown instead.
"""

from __future__ import annotations

import re

from memcli.text import STOP, WORD, stem_key

CITE = re.compile(r"\[(\d{1,3})\]")  # a citation, "[1]": its number
SUPPORTED = 0.5  # share of the answer's content words the excerpts must hold


def supported(answer: str, evidence: str) -> bool:
    """Whether the excerpts hold most of the answer's content words (5-letter prefixes)."""
    answer = CITE.sub(" ", answer)  # the answer's own apparatus: "[1]"
    own = {stem_key(w) for w in WORD.findall(answer) if w.lower() not in STOP}
    if not own:
        return True
    have = {stem_key(w) for w in WORD.findall(evidence)}
    return len(own & have) / len(own) >= SUPPORTED


def new_words(text: str, question: str) -> set[str]:
    """Content words (5-letter prefixes) of ``text`` that the question does not already say."""
    asked = {stem_key(w) for w in WORD.findall(question)}
    return {k for w in WORD.findall(CITE.sub(" ", text)) if w.lower() not in STOP and (k := stem_key(w)) not in asked}


def carries(answer: str, line: str, question: str) -> bool:
    """Whether the answer says any of what the reader's answering ``line`` adds to the question.
    A line that adds nothing (it only restates the question) asks nothing of the answer."""
    adds = new_words(line, question)
    return not adds or bool(adds & new_words(answer, question))


_CODE = re.compile(r"`([^`]+)`")
# Names a model invents: dotted or underscored identifiers, --flags, calls, `import x`, CamelCase.
_IDENT = re.compile(r"(?<![\w-])(--?[a-z][\w-]+|[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+|[a-z]+_[\w]+|[A-Za-z_]\w*\(|"
                    r"[A-Z][a-z]+[A-Z]\w*)")
_IMPORT = re.compile(r"\b(?:import|from)\s+([A-Za-z_][\w.]*)")


def invented(answer: str, evidence: str) -> list[str]:
    """Code, identifiers and imports the answer writes that the evidence never does (case
    aside): what a small model makes up ("import django" in an answer about httpx)."""
    have = evidence.lower()
    names = [m.group(1).strip() for m in _CODE.finditer(answer)]
    plain = _CODE.sub(" ", CITE.sub(" ", answer))
    names += [m.group(1).rstrip("(") for m in _IDENT.finditer(plain)] + [m.group(1) for m in _IMPORT.finditer(answer)]
    return [n for n in dict.fromkeys(names) if n and n.lower() not in have]
