"""Stage 4, learned: the short answer inside the picked line — "one-on-one mentoring and
training", not the whole turn that says it.

The head reads the question and the line together, ``[CLS] question [SEP] line [SEP]``, on the
packaged MiniLM cut to a few layers (the reader's encoder, reader.PairEncoder), and gives each
token of the line a start and an end logit. [CLS] stands for "no short answer here": a
how-to, a why, or a line that does not hold what is asked. The span is given only when its
best start + end beats [CLS]'s by ``SpanHead.margin``; otherwise the line is the answer, as
before. Trained by ``bench/train_span.py`` on crowd questions about Wikipedia sentences
(SQuAD 2.0 dev, CC BY-SA 4.0); the trained layers ship as ``span.safetensors`` (float16) with
their manifest ``span.json``. numpy only, loaded once per process.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from memcli.answer.candidates import terms
from memcli.answer.dates import MONTHS
from memcli.answer.reader import PairEncoder, load_trained
from memcli.text import words

MODEL_FILE = Path(__file__).with_name("span.safetensors")
MAX_TOKENS = 16  # a short answer is a name, a value, a phrase: at most this many word pieces
# What a question's grammar says about its answer's form. A polar question ("Do both
# directors…?", "Can I…?") is answered yes or no by the line, never by a phrase cut from it;
# a question that offers alternatives ("…, God's Gift to Women or Aldrich Ames?") is answered
# by one of them, so a span that is neither (the director's name of a first hop) is no answer.
_POLAR = re.compile(r"^\W*(?:do|does|did|is|are|was|were|am|can|could|has|have|had|will|would|should|shall|may|might|must)\b",
                    re.I)
# A "why" asks for a reason and a "how do I" for a way: a clause or the line, never a phrase
# cut from it ("resolutions" is no answer to "Why does uv stop at the first index?").
_REASON = re.compile(r"^\W*(?:why|how\s+(?:come|do|does|did|can|could|should|would|to)\b)", re.I)
_CHOICE = re.compile(r"[,:]\s*(?P<a>[^,:?]+?)\s+or\s+(?P<b>[^,:?]+?)\W*$")


def form_allows(question: str, short: str) -> bool:
    """Whether the question's grammar lets ``short`` stand as its answer (see _POLAR, _CHOICE);
    else a short answer says something the question does not ("light honey class" is no prize)."""
    ask = re.split(r"(?<=[.!?])\s+", question.strip())[-1]  # "X has an OBE. Does …?": the question is the last sentence
    if _POLAR.match(ask) or _REASON.match(ask):
        return False
    m = _CHOICE.search(ask)
    if m is not None:
        got = set(words(short))
        # One of the alternatives, or most of it: not a few of its words.
        return any(len(got & (opt := set(words(m.group(k))))) * 2 > len(opt) > 0 for k in ("a", "b"))
    return not set(terms(short)) & set(terms(question))


def encode_span_input(tok, question: str, line: str, q_len: int = 32, l_len: int = 64):
    """ids, segment ids, each line token's (start, end) char offsets in ``line``, and the
    position of the line's first token. Training uses this same function."""
    q = tok.encode(question, add_special_tokens=False).ids[:q_len]
    enc = tok.encode(line, add_special_tokens=False)
    ids_l, offsets = enc.ids[:l_len], enc.offsets[:l_len]
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    ids = [cls] + q + [sep] + ids_l + [sep]
    types = [0] * (len(q) + 2) + [1] * (len(ids_l) + 1)
    return ids, types, list(offsets), len(q) + 2


# Capitalised at a sentence's start, never part of the name after them ("And LeBron").
_JOINERS = frozenset("and but or so then also because while when if".split())


def snap(line: str, a: int, b: int) -> tuple[int, int]:
    """The head's span widened to the phrase it cuts into: a bare number keeps the unit
    after it ("60 psi", not "60"), a day and month its year, an ordinal its noun ("19th century"), an opened quote its
    close and the name around it, a capitalised word the capitalised words before it
    ("Reference Counted", not "Counted"; a line's first word is capitalised anyway, and so is
    an "And" that starts a sentence)."""
    if re.fullmatch(r"[\d.,]+", line[a:b]):
        m = re.match(r"\s?(%|[^\W\d_]{1,3}\b)", line[b:])  # a unit: psi, mm, kg, GB, ms; not "1998 book"
        if m:
            b += m.end()
    elif re.search(rf"\b(?:{'|'.join(MONTHS)})(?:\s+\d{{1,2}})?$", line[a:b], re.I):
        m = re.match(r",?\s+\d{3,4}\b", line[b:])  # a date keeps its year: "20 March 851"
        if m:
            b += m.end()
    elif re.search(r"\d(?:st|nd|rd|th)$", line[a:b]):
        m = re.match(r"\s[a-z]+\b", line[b:])  # an ordinal keeps its noun: "mid-19th century", "3rd place"
        if m:
            b += m.end()
    # A quote the span opens is closed, with the name it is part of: 'Eddie "The Eagle" Edwards'.
    for open_, close in (('"', '"'), ("“", "”")):
        cut = line[a:b]
        if (cut.count(open_) % 2 == 1) if open_ == close else cut.count(open_) > cut.count(close):
            end = line.find(close, b)
            if 0 <= end - b < 40:
                b = end + 1
                more = re.match(r"(?:\s+[A-Z][\w'’.-]*)+", line[b:])
                b += more.end() if more else 0
    while line[a:a + 1].isupper():
        m = re.search(r"(?<!\S)([A-Z][\w'’-]*)\s+$", line[:a])
        if m is None or m.start(1) == 0 or m.group(1).lower() in _JOINERS:
            break
        a = m.start(1)
    return a, b


class SpanHead(PairEncoder):
    name = "span"

    def __init__(self, base: Path, weights: dict[str, np.ndarray], meta: dict) -> None:
        super().__init__(base, weights, meta)
        self.margin = float(meta.get("margin", 0.0))

    def best(self, question: str, line: str) -> tuple[tuple[int, int] | None, float]:
        """The best span's char offsets in ``line`` (None: [CLS] wins) and its margin over [CLS]."""
        return self.best_many(question, [line])[0]

    def best_many(self, question: str, lines: list[str]) -> list[tuple[tuple[int, int] | None, float]]:
        """``best`` for several lines in one pass through the layers (packed, no padding)."""
        out: list[tuple[tuple[int, int] | None, float]] = [(None, 0.0)] * len(lines)
        enc = {i: encode_span_input(self.tok, question, line) for i, line in enumerate(lines) if line.strip()}
        enc = {i: e for i, e in enc.items() if e[2]}
        if not enc:
            return out
        states = self.packed([(e[0], e[1]) for e in enc.values()])
        for x, (i, (_, _, offsets, first)) in zip(states, enc.items()):
            z = x @ self.w["span.weight"] + self.w["span.bias"]
            out[i] = self._best_of(lines[i], z[:, 0], z[:, 1], offsets, first)
        return out

    @staticmethod
    def _best_of(line: str, s: np.ndarray, e: np.ndarray, offsets: list[tuple[int, int]], first: int):
        n = len(offsets)
        ls, le = s[first:first + n], e[first:first + n]
        # start <= end < start + MAX_TOKENS: one (n, n) table, the band kept.
        table = ls[:, None] + le[None, :]
        i, j = np.indices(table.shape)
        table = np.where((j >= i) & (j < i + MAX_TOKENS), table, -np.inf)
        st, en = np.unravel_index(int(np.argmax(table)), table.shape)
        gain = float(table[st, en] - (s[0] + e[0]))
        return snap(line, offsets[st][0], offsets[en][1]), gain

    def allows(self, question: str, line: str, got: tuple[int, int] | None, gain: float,
               margin: float | None = None) -> bool:
        """Whether a read (``best``'s answer) is a short answer to show: it beats [CLS] by the
        calibrated margin (or ``margin``), holds a letter or a digit, and the question's form
        allows it."""
        if got is None or gain <= (self.margin if margin is None else margin):
            return False
        short = line[got[0]:got[1]]
        # An emoji or a dash says nothing on its own ("🎉" for where an internship is). (The
        # name a line greets someone by can be the answer: "Thanks for the invite, Joanna!")
        return re.search(r"[^\W_]", short) is not None and form_allows(question, short)

    def span(self, question: str, line: str) -> tuple[int, int] | None:
        got, gain = self.best(question, line)
        return got if self.allows(question, line, got, gain) else None


def available() -> bool:
    return MODEL_FILE.is_file() and MODEL_FILE.with_suffix(".json").is_file()


@lru_cache(maxsize=2)
def load(path: str | None = None) -> SpanHead | None:
    """The shipped head (or one at ``path``), once per process; None when it or its base
    model is absent (the rule spans of span.py answer then)."""
    return load_trained(SpanHead, Path(path) if path else MODEL_FILE)
