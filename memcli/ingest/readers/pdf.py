"""PDF text by page (pypdf). Each page becomes a section, so citations can say the page."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from memcli.errors import ReadError
from memcli.ingest.readers.base import Block, Document
from memcli.ingest.readers.structure import plain_blocks


def read_pdf(path: Path, data: bytes) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ReadError("encrypted PDF: decrypt it first (e.g. qpdf --decrypt)")
        pages = [(p.extract_text() or "") for p in reader.pages]
        meta_title = (reader.metadata or {}).get("/Title") if reader.metadata else None
    except ReadError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError, AssertionError, ZeroDivisionError) as e:
        raise ReadError(f"corrupt or unsupported PDF: {type(e).__name__}: {e}") from None
    parts: list[str] = []
    blocks: list[Block] = []
    pos = 0
    for n, page in enumerate(pages, start=1):
        page = page.replace("\x00", "").strip()
        if not page:
            continue
        _, page_blocks = plain_blocks(page)
        for b in page_blocks:
            blocks.append(Block(b.kind, pos + b.start, pos + b.end, (f"page {n}",)))
        parts.append(page)
        pos += len(page) + 2
    text = "\n\n".join(parts)
    if not text.strip():
        raise ReadError("PDF has no extractable text (scanned images need OCR first)")
    title = str(meta_title).strip() if meta_title else ""
    if not title:
        first = text.split("\n", 1)[0].strip()
        title = first if 0 < len(first) <= 80 else path.stem
    return Document("pdf", title, text, blocks)
