"""Readers turn a file's bytes into a ``Document``: text plus structural blocks.

One reader per format; each uses a well-kept parser library and raises ``ReadError``
with a message a person can act on. ``read_document`` dispatches by file suffix.
"""

from __future__ import annotations

import re
from pathlib import Path

from memcli.errors import EmptyInput, ReadError
from memcli.plugins import hookimpl
from memcli.ingest.readers.base import Document, decode_text, looks_binary
from memcli.ingest.readers.structure import (
    code_blocks, front_matter, markdown_blocks, note_aliases, note_tags, note_times, plain_blocks,
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


# memcli's own formats, by reader kind: registered through the plugin hook (memcli/plugins.py),
# as a plugin's are, so that a plugin may take a suffix over.
BUILTIN_KINDS = {"markdown": MARKDOWN, "text": TEXT, "html": HTML, "code": CODE, "conversation": CHAT,
                 "pdf": {".pdf"}, "docx": {".docx"}}


@hookimpl
def register_readers(register) -> None:
    """memcli's own formats, through the hook a plugin's reader uses."""
    for kind, suffixes in BUILTIN_KINDS.items():
        register(suffixes, kind)


def kind_of(path: Path) -> str | None:
    """The reader kind for a path ("plugin": a plugin reads it), or None when nothing does."""
    from memcli.plugins import reader_for

    r = reader_for(path.suffix)
    if r is None:
        return None
    return r if isinstance(r, str) else "plugin"


def _plugin_document(path: Path) -> Document:
    """A plugin reader's result: a Document as it is, or text read as plain paragraphs."""
    from memcli.plugins import reader_for

    got = reader_for(path.suffix)(path)
    if isinstance(got, Document):
        return got
    if not isinstance(got, str):
        raise ReadError(f"the plugin reader for {path.suffix} returned {type(got).__name__}, not text")
    if not got.strip():
        raise EmptyInput("the plugin reader found nothing to remember")
    title, blocks = markdown_blocks(got)
    return Document("markdown", title or _stem_title(path), got, blocks)


def read_document(path: Path, data: bytes, fmt: str | None = None) -> Document:
    """``fmt`` forces a conversation export format (chatgpt, claude, jsonl, locomo)."""
    kind = "conversation" if fmt else kind_of(path)
    if kind is None:
        raise ReadError(f"unsupported file type {path.suffix or '(no suffix)'!r}")
    if not data.strip():
        raise EmptyInput("empty file: nothing to remember")
    if kind == "plugin":
        return _plugin_document(path)
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
        time, time_key, updated = note_times(meta)
        return Document(kind, title or _stem_title(path), text, blocks, verbatim=True, bom=bom,
                        time=time, time_key=time_key, updated=updated, tags=note_tags(text, meta),
                        aliases=note_aliases(meta))
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
