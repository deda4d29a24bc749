"""The CLI as a person uses it: `mem ingest`, `mem search`, ... against a tmp home."""

import json
import os
import subprocess
import sys

import pytest

from memcli.cli import run

HEAVY = ("torch", "lancedb", "sentence_transformers", "tantivy", "llama_cpp", "pyarrow", "igraph")


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    monkeypatch.setenv("MEM_HOME", str(h))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    return h


def mem(capsys, *args):
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_cli_loads_no_heavy_modules():
    code = "import sys, memcli.cli; print(','.join(m for m in %r if m in sys.modules))" % (HEAVY,)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_entry_point_is_a_thin_client():
    # `mem` first tries a running `mem serve`: before it knows it must work itself, it loads
    # only the standard library (a served `mem search` costs a Python start, not seconds).
    code = ("import sys, memcli.main; "
            "print(','.join(m for m in %r if m in sys.modules))" % (HEAVY + ("typer", "rich", "pydantic", "yaml", "numpy"),))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_cold_search_skips_what_it_does_not_need(tmp_path):
    # Without a config file a cold command reads no YAML (MEM_HOME is a path, not YAML), and
    # pydantic's plugin scan of every installed package's entry points is off in a mem process.
    code = ("import sys, runpy; sys.argv = ['mem', 'search', 'anything', '--mode', 'bm25']\n"
            "try:\n    runpy.run_module('memcli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "import pydantic.plugin._loader as p\n"
            "print('yaml' in sys.modules, p._plugins is None)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEM_", "PYDANTIC_"))}
    env |= {"MEM_HOME": str(tmp_path / "home"), "MEM_NO_SERVER": "1", "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.split()[-2:] == ["False", "True"], out.stdout + out.stderr


def test_a_command_builds_only_the_module_that_owns_it(tmp_path):
    # Each command module is listed with the commands it registers (cli/app.py OWNERS): a
    # command line builds only its owner, and the whole CLI (help, completion) stays the same.
    import importlib

    import typer

    from memcli.cli.app import OWNERS, app_for, build

    for module, names in OWNERS.items():
        a = typer.Typer()
        importlib.import_module(f"memcli.cli.{module}").register(a)
        got = {c.name or c.callback.__name__ for c in a.registered_commands} | {g.name for g in a.registered_groups}
        assert set(names) <= got and (got - set(names) == set() or module == "plugins_cmd"), (module, got)
    assert [c.callback.__name__ for c in build().registered_commands][:3] == ["ingest", "search", "forget"]
    assert app_for(["--home", "x", "search", "q"]) is build(("core_cmd",))
    assert app_for(["--help"]) is build() and app_for(["hello-from-a-plugin"]) is build()
    assert app_for(["--version"]) is build(()) and app_for(["--version", "--help"]) is build()
    code = ("import sys; from memcli.cli import run; run(['search', 'anything', '--mode', 'bm25']); "
            "print(sorted(m.split('.')[-1] for m in sys.modules if m.startswith('memcli.cli.') and m.endswith('_cmd')))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEM_")}
    env |= {"MEM_HOME": str(tmp_path / "home"), "MEM_NO_SERVER": "1", "MEM_EMBED__MODEL": "fake:64"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip().splitlines()[-1] == "['core_cmd']", out.stdout + out.stderr


def test_help_lists_the_commands(capsys):
    code, out, _ = mem(capsys, "--help")
    assert code == 0
    for cmd in ("ingest", "search", "forget", "sources", "stats", "config"):
        assert cmd in out


def test_ingest_search_sources_stats_forget(capsys, home, corpus):
    code, out, err = mem(capsys, "ingest", "-r", str(corpus))
    assert code == 0, err
    assert "Ingest summary" in out

    code, out, _ = mem(capsys, "search", "grilled sardines Lisbon", "-k", "2")
    assert code == 0 and "trip.txt" in out.split(" 2. ")[0]

    code, out, _ = mem(capsys, "search", "sardines", "--mode", "bm25", "--json")
    data = json.loads(out)
    assert data["mode"] == "bm25" and data["hits"][0]["uri"].endswith("trip.txt")
    assert {"unit_id", "score", "uri", "section", "line_start", "text"} <= set(data["hits"][0])

    code, out, _ = mem(capsys, "sources", "--json")
    assert len(json.loads(out)) == 3

    code, out, _ = mem(capsys, "stats", "--json")
    st = json.loads(out)
    assert st["units"] == st["indexed_units"] > 0 and st["sources"] == 3

    code, out, _ = mem(capsys, "forget", str(corpus / "trip.txt"), "--json")
    assert code == 0 and json.loads(out)["forgotten"][0]["uri"].endswith("trip.txt")
    code, out, _ = mem(capsys, "stats", "--json")
    assert json.loads(out)["sources"] == 2


def test_ingest_json_and_partial_failure_exit_code(capsys, home, corpus):
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 nonsense")
    code, out, err = mem(capsys, "ingest", str(corpus), "--json")
    assert code == 4
    data = json.loads(out)
    assert data["added"] == 2 and data["failed"] == 1
    assert "1 of 3 files failed" in err
    assert "Traceback" not in err


def test_typed_errors_map_to_exit_codes(capsys, home):
    code, _, err = mem(capsys, "forget", "/no/such/source")
    assert code == 3 and "no source in memory" in err and "Traceback" not in err
    code, _, err = mem(capsys, "search", "x", "--mode", "telepathy")
    assert code == 2 and "telepathy" in err and "hybrid" in err
    code, _, _ = mem(capsys, "no-such-command")
    assert code == 2


def test_lock_busy_exit_code(capsys, home, corpus, monkeypatch):
    from filelock import FileLock

    monkeypatch.setenv("MEM_INGEST__LOCK_TIMEOUT_S", "0.1")
    home.mkdir(parents=True)
    with FileLock(str(home / "write.lock")):
        code, _, err = mem(capsys, "ingest", str(corpus))
    assert code == 6 and "another mem process" in err


def test_config_show_and_set(capsys, home):
    code, out, _ = mem(capsys, "config", "set", "search.fusion", "rrf")
    assert code == 0
    code, out, _ = mem(capsys, "config", "show", "--json")
    data = json.loads(out)
    assert data["settings"]["search"]["fusion"] == "rrf"
    assert data["settings"]["embed"]["model"] == "fake:64"  # env beats file
    code, _, err = mem(capsys, "config", "set", "search.k", "zero")
    assert code == 2 and "search.k" in err


def test_version(capsys):
    code, out, _ = mem(capsys, "--version")
    assert code == 0 and out.startswith("mem ")


def test_bad_input_at_the_door(capsys, home, tmp_path):
    for argv in (["search", ""], ["ask", "   "]):
        code, _, err = mem(capsys, *argv)
        assert code == 2 and "empty query" in err
    code, _, err = mem(capsys, "ingest", str(tmp_path / "nope.md"))
    assert code == 3 and "no such file or directory" in err
    code, _, err = mem(capsys, "config", "set", "search.k", "-5")
    assert code == 2 and "search.k" in err and "No such option" not in err
    assert mem(capsys, "config", "set", "search.time_boost", "0")[0] == 0


def test_a_closed_pipe_is_not_an_error(home, corpus):
    env = {**__import__("os").environ, "MEM_HOME": str(home), "MEM_EMBED__MODEL": "fake:64"}
    cli = [sys.executable, "-c", "from memcli.cli import main; main()"]
    subprocess.run(cli + ["ingest", str(corpus)], env=env, check=True, capture_output=True)
    # `mem ask … | head -0`: the reader is gone before mem writes; mem exits 0 without a word.
    p = subprocess.Popen(cli + ["ask", "grilled sardines Lisbon"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait() == 0 and err == ""


def test_forgetting_a_directory_of_sources_asks_first(capsys, home, corpus):
    assert mem(capsys, "ingest", "-r", str(corpus))[0] == 0
    code, out, _ = mem(capsys, "forget", str(corpus), "--dry-run")
    assert code == 0 and out.count("would forget") == 3
    code, _, err = mem(capsys, "forget", str(corpus))  # no terminal to ask on: refuse, say how
    assert code == 2 and "3 sources" in err and "--yes" in err
    assert len(json.loads(mem(capsys, "sources", "--json")[1])) == 3
    code, out, _ = mem(capsys, "forget", str(corpus), "--yes", "--json")
    assert code == 0 and len(json.loads(out)["forgotten"]) == 3


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_an_interrupted_ingest_keeps_what_it_committed_and_leaves_no_stale_lock(home, tmp_path, sig):
    import os
    import signal
    import time

    many = tmp_path / "many"
    many.mkdir()
    for i in range(400):  # far more than can finish between the first commit and the signal
        (many / f"note{i:03d}.md").write_text(f"# Note {i}\n\n" + f"Paragraph {i} about bees and honey. " * 40)
    env = {**os.environ, "MEM_HOME": str(home), "MEM_EMBED__MODEL": "fake:64", "MEM_INGEST__BATCH_UNITS": "8"}
    p = subprocess.Popen([sys.executable, "-c", "from memcli.cli import main; main()", "ingest", "-r", str(many)],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    # A batch's last write is its sources row: once that table has data, a batch is committed
    # (waiting for this, not a fixed delay, keeps the test true on a loaded machine).
    sources = home / "lance" / "sources.lance" / "data"
    while not (sources.exists() and any(sources.iterdir())) and p.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    assert p.poll() is None, "the ingest ended before it could be interrupted"
    p.send_signal(getattr(signal, sig))
    rc = p.wait(timeout=60)
    err = p.stderr.read().decode()
    assert rc == 130 and "rerun to finish" in err and "Traceback" not in err, err
    kept = int(err.split("interrupted: ")[1].split(" of ")[0])
    assert not (home / "write.pid").exists()
    doctor = subprocess.run([sys.executable, "-c", "from memcli.cli import main; main()", "doctor", "--json"],
                            env=env, capture_output=True, text=True)
    stores = [f for f in json.loads(doctor.stdout)["findings"] if f["check"] != "answer model"]
    assert all(f["ok"] for f in stores), stores
    again = subprocess.run([sys.executable, "-c", "from memcli.cli import main; main()", "ingest", "-r", str(many),
                            "--json"], env=env, capture_output=True, text=True)
    assert again.returncode == 0 and json.loads(again.stdout)["unchanged"] == kept


def test_config_set_with_a_home_writes_that_homes_config(capsys, home, tmp_path, monkeypatch):
    assert mem(capsys, "config", "set", "search.k", "4")[0] == 0
    assert "search:\n  k: 4" in (home / "config.yaml").read_text()
    assert mem(capsys, "config", "set", "search.k", "6", "--global")[0] == 0
    code, out, _ = mem(capsys, "config", "show", "--json")
    data = json.loads(out)
    assert data["settings"]["search"]["k"] == 4 and data["origins"]["search.k"].endswith("config.yaml")
    monkeypatch.setenv("MEM_HOME", str(tmp_path / "second-home"))  # another home sees the user file
    code, out, _ = mem(capsys, "config", "show", "--json")
    assert json.loads(out)["settings"]["search"]["k"] == 6


def test_a_pipe_gets_whole_values_tab_separated(tmp_path):
    """`mem sources | cat`: every path whole (a terminal gets the table, cut to its width)."""
    import os
    import subprocess
    import sys

    deep = tmp_path / ("a-rather-long-folder-name-for-notes" * 3)
    deep.mkdir()
    (deep / "a-note-with-a-long-file-name-that-a-table-would-cut.md").write_text("# N\n\nThe hive key.\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MEM_")}, "MEM_HOME": str(tmp_path / "h"),
           "MEM_EMBED__MODEL": "fake:64", "MEM_NO_SERVER": "1", "COLUMNS": "60"}
    subprocess.run([sys.executable, "-m", "memcli", "ingest", str(deep)], env=env, check=True, capture_output=True)
    got = subprocess.run([sys.executable, "-m", "memcli", "sources"], env=env, check=True, capture_output=True,
                         text=True).stdout.splitlines()
    assert got[0].split("\t") == ["id", "kind", "units", "ingested", "path"]
    assert got[1].split("\t")[-1] == str(deep / "a-note-with-a-long-file-name-that-a-table-would-cut.md")
    assert "…" not in "\n".join(got)
