"""The thin client of a home's resident process (`mem serve`): route, relay, control.

Standard library only: with a server running, a `mem search` costs a Python start and a
socket round trip instead of seconds of imports. The server replies FALLBACK (a read while
it is busy, a different home, another version, stopping) and the caller then runs the
command in-process, exactly as without a server. A write is never sent back: the server
queues it behind the write it is running, so one process writes the home.
(memcli/main.py decides; this module only speaks the protocol.)
"""

from __future__ import annotations

import json
import os
import socket
import sys

from memcli import __version__
from memcli.paths import default_home, socket_path
from memcli.server import wire

# Commands worth a resident process. `chat` only when stdin is piped (an interactive chat
# keeps readline history and line editing in its own terminal).
FORWARD = {"search", "ask", "ingest", "forget", "stats", "sources", "doctor", "consolidate",
           "pin", "history", "reindex", "graph", "chat", "import"}
# Commands that write the home: queued by a busy server instead of sent back to run here.
WRITES = {"ingest", "forget", "consolidate", "pin", "reindex", "import"}
ENV_KEYS = ("NO_COLOR", "FORCE_COLOR", "TERM", "COLORTERM", "COLUMNS", "LINES", "TZ", "HF_HUB_OFFLINE")
LOCAL_FLAGS = {"--help", "-h", "--version"}


def route(argv: list[str]) -> tuple[str | None, str | None]:
    """(home flag, command) from the root options, as the Typer app will parse them."""
    home, i = None, 0
    while i < len(argv):
        a = argv[i]
        if a in ("--home", "--config"):
            if a == "--home" and i + 1 < len(argv):
                home = argv[i + 1]
            i += 2
        elif a.startswith("--home="):
            home, i = a.split("=", 1)[1], i + 1
        elif a.startswith("-"):
            i += 1
        else:
            return home, a
    return home, None


def is_write(argv: list[str]) -> bool:
    """Whether this command writes the home (and so must wait for the one writer)."""
    _, cmd = route(argv)
    rest = argv[argv.index(cmd) + 1:] if cmd in argv else []
    return (cmd in WRITES or (cmd == "doctor" and "--repair" in rest)
            or (cmd == "graph" and bool(rest) and rest[0] == "build"))


def _tty(f) -> bool:
    try:
        return f.isatty()
    except (AttributeError, ValueError):
        return False


def server_command(argv: list[str]) -> bool:
    """Whether this is a command a resident server runs (whether or not one does)."""
    if LOCAL_FLAGS & set(argv) or any(a == "--ray" or a.startswith("--ray-address") for a in argv):
        return False  # a bulk ingest brings its own workers: not one command of a resident server
    return route(argv)[1] in FORWARD


def forwardable(argv: list[str]) -> str | None:
    """The socket to try, or None when this command runs here anyway."""
    if os.environ.get("MEM_NO_SERVER") or not server_command(argv):
        return None
    home, cmd = route(argv)
    if cmd == "chat" and _tty(sys.stdin):
        return None
    return str(socket_path(home or default_home()))


def _columns() -> int | None:
    for f in (sys.stdout, sys.stderr):
        try:
            return os.get_terminal_size(f.fileno()).columns or None  # 0: a terminal with no size yet
        except (OSError, ValueError, AttributeError):
            continue
    return None


def request(argv: list[str]) -> dict:
    return {
        "argv": argv, "cwd": os.getcwd(), "version": __version__, "write": is_write(argv),
        "env": {k: v for k, v in os.environ.items() if k.startswith("MEM_") or k in ENV_KEYS},
        "tty": {"stdin": _tty(sys.stdin), "stdout": _tty(sys.stdout), "stderr": _tty(sys.stderr)},
        "columns": _columns(),
    }


def relay(sock: socket.socket, req: dict, *, out=None, err=None) -> int | None:
    """Run ``req`` on the server; its exit code, or None when the server says fall back.
    Output goes to our stdout/stderr, or to the binary files ``out``/``err``."""
    out = out or sys.stdout.buffer
    err = err or sys.stderr.buffer
    try:
        wire.send(sock, wire.REQUEST, req)
    except OSError:  # a server that closed its socket as we connected (exiting): do it here
        return None
    accepted, cancelled, out_ok = False, False, True
    while True:
        try:
            frame = wire.recv(sock)
            if frame is None:
                if not accepted:
                    return None
                sys.stderr.write("error: the memory server stopped during this command (rerun it; "
                                 "an interrupted write is recovered by the next one)\n")
                return 1
            kind, body = frame
            if kind == wire.ACCEPT:
                accepted = True
            elif kind == wire.FALLBACK:
                return None
            elif kind == wire.OUT:
                if out_ok:
                    try:
                        out.write(body)
                        out.flush()
                    except BrokenPipeError:  # `mem search … | head -1`: stop reading, as cat does
                        out_ok = False
                        _silence_stdout()
                        return 0
            elif kind == wire.ERR:
                err.write(body)
                err.flush()
            elif kind == wire.READ:
                want = wire.decode(body).get("n", 1)
                data = sys.stdin.buffer.read() if want < 0 else sys.stdin.buffer.readline()
                wire.send(sock, wire.STDIN, data)
            elif kind == wire.EXIT:
                return int(wire.decode(body).get("code", 1))
        except KeyboardInterrupt:
            if cancelled:
                return 130
            cancelled = True  # the server unwinds the command as a local Ctrl-C would
            try:
                wire.send(sock, wire.CANCEL)
            except OSError:
                return 130
        except OSError:
            if not accepted:
                return None
            sys.stderr.write("error: lost the connection to the memory server\n")
            return 1


def _silence_stdout() -> None:
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run_on_server(path: str, req: dict, *, out=None, err=None) -> int | None:
    """Run ``req`` on the server listening at ``path``: its exit code, or None when no
    server answers (or a stale socket) or it says fall back."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    try:
        return relay(sock, req, out=out, err=err)
    finally:
        sock.close()


def try_server(argv: list[str]) -> int | None:
    path = forwardable(argv)
    return None if path is None else run_on_server(path, request(argv))


def control(home, what: str, timeout: float = 5.0) -> dict | None:
    """A control request (status, stop) to the server of ``home``; None when none answers."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(socket_path(home)))
        wire.send(sock, wire.REQUEST, {"control": what, "version": __version__})
        frame = wire.recv(sock)
        return json.loads(frame[1]) if frame and frame[0] == wire.REPLY else None
    except (OSError, ValueError):
        return None
    finally:
        sock.close()


def served_json(home, argv: list[str]) -> dict | None:
    """``mem --home HOME ARGV --json`` on the server of ``home``, parsed; None when no server
    takes it. A non-zero exit raises RuntimeError with the command's own message."""
    import io

    out, err = io.BytesIO(), io.BytesIO()
    req = request(["--home", str(home), *argv])
    req["tty"] = {"stdin": False, "stdout": False, "stderr": False}
    code = run_on_server(str(socket_path(home)), req, out=out, err=err)
    if code is None:
        return None
    try:
        if code == 0:
            return json.loads(out.getvalue())
    except ValueError:
        pass
    raise RuntimeError(err.getvalue().decode(errors="replace").strip() or f"mem {argv[0]}: exit {code}")
