"""Recall, noted now and written later: the units an answer cites, appended to a small file.

An answer used to write LanceDB at once (access count and time of each cited unit, which decay
reads). That write took the lock, opened LanceDB (half a cold `mem ask`'s imports) and made a
table version per answer, so every answer also made the search snapshot stale. Now an answer
appends one line here, never waiting on a writer, and the next write that holds the lock
folds the lines into LanceDB before it does anything else (so decay, which runs under the
lock, reads every count). A line is whole or absent (one ``write`` of an appended file), and
the file is renamed before it is folded, so an answer that lands mid-fold goes to the next.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

FILE = "access.jsonl"
FOLDING = "access.folding.jsonl"


def note(home: Path, ids: list[str], when: datetime | None = None) -> None:
    """Append one answer's cited units (never blocks: no lock, one write)."""
    if not ids:
        return
    when = when or datetime.now(timezone.utc)
    line = json.dumps({"t": when.isoformat(), "ids": list(dict.fromkeys(ids))}, separators=(",", ":")) + "\n"
    fd = os.open(Path(home) / FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def _read(path: Path) -> list[tuple[datetime, list[str]]]:
    out = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return out
    for line in text.splitlines():
        try:
            rec = json.loads(line)
            out.append((datetime.fromisoformat(rec["t"]), [str(u) for u in rec["ids"]]))
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line (a crash mid-append): that answer's recall is dropped
    return out


def pending(home: Path) -> list[tuple[datetime, list[str]]]:
    """Noted answers not yet folded, oldest first (a fold a crash interrupted included)."""
    home = Path(home)
    return _read(home / FOLDING) + _read(home / FILE)


def fold(home: Path, record) -> int:
    """Fold the noted answers into the store (the writer, under its lock): ``record(ids,
    when, times)`` once per (times, when) group. Returns the answers folded."""
    home = Path(home)
    src, mid = home / FILE, home / FOLDING
    if not mid.exists():
        try:
            os.replace(src, mid)
        except FileNotFoundError:
            return 0
    notes = _read(mid)
    times: Counter[str] = Counter()
    last: dict[str, datetime] = {}
    for when, ids in notes:
        for u in ids:
            times[u] += 1
            last[u] = max(last.get(u, when), when)
    # One update per recall count and hour of the last recall (decay counts in days), dated
    # by the group's latest recall: a few updates however many answers were noted.
    groups: dict[tuple[int, datetime], list[str]] = {}
    for u, n in times.items():
        groups.setdefault((n, last[u].replace(minute=0, second=0, microsecond=0)), []).append(u)
    for (n, _), ids in sorted(groups.items()):
        record(sorted(ids), max(last[u] for u in ids), n)
    mid.unlink(missing_ok=True)
    return len(notes)
