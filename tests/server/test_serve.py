"""`mem serve`: commands run in the resident process print and exit exactly as local ones."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memcli.paths import socket_path
from memcli.server.client import control


def mem(env, *args, stdin=None, check=None):
    p = subprocess.run([sys.executable, "-m", "memcli", *args], env=env, input=stdin,
                       capture_output=True, text=True, timeout=120)
    if check is not None:
        assert p.returncode == check, (p.stdout, p.stderr)
    return p


def served_count(home) -> int:
    return control(home, "status")["served"]


@pytest.fixture
def env(child_env):
    return child_env


@pytest.fixture
def server(env, tmp_path):
    home = tmp_path / "home"
    proc = subprocess.Popen([sys.executable, "-m", "memcli", "serve", "--idle-timeout", "120"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    t0 = time.time()
    while control(home, "status", timeout=1) is None:
        assert proc.poll() is None, proc.stdout.read()
        assert time.time() - t0 < 60, "server did not start"
        time.sleep(0.1)
    yield home, proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=30)


def local(env):
    return {**env, "MEM_NO_SERVER": "1"}


def test_served_commands_match_local_ones(server, env, corpus):
    home, _ = server
    assert stat.S_IMODE(os.stat(socket_path(home)).st_mode) == 0o600
    rep = json.loads(mem(env, "ingest", "-r", str(corpus), "--json", check=0).stdout)
    assert rep["added"] == 3
    n = served_count(home)
    for args in (["search", "grilled sardines in Lisbon", "--json"], ["ask", "Which variety is for sauce?", "--json"],
                 ["stats", "--json"], ["sources", "--json"], ["search", "varroa mites", "-k", "2"]):
        served, here = mem(env, *args, check=0), mem(local(env), *args, check=0)
        if "--json" in args and args[0] in ("search", "sources"):
            assert json.loads(served.stdout) == json.loads(here.stdout)
        elif args[0] == "ask":
            a, b = json.loads(served.stdout), json.loads(here.stdout)
            assert a["answer"] == b["answer"] and a["citations"] == b["citations"]
        elif args[0] != "stats":  # stats carry sizes that the asks above just changed
            assert served.stdout == here.stdout
    assert served_count(home) == n + 5  # all five went through the server
    # Errors: same message, same exit code.
    for args, code in ((["search", ""], 2), (["forget", "/no/such/source.md"], 3), (["search", "x", "--mode", "magic"], 2)):
        served, here = mem(env, *args), mem(local(env), *args)
        assert served.returncode == here.returncode == code
        assert served.stderr == here.stderr


def test_stdin_reaches_the_served_command(server, env, corpus):
    mem(env, "ingest", "-r", str(corpus), check=0)
    # Piped chat: questions come line by line from the client's stdin.
    out = mem(env, "chat", "--no-save", stdin="Which variety is for sauce?\n", check=0).stdout
    assert "San Marzano" in out
    # Forgetting a folder of several sources wants a confirmation a pipe cannot give.
    p = mem(env, "forget", str(corpus), stdin="y\n")
    assert p.returncode == 2 and "needs confirmation" in " ".join(p.stderr.split())


def test_the_server_sees_writes_made_by_other_processes(server, env, corpus, tmp_path):
    home, _ = server
    mem(env, "ingest", "-r", str(corpus), check=0)
    assert json.loads(mem(env, "search", "Lisbon sardines", "--json", check=0).stdout)["hits"]
    extra = tmp_path / "extra.md"
    extra.write_text("# Owls\n\nA tawny owl nests in the old oak behind the shed.\n")
    mem(local(env), "ingest", str(extra), check=0)  # another process writes
    hits = json.loads(mem(env, "search", "tawny owl oak", "--json", "-k", "1", check=0).stdout)["hits"]
    assert hits[0]["uri"] == str(extra)
    mem(local(env), "forget", str(extra), check=0)
    hits = json.loads(mem(env, "search", "tawny owl oak", "--json", check=0).stdout)["hits"]
    assert all(h["uri"] != str(extra) for h in hits)


def _many_files(d: Path, n: int) -> Path:
    d.mkdir()
    for i in range(n):
        (d / f"note{i:04d}.md").write_text(f"# Note {i}\n\n" + " ".join(f"word{i}x{j} bees hive" for j in range(300)))
    return d


def served_ingest(env, home, folder) -> subprocess.Popen:
    """`mem ingest FOLDER` in a client process, returned once the server is busy with it."""
    client = subprocess.Popen([sys.executable, "-m", "memcli", "ingest", str(folder)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not control(home, "status")["busy"]:
        assert time.time() - t0 < 30 and client.poll() is None, "the server never took the ingest"
        time.sleep(0.05)
    time.sleep(0.5)  # mid-write
    return client


def test_a_server_killed_mid_ingest_is_recovered_by_the_next_command(server, env, tmp_path):
    home, proc = server
    big = _many_files(tmp_path / "big", 400)
    client = served_ingest(env, home, big)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    out, err = client.communicate(timeout=60)
    assert client.returncode == 1 and "server stopped" in err
    # No server now: the next commands run locally, recover and find the store consistent.
    mem(env, "ingest", str(big), check=0)
    mem(env, "doctor", check=0)
    assert json.loads(mem(env, "stats", "--json", check=0).stdout)["sources"] == 400


def test_ctrl_c_in_the_client_interrupts_the_served_write(server, env, tmp_path):
    home, proc = server
    big = _many_files(tmp_path / "big", 400)
    client = served_ingest(env, home, big)
    client.send_signal(signal.SIGINT)
    out, err = client.communicate(timeout=60)
    assert client.returncode == 130 and "interrupted" in err
    assert proc.poll() is None  # the server lives on
    mem(env, "doctor", check=0)
    mem(env, "ingest", str(big), check=0)
    assert served_count(home) >= 3


def test_a_busy_server_sends_clients_to_work_locally(server, env, tmp_path, corpus):
    home, _ = server
    mem(env, "ingest", "-r", str(corpus), check=0)
    client = served_ingest(env, home, _many_files(tmp_path / "big", 300))
    hits = json.loads(mem(env, "search", "grilled sardines", "--mode", "bm25", "--json", check=0).stdout)["hits"]
    assert hits[0]["uri"].endswith("trip.txt")
    assert client.wait(timeout=120) == 0


def test_one_server_per_home_and_an_idle_one_exits(env, tmp_path):
    home = tmp_path / "home"
    p = mem(env, "serve", "--detach", "--idle-timeout", "8", check=0)
    assert "serving" in p.stdout
    again = mem(env, "serve", "--detach")
    assert again.returncode == 6 and "already runs" in again.stderr
    assert json.loads(mem(env, "serve", "--status", "--json", check=0).stdout)["running"]
    t0 = time.time()
    while control(home, "status", timeout=1) is not None:
        assert time.time() - t0 < 30, "idle server did not exit"
        time.sleep(0.2)
    assert not socket_path(home).exists()
    assert mem(env, "serve", "--status").returncode == 1
    assert mem(env, "serve", "--stop").returncode == 1
