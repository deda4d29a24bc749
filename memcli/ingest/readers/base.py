"""The Document a reader produces, and byte-level helpers shared by readers."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from memcli.errors import ReadError


@dataclass(slots=True)
class Block:
    """A structural piece of a document: a heading, a paragraph or a code definition.

    ``start``/``end`` index ``Document.text``; ``section`` is the heading path above it.
    """

    kind: str  # "heading" | "para" | "code" | "turn"
    start: int
    end: int
    section: tuple[str, ...]
    # For conversation turns: speaker, turn_id, session, time (a datetime or None).
    meta: dict | None = None


@dataclass(slots=True)
class Document:
    kind: str
    title: str
    text: str
    blocks: list[Block]
    # True when ``text`` is the file decoded as-is, so char spans map to byte spans.
    verbatim: bool = False
    bom: int = 0
    # When the document happened (a note's front-matter date): its units' event time,
    # unless a unit carries its own (a conversation turn's).
    time: object = None
    time_key: str | None = None  # the front-matter key it came from (date, created, updated, modified)
    updated: object = None  # when the note last changed (front matter updated/modified), beside ``time``
    tags: list = field(default_factory=list)  # a note's tags (readers/structure.py note_tags)
    aliases: list = field(default_factory=list)  # other names a note answers to ([[Alias]] links)


def looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def decode_text(data: bytes) -> tuple[str, int]:
    """Strict UTF-8 (BOM allowed). Returns the text and the BOM length in bytes."""
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8"), bom
    except UnicodeDecodeError as e:
        raise ReadError(
            f"not valid UTF-8 (byte 0x{data[bom + e.start]:02x} at offset {bom + e.start}); "
            "convert it to UTF-8 (e.g. iconv -f latin1 -t utf-8)"
        ) from None
