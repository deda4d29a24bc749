"""Readers turn a file's bytes into a ``Document``: text plus structural blocks.

One reader per format; each uses a well-kept parser library and raises ``ReadError``
with a message a person can act on. ``read_document`` dispatches by file suffix.
"""

from __future__ import annotations

import re
from pathlib import Path

from memcli.errors import EmptyInput, ReadError
from memcli.ingest.readers.base import Document, decode_text, looks_binary
from memcli.ingest.readers.structure import (
    code_blocks, front_matter, markdown_blocks, note_aliases, note_tags, note_time, plain_blocks,
)

MARKDOWN = {".md", ".markdown", ".mdown", ".mkd"}
TEXT = {".txt", ".text", ".rst", ".org", ".log", ".csv", ".tsv"}
HTML = {".html", ".htm", ".xhtml"}
CODE = {
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".rs", ".java",
    ".kt", ".scala", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".rb", ".php", ".swift",
    ".sh", ".bash", ".zsh", ".sql", ".lua", ".r", ".jl", ".hs", ".ml", ".ex", ".exs",
    ".toml", ".yaml", ".yml", ".ini", ".cfg",
}
CHAT = {".json", ".jsonl"}
SUPPORTED = MARKDOWN | TEXT | HTML | CODE | CHAT | {".pdf", ".docx"}


def kind_of(path: Path) -> str | None:
    """The reader kind for a path, or None when memcli does not read this format."""
    s = path.suffix.lower()
    if s in MARKDOWN:
        return "markdown"
    if s in TEXT:
        return "text"
    if s in HTML:
        return "html"
    if s in CODE:
        return "code"
    if s in CHAT:
        return "conversation"
    if s == ".pdf":
        return "pdf"
    if s == ".docx":
        return "docx"
    return None


def read_document(path: Path, data: bytes, fmt: str | None = None) -> Document:
    """``fmt`` forces a conversation export format (chatgpt, claude, jsonl, locomo)."""
    kind = "conversation" if fmt else kind_of(path)
    if kind is None:
        raise ReadError(f"unsupported file type {path.suffix or '(no suffix)'!r}")
    if not data.strip():
        raise EmptyInput("empty file: nothing to remember")
    if kind == "pdf":
        from memcli.ingest.readers.pdf import read_pdf

        return read_pdf(path, data)
    if kind == "docx":
        from memcli.ingest.readers.docx import read_docx

        return read_docx(path, data)
    if looks_binary(data):
        raise ReadError("binary content (NUL bytes) in a text file")
    if kind == "conversation":
        from memcli.ingest.readers.chat import read_chat_json

        return read_chat_json(path, data, fmt)
    if kind == "html":
        from memcli.ingest.readers.html import read_html

        return read_html(path, data)
    text, bom = decode_text(data)
    if kind == "markdown":
        title, blocks = markdown_blocks(text)
        meta = front_matter(text)
        return Document(kind, title or _stem_title(path), text, blocks, verbatim=True, bom=bom,
                        time=note_time(meta), tags=note_tags(text, meta), aliases=note_aliases(meta))
    if kind == "code":
        return Document(kind, path.name, text, code_blocks(text, path.suffix.lower()), verbatim=True, bom=bom)
    title, blocks = plain_blocks(text)
    return Document(kind, title or _stem_title(path), text, blocks, verbatim=True, bom=bom)


def _stem_title(path: Path) -> str:
    """A title from a file name: "Boiler service.md" as written (Obsidian's titles are file
    names, hyphens and all); a slug's separators become spaces ("boiler-service" -> "boiler
    service"), except a hyphen between digits ("68-95-99.7-rule" -> "68-95-99.7 rule")."""
    stem = path.stem
    if " " not in stem.strip():
        stem = re.sub(r"(?<!\d)-|-(?!\d)", " ", stem.replace("_", " "))
    return re.sub(r"\s+", " ", stem).strip() or path.name


__all__ = ["Document", "SUPPORTED", "kind_of", "read_document"]
