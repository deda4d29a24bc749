"""A search reads a bounded number of unit rows, whatever the memory holds (issue #30).

Timed tests would be flaky; this counts instead. Every LanceStore read a search makes is
wrapped, and the unit rows it returns are added up: a step that reads every unit once per
query (or once per table version, as the title index did) shows up as rows growing with the
home. The homes differ fourfold in size; what one search reads must not.
"""

import collections

import pytest

from memcli.config import Settings
from memcli.embed.fake import FakeEmbedder
from memcli.memory import Memory
from memcli.store.lance import LanceStore

UNIT_READS = ("units_where", "units_by_ids", "vectors_of", "committed", "dense_search", "leaves_of")
TOPICS = ["tomatoes", "sardines", "beehives", "violins", "glaciers", "lanterns", "ferries", "orchards"]


@pytest.fixture
def reads(monkeypatch):
    """Unit rows returned and LanceDB counts made, per LanceStore method."""
    rows: collections.Counter = collections.Counter()
    for name in (*UNIT_READS, "count_units"):
        original = getattr(LanceStore, name, None)
        if original is None:
            continue

        def wrapped(self, *a, _name=name, _f=original, **k):
            out = _f(self, *a, **k)
            rows[_name] += len(out) if _name in UNIT_READS else 1
            return out
        monkeypatch.setattr(LanceStore, name, wrapped)
    return rows


def _home(tmp_path, name: str, files: int) -> Memory:
    d = tmp_path / f"{name}-notes"
    d.mkdir()
    for i in range(files):
        topic = TOPICS[i % len(TOPICS)]
        # Titles name each other, so bridging has links to follow.
        other = f"Note {(i + 1) % files}"
        (d / f"note{i}.md").write_text(
            f"# Note {i}\n\n## One\n\nAbout {topic} number {i}, see {other}.\n\n"
            f"## Two\n\nMore on {topic} and the {TOPICS[(i + 3) % len(TOPICS)]} of note {i}.\n")
    m = Memory(Settings(home=tmp_path / name, embed={"model": "fake:64"}), embedder=FakeEmbedder(dim=64))
    m.ingest([d])
    return m


def _after_a_write(m: Memory, reads, tmp_path, name: str) -> int:
    """Unit rows read by the first search after an ingest (a new table version: every
    per-version cache is rebuilt here) plus a warm one."""
    m.search("tomatoes and the beehives of note 3")  # warm: tables open, caches built
    extra = tmp_path / f"{name}-extra.md"
    extra.write_text("# Extra\n\nA late note about lanterns on the ferries.\n")
    m.ingest([extra])
    reads.clear()
    hits = m.search("lanterns on ferries, see Note 2")
    assert hits
    m.search("sardines and violins")
    return sum(reads[n] for n in UNIT_READS)


def test_rows_read_per_search_do_not_grow_with_the_memory(tmp_path, reads):
    small = _home(tmp_path, "small", 80)
    large = _home(tmp_path, "large", 320)
    assert large.stats()["units"] >= 4 * small.stats()["units"] - 8
    n_small = _after_a_write(small, reads, tmp_path, "small")
    n_large = _after_a_write(large, reads, tmp_path, "large")
    units_large = large.stats()["units"]
    # Candidates, not the memory: the small home's BM25 matches fewer units than its 50
    # candidates, so the larger one may check up to one candidate list more.
    assert n_large <= n_small + large.settings.search.candidates, (n_small, n_large)
    assert n_large < units_large, (n_large, units_large)


def test_a_warm_search_makes_no_count_over_the_table(tmp_path, reads):
    m = _home(tmp_path, "warm", 12)
    m.search("tomatoes")
    reads.clear()
    m.search("violins")
    m.search("glaciers")
    assert reads["count_units"] == 0  # "any summaries yet?" is asked once per table version
    assert reads["units_by_ids"] <= 2 * 30  # one lookup of the candidates a search
