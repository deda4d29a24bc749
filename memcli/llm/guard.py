"""Guards on a generated answer: no loops, and nothing the excerpts do not support.

A 135M model, greedy-decoded, often says its one sentence and then says it again until
max_tokens (measured: the same sentence four times, 18.6 s served). ``RepeatGuard`` watches
the stream and ends the answer at the first sentence (or line) that repeats an earlier one,
or a run of words that repeats the run before it; text that might be the start of a repeat
is held back until it is known not to be one, so the reader never sees the loop begin.
``supported`` is the grounding check: a generated answer whose content words the excerpts
mostly do not contain is replaced by the extractive answer. ``carries`` is the agreement
check: an answer built only of the question's own words and the excerpts' headings ("The honey
won the prize of 2025." where the line says "second prize in the light honey class") has not
said what the reader's line says, so the line is shown instead.
"""

from __future__ import annotations

import re

from memcli.text import STOP, WORD, stem_key

_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\n+")
_CITE = re.compile(r"\[\d{1,3}\]")
RUN = 6  # a run of this many words said twice in a row is a loop


def _norm(text: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in WORD.findall(text))


class RepeatGuard:
    def __init__(self) -> None:
        self.text = ""  # everything kept so far
        self.emitted = 0  # how much of ``text`` the reader has been given
        self.seen: list[tuple[str, ...]] = []
        self.stopped = False
        self._done = 0  # end of the last complete sentence in ``text``

    def _repeats(self, words: tuple[str, ...], partial: bool) -> bool:
        if not words:
            return False
        if partial:
            return any(s[:len(words)] == words for s in self.seen)
        return words in self.seen

    def feed(self, piece: str) -> str:
        """Take a streamed piece; return the text that is now safe to show."""
        if self.stopped:
            return ""
        self.text += piece
        while True:
            m = _BOUNDARY.search(self.text, self._done)
            if not m:
                break
            sentence = _norm(self.text[self._done:m.start()])
            if self._repeats(sentence, partial=False):
                self.text, self.stopped = self.text[:self._done].rstrip(), True
                return self._emit(len(self.text))
            if sentence:
                self.seen.append(sentence)
            self._done = m.end()
        words = WORD.findall(self.text)
        if len(words) >= 2 * RUN and [w.lower() for w in words[-RUN:]] == [w.lower() for w in words[-2 * RUN:-RUN]]:
            cut = [m.start() for m in WORD.finditer(self.text)][-RUN]
            self.text, self.stopped = self.text[:cut].rstrip(), True
            return self._emit(len(self.text))
        tail = _norm(self.text[self._done:])
        safe = self._done if self._repeats(tail, partial=True) else len(self.text)
        return self._emit(safe)

    def _emit(self, upto: int) -> str:
        out = self.text[self.emitted:upto] if upto > self.emitted else ""
        self.emitted = max(self.emitted, upto)
        return out

    def finish(self) -> str:
        """The rest, once the stream has ended (a held-back tail that never became a repeat)."""
        if not self.stopped:
            last = _norm(self.text[self._done:])
            if last and last in self.seen:
                self.text = self.text[:self._done].rstrip()
        return self._emit(len(self.text))


SUPPORTED = 0.5  # share of the answer's content words the excerpts must hold


def supported(answer: str, evidence: str) -> bool:
    """Whether the excerpts hold most of the answer's content words (5-letter prefixes)."""
    answer = _CITE.sub(" ", answer)  # the answer's own apparatus: "[1]"
    own = {stem_key(w) for w in WORD.findall(answer) if w.lower() not in STOP}
    if not own:
        return True
    have = {stem_key(w) for w in WORD.findall(evidence)}
    return len(own & have) / len(own) >= SUPPORTED


def new_words(text: str, question: str) -> set[str]:
    """Content words (5-letter prefixes) of ``text`` that the question does not already say."""
    asked = {stem_key(w) for w in WORD.findall(question)}
    return {k for w in WORD.findall(_CITE.sub(" ", text)) if w.lower() not in STOP and (k := stem_key(w)) not in asked}


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
    plain = _CODE.sub(" ", _CITE.sub(" ", answer))
    names += [m.group(1).rstrip("(") for m in _IDENT.finditer(plain)] + [m.group(1) for m in _IMPORT.finditer(answer)]
    return [n for n in dict.fromkeys(names) if n and n.lower() not in have]
