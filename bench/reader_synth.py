"""Synthetic (question, answering line) pairs from public documentation, for the reader.

    python bench/reader_synth.py DOCS_DIR [DOCS_DIR ...] > pairs.jsonl

A manual answers questions its own sentences are shaped for. Each template turns one shape
of sentence into the question a reader would have asked of it:

- a question-shaped heading ("## How do I sync my vault?") → its section's first sentence;
- "To X, Y." → "How do I X?";
- "You can X by/with/using Y." → "How can I X?";
- "X is a/an/the …" (X short) → "What is X?";
- "… defaults to Y" → "What is the default …?";
- "The maximum/minimum/default X is Y" → "What is the maximum X?";
- "Press/Use KEYS to X" → "What is the shortcut to X?";
- "X lets you / allows you to Y" → "What lets me Y?";
- a lead-in ending ":" before a code block ("To install it, run:") → "How do I …?", answered by the code.

The other lines of the same page are the hard negatives (retrieval supplies them when the
question goes through the product's own path, bench/train_reader.py). Every pair records
its page, so a slice of pages can be held out of training and the rest never sees them.
Nothing here reads the benchmark sets in ../shared/data.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memcli.markup import prose_line  # noqa: E402

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_RST_UNDER = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_RST_CODE = re.compile(r"(::\s*$)|^\.\.\s+(code-block|code|prompt)::")
_SENT = re.compile(r"(?<=[.!?])\s+(?=[`\"'(\[A-Z0-9*_])")

_TO = re.compile(r"^To ([a-z][^,]{8,90}?),\s+(.{12,})$")
_YOU_CAN = re.compile(r"^You can ([a-z][\w'`/ -]{6,70}?) (?:by|with|using|from|through|via) (.{6,})$")
_DEF = re.compile(r"^(?:An? |The )?([A-Z`][\w`./ -]{1,40}?) (is|are) (?:an?|the|one of the) (.{12,})$")
_DEFAULT = re.compile(r"^(?:The |By default, the )?(.{4,60}?) (?:defaults to|default(?:s)? is|is set to .{0,20}?by default) (.{2,})$", re.I)
_LIMIT = re.compile(r"^The (maximum|minimum|default|largest|smallest) (.{3,50}?) (?:is|are) (.{2,})$")
_KEYS = re.compile(r"\b(?:[Pp]ress|[Uu]se) (`?(?:Ctrl|Cmd|Alt|Shift|Option|Command|Control)[^ ]*`?(?: ?\+ ?`?[\w-]+`?)*(?: \(or [^)]+\))?) to ([a-z][^.,;]{4,60})")
_LETS = re.compile(r"^(?:The )?(.{3,50}?) (?:lets you|allows you to|enables you to) ([a-z].{6,80}?)\.?$")
_PRONOUN_SWAP = [(re.compile(r"\byour\b"), "my"), (re.compile(r"\byourself\b"), "myself"), (re.compile(r"\byou\b"), "I")]
_BAD_SUBJECT = re.compile(r"^(the|a|an|this|that|it|there|these|those|here|which|what|one|each|following|only|other|same|first|next|last|right|left|top|bottom|rest|end)\b", re.I)


def first_person(text: str) -> str:
    for pat, rep in _PRONOUN_SWAP:
        text = pat.sub(rep, text)
    return text


def blocks(text: str, rst: bool) -> list[dict]:
    """The page as (heading, kind, text) blocks: paragraphs, list items, code with its lead-in."""
    out: list[dict] = []
    heading = ""
    para: list[str] = []
    code: list[str] | None = None
    lines = text.splitlines()

    def flush() -> None:
        if para:
            out.append({"heading": heading, "kind": "prose", "text": prose_line(" ".join(para))})
            para.clear()

    i = 0
    while i < len(lines):
        raw = lines[i]
        line = raw.strip()
        if code is not None:
            if (not rst and _FENCE.match(line)) or (rst and line and not raw.startswith((" ", "\t"))):
                body = [c.strip() for c in code if c.strip()]
                if body:
                    out.append({"heading": heading, "kind": "code", "text": " ; ".join(body[:4])})
                code = None
                if not rst:
                    i += 1
                    continue
            else:
                code.append(line)
                i += 1
                continue
        if not rst and line.startswith("---") and i == 0:  # front matter
            j = next((k for k in range(1, len(lines)) if lines[k].strip() == "---"), 0)
            i = j + 1
            continue
        m = _HEADING.match(line) if not rst else None
        if rst and i + 1 < len(lines) and line and _RST_UNDER.match(lines[i + 1].strip()) and len(lines[i + 1].strip()) >= len(line) - 2:
            flush()
            heading = line
            i += 2
            continue
        if m:
            flush()
            heading = prose_line(m.group(2))
        elif (not rst and _FENCE.match(line)) or (rst and _RST_CODE.search(line)):
            if rst and line.endswith("::") and not line.startswith(".."):
                para.append(line.rstrip(":") + ":")
            flush()
            code = []
        elif not line or re.match(r"^([-*+]|\d+[.)])\s+", line) or line.startswith(("|", ">", "..", ":")):
            flush()
            if re.match(r"^([-*+]|\d+[.)])\s+", line):
                para.append(re.sub(r"^([-*+]|\d+[.)])\s+", "", line))
                flush()
        else:
            para.append(line)
        i += 1
    flush()
    return out


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT.split(text) if s.strip()]


def _q(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" .,:;")
    return text[0].upper() + text[1:] + "?"


def pairs_of_page(path: Path, rel: str) -> list[dict]:
    rst = path.suffix == ".rst"
    try:
        page = blocks(path.read_text(encoding="utf-8", errors="replace"), rst)
    except OSError:
        return []
    out: list[dict] = []

    def add(question: str, answer: str, template: str, code: bool = False) -> None:
        if 12 <= len(question) <= 160 and len(answer) >= 12:
            out.append({"page": rel, "question": question, "answer": answer, "template": template, "code": code})

    seen_heading: set[str] = set()
    for bi, b in enumerate(page):
        h = b["heading"]
        if b["kind"] == "code":
            continue
        sents = _sentences(b["text"])
        if h.endswith("?") and h not in seen_heading and sents:
            seen_heading.add(h)
            add(h, sents[0], "heading")
        for s in sents:
            if s.endswith(":") and bi + 1 < len(page) and page[bi + 1]["kind"] == "code":
                m = _TO.match(s.rstrip(":") + ", x")
                lead = m.group(1) if m else None
                if lead:
                    add(_q("How do I " + first_person(lead)), s, "command", code=True)
                continue
            if (m := _TO.match(s)) and not _BAD_SUBJECT.match(m.group(1)):
                add(_q("How do I " + first_person(m.group(1))), s, "to")
            elif (m := _YOU_CAN.match(s)):
                add(_q("How can I " + first_person(m.group(1))), s, "you-can")
            if (m := _DEF.match(s)) and not _BAD_SUBJECT.match(m.group(1)) and len(m.group(1).split()) <= 5:
                art = re.match(r"^(An?|The) ", s)
                subject = (art.group(1).lower() + " " if art else "") + m.group(1)
                add(f"What {m.group(2)} {subject}?", s, "definition")
            if (m := _DEFAULT.match(s)) and not _BAD_SUBJECT.match(m.group(1)):
                add(f"What is the default {m.group(1).strip('`').lower() if not '`' in m.group(1) else m.group(1)}?", s, "default")
            if (m := _LIMIT.match(s)):
                add(f"What is the {m.group(1)} {m.group(2)}?", s, "limit")
            if (m := _KEYS.search(s)):
                add(_q("What is the keyboard shortcut to " + first_person(m.group(2))), s, "shortcut")
            if (m := _LETS.match(s)) and not _BAD_SUBJECT.match(m.group(1)):
                add(_q("What lets me " + first_person(m.group(2))), s, "lets")
    return out


def generate(roots: list[Path], seed: int = 0, per_page: int = 10) -> list[dict]:
    """Pairs from every .md/.rst page under ``roots`` (at most ``per_page`` a page, so no long
    page dominates), each with its page path relative to its root's parent."""
    rng = random.Random(seed)
    out: list[dict] = []
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.suffix not in (".md", ".rst") or not p.is_file():
                continue
            rel = str(p.relative_to(root.parent))
            found = pairs_of_page(p, rel)
            rng.shuffle(found)
            out.extend(found[:per_page])
    return out


if __name__ == "__main__":
    for r in generate([Path(a) for a in sys.argv[1:]]):
        print(json.dumps(r, ensure_ascii=False))
