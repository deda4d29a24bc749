"""Files that could not be read, remembered with the reason until one reads, so that
`mem sources` and the page can say what is missing and why (<home>/ingest-failures.json)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

FILE = "ingest-failures.json"


class FailureLog:
    def __init__(self, home: Path) -> None:
        self.path = Path(home) / FILE

    def by_path(self) -> dict[str, dict]:
        try:
            return {f["path"]: f for f in json.loads(self.path.read_text())}
        except (OSError, ValueError, KeyError, TypeError):
            return {}

    def note(self, report) -> None:
        """An ingest's outcome: its failures recorded, files that read (or were pruned) cleared."""
        known = self.by_path()
        now = datetime.now(timezone.utc).isoformat()
        for r in report.results:
            if r.status == "failed":
                known[r.path] = {"path": r.path, "reason": r.message, "at": now}
            elif r.status in ("added", "updated", "unchanged"):
                known.pop(r.path, None)
        for gone in report.pruned:
            known.pop(gone, None)
        if not known and not self.path.exists():
            return
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(known.values(), key=lambda f: f["path"]), indent=1))
        os.replace(tmp, self.path)
