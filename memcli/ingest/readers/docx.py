"""DOCX via python-docx: Word heading styles become Markdown headings, tables become rows."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from memcli.errors import ReadError
from memcli.ingest.readers.base import Document
from memcli.ingest.readers.structure import markdown_blocks

# A .docx is a zip; refuse archives that would inflate far beyond any real document.
MAX_UNZIPPED = 200 * 1024 * 1024
MAX_RATIO = 200


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            total = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ReadError(f"not a valid .docx (zip): {e}") from None
    if total > MAX_UNZIPPED or total > MAX_RATIO * max(len(data), 1) + 10 * 1024 * 1024:
        raise ReadError(f"refusing .docx that inflates to {total // (1024 * 1024)} MiB (zip bomb?)")


def read_docx(path: Path, data: bytes) -> Document:
    _check_zip(data)
    import docx

    try:
        d = docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx raises many unrelated types on bad XML/zip parts
        raise ReadError(f"corrupt .docx: {type(e).__name__}: {e}") from None
    lines: list[str] = []
    title = (d.core_properties.title or "").strip()
    for p in d.paragraphs:
        t = p.text.strip()
        if not t:
            continue
        style = (p.style.name if p.style is not None else "") or ""
        if style == "Title":
            title = title or t
            lines.append(f"# {t}")
        elif style.startswith("Heading"):
            digits = "".join(ch for ch in style if ch.isdigit())
            # Heading 1 sits under the document's Title (which is the "#" level).
            level = min(int(digits) + 1, 6) if digits else 2
            lines.append(f"{'#' * level} {t}")
        else:
            lines.append(t)
    for table in d.tables:
        rows = [" | ".join(c.text.strip() for c in row.cells) for row in table.rows]
        lines.append("\n".join(r for r in rows if r.strip(" |")))
    text = "\n\n".join(x for x in lines if x)
    if not text.strip():
        raise ReadError("the .docx holds no text")
    md_title, blocks = markdown_blocks(text)
    return Document("docx", title or md_title or path.stem, text, blocks)
