"""A llama.cpp build that crashes on this CPU is a one-line message and exit 7, never a dead
process: the probe generates in a child, and here the child is made to die with SIGSEGV."""

import json
import sys

import pytest

from memcli.cli import run
from memcli.llm import probe

SEGFAULT = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]
FINE = [sys.executable, "-c", "print('ok')"]


@pytest.fixture
def home(tmp_path, monkeypatch, capsys):
    h = tmp_path / "home"
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF not really")
    monkeypatch.setenv("MEM_HOME", str(h))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    monkeypatch.setenv("MEM_LLM__MODEL", str(gguf))
    monkeypatch.setattr(probe, "llama_version", lambda: "0.0-test")  # as if llama_cpp were installed
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "honey.md").write_text("# Honey show\n\nOur heather honey won first prize at the county show.\n")
    assert run(["ingest", str(notes)]) == 0
    capsys.readouterr()
    return h


def child(monkeypatch, argv):
    calls = []

    def command(gguf):
        calls.append(gguf)
        return argv
    monkeypatch.setattr(probe, "child_command", command)
    return calls


def test_ask_generate_with_a_crashing_build_exits_7_with_the_fix(capsys, home, monkeypatch):
    calls = child(monkeypatch, SEGFAULT)
    code = run(["ask", "--generate", "what prize did the honey win?"])
    err = capsys.readouterr().err
    assert code == 7
    assert "crashed with SIGSEGV" in err and "make rebuild-llama" in err and "Traceback" not in err
    # The verdict is cached in the home: the next --generate does not probe again.
    assert run(["ask", "--generate", "what prize did the honey win?"]) == 7
    assert len(calls) == 1 and (home / probe.CACHE_FILE).exists()
    # Extractive answers do not need the model at all.
    capsys.readouterr()
    assert run(["ask", "--extractive", "what prize did the honey win?"]) == 0
    assert "first prize" in capsys.readouterr().out


def test_models_check_and_doctor_report_the_crash(capsys, home, monkeypatch):
    child(monkeypatch, SEGFAULT)
    code = run(["models", "--check", "--json"])
    out, err = capsys.readouterr()
    assert code == 7 and json.loads(out)["probe_ok"] is False
    assert "crashed with SIGSEGV on this CPU" in err and "make rebuild-llama" in err
    code = run(["doctor"])
    out, err = capsys.readouterr()
    assert code == 7 and "answer model" in out and "make rebuild-llama" in err


def test_models_check_probes_again_and_passes_after_a_rebuild(capsys, home, monkeypatch):
    child(monkeypatch, SEGFAULT)
    assert run(["models", "--check"]) == 7
    calls = child(monkeypatch, FINE)  # e.g. after `make rebuild-llama`
    capsys.readouterr()
    assert run(["models", "--check"]) == 0  # --check never trusts the cache
    assert len(calls) == 1 and "generates on this CPU" in capsys.readouterr().out


def test_the_cache_key_follows_build_model_and_cpu(tmp_path, monkeypatch):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"x")
    k1 = probe.probe_key(gguf)
    monkeypatch.setattr(probe, "cpu_flags", lambda: "sse2 avx2 avx512f amx_tile")
    k2 = probe.probe_key(gguf)
    monkeypatch.setattr(probe, "llama_version", lambda: "9.9.9")
    k3 = probe.probe_key(gguf)
    gguf.write_bytes(b"xy")
    assert len({k1, k2, k3, probe.probe_key(gguf)}) == 4
