"""A memory home on object storage (``s3://``, ``gs://``, ``az://``), on LanceDB's own engine.

LanceDB reads and writes the tables there directly. What a local home keeps in files has a
remote form here, so that it holds across machines:

- **the write lock** is a small object per *generation*, ``<home>/lock/000042``. Taking the
  lock means creating the next generation's object, only if absent (a conditional put, via
  obstore, the Python face of the object_store crate LanceDB itself uses): of several
  machines only one can win. A holder renews its lease while it writes (each journal entry does); a lock whose lease
  ran out (its writer was killed) is taken over by creating the next generation, and the old
  holder, should it wake, finds it lost the lock at its next renewal and stops
  (``LockLostError``) before writing again.
- **the journal** lives in the lock's state (``journal``: op and sources), and a takeover
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
from memcli.store.lock import pid_alive

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


class LockLostError(StoreError):
    """Another machine took over this writer's lock (its lease ran out)."""


def object_store(uri: str, storage, *, conditional: bool = False):
    """An obstore store on ``uri`` from settings.storage (credentials from the environment);
    ``conditional``: create-if-absent enabled (on S3 a conditional put, If-None-Match, which
    object_store only sends when asked to)."""
    from obstore.store import from_url

    config: dict[str, str] = {}
    options: dict[str, object] = {}
    if uri.lower().startswith("s3://"):
        if conditional:
            config["conditional_put"] = "etag"
        if storage.endpoint:
            config["endpoint"] = storage.endpoint
        if storage.region:
            config["region"] = storage.region
    if storage.allow_http:
        options["allow_http"] = True
    return from_url(uri, config=config or None, client_options=options or None)


class RemoteLock:
    """The cross-machine write lock and journal of a remote home (see the module doc).

    Generation ``N`` is the object ``<home>/lock/00000N``, created only if absent: of
    several machines creating it, exactly one succeeds (an atomic conditional put; LanceDB's
    own create_table was measured not to be: two winners in 1 of 30 rounds of six racing
    creators). Its holder keeps the mutable part (lease, journal, released) in
    ``00000N.state``, which nobody else writes."""

    def __init__(self, home: str, storage, *, lease_s: float = 300.0, timeout: float = 10.0) -> None:
        self.store = object_store(home.rstrip("/") + "/lock", storage, conditional=True)
        self.lease_s = lease_s
        self.timeout = timeout
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.gen: int | None = None
        self._mine: dict | None = None

    # -- generations ------------------------------------------------------------------
    def _generations(self) -> list[int]:
        import obstore

        names = (m["path"].rsplit("/", 1)[-1] for batch in obstore.list(self.store) for m in batch)
        return sorted(int(n) for n in names if n.isdigit())

    def _get(self, name: str) -> dict | None:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            return json.loads(bytes(obstore.get(self.store, name).bytes()))
        except (NotFoundError, FileNotFoundError):
            return None
        except ValueError:
            return {"owner": "?:?:?", "released": False, "expires": float("inf"), "journal": None}

    def _row(self, gen: int) -> dict | None:
        return self._get(f"{gen:06d}.state") or self._get(f"{gen:06d}")

    def _current(self) -> tuple[int, dict | None]:
        """The newest generation and its row. A row that cannot be read (deleted meanwhile:
        a newer generation exists) is looked at again, and in the end counted as held."""
        for _ in range(20):
            gens = self._generations()
            if not gens:
                return 0, None
            row = self._row(gens[-1])
            if row is not None:
                return gens[-1], row
            time.sleep(0.05)
        return gens[-1], {"owner": "?:?:?", "released": False, "expires": float("inf"), "journal": None}

    @staticmethod
    def _held(row: dict | None) -> bool:
        if not row or row["released"] or row["expires"] <= time.time():
            return False
        host, pid, _ = row["owner"].rsplit(":", 2)
        if host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid)):
            return False  # killed on this machine: no need to wait out its lease
        return True

    # -- lock -------------------------------------------------------------------------
    def acquire(self) -> None:
        import obstore
        from obstore.exceptions import AlreadyExistsError

        deadline = time.monotonic() + self.timeout
        while True:
            gen, row = self._current()
            if not self._held(row):
                mine = {"owner": self.owner, "expires": time.time() + self.lease_s, "released": False,
                        # a killed writer's unfinished work comes along, for this writer to recover
                        "journal": row.get("journal") if row else None}
                try:
                    obstore.put(self.store, f"{gen + 1:06d}", json.dumps(mine).encode(), mode="create")
                except (AlreadyExistsError, FileExistsError):
                    continue  # another writer took that generation first: look again
                if self._generations()[-1] != gen + 1:
                    # A number already cleaned up, taken from a stale look: a newer
                    # generation exists, so this one is not the lock. Undo and look again.
                    obstore.delete(self.store, f"{gen + 1:06d}")
                    continue
                self.gen, self._mine = gen + 1, mine
                self._clean(self.gen - 10)
                return
            if time.monotonic() >= deadline:
                who = row["owner"].rsplit(":", 1)[0]
                raise LockBusyError(f"another mem process ({who}) is writing to this memory",
                                    hint="wait for it to finish, or raise ingest.lock_timeout_s")
            time.sleep(0.2)

    def _clean(self, below: int) -> None:
        """Old generations go (the last few stay: a slow reader may still look at them)."""
        import obstore

        for g in self._generations():
            if g < below:
                for name in (f"{g:06d}.state", f"{g:06d}"):
                    try:
                        obstore.delete(self.store, name)
                    except Exception:  # noqa: BLE001 - cleaning is best effort
                        pass

    def _update(self, **values) -> None:
        """Change our state, first checking that no later generation took the lock over."""
        import obstore

        gens = self._generations()
        if self.gen is None or (gens and gens[-1] != self.gen):
            raise LockLostError("another writer took over this memory's write lock (our lease ran out)",
                                hint="the work in progress was stopped; run the command again")
        self._mine = {**self._mine, **values}
        obstore.put(self.store, f"{self.gen:06d}.state", json.dumps(self._mine).encode())

    def release(self) -> None:
        if self.gen is None:
            return
        try:
            self._update(released=True)
        except LockLostError:
            pass
        finally:
            self.gen, self._mine = None, None

    # -- the journal (kept in the lock's state) ------------------------------------------
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

    def __init__(self, local, remote: RemoteLock, on_acquire=None, on_release=None) -> None:
        self.local, self.remote, self.on_acquire, self.on_release = local, remote, on_acquire, on_release

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
            if self.on_release is not None:
                self.on_release()  # what this machine wrote is read back at once
