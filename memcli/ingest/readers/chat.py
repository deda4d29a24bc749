"""Conversation exports. Each turn becomes a ``turn`` block that keeps its speaker, turn id,
session and event time (when it was said, distinct from when it was ingested).

Supported: ChatGPT data export (``conversations.json``: a message tree per conversation),
Claude data export (``conversations.json`` with ``chat_messages``), generic JSONL
(``{"session", "speaker"|"role", "text"|"content", "time"}`` per line) and LoCoMo (samples
with ``conversation.session_N`` and ``session_N_date_time``). A conversation is a session. The rendered line of a turn is ``[YYYY-MM-DD] Speaker: text`` so
BM25 and the embedder both see names and dates.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

from memcli.errors import ReadError, SkipInput
from memcli.ingest.readers.base import Block, Document, decode_text
from memcli.plugins import hookimpl
from memcli.types import CHAT_FORMATS

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


FORMATS = CHAT_FORMATS


@hookimpl
def register_importers(register) -> None:
    """ChatGPT, Claude and LoCoMo exports, through the hook a plugin's chat format uses."""
    def records_with(key):
        return lambda data: isinstance(data, list) and bool(data) and isinstance(data[0], dict) and key in data[0]
    register("chatgpt", records_with("mapping"), chatgpt_document)
    register("claude", records_with("chat_messages"), claude_document)
    register("locomo", is_locomo, locomo_document)


def read_chat_json(path: Path, raw: bytes, fmt: str | None = None) -> Document:
    """Detect the export format (or use ``fmt``) and read it. An export whose fields have the
    wrong shapes (a node that is no object, parts that are no list, …) is one ReadError."""
    try:
        return _read_chat_json(path, raw, fmt)
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as e:
        raise ReadError(f"malformed conversation export: {type(e).__name__}: {e}") from None


def _read_chat_json(path: Path, raw: bytes, fmt: str | None = None) -> Document:
    text, _ = decode_text(raw)
    if fmt == "jsonl" or (fmt is None and path.suffix.lower() == ".jsonl"):
        return jsonl_document(path, text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReadError(f"invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    from memcli.plugins import importers

    found = importers()  # the built-ins (ChatGPT, Claude, LoCoMo) and plugins' (register_importers)
    if fmt is not None:
        read = next((r for n, _, r in found if n == fmt), None)
        if read is None:
            raise ReadError(f"no chat format {fmt!r} (see mem plugins)")
        if fmt in ("chatgpt", "claude", "locomo") and not isinstance(data, list):
            raise ReadError(f"a {fmt} export is a JSON list of conversations")
        return _as_document(path, read(path, data), fmt)
    for name, detect, read in found:
        if detect(data):
            return _as_document(path, read(path, data), name)
    raise SkipInput("JSON that is no known conversation export (supported: "
                    + ", ".join(n for n, _, _ in found) + ", JSONL)")


def _as_document(path: Path, got, name: str) -> Document:
    """An importer's result: a Document, or its conversations as threads."""
    if isinstance(got, Document):
        return got
    threads = [(str(sid), str(title or ""), [(str(tid), str(sp), str(text), t if isinstance(t, datetime) else _epoch(t))
                                             for tid, sp, text, t in turns]) for sid, title, turns in got]
    return _threads_document(path, threads, name)


def _epoch(v) -> datetime | None:
    if v is None or v == "":
        return None
    if isinstance(v, (int, float)):
        try:
            return datetime.fromtimestamp(float(v), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None  # NaN, or a timestamp no calendar holds: the turn keeps no time
    try:
        dt = datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    except ValueError:
        return parse_time(str(v))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _threads_document(path: Path, threads: list[tuple[str, str, list[tuple[str, str, str, datetime | None]]]],
                      kind_name: str) -> Document:
    """threads: (session id, title, [(turn id, speaker, text, time)]) -> a Document of turn blocks."""
    b = _Builder()
    for sid, title, turns in threads:
        if not turns:
            continue
        when = turns[0][3]
        label = (title or sid) + (f" ({when:%Y-%m-%d})" if when else "")
        section = (label,)
        b.add(f"## {label}", "heading", section)
        for tid, speaker, said, t in turns:
            meta = {"speaker": speaker, "turn_id": tid, "session": sid, "time": t or when}
            b.add(render_turn(t or when, speaker, said), "turn", section, meta)
    if not any(bl.kind == "turn" for bl in b.blocks):
        raise SkipInput(f"the {kind_name} export holds no messages")
    n = sum(1 for _, _, t in threads if t)
    title = threads[0][1] if n == 1 else f"{n} {kind_name} conversations ({path.name})"
    return Document("conversation", title or path.stem, b.text(), b.blocks)


_ROLE = {"user": "User", "human": "User", "assistant": "Assistant", "system": "System", "tool": "Tool"}


def chatgpt_document(path: Path, data: list) -> Document:
    threads = []
    for n, conv in enumerate(data):
        cid = str(conv.get("id") or conv.get("conversation_id") or f"chatgpt-{n + 1}")
        mapping = conv.get("mapping")
        if not isinstance(mapping, dict):
            raise ReadError(f"ChatGPT conversation {conv.get('title') or cid!r}: 'mapping' is missing")
        # The visible thread is the path from the current node up to the root.
        node_id = conv.get("current_node") or next(
            (k for k, v in mapping.items() if not (v or {}).get("children")), None)
        chain, seen = [], set()
        while node_id and node_id in mapping and node_id not in seen:
            seen.add(node_id)
            chain.append(mapping[node_id])
            node_id = mapping[node_id].get("parent")
        turns = []
        for node in reversed(chain):
            msg = node.get("message") or {}
            role = ((msg.get("author") or {}).get("role") or "")
            parts = (msg.get("content") or {}).get("parts") or []
            said = " ".join(p for p in parts if isinstance(p, str)).strip()
            if not said or role in ("system", "tool"):
                continue
            turns.append((str(msg.get("id") or node.get("id")), _ROLE.get(role, role.title() or "?"), said,
                          _epoch(msg.get("create_time")) or _epoch(conv.get("create_time"))))
        threads.append((cid, str(conv.get("title") or cid), turns))
    return _threads_document(path, threads, "ChatGPT")


def claude_document(path: Path, data: list) -> Document:
    threads = []
    for n, conv in enumerate(data):
        cid = str(conv.get("uuid") or f"claude-{n + 1}")
        msgs = conv.get("chat_messages")
        if not isinstance(msgs, list):
            raise ReadError(f"Claude conversation {conv.get('name') or cid!r}: 'chat_messages' is not a list")
        turns = []
        for i, m in enumerate(msgs):
            said = (m.get("text") or " ".join(
                c.get("text", "") for c in m.get("content") or [] if isinstance(c, dict))).strip()
            if said:
                turns.append((str(m.get("uuid") or f"{cid}:{i + 1}"), _ROLE.get(m.get("sender", ""), "?"), said,
                              _epoch(m.get("created_at")) or _epoch(conv.get("created_at"))))
        threads.append((cid, str(conv.get("name") or cid), turns))
    return _threads_document(path, threads, "Claude")


def jsonl_document(path: Path, text: str) -> Document:
    sessions: dict[str, list] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            raise ReadError(f"line {n}: invalid JSON ({e.msg})") from None
        said = r.get("text", r.get("content")) if isinstance(r, dict) else None
        who = (r.get("speaker") or r.get("role")) if isinstance(r, dict) else None
        if not isinstance(said, str) or not who:
            if n == 1:
                raise SkipInput("JSONL that is no conversation (needs speaker/role and text/content)")
            raise ReadError(f"line {n}: needs 'speaker' (or 'role') and 'text' (or 'content')")
        sid = str(r.get("session") or "session-1")
        turns = sessions.setdefault(sid, [])
        turns.append((str(r.get("id") or f"{sid}:{len(turns) + 1}"), _ROLE.get(str(who), str(who)), said,
                      _epoch(r.get("time"))))
    return _threads_document(path, [(sid, sid, t) for sid, t in sessions.items()], "JSONL")


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
