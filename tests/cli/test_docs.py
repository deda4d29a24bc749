"""README and docs agree with the CLI: every `mem <command>` they show exists."""

import re
from pathlib import Path

import pytest

from memcli.cli import run

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def documented_commands():
    found = set()
    for doc in DOCS:
        for m in re.finditer(r"(?m)^\s*(?:\$ )?mem ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", doc.read_text()):
            found.add((m.group(1), m.group(2)))
    return sorted(found, key=lambda x: (x[0], x[1] or ""))


def test_docs_show_commands():
    assert documented_commands(), "README should show how to use mem"


@pytest.mark.parametrize("cmd,sub", documented_commands())
def test_documented_command_exists(capsys, cmd, sub):
    assert run([cmd, "--help"]) == 0, f"`mem {cmd}` is documented but does not exist"
    out = capsys.readouterr().out
    if sub and "Commands" in out:
        assert sub in out, f"`mem {cmd} {sub}` is documented but does not exist"


def test_makefile_targets_in_readme_exist():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"(?m)(?:^|`)make ([a-z-]+)", readme)):
        assert re.search(rf"(?m)^{target}:", makefile), f"make {target} is documented but missing"
