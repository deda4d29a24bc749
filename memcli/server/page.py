"""The page's side of the resident process (`mem ui`, memcli/ui): its HTTP server, its
reading Memory, and the way its writes reach the process's one-writer queue.

Reads run on their own Memory (the models are the server's), one at a time, beside whatever
command the main thread runs; a write by another process is seen at the next read (the
home's signature moved), a write in this process at once (``stale``), remote homes included.
"""

from __future__ import annotations

import os
import threading

from memcli.server.memories import Writes


class PageBackend:
    """memcli.ui.app.Backend for a Server: read, write, status."""

    def __init__(self, server) -> None:
        self.server = server
        self._lock = threading.Lock()  # one read at a time; also guards the start of the HTTP server
        self._http = None  # memcli.ui.serve.UiServer, started by the first `mem ui`
        self._mem = None
        self._writes = Writes(server.home)  # other processes' writes, since this page last read
        self.stale = False  # a write ran in this process since the last read

    def start(self) -> dict:
        """Serve the page (once per server start): its address with this start's secret."""
        with self._lock:
            if self._http is None:
                from memcli.ui.serve import UiServer

                s = self.server.host.settings(self.server.location).serve
                self._http = UiServer(self, port=s.ui_port, read_only=s.ui_read_only)
                self._http.start()
                self.server.log(f"page on http://127.0.0.1:{self._http.port}/ (read-only: {s.ui_read_only})")
            return {"url": self._http.url, "port": self._http.port, "pid": os.getpid(),
                    "read_only": self._http.read_only}

    def read(self, fn):
        with self._lock:
            change = self._writes.since_last()
            mem = self._mem
            if mem is None or change == "reopen":
                mem = self._mem = self.server.fresh_memory()
            elif change == "refresh":
                mem.refresh()
            if self.stale:
                # a remote home's reads may lag other machines by storage.consistency_s; never
                # this process's own writes
                mem.refresh(latest=True)
            self.stale = False
            self.server.admissions.touch()
            return fn(mem)

    def write(self, fn):
        return self.server.submit(fn)

    def status(self) -> dict:
        return self.server.status()
