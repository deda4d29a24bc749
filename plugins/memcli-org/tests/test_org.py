"""The org reader on its own, and through memcli's plugin hook (run from memcli's checkout by
its `make test`, without installing the plugin)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memcli_org import read_org  # noqa: E402

NOTE = """#+title: Boiler
#+filetags: :house:
:PROPERTIES:
:ID: 1234
:END:
* <2025-06-03 Tue> Service
The engineer replaced the valve. See [[id:99][Heating invoice]] and [[https://example.org][the maker]].
** TODO Book the next one
"""


def test_org_reads_as_markdown(tmp_path: Path):
    f = tmp_path / "boiler.org"
    f.write_text(NOTE)
    md = read_org(f)
    assert md.startswith("# Boiler\n")
    assert "## 2025-06-03 Service" in md and "### TODO Book the next one" in md
    assert "[[Heating invoice]]" in md and "the maker" in md and "https" not in md
    assert ":ID:" not in md and "#+" not in md


def test_the_hook_registers_the_suffix():
    import memcli_org

    got = {}
    memcli_org.register_readers(lambda suffixes, read: got.update({s: read for s in suffixes}))
    assert got == {".org": read_org}
