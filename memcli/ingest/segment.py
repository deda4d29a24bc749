"""Pack a document's structural blocks into segment-level memory units.

Units follow the document's own structure (headings, paragraphs, code definitions) and
stay within token bounds: small sections merge forward, a block larger than the bound is
split at sentence boundaries (then words). Never fixed-width windows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from memcli.ingest.readers.base import Document
from memcli.text import estimate_tokens, index_text

# A sentence ends at . ! ? followed by space or the end: "github.com/x" and "3.14" do not end one.
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?]+(?=[^\s.!?\"')\]]))+(?:[.!?]+[\"')\]]*|\n+|$)\s*")
_WORD = re.compile(r"\S+\s*")


@dataclass(slots=True)
class Segment:
    start: int
    end: int
    section: tuple[str, ...]
    text: str
    index_text: str
    tokens: int
    meta: dict | None = None  # conversation units: speaker, session, time, turn_ids


def _split_long(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Split [start, end) into balanced spans of at most ``limit`` estimated tokens.

    Pieces aim at equal size (300 tokens with limit 222 -> 150 + 150, not 222 + 78), cut at
    the sentence end nearest the target; a run-on sentence over the limit is cut at words.
    """
    body = text[start:end]
    pieces = []
    for m in _SENTENCE.finditer(body):
        if not m.group().strip():
            continue
        s, e = start + m.start(), start + m.end()
        t = estimate_tokens(text[s:e])
        if t <= limit:
            pieces.append((s, e, t))
            continue
        ws, wt, we = None, 0, s
        for w in _WORD.finditer(text, s, e):
            mt = estimate_tokens(w.group())
            if ws is not None and wt + mt > limit:
                pieces.append((ws, w.start(), wt))
                ws, wt = None, 0
            if ws is None:
                ws = w.start()
            wt += mt
            we = w.end()
        if ws is not None:
            pieces.append((ws, we, wt))
    if not pieces:
        return [(start, end)]
    total = sum(t for _, _, t in pieces)
    target = total / max(1, math.ceil(total / limit))
    out: list[tuple[int, int]] = []
    cur_s, cur_e, cur_t = None, 0, 0
    for s, e, t in pieces:
        if cur_s is not None:
            overshoot = cur_t + t - target
            if cur_t + t > limit or (overshoot > 0 and overshoot > target - cur_t):
                out.append((cur_s, cur_e))
                cur_s, cur_t = None, 0
        if cur_s is None:
            cur_s = s
        cur_e, cur_t = e, cur_t + t
    out.append((cur_s, cur_e))
    return out


def min_unit_tokens(min_tokens: int) -> int:
    """Below this a unit is a fragment (a lone heading, a URL tail), not a memory."""
    return max(8, min_tokens // 8)


def _absorb_fragments(text: str, spans: list[tuple[int, int, tuple[str, ...]]], min_unit: int,
                      keep: set[int] = frozenset()) -> list[tuple[int, int, tuple[str, ...]]]:
    """Merge every span under ``min_unit`` estimated tokens into its neighbour (the previous
    one, else the next); the merged unit keeps the larger part's section label. A span that
    starts at a dated heading (``keep``) stays a unit however short: its date is its own."""
    out: list[tuple[int, int, tuple[str, ...], int]] = []
    for s, e, sec in spans:
        t = estimate_tokens(text[s:e])
        if out and s not in keep and (t < min_unit or out[-1][3] < min_unit):
            ps, _, psec, pt = out[-1]
            out[-1] = (ps, e, psec if pt >= t else sec, pt + t)
        else:
            out.append((s, e, sec, t))
    return [(s, e, sec) for s, e, sec, _ in out]


def _dated_heading(line: str) -> bool:
    from memcli.ingest.dates import heading_date

    return heading_date(line, 2000) is not None  # any year: only whether it is a date


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def segment(
    doc: Document,
    *,
    min_tokens: int,
    max_tokens: int,
    count_tokens: Callable[[list[str]], list[int]] | None = None,
    hard_limit: int | None = None,
) -> list[Segment]:
    """Cut ``doc`` into units of about ``min_tokens``..``max_tokens`` estimated tokens.

    ``count_tokens`` (the embedder's tokenizer) checks every unit whose estimate is near
    ``hard_limit``; a unit over it is split again so the embedder never truncates it.
    """
    text = doc.text
    spans: list[tuple[int, int, tuple[str, ...]]] = []
    cur_s: int | None = None
    cur_e = 0
    cur_sec: tuple[str, ...] = ()
    cur_t = 0

    cur_content = False
    dated: set[int] = set()  # starts of units that open at a dated heading

    def flush() -> None:
        nonlocal cur_s, cur_t, cur_content
        if cur_s is not None:
            spans.append((cur_s, cur_e, cur_sec))
        cur_s, cur_t, cur_content = None, 0, False

    for b in doc.blocks:
        t = estimate_tokens(text[b.start:b.end])
        if b.kind == "heading" or (b.kind == "code" and b.section):
            # A new section or definition starts a unit once the current one is big enough;
            # a dated heading ("## 12 April") always does, so that each journal entry keeps
            # its own date (ingest/dates.py) and --since selects entries, not whole files.
            is_dated = b.kind == "heading" and _dated_heading(text[b.start:b.end])
            if cur_t >= min_tokens or (is_dated and cur_content):
                flush()
            if is_dated and cur_s is None:
                dated.add(b.start)
        if t > max_tokens:
            # Headings waiting for content open the first piece instead of standing alone.
            lead = cur_s if cur_s is not None and not cur_content else None
            if lead is None:
                flush()
            pieces = _split_long(text, b.start, b.end, max_tokens)
            for j, (s, e) in enumerate(pieces):
                spans.append((lead if j == 0 and lead is not None else s, e, b.section))
            cur_s, cur_t, cur_content = None, 0, False
            continue
        if cur_s is not None and cur_t + t > max_tokens and cur_content:
            flush()
        if cur_s is None:
            cur_s, cur_sec = b.start, b.section
        elif not cur_content:
            cur_sec = b.section  # only headings so far: the deeper heading names the unit
        else:
            # A unit spanning sibling sections is labelled by their common parent.
            cur_sec = _common_prefix(cur_sec, b.section)
        cur_e = b.end
        cur_t += t
        cur_content = cur_content or b.kind != "heading"
    flush()

    # A small tail joins its predecessor when both fit.
    if len(spans) >= 2:
        (ps, _, psec), (ls, le, _) = spans[-2], spans[-1]
        if ls not in dated and estimate_tokens(text[ls:le]) < min_tokens and estimate_tokens(text[ps:le]) <= max_tokens:
            spans[-2:] = [(ps, le, psec)]

    spans = _absorb_fragments(text, spans, min_unit_tokens(min_tokens), dated)
    segs = [_make(doc, s, e, sec) for s, e, sec in spans]
    segs = [g for g in segs if g.text]
    if count_tokens is not None and hard_limit is not None:
        segs = _enforce(doc, segs, count_tokens, hard_limit)
    return segs


def _make(doc: Document, s: int, e: int, sec: tuple[str, ...]) -> Segment:
    s, e = _trim(doc.text, s, e)
    body = doc.text[s:e]
    itext = index_text(doc.title, sec, body)
    return Segment(s, e, sec, body, itext, estimate_tokens(itext))


def _enforce(doc: Document, segs: list[Segment], count_tokens, hard_limit: int) -> list[Segment]:
    """Exact check with the real tokenizer for units whose estimate is near the limit."""
    for _ in range(8):
        suspect = [i for i, g in enumerate(segs) if g.tokens > hard_limit * 0.6]
        if not suspect:
            return segs
        counts = count_tokens([segs[i].index_text for i in suspect])
        over = set()
        for i, c in zip(suspect, counts):
            segs[i].tokens = c
            if c > hard_limit:
                over.add(i)
        if not over:
            return segs
        out: list[Segment] = []
        for i, g in enumerate(segs):
            if i not in over:
                out.append(g)
                continue
            est_limit = max(8, int(estimate_tokens(g.text) * hard_limit / g.tokens * 0.9))
            for s, e in _split_long(doc.text, g.start, g.end, est_limit):
                out.append(_make(doc, s, e, g.section))
        segs = [g for g in out if g.text]
    return segs
