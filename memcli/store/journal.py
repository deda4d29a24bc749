"""The write journal: before a write touches any store it names its sources in
``journal.json`` (written whole, fsynced, renamed into place), and clears it when every store
agrees again. A journal found on start is what a killed writer was doing (Catalog.recover)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path


class Journal:
    """The journal file of one home."""

    def __init__(self, home: Path) -> None:
        self.path = home / "journal.json"

    def begin(self, op: str, source_ids: Sequence[str]) -> None:
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"op": op, "pid": os.getpid(), "sources": list(source_ids)}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def pending(self) -> dict | None:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"op": "unknown", "sources": []}

    def end(self) -> None:
        self.path.unlink(missing_ok=True)
