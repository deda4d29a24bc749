"""The layers contract (pyproject.toml [tool.importlinter]): arrows point down only."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_module_imports_up_the_layers():
    lint = Path(sys.executable).with_name("lint-imports")
    p = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:]
    assert "1 kept, 0 broken" in p.stdout


SQL = re.compile(r"""status\s*!?=\s*'|\bIN \(|sql_list|\.where\(f?["']|where=f?["']|count_rows\(f?["']|\.delete\(f?["']""")
STORES = ("memcli/store/", "memcli/graph/store.py")


def test_no_sql_strings_outside_the_stores():
    """Callers ask with store/query.UnitFilter or a store method; predicates (and their
    quoting) are written in store/ only."""
    bad = []
    for f in sorted((ROOT / "memcli").rglob("*.py")):
        rel = f.relative_to(ROOT).as_posix()
        if rel.startswith(STORES):
            continue
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if SQL.search(line):
                bad.append(f"{rel}:{n}: {line.strip()}")
    assert not bad, "\n".join(bad)


def test_quoted_predicates_cannot_be_broken_by_a_value():
    from memcli.store.query import Near, units

    sql = units(ids=["a' OR '1'='1"], near=[Near("s'1", "it's", 3, 1)]).sql()
    assert "id IN ('a'' OR ''1''=''1')" in sql
    assert "session = 'it''s'" in sql and "ord >= 2 AND ord <= 4" in sql
    assert units(ids=[]).sql() == "false"
    assert units().sql() is None
