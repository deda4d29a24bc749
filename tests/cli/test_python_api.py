"""docs/python-api.md runs as written: every ```python block, in order, in one namespace, in
a fresh directory holding notes/ (the fake embedder, via the environment, as `mem` reads it)."""

import re
from pathlib import Path

from conftest import GARDEN, TRIP

DOC = Path(__file__).resolve().parents[2] / "docs" / "python-api.md"


def test_the_python_api_page_runs_as_written(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 5
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "garden.md").write_text(GARDEN)
    (tmp_path / "notes" / "trip.txt").write_text(TRIP)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    monkeypatch.setenv("MEM_LLM__MODEL", "fake")
    ns: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name}[block {i + 1}]", "exec"), ns)  # noqa: S102 - the doc's own examples
    assert (tmp_path / "backup.tar").is_file()


def test_import_memcli_stays_light_and_names_only_the_public_api():
    import subprocess
    import sys

    code = "import sys, memcli; print(sorted(m for m in ('memcli.memory', 'pydantic', 'lancedb') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    import memcli

    assert memcli.Memory.__module__ == "memcli.memory" and callable(memcli.open)
    assert set(memcli.__all__) >= {"open", "Memory", "Hit", "Answer", "SearchFilters", "MemError"}


def test_memory_has_a_small_documented_public_surface_and_the_page_lists_all_of_it():
    import inspect

    from memcli.memory import Memory
    from memcli.views import GraphView

    public = [n for n in dir(Memory) if not n.startswith("_")]
    assert len(public) <= 25, public
    undocumented = [n for n in public if not (inspect.getdoc(getattr(Memory, n)) or "").strip()]
    assert not undocumented
    page = DOC.read_text(encoding="utf-8")
    assert [n for n in public if f"Memory.{n}" not in page] == []
    graph = [n for n in dir(GraphView) if not n.startswith("_")]
    assert graph and [n for n in graph if f".{n}(" not in page] == []
    assert all((inspect.getdoc(getattr(GraphView, n)) or "").strip() for n in graph)
