"""--help in plain words, choices listed and completed, shell completion for bash/zsh/fish."""

import os
import subprocess
import sys

import pytest
from typer.main import get_command

from memcli.cli.app import app


def _commands(cmd, path=()):
    yield path, cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _commands(sub, (*path, name))


ALL = [p for p, _ in _commands(get_command(app))]


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p) or "mem")
def test_every_help_page_uses_plain_words(path, capsys):
    from memcli.cli import run

    assert run([*path, "--help"]) == 0
    out = capsys.readouterr().out
    for code_word in ("<bool>", "<str>", "<int", "<list[", "<Path>", "<float>", "{"):
        assert code_word not in out, f"mem {' '.join(path)} --help shows {code_word}"


def test_choices_are_listed_and_refused_before_any_work(capsys, monkeypatch):
    from memcli.cli import run

    monkeypatch.setenv("COLUMNS", "200")
    run(["search", "--help"])
    assert "hybrid|bm25|dense|graph" in capsys.readouterr().out
    run(["ingest", "--help"])
    out = capsys.readouterr().out
    assert "low|normal|high" in out and "chatgpt, claude, jsonl, locomo" in out  # --format: plugins add to these
    assert run(["search", "x", "--mode", "bm42"]) == 2
    assert "bm42" in capsys.readouterr().err


def _complete(shell: str, words: str, tmp_path) -> list[str]:
    env = dict(os.environ, _MEM_COMPLETE=f"complete_{shell}", MEM_NO_SERVER="1", MEM_HOME=str(tmp_path / "h"))
    if shell == "bash":
        env |= {"COMP_WORDS": words, "COMP_CWORD": str(len(words.split(" ")) - 1)}
    else:
        env |= {"_TYPER_COMPLETE_ARGS": words, "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    p = subprocess.run([sys.executable, "-m", "memcli"], env=env, capture_output=True, text=True,
                       cwd=tmp_path, timeout=60)
    return p.stdout.split()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shells_complete_commands_modes_and_paths(shell, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notebook.md").write_text("x")
    assert "forget" in " ".join(_complete(shell, "mem fo", tmp_path))
    assert {"hybrid", "bm25", "dense", "graph"} <= {w.strip("'\"():") for w in _complete(
        shell, "mem search --mode ", tmp_path)}
    paths = " ".join(_complete(shell, "mem ingest note", tmp_path))
    assert "notes/" in paths and "notebook.md" in paths


def test_completion_scripts_install_for_each_shell():
    for shell in ("bash", "zsh", "fish"):
        p = subprocess.run([sys.executable, "-m", "memcli", "--show-completion", shell], capture_output=True,
                           text=True, timeout=60,
                           env=dict(os.environ, MEM_NO_SERVER="1", _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1"))
        assert p.returncode == 0 and "_MEM_COMPLETE" in p.stdout, (shell, p.stderr)
