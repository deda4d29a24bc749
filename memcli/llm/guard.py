"""The guard on a generated stream: no loops.

A 135M model, greedy-decoded, often says its one sentence and then says it again until
max_tokens (measured: the same sentence four times, 18.6 s served). ``RepeatGuard`` watches
the stream and ends the answer at the first sentence (or line) that repeats an earlier one,
or a run of words that repeats the run before it; text that might be the start of a repeat
is held back until it is known not to be one, so the reader never sees the loop begin.
What a generated answer may say is checked by memcli/answer/grounding.py.
"""

from __future__ import annotations

import re

from memcli.text import WORD

_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\n+")
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
