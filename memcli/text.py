"""Text helpers every layer shares (the bottom layer: standard library only).

What a unit's indexed text looks like, how tokens are estimated, what a word and a stopword
are. They live here so that stores, retrieval, the graph and answers agree without importing
each other (the import-linter contract in pyproject.toml keeps it so).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

WORD = re.compile(r"\w+")
_PIECE = re.compile(r"\w+|[^\w\s]")
# MkDocs / Pandoc attribute lists after a heading: "## Path { #path-parameters }".
_HEADING_ATTRS = re.compile(r"(?m)^( {0,3}#{1,6}[ \t].*?)[ \t]*\{[ \t]*[#.][^}\n]*\}[ \t]*$")
SECTION_SEP = " › "
STOP = frozenset(
    "a an and are as at be by for from has have how i in is it its my of on or that the this "
    "to was were what when where which who why will with you your do did does me we our "
    # What \w+ leaves of "Melanie's", "that's" and "don't": no word at all.
    "s t".split()
)


def stem_key(w: str) -> str:
    """A word's comparison key: lower case, its first five letters (light stemming, so
    "compile" and "compiled" meet without a stemmer)."""
    w = w.lower()
    return w[:5] if len(w) > 5 else w


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return WORD.findall(text.lower())


def estimate_tokens(text: str) -> int:
    """Cheap word-piece estimate: words and punctuation marks (WordPiece splits some more)."""
    return len(_PIECE.findall(text))


def header(title: str, section: Sequence[str]) -> str:
    parts = [title, *[s for s in section if s and s != title]]
    return SECTION_SEP.join(p for p in parts if p)


def index_text(title: str, section: Sequence[str] | str, body: str) -> str:
    """What BM25 and the embedder see: ``Title › Section`` then the text (document-aware)."""
    if isinstance(section, str):
        section = section.split(SECTION_SEP) if section else []
    head = header(title, section)
    body = _HEADING_ATTRS.sub(r"\1", body)
    return f"{head}\n{body}" if head else body
