"""Searches while another process ingests and consolidates: no errors, and every hit is a
committed unit of a file that was really ingested (never a pending one).

    MEM_SOAK_QUERIES=200 pytest tests/store/test_concurrency.py   # the 4 x 200 figure
"""

import os
import subprocess
import sys
import threading

from memcli.config import Settings
from memcli.embed.fake import FakeEmbedder
from memcli.memory import Memory

QUERIES = int(os.environ.get("MEM_SOAK_QUERIES", "40"))
WORDS = ["hive", "honey", "swarm", "queen", "tomato", "compost", "frost", "varroa", "sauce", "greenhouse"]


def test_readers_see_only_committed_units_while_a_writer_works(tmp_path):
    home = tmp_path / "home"
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(10):
        (notes / f"first{i}.md").write_text(f"# First {i}\n\n" + f"The {WORDS[i]} note {i} says hello. " * 30)
    settings = Settings(home=home, embed={"model": "fake:64"}, ingest={"batch_units": 8})
    Memory(settings, embedder=FakeEmbedder(dim=64)).ingest([notes])
    for i in range(60):
        (notes / f"later{i:02d}.md").write_text(f"# Later {i}\n\n" + f"A later {WORDS[i % 10]} note {i}. " * 40)
    env = {**os.environ, "MEM_HOME": str(home), "MEM_EMBED__MODEL": "fake:64", "MEM_INGEST__BATCH_UNITS": "8"}
    cli = [sys.executable, "-c", "from memcli.cli import main; main()"]
    writer = subprocess.Popen(["bash", "-c", " && ".join(" ".join(f"'{a}'" for a in cmd) for cmd in (
        cli + ["ingest", str(notes)], cli + ["consolidate"], cli + ["forget", str(notes / "later00.md")]))],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors: list[str] = []
    seen: list[tuple[str, str]] = []

    def reader(n: int) -> None:
        mem = Memory(settings, embedder=FakeEmbedder(dim=64))
        for q in range(QUERIES):
            try:
                for h in mem.search(f"{WORDS[(n + q) % 10]} note", k=5):
                    seen.append((h.unit_id, h.uri))
            except Exception as e:  # the figure is the count of these
                errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert writer.wait(timeout=300) == 0, writer.stderr.read().decode()
    assert errors == []
    files = {str(p) for p in notes.iterdir()}
    assert seen and all(uri in files for _, uri in seen)
    final = Memory(settings, embedder=FakeEmbedder(dim=64))
    pending = final._lance.units_where("status = 'pending'", ["id"])
    assert pending == []
    assert all(f.ok for f in final.doctor().findings if f.check != "answer model")


def test_a_read_on_a_version_another_writer_dropped_is_read_again_on_the_latest(tmp_path):
    """Writers drop old table versions as they go; a reader still on one (here: a reader that
    does not look for newer versions for an hour, so it keeps the old one) finds its data
    files gone. The read is made again on the latest version instead of failing."""
    from memcli.store.lance import LanceStore
    from memcli.store.query import units

    settings = Settings(home=tmp_path / "home", embed={"model": "fake:64"}, ingest={"batch_units": 8})
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(6):
        (notes / f"n{i}.md").write_text(f"# Note {i}\n\n" + f"The {WORDS[i]} note {i} says hello. " * 30)
    writer = Memory(settings, embedder=FakeEmbedder(dim=64))
    writer.ingest([notes])
    stale = LanceStore(tmp_path / "home" / "lance", consistency_s=3600)
    before = stale.units_where(units(status="committed"), ["id", "text"])  # opened on this version
    writer.forget(str(notes / "n0.md"))
    writer.consolidate(only=["compact"])  # every older version's files removed
    after = stale.units_where(units(status="committed"), ["id", "text"])
    assert before and len(after) == len(before) - len([r for r in before if "note 0 " in r["text"]])
    assert {r["id"] for r in after} == {r["id"] for r in writer._lance.units_where(units(status="committed"), ["id"])}
