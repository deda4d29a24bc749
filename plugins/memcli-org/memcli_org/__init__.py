"""Org-mode files as notes: `#+title:` is the title, `*` headings are sections, `[[link][text]]`
reads as its text (an org-roam `[[id:…][Note]]` link as a [[Note]] link), drawers and
keywords go, TODO/DONE stay words. The text goes on as Markdown, so memcli segments, dates
("* <2025-04-12 Sat>") and links it like any note."""

from __future__ import annotations

import re
from pathlib import Path

import memcli

_TITLE = re.compile(r"^\s*#\+title:\s*(.+?)\s*$", re.I)
_KEYWORD = re.compile(r"^\s*#\+\w+")
_DRAWER = re.compile(r"^\s*:[A-Za-z_-]+:\s*(.*)$")
_HEADING = re.compile(r"^(\*+)\s+(.*)$")
_LINK = re.compile(r"\[\[([^\]]+)\](?:\[([^\]]+)\])?\]")
_STAMP = re.compile(r"<(\d{4}-\d{2}-\d{2})(?: [A-Za-z]{2,3})?(?: [\d:]+)?>")


def _link(m: re.Match) -> str:
    target, text = m.group(1), m.group(2)
    if target.startswith(("id:", "file:")):
        return f"[[{text or target.split(':', 1)[1]}]]"
    if target.startswith(("http:", "https:")):
        return text or target
    return f"[[{target}|{text}]]" if text else f"[[{target}]]"


def read_org(path: Path) -> str:
    title, out, in_drawer = None, [], False
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        m = _TITLE.match(line)
        if m:
            title = m.group(1)
            continue
        if in_drawer:
            in_drawer = not line.strip().upper() == ":END:"
            continue
        d = _DRAWER.match(line)
        if d and line.strip().upper() in (":PROPERTIES:", ":LOGBOOK:"):
            in_drawer = True
            continue
        if _KEYWORD.match(line):
            continue
        line = _STAMP.sub(r"\1", _LINK.sub(_link, line))
        h = _HEADING.match(line)
        if h:
            line = "#" * (len(h.group(1)) + (1 if title else 0)) + " " + h.group(2)
        out.append(line)
    body = "\n".join(out).strip()
    return (f"# {title}\n\n" if title else "") + body + "\n"


@memcli.hookimpl
def register_readers(register):
    register([".org"], read_org)
