"""The resident process starts itself for a person at a terminal, and only then; it exits
without dropping a client; while it runs, every write goes through it, in order."""

from __future__ import annotations

import json
import os
import pty
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from memcli.paths import socket_path
from memcli.server import spawn
from memcli.server.client import control, request, run_on_server

MEM = [sys.executable, "-m", "memcli"]


@pytest.fixture
def env(child_env):
    e = {k: v for k, v in child_env.items() if k not in ("CI", "MEM_SERVE__AUTOSTART", "MEM_NO_SERVER")}
    return e


def at_terminal(env, *args, timeout=120) -> subprocess.CompletedProcess:
    """`mem ARGS` with stdin and stdout on a pseudo-terminal, as typed by a person."""
    master, slave = pty.openpty()
    p = subprocess.Popen(MEM + list(args), env=env, stdin=slave, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    chunks = []

    def drain():
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    err = p.communicate(timeout=timeout)[1].decode()
    t.join(5)
    os.close(master)
    return subprocess.CompletedProcess(p.args, p.returncode, b"".join(chunks).decode(errors="replace"), err)


def piped(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(MEM + list(args), env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def wait_for_server(home, limit=60.0) -> dict:
    t0 = time.time()
    while (reply := control(home, "status", timeout=1)) is None:
        assert time.time() - t0 < limit, "the autostarted server never answered"
        time.sleep(0.1)
    return reply


def wait_gone(home, limit=30.0) -> None:
    t0 = time.time()
    while control(home, "status", timeout=1) is not None or spawn.held(home):
        assert time.time() - t0 < limit, "the server did not exit"
        time.sleep(0.1)


def test_the_first_command_at_a_terminal_starts_the_server_once(env, corpus, tmp_path):
    home = Path(env["MEM_HOME"])
    first = at_terminal(env, "ingest", "-r", str(corpus))
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("started a memory server") == 1 and "mem serve --stop" in first.stderr
    status = wait_for_server(home)
    assert status["autostarted"] is True
    served = status["served"]
    second = at_terminal(env, "search", "grilled sardines", "-k", "1")
    assert second.returncode == 0 and "trip.txt" in second.stdout
    assert "started a memory server" not in second.stderr  # once per start
    assert control(home, "status")["served"] == served + 1  # the second command went through it
    stop = piped(env, "serve", "--stop")
    assert stop.returncode == 0 and "stopping" in stop.stdout
    wait_gone(home)
    assert not socket_path(home).exists()


@pytest.mark.parametrize("how", ["CI=1", "MEM_NO_SERVER=1", "config: serve.autostart false", "a pipe, no terminal"])
def test_no_autostart_outside_a_persons_terminal_or_when_turned_off(env, corpus, how, tmp_path):
    home = Path(env["MEM_HOME"])
    if how == "config: serve.autostart false":
        Path(env["MEM_CONFIG"]).write_text("serve:\n  autostart: false\n")
    elif "=" in how:
        key, value = how.split("=")
        env = {**env, key: value}
    run = piped if how == "a pipe, no terminal" else at_terminal
    p = run(env, "ingest", "-r", str(corpus))
    assert p.returncode == 0, p.stderr
    assert "started a memory server" not in p.stderr
    time.sleep(1.0)
    assert not spawn.held(home) and control(home, "status", timeout=1) is None


def test_a_client_racing_the_idle_exit_is_served_or_falls_back_never_dropped(env, corpus):
    """Servers with a 0.3 s idle timeout, one after another, and a client whose pauses straddle
    it: every request is answered in full or told to fall back; none errs or hangs."""
    home = Path(env["MEM_HOME"])
    local = {**env, "MEM_NO_SERVER": "1"}
    assert piped(local, "ingest", "-r", str(corpus)).returncode == 0
    expected = json.loads(piped(local, "sources", "--json").stdout)
    socket.setdefaulttimeout(20)  # a hang becomes a timeout error, counted below
    outcomes = {"served": 0, "fallback": 0, "error": 0}
    servers, exits, procs = 0, 0, []
    rng = random.Random(7)
    try:
        t0 = time.time()
        while time.time() - t0 < 25 and exits < 4:
            if not spawn.held(home):
                if procs and procs[-1].poll() is not None:
                    exits += 1
                procs.append(subprocess.Popen(MEM + ["serve", "--idle-timeout", "0.3"], env=env,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                servers += 1
                while control(home, "status", timeout=1) is None and procs[-1].poll() is None:
                    time.sleep(0.02)
            for _ in range(8):
                out, err = _Sink(), _Sink()
                req = request(["sources", "--json"])
                req["tty"] = {"stdin": False, "stdout": False, "stderr": False}
                req["env"] = {k: v for k, v in env.items() if k.startswith("MEM_")}  # the child's home, not ours
                try:
                    code = run_on_server(str(socket_path(home)), req, out=out, err=err)
                except OSError:
                    code = "error"
                if code is None:
                    outcomes["fallback"] += 1
                elif code == 0 and json.loads(out.data) == expected:
                    outcomes["served"] += 1
                else:
                    outcomes["error"] += 1
                time.sleep(rng.uniform(0.2, 0.42))
    finally:
        socket.setdefaulttimeout(None)
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=30)
    assert outcomes["error"] == 0, outcomes
    assert outcomes["served"] > 0 and outcomes["fallback"] > 0 and exits >= 2, (outcomes, servers, exits)


class _Sink:
    def __init__(self) -> None:
        self.data = b""

    def write(self, b: bytes) -> None:
        self.data += b

    def flush(self) -> None:
        pass


def _many_files(d: Path, n: int) -> Path:
    d.mkdir()
    for i in range(n):
        (d / f"note{i:04d}.md").write_text(f"# Note {i}\n\n" + " ".join(f"word{i}x{j} bees hive" for j in range(300)))
    return d


def test_writes_from_two_terminals_queue_behind_the_server_in_order(env, tmp_path, corpus):
    home = Path(env["MEM_HOME"])
    server = subprocess.Popen(MEM + ["serve", "--idle-timeout", "120"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_server(home)
        big = _many_files(tmp_path / "big", 300)
        first = subprocess.Popen(MEM + ["ingest", str(big)], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        t0 = time.time()
        while not control(home, "status")["busy"]:
            assert time.time() - t0 < 30 and first.poll() is None, "the server never took the first ingest"
            time.sleep(0.05)
        served = control(home, "status")["served"]
        second = subprocess.Popen(MEM + ["ingest", "-r", str(corpus)], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        while control(home, "status")["queued"] < 1:
            assert time.time() - t0 < 60 and second.poll() is None, "the second ingest was not queued"
            time.sleep(0.05)
        forget = subprocess.Popen(MEM + ["forget", str(corpus / "trip.txt")], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        done = {}
        for name, p in (("first", first), ("second", second), ("forget", forget)):
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, (name, err)
            done[name] = err
        assert "waiting: the memory server runs" in done["second"]
        status = control(home, "status")
        assert status["served"] == served + 3  # the queued writes ran in the server, not beside it
        stats = json.loads(piped(env, "stats", "--json").stdout)
        assert stats["sources"] == 300 + 3 - 1  # in order: the forget came after the ingest it undoes
        assert piped(env, "doctor").returncode == 0
    finally:
        server.terminate()
        server.wait(timeout=30)
