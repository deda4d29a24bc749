"""Markdown markup → prose, for what a person reads (answers, evidence, snippets).

Units keep their raw text (citations point at lines of the file, BM25 indexes what was
written); this is applied where text is shown or read as a sentence. Links read as their
text, admonition / tab / snippet markers and emphasis marks go, HTML elements go (but not
placeholders such as ``<name>``, which manuals use as text), and `code` stays code —
nothing inside backticks is touched.
"""

from __future__ import annotations

import re

_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_FENCE_LINE = re.compile(r"^[ \t]*(```|~~~)")
_FENCED = re.compile(r"(^[ \t]*(?:```|~~~).*?^[ \t]*(?:```|~~~)[ \t]*$)", re.M | re.S)
# Whole lines that are only structure: MkDocs admonitions, pymdownx blocks and tabs, snippets.
_ADMONITION = re.compile(r'^\s*(?:!!!|\?\?\?\+?)\s*[\w-]+(?:\s+[\w-]+)*\s*(?:"([^"]*)")?\s*$')
_BLOCK = re.compile(r"^\s*///\s*([\w-]*)(?:\s*\|\s*(.*))?$")
_VERSION_BLOCK = {"version-added": "Added in", "version-changed": "Changed in", "version-deprecated": "Deprecated in",
                  "deprecated": "Deprecated in"}
_TAB = re.compile(r'^\s*===\+?\s*"([^"]*)"\s*$')
_SNIPPET = re.compile(r'^\s*-{1,2}8<-{1,2}\s*(?:"[^"]*")?\s*$')
_CALLOUT = re.compile(r"^\s*>\s*\[!(\w+)\][+-]?\s*")
_ATTRS = re.compile(r"\s*\{\s*[#.:][^}\n]*\}")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)|!\[([^\]]*)\]\[[^\]]*\]|!\[\[[^\]]*\.(?:png|jpe?g|gif|svg|webp|bmp|pdf)(?:\|[^\]]*)?\]\]", re.I)
# Obsidian: a note embedded in a note (``![[Other note]]``) reads as its name; a block id
# (``^a1b2c3`` ending a line) is an anchor, not words. Logseq: ``key:: value`` properties.
_EMBED = re.compile(r"!(?=\[\[)")
_BLOCK_ID = re.compile(r"\s\^[\w-]+\s*$")
_PROPERTY = re.compile(r"^(\s*(?:[-*]\s+)?)([\w-]+)::\s*")
_WIKI = re.compile(r"\[\[([^\]|#]*)(?:#([^\]|]*))?(?:\|([^\]]*))?\]\]")
# Link text may wrap onto the next line of the file.
_LINK_INLINE = re.compile(r"\[([^\]]{1,300})\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_LINK_REF = re.compile(r"\[([^\]]{1,300})\]\[[^\]\n]*\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_FOOTNOTE = re.compile(r"\[\^[^\]]+\]")
_HTML_NAMES = ("a|abbr|b|br|center|code|del|details|div|em|font|hr|i|img|ins|kbd|mark|p|pre|s|small|span|"
               "strong|sub|summary|sup|table|tbody|td|th|thead|tr|u|ul|ol|li|h[1-6]|figure|figcaption|video|source|picture")
_HTML = re.compile(rf"</?(?:{_HTML_NAMES})(?:\s[^<>]*)?/?>", re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=\S)\*(?![\w*])")
_EM_UNDER = re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_ICON = re.compile(r":(?:material|octicons|fontawesome|simple)-[\w-]+:")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_SPACES = re.compile(r"[ \t]{2,}")


def _inline(text: str) -> str:
    text = _IMAGE.sub(lambda m: m.group(1) or m.group(2) or "", text)
    text = _EMBED.sub("", text)
    text = _WIKI.sub(lambda m: (m.group(3) or m.group(1) or m.group(2) or "").strip(), text)
    text = _LINK_INLINE.sub(r"\1", text)
    text = _LINK_REF.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _FOOTNOTE.sub("", text)
    text = _HTML.sub("", text)
    text = _ICON.sub("", text)
    text = _ATTRS.sub("", text)
    text = _STRONG.sub(r"\2", text)
    text = _STRIKE.sub(r"\1", text)
    text = _EM_STAR.sub(r"\1", text)
    return _EM_UNDER.sub(r"\1", text)


def _outside_code(text: str, fn) -> str:
    """Apply ``fn`` to the parts of ``text`` outside `code` spans (links may wrap code:
    ``[`Model.dump()`][pkg.Model.dump]`` reads as `Model.dump()`)."""
    out, pos = [], 0
    # Links whose text is code: resolve them first so the code span stays intact.
    text = _LINK_REF.sub(r"\1", _LINK_INLINE.sub(r"\1", text)) if "`" in text else text
    for m in _CODE_SPAN.finditer(text):
        out.append(fn(text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(fn(text[pos:]))
    return "".join(out)


def structure_line(line: str) -> str | None:
    """What a structure-only line says (an admonition's or tab's title), "" when it says
    nothing, None when it is not a structure line."""
    for rx in (_ADMONITION, _TAB):
        m = rx.match(line)
        if m:
            return (m.group(1) or "").strip()
    m = _BLOCK.match(line)
    if m:
        kind, title = m.group(1).lower(), (m.group(2) or "").strip()
        lead = _VERSION_BLOCK.get(kind)
        return f"{lead} {title}".strip() + "." if lead and title else title
    if _SNIPPET.match(line):
        return ""
    return None


def prose_line(line: str) -> str:
    """One line of Markdown as a person reads it."""
    said = structure_line(line)
    if said is not None:
        return said
    line = _CALLOUT.sub("", line)
    line = _HEADING.sub("", line)
    line = _BLOCK_ID.sub("", line)
    line = _PROPERTY.sub(lambda m: f"{m.group(1)}{m.group(2)}: ", line)
    if line.lstrip().startswith(">"):
        line = line.lstrip()[1:].lstrip()
    return _SPACES.sub(" ", _outside_code(line, _inline)).strip()


def resolve_links(text: str) -> str:
    """Links (which may wrap across lines) as their text, and comments gone: done on a whole
    passage before it is cut into lines."""
    text = _COMMENT.sub("", text)
    if "[" not in text:
        return text
    # Fenced code is left as written: `handlers[0](event)` is not a link.
    parts = _FENCED.split(text)
    for i in range(0, len(parts), 2):
        parts[i] = _outside_code(parts[i], lambda t: _LINK_REF.sub(r"\1", _LINK_INLINE.sub(r"\1", t)))
    return "".join(parts)


# [[Target]], [[Target|shown]], [[Target#Heading]], ![[Target]]: the target (images excluded).
_WIKILINK = re.compile(r"!?\[\[([^\]|#\n]+)(?:#[^\]|\n]*)?(?:\|[^\]\n]*)?\]\]")
_NOT_NOTES = re.compile(r"\.(?:png|jpe?g|gif|svg|webp|bmp|pdf|mp3|mp4|webm|canvas)$", re.I)


def wikilinks(text: str) -> list[str]:
    """The notes a Markdown passage links to or embeds, in order, outside code."""
    return _wikilinks_in(_without_code(text))


def _without_code(text: str) -> str:
    return _CODE_SPAN.sub(" ", _FENCED.sub(" ", text))


def _wikilinks_in(body: str) -> list[str]:
    out = [m.group(1).strip() for m in _WIKILINK.finditer(body)]
    return [t for t in dict.fromkeys(out) if t and not _NOT_NOTES.search(t)]


def prose(text: str) -> str:
    """Markdown (one sentence or several lines) as prose: markup gone, `code` kept (the
    lines of a fenced block as written, without the fences)."""
    lines, fenced = [], False
    for ln in resolve_links(text).splitlines():
        if _FENCE_LINE.match(ln):
            fenced = not fenced
            continue
        lines.append(ln.rstrip() if fenced else prose_line(ln))
    return "\n".join(ln for ln in lines if ln)


_ANY_LINK = re.compile(rf"{_LINK_INLINE.pattern}|{_LINK_REF.pattern}|{_WIKI.pattern}|{_AUTOLINK.pattern}")
_LINK_LINE = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])?\s*")
NAV_MIN_LINKS = 4  # fewer links than this is a passage that cites, not a list of where to go
NAV_SHARE = 0.6  # of its lines (or of its words) that are links


def navigation(text: str) -> bool:
    """Whether a passage is navigation — an index page, a table of contents, a list of links
    to other notes — rather than something that says anything: most of its lines are links,
    or most of its words are link text. Such a passage is neither an answer nor a hit that
    should crowd out the notes it points to."""
    links = list(_ANY_LINK.finditer(text))
    if len(links) < NAV_MIN_LINKS:
        return False
    lines = [ln for ln in text.splitlines() if ln.strip() and not _HEADING.match(ln)]
    link_lines = sum(1 for ln in lines if (m := _ANY_LINK.search(ln)) and len(_LINK_LINE.sub("", ln[:m.start()])) <= 2
                     and len(ln[m.end():].strip(" .,;:-–—")) <= 40)
    if lines and link_lines / len(lines) >= NAV_SHARE:
        return True
    words = len(text.split())
    linked = sum(len(m.group(0).split()) for m in links)
    return words > 0 and linked / words >= NAV_SHARE


# [text](target "title"): a link to another file of the folder (not a URL, an anchor or an image).
_MD_LINK = re.compile(r"(?<!!)\[[^\]\n]{0,300}\]\(\s*<?([^()\s<>]+(?:\([^()\s]*\)[^()\s<>]*)*)>?(?:\s+\"[^\"]*\")?\s*\)")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
_NOTE_SUFFIXES = (".md", ".markdown", ".mdx", ".txt", ".org")


def note_links(text: str, from_path: str = "", by_path: dict[str, str] | None = None) -> list[str]:
    """The notes a Markdown passage links to, in order, outside code: ``[[Target]]`` as
    written; a link with a path (``[[./a/b|shown]]``, ``[text](../x/note.md#part)``) as the
    title of the note at that path when ``by_path`` (absolute path -> title) has it, else as
    the file's name (which a note's "alias of" edge leads to its title)."""
    import os
    from urllib.parse import unquote

    body = _without_code(text)
    base = os.path.dirname(from_path)
    by_path = by_path or {}
    out: list[str] = []

    def resolve(target: str) -> str:
        target = target.strip()
        stem = os.path.basename(target)
        for suffix in _NOTE_SUFFIXES:
            if stem.lower().endswith(suffix):
                stem = stem[: -len(suffix)]
                break
        if base:
            path = os.path.normpath(os.path.join(base, target))
            for p in (path, path + ".md"):
                if p in by_path and by_path[p]:
                    return by_path[p]
        return stem

    for t in _wikilinks_in(body):
        out.append(resolve(t) if "/" in t or t.startswith(".") else t)
    if "](" in body:
        for m in _MD_LINK.finditer(body):
            target = unquote(m.group(1).split("#", 1)[0].split("?", 1)[0])
            if not target or _SCHEME.match(target) or target.startswith("/") or _NOT_NOTES.search(target):
                continue
            suffix = os.path.splitext(target)[1].lower()
            if suffix and suffix not in _NOTE_SUFFIXES:
                continue  # a script, a PDF, a folder listing: not a note
            if target.endswith("/"):
                continue
            out.append(resolve(target))
    return [t for t in dict.fromkeys(out) if t.strip()]
