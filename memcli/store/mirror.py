"""A remote home's tables, read from a copy on this machine.

A search on a home in a bucket read its rows and vectors straight from object storage: ~290
ranged requests a search at 100k units (the vector re-scoring and the rows by address), 8–19 s
on a local S3 server and about a second on a real one (docs/benchmarks.md). Every file of a
Lance table is written once and never changed: data, deletion, index and transaction files
are named by a uuid, each version's manifest by its number. So a local copy is kept exact by
fetching the files it lacks and dropping those the store dropped. Nothing is fetched twice,
and a version's manifest arrives after the files it names (it is dropped before them), so a
read of the copy sees a whole version, the newest fetched.

A search then reads local disk. Its requests are one listing when the copy may be stale: at
most every ``storage.consistency_s``, the same lag a remote home's reads always had, and at
once after this machine's own write. Writes still go to the bucket, through the one writer.
"""

from __future__ import annotations

import json
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

INDEX = ".mirror.json"  # path -> [size, e_tag] of each fetched file
LOCK = ".mirror.lock"
FETCHERS = 8


@dataclass
class MirrorSync:
    """What one catch-up did: files fetched (and their bytes), files dropped, seconds."""

    fetched: int = 0
    bytes: int = 0
    dropped: int = 0
    seconds: float = 0.0


def _is_manifest(path: str) -> bool:
    return path.endswith(".manifest") or "/_versions/" in f"/{path}"


class Mirror:
    """This machine's copy of ``store`` (an obstore store on the home's ``lance/`` prefix)
    under ``root``; ``every_s``: how long a caught-up copy counts as current."""

    def __init__(self, store, root: Path, every_s: float) -> None:
        self.store = store
        self.root = Path(root)
        self.every_s = every_s
        self._checked = -math.inf  # monotonic time of the last catch-up
        self.last: MirrorSync | None = None

    def stale(self) -> None:
        """This process wrote: the next read catches up first."""
        self._checked = -math.inf

    def ready(self) -> bool:
        """The copy holds the tables a search reads (an empty home has none yet)."""
        return all((self.root / f"{t}.lance" / "_versions").is_dir() for t in ("units", "sources"))

    def catch_up(self) -> MirrorSync | None:
        """Sync when the copy may be stale (``every_s`` since the last look); else nothing."""
        if time.monotonic() - self._checked < self.every_s:
            return None
        self.last = self.sync()
        return self.last

    def sync(self) -> MirrorSync:
        """List the store; fetch what is new or changed, then manifests; drop what is gone,
        manifests first. One process at a time on this machine (a file lock)."""
        import fcntl

        import obstore

        t0 = time.perf_counter()
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            index_file = self.root / INDEX
            try:
                have: dict[str, list] = json.loads(index_file.read_text())
            except (OSError, ValueError):
                have = {}
            remote = {m["path"]: [int(m["size"]), m.get("e_tag")]
                      for batch in obstore.list(self.store, chunk_size=1000) for m in batch}
            todo = [p for p, meta in remote.items() if have.get(p) != meta or not (self.root / p).exists()]
            gone = sorted((p for p in have if p not in remote), key=lambda p: not _is_manifest(p))
            report = MirrorSync()
            # Files first (in parallel), then the manifests that name them.
            for phase in (False, True):
                batch = [p for p in todo if _is_manifest(p) == phase]
                if not batch:
                    continue
                with ThreadPoolExecutor(max_workers=min(FETCHERS, len(batch))) as pool:
                    for p, n in zip(batch, pool.map(self._fetch, batch)):
                        if n is not None:
                            have[p] = remote[p]
                            report.fetched += 1
                            report.bytes += n
            for p in gone:
                (self.root / p).unlink(missing_ok=True)
                have.pop(p, None)
                report.dropped += 1
            if todo or gone:
                tmp = index_file.with_suffix(".tmp")
                tmp.write_text(json.dumps(have))
                os.replace(tmp, index_file)
        self._checked = time.monotonic()
        report.seconds = round(time.perf_counter() - t0, 3)
        return report

    def _fetch(self, path: str) -> int | None:
        """One object to its place, atomically (a reader never sees half a file); None when
        the store dropped it since the listing (an old version's file: not needed)."""
        import obstore
        from obstore.exceptions import NotFoundError

        dest = self.root / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.part")
        n = 0
        try:
            with open(tmp, "wb") as f:
                for chunk in obstore.get(self.store, path):
                    f.write(chunk)
                    n += len(chunk)
        except (NotFoundError, FileNotFoundError):
            tmp.unlink(missing_ok=True)
            return None
        os.replace(tmp, dest)
        return n

    def disk_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file())
