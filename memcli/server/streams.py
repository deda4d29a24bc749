"""A served command's stdin, stdout and stderr: text streams over the client's socket
(`mem serve`, server/daemon.py), with the client's terminal facts and no file descriptor."""

from __future__ import annotations

import io
import os
import queue
import socket
import sys
import threading
from contextlib import contextmanager

from memcli.server import wire


class SocketStream(io.TextIOBase):
    """A served command's stdin/stdout/stderr: frames on the client's socket, with the
    client's terminal facts (``isatty``) and no file descriptor."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, sock: socket.socket, tty: bool, lock: threading.Lock) -> None:
        self._sock, self._tty, self._lock = sock, tty, lock

    def isatty(self) -> bool:
        return self._tty

    def fileno(self) -> int:
        raise io.UnsupportedOperation("a served command's streams are a socket")


class Out(SocketStream):
    """Writes become OUT/ERR frames to the client."""

    def __init__(self, sock: socket.socket, kind: bytes, tty: bool, lock: threading.Lock) -> None:
        super().__init__(sock, tty, lock)
        self._kind = kind
        self.gone = False

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if not isinstance(s, str):  # a text stream, as click checks with write(b"")
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        if self.gone:
            raise BrokenPipeError
        if s:
            try:
                with self._lock:
                    wire.send(self._sock, self._kind, s.encode("utf-8", "replace"))
            except OSError:
                self.gone = True
                raise BrokenPipeError from None
        return len(s)

    def flush(self) -> None:
        if self.gone:
            raise BrokenPipeError


class In(SocketStream):
    """stdin read from the client on demand (a confirmation, piped chat questions)."""

    def __init__(self, sock, tty: bool, lines: "queue.Queue[bytes | None]", lock) -> None:
        super().__init__(sock, tty, lock)
        self._lines = lines

    def readable(self) -> bool:
        return True

    def _ask(self, n: int) -> str:
        try:
            with self._lock:
                wire.send(self._sock, wire.READ, {"n": n})
        except OSError:
            return ""
        data = self._lines.get()
        return (data or b"").decode("utf-8", "replace")

    def readline(self, size: int = -1) -> str:
        return self._ask(1)

    def read(self, size: int = -1) -> str:
        return self._ask(-1)

    def __iter__(self):
        while line := self.readline():
            yield line


@contextmanager
def as_client(conn: socket.socket, req: dict, lines: "queue.Queue[bytes | None]", lock: threading.Lock):
    """The process as the client's while its command runs: its ``MEM_*`` environment, its
    working directory, and stdin/stdout/stderr on its socket (with its terminal facts); all
    three restored afterwards, whatever the command did."""
    tty = req.get("tty", {})
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    try:
        for k in [k for k in os.environ if k.startswith("MEM_")]:
            del os.environ[k]
        os.environ.update(req.get("env", {}))
        os.chdir(req.get("cwd") or "/")
        sys.stdout = Out(conn, wire.OUT, bool(tty.get("stdout")), lock)
        sys.stderr = Out(conn, wire.ERR, bool(tty.get("stderr")), lock)
        sys.stdin = In(conn, bool(tty.get("stdin")), lines, lock)
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def pump(conn: socket.socket, lines: "queue.Queue[bytes | None]", done: threading.Event,
         cancelled: threading.Event, interrupt) -> None:
    """Client → server while a command runs (a thread): stdin lines, Ctrl-C, hang-up. A
    Ctrl-C that arrives before the command has started is kept in ``cancelled``;
    ``interrupt(done)`` stops a running one."""
    while not done.is_set():
        try:
            frame = wire.recv(conn)
        except OSError:
            frame = None
        if frame is None or frame[0] == wire.CANCEL:
            lines.put(None)
            cancelled.set()
            interrupt(done)
            if frame is None:
                return
        elif frame[0] == wire.STDIN:
            lines.put(frame[1])
