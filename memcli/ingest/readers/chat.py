"""Conversation exports. Each turn becomes a ``turn`` block that keeps its speaker, turn id,
session and event time (when it was said, distinct from when it was ingested).

Supported now: LoCoMo (list of samples with ``conversation.session_N`` and
``session_N_date_time``). The rendered line of a turn is ``[YYYY-MM-DD] Speaker: text`` so
BM25 and the embedder both see names and dates.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

from memcli.errors import ReadError, SkipInput
from memcli.ingest.readers.base import Block, Document, decode_text

_SESSION = re.compile(r"^session_(\d+)$")
_TIME_FORMATS = ("%I:%M %p on %d %B, %Y", "%I:%M %p on %d %b, %Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
                 "%Y-%m-%d")


def parse_time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    text = " ".join(str(raw).split())
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return None


def is_locomo(data: object) -> bool:
    return (isinstance(data, list) and bool(data) and isinstance(data[0], dict)
            and isinstance(data[0].get("conversation"), dict))


def read_chat_json(path: Path, raw: bytes) -> Document:
    text, _ = decode_text(raw)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReadError(f"invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    if is_locomo(data):
        return locomo_document(path, data)
    raise SkipInput("JSON that is no known conversation export (supported: LoCoMo)")


class _Builder:
    """Accumulates rendered turn lines and their blocks."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.blocks: list[Block] = []
        self.pos = 0

    def add(self, line: str, kind: str, section: tuple[str, ...], meta: dict | None = None) -> None:
        line = line.replace("\n", " ").strip()
        self.blocks.append(Block(kind, self.pos, self.pos + len(line), section, meta))
        self.parts.append(line)
        self.pos += len(line) + 1

    def text(self) -> str:
        return "\n".join(self.parts)


def render_turn(when: datetime | None, speaker: str, text: str) -> str:
    day = f"[{when:%Y-%m-%d}] " if when else ""
    return f"{day}{speaker}: {text}"


def locomo_document(path: Path, data: list) -> Document:
    b = _Builder()
    titles = []
    for n, sample in enumerate(data):
        conv = sample.get("conversation")
        sid = str(sample.get("sample_id") or f"conversation-{n + 1}")
        if not isinstance(conv, dict):
            raise ReadError(f"conversation {sid}: 'conversation' is not an object")
        titles.append(sid)
        sessions = sorted((int(m.group(1)), k) for k in conv if (m := _SESSION.match(k)))
        for num, key in sessions:
            turns = conv[key]
            if not isinstance(turns, list):
                raise ReadError(f"conversation {sid}, {key}: expected a list of turns")
            when = parse_time(conv.get(f"{key}_date_time"))
            label = f"{sid} session {num}" + (f" ({when:%Y-%m-%d})" if when else "")
            section = (label,)
            session_id = f"{sid}/session_{num}"
            b.add(f"## {label}", "heading", section)
            for i, t in enumerate(turns):
                if not isinstance(t, dict) or "speaker" not in t or "text" not in t:
                    raise ReadError(f"conversation {sid}, {key}, turn {i + 1}: needs 'speaker' and 'text'")
                said = str(t["text"])
                if t.get("blip_caption"):
                    said += f" [shares an image: {t['blip_caption']}]"
                meta = {"speaker": str(t["speaker"]), "turn_id": str(t.get("dia_id") or f"{session_id}:{i + 1}"),
                        "session": session_id, "time": when}
                b.add(render_turn(when, meta["speaker"], said), "turn", section, meta)
    if not b.blocks:
        raise ReadError("the export holds no conversations")
    title = f"Conversation {titles[0]}" if len(titles) == 1 else f"{len(titles)} conversations ({path.name})"
    return Document("conversation", title, b.text(), b.blocks)
