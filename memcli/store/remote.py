"""A memory home on object storage (``s3://``, ``gs://``, ``az://``), on LanceDB's own engine.

LanceDB reads and writes the tables there directly. What a local home keeps in files has a
remote form here, so that it holds across machines:

- **the write lock** is a small LanceDB table per *generation*, ``writelock-000042``. Taking
  the lock means creating the next generation's table, and of several machines creating the
  same table only one can win: Lance commits a new table with a conditional put (checked
  against an S3-compatible server with six racing writers: one wins). A holder renews its
  lease while it writes; a lock whose lease ran out (its writer was killed) is taken over by
  creating the next generation, and the old holder, should it wake, finds it lost the lock
  at its next renewal and stops (``LockLostError``) before writing again.
- **the journal** lives in the lock row itself (``journal``: op and sources), and a takeover
  carries an unfinished journal into the new generation, so the next writer on any machine
  recovers what a killed one left.
- **the lexical index** is a per-machine Tantivy cache under the user cache dir, brought up
  to date from LanceDB (the source of truth) whenever the units table moved
  (docs/scale-out.md says why Tantivy and not Lance's own full-text index).

Credentials never enter the home or its config: they come from the standard environment
variables of each cloud (AWS_ACCESS_KEY_ID, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid

from memcli.errors import LockBusyError, StoreError

PREFIX = "writelock-"


def storage_options(storage) -> dict[str, str]:
    """LanceDB ``storage_options`` from settings.storage (endpoint, region, plain HTTP);
    everything else (credentials) comes from the environment."""
    out: dict[str, str] = {}
    if storage.endpoint:
        out["aws_endpoint"] = storage.endpoint
    if storage.region:
        out["aws_region"] = storage.region
    if storage.allow_http:
        out["allow_http"] = "true"
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LockLostError(StoreError):
    """Another machine took over this writer's lock (its lease ran out)."""


class RemoteLock:
    """The cross-machine write lock and journal of a remote home (see the module doc)."""

    def __init__(self, db, *, lease_s: float = 300.0, timeout: float = 10.0) -> None:
        self.db = db
        self.lease_s = lease_s
        self.timeout = timeout
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.gen: int | None = None
        self._table = None

    # -- generations ------------------------------------------------------------------
    def _generations(self) -> list[int]:
        names = self.db.list_tables(limit=10_000).tables
        return sorted(int(n[len(PREFIX):]) for n in names if n.startswith(PREFIX) and n[len(PREFIX):].isdigit())

    def _row(self, gen: int) -> dict | None:
        try:
            rows = self.db.open_table(f"{PREFIX}{gen:06d}").to_arrow().to_pylist()
        except (ValueError, FileNotFoundError, OSError, RuntimeError):
            return None  # dropped meanwhile
        return rows[0] if rows else None

    def _current(self) -> tuple[int, dict | None]:
        gens = self._generations()
        return (gens[-1], self._row(gens[-1])) if gens else (0, None)

    @staticmethod
    def _held(row: dict | None) -> bool:
        if not row or row["released"] or row["expires"] <= time.time():
            return False
        host, pid, _ = row["owner"].rsplit(":", 2)
        if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
            return False  # killed on this machine: no need to wait out its lease
        return True

    def holder(self) -> str:
        _, row = self._current()
        return row["owner"] if self._held(row) else "nobody"

    # -- lock -------------------------------------------------------------------------
    def acquire(self) -> None:
        import pyarrow as pa

        deadline = time.monotonic() + self.timeout
        while True:
            gen, row = self._current()
            if not self._held(row):
                carried = row.get("journal") if row else None  # a killed writer's unfinished work
                data = pa.table({"owner": [self.owner], "expires": [time.time() + self.lease_s],
                                 "released": [False], "journal": pa.array([carried], pa.string())})
                try:
                    self._table = self.db.create_table(f"{PREFIX}{gen + 1:06d}", data=data)
                except (ValueError, OSError, RuntimeError):
                    continue  # another writer created that generation first: look again
                self.gen = gen + 1
                self._drop_before(self.gen)
                return
            if time.monotonic() >= deadline:
                who = row["owner"].rsplit(":", 1)[0]
                raise LockBusyError(f"another mem process ({who}) is writing to this memory",
                                    hint="wait for it to finish, or raise ingest.lock_timeout_s")
            time.sleep(0.2)

    def _drop_before(self, gen: int) -> None:
        for g in self._generations():
            if g < gen:
                try:
                    self.db.drop_table(f"{PREFIX}{g:06d}")
                except (ValueError, FileNotFoundError, OSError, RuntimeError):
                    pass

    def _update(self, **values) -> None:
        """Change our row, first checking that no later generation took the lock over."""
        gens = self._generations()
        if self.gen is None or (gens and gens[-1] != self.gen):
            raise LockLostError("another writer took over this memory's write lock (our lease ran out)",
                                hint="the work in progress was stopped; run the command again")
        self._table.update(where="true", values=values)

    def renew(self) -> None:
        self._update(expires=time.time() + self.lease_s)

    def release(self) -> None:
        if self.gen is None:
            return
        try:
            self._update(released=True)
        except LockLostError:
            pass
        finally:
            self.gen, self._table = None, None

    # -- the journal (kept in the lock row) ---------------------------------------------
    def begin(self, op: str, source_ids) -> None:
        self._update(journal=json.dumps({"op": op, "owner": self.owner, "sources": list(source_ids)}),
                     expires=time.time() + self.lease_s)

    def pending(self) -> dict | None:
        _, row = self._current()
        if not row or not row.get("journal"):
            return None
        try:
            return json.loads(row["journal"])
        except ValueError:
            return {"op": "unknown", "sources": []}

    def end(self) -> None:
        self._update(journal=None)


class RemoteWriteLock:
    """A remote home's write lock: this machine's file lock (its Tantivy cache has one
    writer), then the cross-machine lock. A context manager, like store/lock.WriteLock."""

    def __init__(self, local, remote: RemoteLock, on_acquire=None) -> None:
        self.local, self.remote, self.on_acquire = local, remote, on_acquire

    def __enter__(self) -> "RemoteWriteLock":
        self.local.__enter__()
        try:
            self.remote.acquire()
            if self.on_acquire is not None:
                self.on_acquire()  # a writer reads the latest versions, never a cached one
        except BaseException:
            self.remote.release()
            self.local.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.remote.release()
        finally:
            self.local.__exit__(*exc)
