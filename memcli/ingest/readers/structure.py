"""Structure parsers: split text into heading / paragraph / code-definition blocks.

They work on line offsets so every block keeps an exact span into the text; the
segmenter then packs blocks into size-bounded units without crossing them.
"""

from __future__ import annotations

import ast
import re

from memcli.ingest.readers.base import Block

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# Attribute lists some Markdown dialects put after a heading: "Path { #path-parameters }".
_ATTRS = re.compile(r"[ \t]*\{[ \t]*[#.][^}]*\}[ \t]*$")


def _lines(text: str) -> list[tuple[int, int, str]]:
    """(start, end, line-without-newline) for every line of text."""
    out = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        out.append((pos, pos + len(raw), raw.rstrip("\r\n")))
        pos += len(raw)
    return out


def _front_matter(lines: list[tuple[int, int, str]]) -> tuple[int, str | None]:
    """Skip YAML front matter; return (first content line index, its title if any)."""
    if not lines or lines[0][2].strip() != "---":
        return 0, None
    for i in range(1, min(len(lines), 200)):
        if lines[i][2].strip() in ("---", "..."):
            title = None
            for _, _, ln in lines[1:i]:
                m = re.match(r"^title:\s*['\"]?(.*?)['\"]?\s*$", ln)
                if m:
                    title = m.group(1)
            return i + 1, title
    return 0, None


def front_matter(text: str) -> dict:
    """A note's YAML front matter as a dict ({} when there is none or it does not parse):
    Obsidian, Logseq, Jekyll and Hugo keep title, aliases, tags and dates there."""
    if not text.startswith("---"):
        return {}
    lines = _lines(text[:20000])
    end, _ = _front_matter(lines)
    if end == 0:
        return {}
    import yaml

    try:
        data = yaml.safe_load(text[lines[1][0]:lines[end - 1][0]]) if end > 1 else None
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


# An inline tag: "#" after a space or a line start, a letter first (#2024 is not a tag),
# then letters, digits, _ - and / (nested); Markdown headings ("# Title") never match.
_TAG = re.compile(r"(?:^|(?<=\s))#([^\W\d_][\w/-]*)", re.M)
_FENCED_OR_CODE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[ \t]*$|`[^`\n]*`", re.M | re.S)


def _listed(meta: dict, keys: tuple[str, ...], sep: str) -> list[str]:
    """The values of front-matter ``keys``, each a list or one string split on ``sep``."""
    out: list[str] = []
    for key in keys:
        v = meta.get(key)
        if isinstance(v, str):
            out += re.split(sep, v)
        elif isinstance(v, list):
            out += [str(x) for x in v if x is not None]
    return out


def note_tags(text: str, meta: dict) -> list[str]:
    """A note's tags, lower-cased, from its front matter (``tags``/``tag``: a list or a
    comma/space separated string) and its inline #tags outside code; each nested tag
    also as its parents ("a/b/c" -> "a", "a/b", "a/b/c")."""
    raw = _listed(meta, ("tags", "tag"), r"[,\s]+")
    body = _FENCED_OR_CODE.sub(" ", text)
    raw += _TAG.findall(body)
    out: dict[str, None] = {}
    for t in raw:
        t = t.strip().lstrip("#").strip("/").lower()
        if not t:
            continue
        parts = t.split("/")
        for i in range(1, len(parts) + 1):
            out["/".join(parts[:i])] = None
    return list(out)


def note_aliases(meta: dict) -> list[str]:
    """Front-matter ``aliases`` (or ``alias``): a list or one string."""
    out = [a.strip() for a in _listed(meta, ("aliases", "alias"), r",")]
    return [a for a in dict.fromkeys(out) if a]


TIME_KEYS = ("date", "created", "updated", "modified")


def note_times(meta: dict):
    """(when a note happened, the front-matter key that said so, when it last changed): the
    first of ``date``, ``created``, ``updated``, ``modified`` that holds a time, and beside it
    ``updated`` (else ``modified``) when the event time came from ``date``/``created``."""
    found = {key: t for key in TIME_KEYS if (t := _front_time(meta.get(key))) is not None}
    key = next(iter(found), None)
    updated = None if key in (None, "updated", "modified") else found.get("updated") or found.get("modified")
    return found.get(key), key, updated


def note_time(meta: dict):
    """When a note happened, from its front matter (see note_times)."""
    return note_times(meta)[0]


def note_time_key(meta: dict) -> str | None:
    """Which front-matter key note_time reads."""
    return note_times(meta)[1]


def _front_time(v):
    """One front-matter value as an aware datetime, or None: ISO text, a YAML date, or epoch
    seconds/milliseconds (Dendron and some exporters write ``created: 1623456789000``)."""
    from datetime import date, datetime, time, timezone

    if isinstance(v, (int, float)) and not isinstance(v, bool) and 1e9 <= abs(v) < 1e14:
        return datetime.fromtimestamp(v / 1000 if v >= 1e11 else v, tz=timezone.utc)
    if isinstance(v, str) and v.strip().isdigit() and 10 <= len(v.strip()) <= 13:
        n = int(v.strip())
        return datetime.fromtimestamp(n / 1000 if len(v.strip()) == 13 else n, tz=timezone.utc)
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=timezone.utc)
    if isinstance(v, date):
        return datetime.combine(v, time(), tzinfo=timezone.utc)
    if isinstance(v, str) and v.strip():
        try:
            d = datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return d if d.tzinfo else d.replace(tzinfo=timezone.utc)
    return None


def markdown_blocks(text: str) -> tuple[str | None, list[Block]]:
    """Blocks of a Markdown text and its title (front matter, else first H1)."""
    lines = _lines(text)
    i, title = _front_matter(lines)
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []  # (level, heading)
    para_start: int | None = None
    para_end = 0

    def section() -> tuple[str, ...]:
        return tuple(h for _, h in path)

    def flush() -> None:
        nonlocal para_start
        if para_start is not None:
            blocks.append(Block("para", para_start, para_end, section()))
            para_start = None

    def heading(level: int, name: str, start: int, end: int) -> None:
        nonlocal title
        flush()
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, name))
        if level == 1 and title is None:
            title = name
        blocks.append(Block("heading", start, end, section()))

    n = len(lines)
    while i < n:
        start, end, ln = lines[i]
        fence = _FENCE.match(ln)
        if fence:
            flush()
            marker = fence.group(1)
            j = i + 1
            while j < n and not lines[j][2].lstrip().startswith(marker):
                j += 1
            j = min(j, n - 1)
            blocks.append(Block("code", start, lines[j][1], section()))
            i = j + 1
            continue
        m = _ATX.match(ln)
        if m:
            heading(len(m.group(1)), _ATTRS.sub("", m.group(2)).strip() or "(untitled)", start, end)
            i += 1
            continue
        if (
            ln.strip()
            and para_start is None
            and i + 1 < n
            and _SETEXT.match(lines[i + 1][2])
            and not ln.lstrip().startswith(("-", "*", "+", ">", "|"))
        ):
            level = 1 if lines[i + 1][2].strip().startswith("=") else 2
            heading(level, ln.strip(), start, lines[i + 1][1])
            i += 2
            continue
        if ln.strip():
            if para_start is None:
                para_start = start
            para_end = end
        else:
            flush()
        i += 1
    flush()
    return title, blocks


def plain_blocks(text: str) -> tuple[str | None, list[Block]]:
    """Paragraphs separated by blank lines; a short first line is taken as the title."""
    blocks: list[Block] = []
    para_start: int | None = None
    para_end = 0
    for start, end, ln in _lines(text):
        if ln.strip():
            if para_start is None:
                para_start = start
            para_end = end
        elif para_start is not None:
            blocks.append(Block("para", para_start, para_end, ()))
            para_start = None
    if para_start is not None:
        blocks.append(Block("para", para_start, para_end, ()))
    title = None
    first = text.lstrip().split("\n", 1)[0].strip()
    if first and len(first) <= 80 and not first.endswith((".", ",", ";", ":")):
        title = first
    return title, blocks


_DEF = re.compile(
    r"^(?:export\s+|pub(?:\(\w+\))?\s+|public\s+|private\s+|protected\s+|static\s+|async\s+|"
    r"abstract\s+|final\s+|default\s+)*"
    r"(?:def|class|function|fn|func|struct|enum|trait|impl|interface|type|module|object|"
    r"const|let|var|val|CREATE|create|sub|proc|macro_rules!)\b"
)
_CLOSER = re.compile(r"^[\}\)\]]|^end\b")


def code_blocks(text: str, suffix: str) -> list[Block]:
    """Code split by top-level definitions (Python by its AST, others by layout)."""
    if suffix in (".py", ".pyi"):
        blocks = _python_blocks(text)
        if blocks is not None:
            return blocks
    return _layout_blocks(text)


def _python_blocks(text: str) -> list[Block] | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines = _lines(text)
    if not lines:
        return []
    blocks: list[Block] = []
    prev_end_line = 0  # 0-based line index where the next block may start
    for node in tree.body:
        first = node.lineno - 1
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.decorator_list:
            first = min(d.lineno for d in node.decorator_list) - 1
        # Comments directly above a definition belong to it.
        while first > prev_end_line and lines[first - 1][2].lstrip().startswith("#"):
            first -= 1
        last = (node.end_lineno or node.lineno) - 1
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kind = "class" if isinstance(node, ast.ClassDef) else "def"
            name = f"{kind} {node.name}"
            blocks.append(Block("code", lines[first][0], lines[last][1], (name,)))
        else:
            # Module-level statements (imports, constants) merge with neighbours in packing.
            blocks.append(Block("para", lines[first][0], lines[last][1], ()))
        prev_end_line = last + 1
    return blocks


def _layout_blocks(text: str) -> list[Block]:
    """A new block starts at a column-0 line after a blank line (not a closing brace)."""
    blocks: list[Block] = []
    start: int | None = None
    end = 0
    name = ""
    blank_before = True
    for s, e, ln in _lines(text):
        stripped = ln.strip()
        if not stripped:
            blank_before = True
            continue
        top = not ln[:1].isspace()
        if start is None or (blank_before and top and not _CLOSER.match(ln)):
            if start is not None:
                blocks.append(Block("code" if name else "para", start, end, (name,) if name else ()))
            start, name = s, ""
        if not name and top and _DEF.match(stripped):
            name = stripped[:80].rstrip("{:( ")
        end = e
        blank_before = False
    if start is not None:
        blocks.append(Block("code" if name else "para", start, end, (name,) if name else ()))
    return blocks
