"""`mem serve`: one resident process per memory home, on a Unix socket inside the home.

It runs the CLI's own commands with the client's argv, working directory, ``MEM_*``
environment, terminal facts and stdin, so a served command prints and exits exactly as a
local one. The server package never imports the CLI: the front end that starts it hands it
a ``Host`` (run argv, bind the streams, load settings). Models and stores stay loaded
between commands; writes take the same write lock and journal as any process, so a server
killed mid-write is recovered like a killed ingest.

One command runs at a time. A read that finds the server busy is told to fall back (it
never waits behind a long ingest); a write is queued behind the running one, so that while
a server runs it is the home's only writer. Exiting (idle, `--stop`, SIGTERM) first closes
admissions under the same lock that admits commands and removes the socket, and happens
only once nothing admitted is left to run: a client that connects meanwhile is told to fall
back, never dropped (the race tools that stop idle daemons are known for).
"""

from __future__ import annotations

import _thread
import fcntl
import os
import queue
import signal
import socket
import sys
import threading
import time
from pathlib import Path


from memcli import __version__
from memcli.errors import LockBusyError
from memcli.paths import is_remote, local_dir, socket_path
from memcli.server import wire
from memcli.server.admissions import Admissions, Job
from memcli.server.host import Host
from memcli.server.memories import Fallback, Memories
from memcli.server.streams import as_client, pump


class Server:
    def __init__(self, home: Path | str, *, host: Host, idle_timeout_s: float, log=None, warm: bool = True,
                 autostarted: bool = False, claim_wait_s: float = 0.0) -> None:
        # ``location``: the home as settings name it (a directory or an object-store URI);
        # ``home``: this machine's directory for it (socket, lock, log).
        self.location = str(home) if is_remote(home) else os.path.abspath(os.path.expanduser(str(home)))
        self.home = Path(os.path.abspath(local_dir(home)))
        self.host = host
        self.idle_timeout_s = idle_timeout_s
        self.autostarted = autostarted
        self.claim_wait_s = claim_wait_s  # an autostarted server waits for one that is exiting
        self.sock_path = socket_path(self.home)
        self.log = log or (lambda msg: print(msg, file=sys.__stderr__, flush=True))
        self.warm = warm
        self.started = time.time()
        self.served = 0
        self.admissions = Admissions(self.sock_path)  # what runs next, and the idle clock
        self._active = threading.Lock()  # guards _cancel_ok
        self._cancel_ok = False  # True while a command runs in the main thread
        self._cancel_pending = False
        self._stopping = False
        self._terminated = False
        self.memories = Memories(self.home, self.location)  # the resident Memory objects
        self._lockf = None
        self._listener: socket.socket | None = None
        from memcli.server.page import PageBackend

        self.page = PageBackend(self)  # `mem ui`

    # -- lifecycle ------------------------------------------------------------------
    def _claim(self) -> None:
        """One server per home: an flock on <home>/serve.lock, released by the kernel on death."""
        self.home.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        self._lockf = open(self.home / "serve.lock", "a+")
        deadline = time.time() + self.claim_wait_s
        while True:
            try:
                fcntl.flock(self._lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.time() < deadline:
                    time.sleep(0.1)
                    continue
                self._lockf.seek(0)
                pid = self._lockf.read().strip() or "?"
                raise LockBusyError(f"a memory server already runs for {self.home} (pid {pid})",
                                    hint="mem serve --status, or mem serve --stop") from None
        self._lockf.seek(0)
        self._lockf.truncate()
        self._lockf.write(str(os.getpid()))
        self._lockf.flush()

    def _bind(self) -> None:
        self.sock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self.sock_path.unlink()  # stale: we hold the home's serve lock
        except FileNotFoundError:
            pass
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket is born 0600: only this user may talk to it
        try:
            s.bind(str(self.sock_path))
        finally:
            os.umask(old)
        os.chmod(self.sock_path, 0o600)
        s.listen(16)
        s.settimeout(0.5)
        self._listener = s

    def _warm_up(self) -> None:
        """Load what the first query needs (embedder, tables, index) before saying ready."""
        t0 = time.perf_counter()
        try:
            self.memories.get(self.host.settings(self.location))._warm_up()
            self.memories.harvest()
        except Exception as e:  # a broken home still serves: each command reports its error
            self.log(f"warm-up: {type(e).__name__}: {e}")
        self.log(f"warm in {time.perf_counter() - t0:.1f} s")

    def serve(self) -> None:
        self._claim()
        self._bind()
        prev_term = signal.signal(signal.SIGTERM, self._on_term)
        try:
            if self.warm:
                self._warm_up()
            self.log(f"serving {self.home} on {self.sock_path} (pid {os.getpid()}, "
                     f"stops after {self.idle_timeout_s:g} s idle)")
            self.admissions.last_active = time.time()  # idle counts from ready, not from the start of warm-up
            threading.Thread(target=self._accept_loop, name="mem-accept", daemon=True).start()
            self._main_loop()
        finally:
            self._stopping = True
            signal.signal(signal.SIGTERM, prev_term)
            with self.admissions.gate:
                self.admissions.close()
            self.admissions.refuse_queued()
            if self._listener is not None:
                self._listener.close()
            if self._lockf is not None:
                self._lockf.close()
            self.log("stopped")

    def _on_term(self, signum, frame) -> None:
        self._stopping = self._terminated = True  # SIGTERM: what is queued is not run
        raise KeyboardInterrupt

    def _main_loop(self) -> None:
        while True:
            try:
                with self.admissions.gate:
                    idle = time.time() - self.admissions.last_active
                    if self._terminated or self.admissions.pending == 0 and (self._stopping or idle >= self.idle_timeout_s):
                        self.admissions.close()
                        if not self._stopping:
                            self.log(f"idle for {self.idle_timeout_s:g} s: stopping")
                        return
                try:
                    item = self.admissions.items.get(timeout=max(0.05, min(self.idle_timeout_s - idle, 0.5)))
                except queue.Empty:
                    continue
                if isinstance(item, Job):
                    self._run_job(item)
                else:
                    self._execute(*item)
            except KeyboardInterrupt:
                if self._cancel_pending and not self._stopping:
                    self._cancel_pending = False  # a client's Ctrl-C that landed after its command ended
                    continue
                if self._stopping:  # SIGTERM: what was queued is sent back to its clients
                    return

    # -- requests ---------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self._admit(conn)
            except Exception as e:  # one bad client never stops the server
                self.log(f"bad request: {type(e).__name__}: {e}")
                conn.close()

    def _admit(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        frame = wire.recv(conn)
        if frame is None or frame[0] != wire.REQUEST:
            conn.close()
            return
        req = wire.decode(frame[1])
        if "control" in req:
            self._control(conn, req["control"])
            return
        reason, ahead = self.admissions.admit(req)
        if reason is not None:
            wire.send(conn, wire.FALLBACK, {"reason": reason})
            conn.close()
            return
        conn.settimeout(None)
        if ahead:
            try:
                wire.send(conn, wire.ERR, (f"waiting: the memory server runs {ahead} command(s) before this one "
                                           "(one writer at a time)\n").encode())
            except OSError:
                pass
        self.admissions.items.put((conn, req))

    def _control(self, conn: socket.socket, what: str) -> None:
        if what == "status":
            reply = self.status()
        elif what == "ui":
            try:
                reply = self.page.start()
            except Exception as e:  # a port in use, uvicorn missing: said to `mem ui`, the server lives on
                reply = {"error": f"{type(e).__name__}: {e}"}
        elif what == "stop":  # what was admitted still runs; nothing new is admitted
            reply = {"stopping": True, "pid": os.getpid()}
            with self.admissions.gate:
                self._stopping = True
                self.admissions.close()
        else:
            reply = {"error": f"unknown control {what!r}"}
        wire.send(conn, wire.REPLY, reply)
        conn.close()

    def _interrupt(self, done: threading.Event) -> None:
        """The client's Ctrl-C (or hang-up): interrupt the command if it is running."""
        with self._active:
            if self._cancel_ok and not done.is_set():
                self._cancel_pending = True
                _thread.interrupt_main()

    def _execute(self, conn: socket.socket, req: dict) -> None:
        t0 = time.perf_counter()
        lock = threading.Lock()
        lines: "queue.Queue[bytes | None]" = queue.Queue()
        done = threading.Event()
        cancelled = threading.Event()
        code, fell_back = 1, False
        try:
            wire.send(conn, wire.ACCEPT)
            self.memories.refresh()
            with as_client(conn, req, lines, lock):
                try:
                    self.host.enter(self.memories.get, req.get("columns"))
                    threading.Thread(target=pump, args=(conn, lines, done, cancelled, self._interrupt), daemon=True).start()
                    with self._active:
                        self._cancel_ok = not cancelled.is_set()
                    if cancelled.is_set():  # Ctrl-C while the command was being set up: it never starts
                        raise KeyboardInterrupt
                    code = self.host.run(list(req.get("argv", [])))
                except KeyboardInterrupt:  # a client's Ctrl-C that landed outside the command's own handling
                    try:
                        sys.stderr.write("interrupted\n")
                    except OSError:
                        pass
                    code = 130
                finally:
                    with self._active:
                        self._cancel_ok = False
                    done.set()
        except Fallback as e:
            fell_back = True
            try:
                wire.send(conn, wire.FALLBACK, {"reason": str(e)})
            except OSError:
                pass
        except Exception as e:  # a server bug must not take the server down
            self.log(f"internal error: {type(e).__name__}: {e}")
            try:
                wire.send(conn, wire.ERR, f"error: internal error in the memory server: {type(e).__name__}: {e}\n".encode())
            except OSError:
                pass
        finally:
            done.set()
            self.host.leave()
            self.memories.harvest()
            # Free before the client hears the exit code: its next command (a script's, an
            # agent's) must find the server idle, not busy, and be served rather than sent back.
            self._finished(wrote=bool(req.get("write")))
            if not fell_back:
                try:
                    wire.send(conn, wire.EXIT, {"code": code})
                except OSError:
                    pass
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        argv = req.get("argv", [])
        self.log(f"{time.strftime('%H:%M:%S')} {' '.join(argv[:3])[:60]} → "
                 f"{'fallback' if fell_back else code} in {(time.perf_counter() - t0) * 1000:.0f} ms")

    # -- status, and the page's writes -------------------------------------------------
    def status(self) -> dict:
        """What `mem serve --status` and the page's health view show."""
        return {"pid": os.getpid(), "home": str(self.home), "socket": str(self.sock_path),
                "version": __version__, "uptime_s": round(time.time() - self.started, 1),
                "served": self.served, "idle_s": round(time.time() - self.admissions.last_active, 1),
                "idle_timeout_s": self.idle_timeout_s, "busy": self.admissions.pending > 0,
                "queued": max(0, self.admissions.pending - 1), "autostarted": self.autostarted,
                "models": self.memories.models()}

    def fresh_memory(self):
        """A Memory of its own for the page's reads, sharing the loaded embedder."""
        return self.memories.fresh(self.host.settings(self.location))

    def submit(self, fn):
        """``fn(memory)`` run by the main thread like any CLI write (one writer); its result."""
        return self.admissions.submit(fn)

    def _finished(self, *, wrote: bool) -> None:
        """An admitted command or job is done: its slot is free, the idle clock restarts."""
        self.served += 1
        if wrote:
            self.page.stale = True
        self.admissions.finished()

    def _run_job(self, job: Job) -> None:
        try:
            self.memories.refresh()
            job.result = job.fn(self.memories.get(self.host.settings(self.location)))
        except BaseException as e:  # handed to the page's request, never out of the main loop
            job.error = e
        finally:
            self.memories.harvest()
            self._finished(wrote=True)
            job.done.set()
