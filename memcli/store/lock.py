"""One writer at a time: a file lock in the memory home, with the holder's pid beside it."""

from __future__ import annotations

import os
from pathlib import Path

from memcli.errors import LockBusyError


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine still runs (a stale lock or lease is one whose is gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WriteLock:
    def __init__(self, home: Path, timeout: float = 10.0) -> None:
        from filelock import FileLock

        self.path = home / "write.lock"
        self.pid_path = home / "write.pid"
        self.timeout = timeout
        self._lock = FileLock(str(self.path))

    def holder(self) -> str:
        try:
            return self.pid_path.read_text().strip() or "?"
        except OSError:
            return "?"

    def __enter__(self) -> "WriteLock":
        from filelock import Timeout

        try:
            self._lock.acquire(timeout=self.timeout)
        except Timeout:
            raise LockBusyError(
                f"another mem process (pid {self.holder()}) is writing to this memory",
                hint="wait for it to finish, or raise ingest.lock_timeout_s",
            ) from None
        self.pid_path.write_text(str(os.getpid()))
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.pid_path.unlink(missing_ok=True)
        finally:
            self._lock.release()
