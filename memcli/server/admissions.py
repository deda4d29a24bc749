"""What runs next in a `mem serve` process, and when it may leave.

Commands (and the page's writes) run one at a time, in the order they were admitted. A read
that would wait behind a write is sent back to run in its client; a write waits its turn,
so while a server runs it is the home's only writer. Admitting and deciding to exit happen
under one lock (the gate): once admissions close, the socket is gone, and a client that
connected meanwhile is told to fall back, never dropped.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from pathlib import Path

from memcli.server import wire
from memcli.version import __version__


class Job:
    """A write from the page (`mem ui`): ``fn(memory)`` run by the main thread in queue order."""

    def __init__(self, fn) -> None:
        self.fn, self.done = fn, threading.Event()
        self.result, self.error = None, None


class Admissions:
    """The queue of admitted commands and jobs, how many are pending, and the idle clock."""

    def __init__(self, sock_path: Path) -> None:
        self.sock_path = sock_path
        self.items: "queue.Queue[tuple[socket.socket, dict] | Job]" = queue.Queue()
        self.gate = threading.Lock()  # admission and the decision to exit, one at a time
        self.pending = 0  # admitted commands: queued or running
        self.closing = False  # admissions closed, socket removed: the server is leaving
        self.last_active = time.time()

    def admit(self, req: dict) -> tuple[str | None, int]:
        """A client's command: why it is sent back (None: admitted), and how many run before it."""
        with self.gate:
            if req.get("version") != __version__:
                return f"server runs memcli {__version__}", 0
            if self.closing:
                return "the memory server is stopping", 0
            if self.pending and not req.get("write"):
                return "busy", 0  # a read never waits behind a long write: it runs in the client
            ahead = self.pending
            self.pending += 1
            self.last_active = time.time()
            return None, ahead

    def submit(self, fn):
        """``fn(memory)`` queued for the main thread like any CLI write (one writer); its result."""
        job = Job(fn)
        with self.gate:
            if self.closing:
                raise RuntimeError("the memory server is stopping")
            self.pending += 1
            self.last_active = time.time()
        self.items.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def finished(self) -> None:
        """An admitted command or job is done: its slot is free, the idle clock restarts."""
        with self.gate:
            self.pending -= 1
            self.last_active = time.time()

    def touch(self) -> None:
        """Something was served outside the queue (a page read): the idle clock restarts."""
        self.last_active = time.time()

    def close(self) -> None:
        """No command is admitted from now on; the socket goes (once: the next server may
        already be binding the same path once we release the serve lock). Call with the gate."""
        if self.closing:
            return
        self.closing = True
        try:
            self.sock_path.unlink()
        except FileNotFoundError:
            pass

    def refuse_queued(self) -> None:
        """Commands admitted but never started (SIGTERM): their clients run them themselves."""
        while True:
            try:
                item = self.items.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, Job):
                item.error = RuntimeError("the memory server is stopping")
                item.done.set()
                continue
            conn, _ = item
            try:
                wire.send(conn, wire.FALLBACK, {"reason": "the memory server is stopping"})
            except OSError:
                pass
            conn.close()
