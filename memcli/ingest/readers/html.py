"""HTML via html2text: the page becomes Markdown, so headings drive segmentation."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

from memcli.errors import ReadError
from memcli.ingest.readers.base import Document, decode_text
from memcli.ingest.readers.structure import markdown_blocks

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)
_CHARSET = re.compile(rb"<meta[^>]+charset=['\"]?([\w-]+)", re.I)


def _decode(data: bytes) -> str:
    m = _CHARSET.search(data[:4096])
    if m:
        enc = m.group(1).decode("ascii", "ignore").lower()
        if enc not in ("utf-8", "utf8"):
            try:
                return data.decode(enc)
            except (LookupError, UnicodeDecodeError):
                pass
    return decode_text(data)[0]


def read_html(path: Path, data: bytes) -> Document:
    import html2text

    source = _decode(data)
    conv = html2text.HTML2Text()
    conv.body_width = 0
    conv.ignore_images = True
    conv.ignore_links = True
    conv.ignore_emphasis = True
    try:
        text = conv.handle(source)
    except (RecursionError, AssertionError, ValueError) as e:
        raise ReadError(f"cannot parse HTML: {type(e).__name__}: {e}") from None
    if not text.strip():
        raise ReadError("the HTML page holds no text")
    m = _TITLE.search(data[:65536])
    title = htmllib.unescape(m.group(1).decode("utf-8", "replace")).strip() if m else ""
    md_title, blocks = markdown_blocks(text)
    return Document("html", title or md_title or path.stem, text, blocks)
