"""Stage 1: the excerpts split into answer candidates — sentences, adjacent pairs, list
items, table rows, short code blocks with their lead-in, conversation turns.

Candidates carry clean text (memcli.markup: links read as their text, admonition and tab
markers gone, `code` kept), so every later stage — features, the ranker, spans, the answer
a person reads — sees prose, while citations keep the unit's line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from memcli.answer.context import Excerpt
from memcli.markup import navigation, prose_line, resolve_links, structure_line
from memcli.text import STOP, WORD, stem_key

# No end after an initial or a title's abbreviation: "directed by S. R. Puttanna Kanagal", "St. Petersburg".
_SENT_END = re.compile(r"(?<=[.!?])(?<!\b[A-Z]\.)(?<!\bSt\.)(?<!\bMt\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bMrs\.)"
                       r"\s+(?=[`\"'(\[A-Z0-9*_])")
TURN_PREFIX = re.compile(r"^\[(\d{4}-\d{2}-\d{2})\]\s+([^:]{1,60}):\s*")
_LIST_ITEM = re.compile(r"^([-*+]|\d{1,2}[.)])\s+")
_FENCE = re.compile(r"^(```|~~~)")
# Speakers whose turns are questions, never answers (a saved `mem chat` writes its questions so).
QUESTION_SPEAKERS = frozenset({"you asked"})


@dataclass(frozen=True)
class Cuts:
    """How excerpts are cut into candidates: every number this stage decides with."""

    max_excerpts: int = 6  # candidates come from the best excerpts only (latency; the answer is nearly always there)
    max_candidates: int = 120
    pair_chars: int = 320  # two sentences shown together stay a short answer
    list_chars: int = 400  # a lead-in with its list items, as one candidate
    code_line_chars: int = 160  # a statement line of a longer block, on its own
    snippet_lines: int = 4  # a code block this short (lines and characters) is one candidate
    snippet_chars: int = 240
    min_words: int = 3  # fewer words (code aside) is a fragment, not an answer
    new_terms: float = 0.3  # share of a line's terms the question does not hold, at least


CUTS = Cuts()


def terms(text: str) -> list[str]:
    return [stem_key(w) for w in WORD.findall(text) if w.lower() not in STOP]


# A name said to someone rather than about them: after a greeting ("Hey Jon,", "Thanks, Gina"),
# before "!" or "?" ("Way to go, Jon!"), or set off by a comma or the line's start and closed
# by punctuation ("Caroline, awesome news", "sorry to hear that, Mel.", ", Gina - really").
_ADDRESS = tuple(re.compile(p) for p in (
    r"\b(?i:hey|hi|hello|thanks|thank you|wow|oh|congrats|congratulations|yo|dear|bye|sorry)[,!]?\s+([A-Z][a-z]+)\b",
    r"\b([A-Z][a-z]+)(?=\s*[!?])",
    r"(?:^|,)\s*([A-Z][a-z]+)(?=\s*(?:[,.!?\-–—]|$))",
))


# Capitalised before a comma at a sentence's start, and no name: "Yet, she …", "Well, …".
_NOT_CALLED = frozenset("""yet well also anyway anyways honestly so and but however besides plus oh wow yeah yes
    no nope okay ok sure thanks hey hi hello sorry congrats still now then actually really seriously wait right
    great awesome cool nice man dude aw aww haha lol omg btw first finally sometimes usually luckily sadly
    unfortunately thankfully anyhow meanwhile lately recently yesterday today tonight tomorrow""".split())


def addressed(text: str) -> list[tuple[int, int]]:
    """Where ``text`` calls someone by name: "That's awesome, Melanie!" talks to Melanie, not
    about her."""
    return sorted({m.span(1) for rx in _ADDRESS for m in rx.finditer(text)
                   if m.group(1).lower() not in _NOT_CALLED})


def unaddressed(text: str) -> str:
    """A turn without the names it calls people by, so a greeting's name credits nothing and
    says nothing of whom the turn is about."""
    for a, b in reversed(addressed(text)):
        text = text[:a] + text[b:]
    return text


@dataclass
class Candidate:
    text: str
    excerpt: Excerpt
    rank: int = 0  # the excerpt's place in retrieval order (0: best)
    date: str | None = None  # the turn's date (ISO day), conversations only
    speaker: str | None = None
    prev: str = ""  # the sentence before it in its paragraph or turn
    kind: str = "prose"  # prose | turn | code | item
    pair: bool = False  # two adjacent sentences
    parts: tuple[str, ...] = ()  # a pair's two sentences
    position: int = 0  # its place among its excerpt's candidates


def sentences(para: str) -> list[str]:
    return [s.strip() for s in _SENT_END.split(para) if s.strip()]


def candidates(ex: Excerpt, rank: int = 0) -> list[Candidate]:
    """Sentences, list items, short code blocks (with their lead-in) and turns of an excerpt."""
    out: list[Candidate] = []
    prose: list[str] = []
    last = ""  # the last sentence seen: a code block's lead-in, a sentence's context
    code: list[str] | None = None

    def add(text: str, kind: str, **kw) -> None:
        nonlocal last
        if text:
            out.append(Candidate(text, ex, rank, prev=last, kind=kind, position=len(out), **kw))
            last = text

    def pairs(sents: list[str], **kw) -> None:
        # A sentence that restates the question is often followed by the one that answers
        # it: adjacent pairs are candidates too (scored as one text, shown as one answer).
        for a, b in zip(sents, sents[1:]):
            if len(a) + len(b) <= CUTS.pair_chars and not a.endswith("?") and not b.endswith("?"):
                out.append(Candidate(f"{a} {b}", ex, rank, pair=True, parts=(a, b), position=len(out), **kw))

    def flush(kind: str = "prose") -> None:
        if prose:
            sents = sentences(" ".join(prose))
            for s in sents:
                add(s, kind)
            pairs(sents)
            prose.clear()

    items: list[str] = []  # list items following a lead-in that ends with ":"
    lead_in = ""

    def close_list() -> None:
        # "It takes instances of `httpx.Limits` which define:" + its items: one candidate,
        # so the answer can be the list the sentence introduces.
        nonlocal lead_in
        if lead_in and len(items) >= 2:
            text = f"{lead_in} " + "; ".join(i.rstrip(".;") for i in items)
            if len(text) <= CUTS.list_chars:
                out.append(Candidate(text, ex, rank, prev=lead_in, kind="item", position=len(out)))
        items.clear()
        lead_in = ""

    for raw in resolve_links(ex.text).splitlines():
        line = raw.strip()
        if code is not None:
            if _FENCE.match(line):
                body = [c.lstrip("$> ").strip() for c in code if c.strip()]
                lead = last if last.endswith(":") else ""
                if body and len(body) <= CUTS.snippet_lines and sum(map(len, body)) <= CUTS.snippet_chars:
                    snippet = "`" + " ; ".join(body) + "`"
                    add(f"{lead} {snippet}".strip(), "code")
                else:
                    # A longer block: each statement line on its own (comments and output skipped).
                    before = last
                    for c in body:
                        if c and not c.startswith(("#", "//")) and len(c) <= CUTS.code_line_chars:
                            out.append(Candidate(f"`{c}`", ex, rank, prev=lead or before, kind="code", position=len(out)))
                code = None
            else:
                code.append(line)
            continue
        if _LIST_ITEM.match(line) and (lead_in or (not prose and last.endswith(":"))):
            lead_in = lead_in or last
            items.append(prose_line(_LIST_ITEM.sub("", line)))
        elif line and not raw.startswith((" ", "\t")):
            close_list()
        if _FENCE.match(line):
            flush()
            code = []
            continue
        m = TURN_PREFIX.match(line)
        if not line or line.startswith("#") or m or structure_line(line) is not None or line.startswith("|"):
            flush()
            if m:
                if m.group(2).strip().lower() in QUESTION_SPEAKERS:
                    continue
                last = ""
                said = sentences(line[m.end():]) or [line[m.end():]]
                who = m.group(2).strip()
                for s in said:
                    add(s, "turn", date=m.group(1), speaker=who)
                pairs(said, kind="turn", date=m.group(1), speaker=who)
            elif line.startswith("|") and line.count("|") >= 3 and not set(line) <= set("|-: "):
                add(" | ".join(prose_line(c.strip()) for c in line.strip("|").split("|")), "item")
            continue
        if _LIST_ITEM.match(line):
            flush()
            prose.append(prose_line(_LIST_ITEM.sub("", line)))
            continue
        prose.append(prose_line(line))
    flush()
    close_list()
    return out


def answerable(c: Candidate, q_terms: set[str]) -> bool:
    """Not a question, not a lead-in to what follows ("… on every request:"), not a heading,
    and not made of the question's words alone (a prose line needs ``CUTS.new_terms`` of its
    terms new; a command, one)."""
    if c.text.rstrip().endswith(("?", ":")) or len(WORD.findall(c.text)) < CUTS.min_words and c.kind != "code":
        return False
    own = set(terms(c.text))
    if not own:
        return False
    if c.kind == "code":  # a command is dense: one new token ("pip install httpx[http2]") can be the answer
        return bool(own - q_terms)
    return len(own - q_terms) / len(own) >= CUTS.new_terms


_SECOND_PART = re.compile(r"^(.{12,}?)(?:[,;]?\s+and\s+|\?\s+(?:and\s+)?)((?:what|which|how|where|when|why|who|whose|"
                          r"can|could|do|does|is|are|will|should|would)\b.{6,})$", re.I)


def split_question(question: str) -> list[str]:
    """"Will uv download Python itself, and what setting turns that off?" asks two things;
    each part gets its own evidence sentence."""
    m = _SECOND_PART.match(question.strip())
    return [m.group(1).strip(), m.group(2).strip()] if m else [question]


def pool(question: str, excerpts: Sequence[Excerpt]) -> list[Candidate]:
    """The answerable candidates of the best excerpts, best excerpt first (navigation — an
    index page's list of links — says where an answer is, never what it is)."""
    q_terms = set(terms(question))
    best_first = sorted((e for e in excerpts if not navigation(e.text)), key=lambda e: -e.score)[:CUTS.max_excerpts]
    cands = [c for r, ex in enumerate(best_first) for c in candidates(ex, r)]
    return [c for c in cands if answerable(c, q_terms)][:CUTS.max_candidates]
