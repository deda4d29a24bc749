"""Ingest against real LanceDB and Tantivy on tmp_path (fake embedder for speed)."""

import os
import shutil
from pathlib import Path

import pytest

from memcli.embed.fake import FakeEmbedder
from memcli.errors import LockBusyError, StoreError
from memcli.memory import Memory


def store_ids(mem):
    return mem._lance.committed_ids(), mem._lexical.all_ids()


def test_ingest_writes_every_unit_to_both_stores(mem, corpus):
    rep = mem.ingest([corpus], recursive=True)
    assert rep.count("added") == 3 and not rep.failed
    lance_ids, lex_ids = store_ids(mem)
    assert lance_ids == lex_ids and len(lance_ids) == rep.units_written
    kinds = {s.kind for s in mem.sources()}
    assert kinds == {"markdown", "text", "code"}
    assert oct(mem.home.stat().st_mode & 0o777) == "0o700"


def test_without_recursive_subdirectories_are_skipped(mem, corpus):
    rep = mem.ingest([corpus])
    assert rep.count("added") == 2 and rep.skipped_dirs == 1


def test_glob_filters_files(mem, corpus):
    rep = mem.ingest([corpus], recursive=True, globs=["*.py"])
    assert [r.path.endswith("scale.py") for r in rep.results] == [True]


def test_reingest_is_idempotent(mem, corpus):
    mem.ingest([corpus], recursive=True)
    before = store_ids(mem)
    rep = mem.ingest([corpus], recursive=True)
    assert rep.count("unchanged") == 3 and rep.units_written == 0
    assert store_ids(mem) == before


def test_changed_file_replaces_its_units_everywhere(mem, corpus):
    mem.ingest([corpus], recursive=True)
    old = {u["id"] for u in mem._lance.units_of(mem.sources()[0].source_id)}
    trip = corpus / "trip.txt"
    trip.write_text("Trip to Porto\n\nWe took the train to Porto and drank port wine by the Douro.\n")
    rep = mem.ingest([corpus], recursive=True)
    assert rep.count("updated") == 1 and rep.count("unchanged") == 2
    lance_ids, lex_ids = store_ids(mem)
    assert lance_ids == lex_ids
    hits = mem.search("Porto Douro wine", mode="bm25")
    assert hits and hits[0].uri == str(trip)
    assert not mem.search("sardines tasca Alfama", mode="bm25") or \
        all(h.uri != str(trip) for h in mem.search("sardines tasca Alfama", mode="bm25"))
    assert old <= lance_ids or old.isdisjoint(lance_ids)


def test_prune_forgets_sources_whose_files_are_gone(mem, corpus):
    mem.ingest([corpus], recursive=True)
    (corpus / "trip.txt").unlink()
    rep = mem.ingest([corpus], recursive=True, prune=True)
    assert rep.pruned == [str(corpus / "trip.txt")]
    assert len(mem.sources()) == 2
    assert store_ids(mem)[0] == store_ids(mem)[1]


def test_forget_leaves_nothing_in_either_store(mem, corpus):
    mem.ingest([corpus], recursive=True)
    gone = mem.forget(str(corpus / "garden.md"))
    assert [s.uri for s in gone] == [str(corpus / "garden.md")]
    lance_ids, lex_ids = store_ids(mem)
    assert lance_ids == lex_ids
    assert not [h for h in mem.search("queen hive varroa", mode="bm25") if h.uri.endswith("garden.md")]
    # A directory forgets everything under it.
    mem.forget(str(corpus))
    assert mem.sources() == [] and store_ids(mem) == (set(), set())


def test_bad_inputs_never_stop_the_batch(mem, corpus, tmp_path):
    bad = corpus / "bad"
    bad.mkdir()
    (bad / "binary.txt").write_bytes(b"\x00\x01\x02binary" * 50)
    (bad / "empty.md").write_text("")
    (bad / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (bad / "corrupt.pdf").write_bytes(b"%PDF-1.7\n%%garbage that is not a pdf\n")
    (bad / "loop.md").symlink_to(bad / "loop.md")
    huge = bad / "huge.txt"
    with open(huge, "wb") as f:
        f.truncate(3 * 1024 * 1024)
    mem.settings.ingest.max_file_mb = 1
    rep = mem.ingest([corpus, tmp_path / "missing.md"], recursive=True)
    msgs = {os.path.basename(r.path): r.message for r in rep.results if r.status in ("failed", "skipped")}
    assert "binary" in msgs["binary.txt"]
    assert "empty" in msgs["empty.md"]
    assert "UTF-8" in msgs["latin1.txt"]
    assert "PDF" in msgs["corrupt.pdf"]
    assert "symlink loop" in msgs["loop.md"]
    assert "max_file_mb" in msgs["huge.txt"]
    assert "no such file" in msgs["missing.md"]
    assert rep.count("added") == 3  # the good files all made it
    assert store_ids(mem)[0] == store_ids(mem)[1]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of mode")
def test_unreadable_file_is_reported(mem, corpus):
    p = corpus / "secret.md"
    p.write_text("# secret\n\ntext")
    p.chmod(0)
    rep = mem.ingest([corpus])
    assert any("permission" in r.message.lower() for r in rep.failed)


def test_crash_mid_write_is_rolled_back_and_rerun_finishes(mem, corpus):
    """Simulate a writer killed after LanceDB got pending units and Tantivy got documents."""
    mem.ingest([corpus / "garden.md"])
    # A second writer dies half-way through ingesting trip.txt: journal written,
    # units added (pending) and indexed, but never committed.
    from memcli.ingest.pipeline import IngestPipeline
    from memcli.embed.base import fingerprint

    pipe = IngestPipeline(mem.settings, mem._catalog, mem._embedder)
    src, units, _ = pipe._prepare(corpus / "trip.txt", {})
    mem._catalog.journal.begin("ingest", [src.source_id])
    mem._lance.add_units(units, mem._embedder.embed([u.index_text for u in units]), fingerprint(mem._embedder))
    mem._lexical.replace([src.source_id], ((u.id, u.source_id, u.index_text, u) for u in units))
    # Readers never see the half-written units.
    assert all(h.uri.endswith("garden.md") for h in mem.search("Lisbon sardines tram", mode="bm25"))
    assert all(h.uri.endswith("garden.md") for h in mem.search("Lisbon sardines tram", mode="dense"))
    rep = mem.ingest([corpus], recursive=True)
    assert rep.recovered["op"] == "ingest" and rep.recovered["sources"] == 1
    lance_ids, lex_ids = store_ids(mem)
    assert lance_ids == lex_ids
    assert len(lance_ids) == mem._lance.count_units(None)  # nothing pending is left
    assert {s.uri.rsplit("/", 1)[1] for s in mem.sources()} == {"garden.md", "trip.txt", "scale.py"}
    assert mem.search("Lisbon sardines tram", mode="bm25")[0].uri.endswith("trip.txt")


def test_two_writers_cannot_interleave(mem, corpus):
    with mem._lock():
        with pytest.raises(LockBusyError, match="another mem process"):
            mem.ingest([corpus])


def test_changed_embedding_model_is_detected(settings, corpus):
    Memory(settings, embedder=FakeEmbedder(dim=64)).ingest([corpus])
    other = Memory(settings, embedder=FakeEmbedder(dim=32))
    with pytest.raises(StoreError, match="embedded with fake-hash-64") as e:
        other.ingest([corpus])
    assert "mem reindex" in e.value.hint
    with pytest.raises(StoreError):
        other.search("tomatoes", mode="dense")
    assert other.search("tomatoes", mode="bm25")  # lexical search needs no vectors


def test_sample_corpus_ingests_every_format(mem):
    from conftest import SAMPLE

    shutil.copytree(SAMPLE, mem.home.parent / "sample")
    rep = mem.ingest([mem.home.parent / "sample"], recursive=True)
    assert not rep.failed, rep.failed
    assert {s.kind for s in mem.sources()} == {"markdown", "text", "html", "pdf", "docx", "code"}
    assert rep.count("added") >= 20


def test_changed_unit_settings_resegment_on_next_ingest(mem, corpus):
    mem.ingest([corpus], recursive=True)
    n_before = mem._lance.count_units()
    mem.settings.segment.min_tokens, mem.settings.segment.max_tokens = 16, 32
    rep = mem.ingest([corpus], recursive=True)
    assert rep.count("updated") == 3
    assert mem._lance.count_units() > n_before
    assert store_ids(mem)[0] == store_ids(mem)[1]


def test_older_homes_gain_new_columns(settings, corpus):
    """A home written before a column existed is migrated in place (nulls), not rejected."""
    import lancedb
    import pyarrow as pa

    from memcli.store.schema import sources_schema

    home = Path(settings.home) / "lance"
    home.mkdir(parents=True)
    old = pa.schema([f for f in sources_schema() if f.name != "pipeline"])
    lancedb.connect(str(home)).create_table("sources", schema=old)
    m = Memory(settings, embedder=FakeEmbedder(dim=64))
    assert m.ingest([corpus]).count("added") == 2
    assert "pipeline" in m._lance.sources_table().schema.names


def test_hostile_files_get_clear_messages(mem, tmp_path):
    d = tmp_path / "hostile"
    d.mkdir()
    (d / "nested.html").write_text("<div>" * 20000 + "deep text" + "</div>" * 20000)
    (d / "longline.txt").write_text("word " * 200_000)  # one 1 MB line
    (d / "nul.md").write_bytes(b"# title\n\nsome\x00text")
    big = d / "huge.txt"
    with open(big, "wb") as f:
        f.truncate(101 * 1024 * 1024)  # sparse: 101 MB without writing them
    rep = mem.ingest([d])
    res = {os.path.basename(r.path): r for r in rep.results}
    assert "over ingest.max_file_mb" in res["huge.txt"].message
    assert "binary" in res["nul.md"].message
    assert res["longline.txt"].status == "added" and res["longline.txt"].units > 5
    assert res["nested.html"].status in ("added", "failed")
    if res["nested.html"].status == "failed":
        assert res["nested.html"].message
    assert mem._lance.committed_ids() == mem._lexical.all_ids()


def test_a_fifo_is_refused_not_read(mem, tmp_path):
    d = tmp_path / "fifo"
    d.mkdir()
    os.mkfifo(d / "pipe.txt")
    (d / "ok.md").write_text("# ok\n\nfine text here")
    rep = mem.ingest([d])  # would hang forever if the pipe were opened
    res = {os.path.basename(r.path): r for r in rep.results}
    assert "not a regular file" in res["pipe.txt"].message and res["ok.md"].status == "added"


def test_reindex_moves_memory_to_a_new_embedder(settings, corpus):
    Memory(settings, embedder=FakeEmbedder(dim=64)).ingest([corpus], recursive=True)
    other = Memory(settings, embedder=FakeEmbedder(dim=32))
    ids_before = other._lance.committed_ids()
    res = other.reindex()
    assert res["units"] == len(ids_before) and res["to"]["embed_dim"] == "32"
    assert other._lance.committed_ids() == ids_before == other._lexical.all_ids()
    assert other.search("grilled sardines Lisbon", mode="dense")[0].uri.endswith("trip.txt")
    # Entity name vectors move to the new space too, so graph query linking keeps working.
    assert res["entities"] > 0 and other._graph.load().entity_vectors.shape[1] == 32
    assert other.search("Lisbon", mode="graph", k=1)[0].uri.endswith("trip.txt")
    assert other.doctor().healthy
    assert other.ingest([corpus], recursive=True).count("unchanged") == 3


def test_reindex_interrupted_after_dropping_units_is_restored(settings, corpus):
    mem = Memory(settings, embedder=FakeEmbedder(dim=64))
    mem.ingest([corpus], recursive=True)
    ids = mem._lance.committed_ids()
    # Simulate a crash between "copy written" and "units recreated".
    t = mem._lance.units_table()
    mem._catalog.journal.begin("reindex", [])
    mem._lance.db.create_table("units_reindex", data=t.to_arrow(), schema=t.schema)
    mem._lance.db.drop_table("units")
    fresh = Memory(settings, embedder=FakeEmbedder(dim=64))
    rep = fresh.ingest([corpus], recursive=True)
    assert rep.recovered["op"] == "reindex"
    assert fresh._lance.committed_ids() == ids and rep.count("unchanged") == 3


def test_units_table_from_an_older_version_takes_new_units_and_consolidation(settings, corpus, tmp_path):
    """Units written before the consolidation columns existed: the migrated table has its
    new columns after the vector, and writes (ingest, summaries) still line up by name."""
    import lancedb
    import pyarrow as pa

    from memcli.embed.base import fingerprint
    from memcli.store.schema import units_schema

    fp = fingerprint(FakeEmbedder(dim=64))
    old_cols = {"merged_into", "merged_from", "valid_to", "superseded_by", "access_count", "last_access",
                "pinned", "children"}
    full = units_schema(64, fp)
    old = pa.schema([f for f in full if f.name not in old_cols], metadata=full.metadata)
    (Path(settings.home) / "lance").mkdir(parents=True)
    lancedb.connect(str(Path(settings.home) / "lance")).create_table("units", schema=old)
    m = Memory(settings, embedder=FakeEmbedder(dim=64))
    assert m.ingest([corpus], recursive=True).count("added") == 3
    assert m._lance.units_table().schema.names[-1] != "vector"  # migrated: new columns at the end
    m.settings.consolidate.summary_min_units = 2
    m.consolidate(only=["summarize"])
    assert m.search("tomatoes", k=1) and m.doctor().healthy


def test_ignore_files_keep_paths_out(mem, tmp_path):
    root = tmp_path / "notes"
    for rel in ("keep.md", "drafts/wip.md", "build/out.md", "sub/deep/build/x.md", "sub/a.tmp.md", "sub/b.md"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"# {rel}\n\nSome text about {rel} here.\n")
    (root / ".memignore").write_text("# drafts are private\ndrafts/\n*.tmp.md\n!sub/a.tmp.md\n")
    (root / ".gitignore").write_text("build/\n")
    rep = mem.ingest([root], recursive=True)
    kept = sorted(str(Path(r.path).relative_to(root)) for r in rep.results)
    assert kept == ["keep.md", "sub/b.md"]


def test_a_file_that_failed_is_remembered_with_its_reason_until_it_reads(mem, tmp_path):
    from fpdf import FPDF

    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 not really a pdf")
    good = tmp_path / "fine.md"
    good.write_text("# Fine\n\nA note that reads.\n")
    mem.ingest([bad, good])
    failed = mem.ingest_status()["failed"]
    assert [f["path"] for f in failed] == [str(bad)] and failed[0]["reason"]
    assert mem.ingest_status()["pending_units"] == 0
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text="The repaired report reads now.")
    pdf.output(str(bad))
    mem.ingest([bad])  # it reads: no longer listed as failed
    assert mem.ingest_status()["failed"] == []
    assert any(s.uri == str(bad) for s in mem.sources())


def _many_notes(root, n):
    root.mkdir()
    for i in range(n):
        (root / f"n{i:03d}.md").write_text(f"# Note {i}\n\nThe {i}th note is about ferries and lanterns, item {i}.\n")
    return root


def test_a_long_ingest_keeps_table_versions_and_fragments_bounded(tmp_path):
    """Every batch commits a table version and a fragment; tidying along the way (compaction
    of the new fragments, old versions dropped) keeps both bounded, not growing with the
    import — and the write path stays whole (doctor)."""
    from memcli.config import Settings
    from memcli.embed.fake import FakeEmbedder
    from memcli.memory import Memory

    notes = _many_notes(tmp_path / "notes", 120)
    seen = []
    m = Memory(Settings(home=tmp_path / "home", embed={"model": "fake:64"},
                        ingest={"batch_files": 2, "batch_seconds": 1000, "batch_units_max": 2, "tidy_every": 8}),
               embedder=FakeEmbedder(dim=64))

    def watch(p):
        t = m._lance.units_table()
        if t is not None:
            seen.append(len(t.list_versions()))
    rep = m.ingest([notes], on_progress=watch)
    assert rep.added == 120 and rep.maintenance.get("tidied") == 60 // 8  # 60 batches of two files
    assert max(seen) <= 8 + 4, max(seen)  # without tidying: one version per batch, 60+
    assert len(m._lance.units_table().list_versions()) <= 3
    assert m._lance.units_table().stats()["fragment_stats"]["num_fragments"] <= 2
    assert m.doctor().healthy and len(m.search("ferries lanterns", k=5)) == 5


def test_batches_grow_while_they_are_quick(tmp_path):
    """A fast embedder: batches double up to batch_units_max, so a large import makes few
    commits; a slow one keeps batch_units (Ctrl-C loses at most one small batch)."""
    from memcli.config import Settings
    from memcli.embed.fake import FakeEmbedder
    from memcli.memory import Memory

    notes = _many_notes(tmp_path / "notes", 64)

    def commits(batch_seconds, name):
        m = Memory(Settings(home=tmp_path / name, embed={"model": "fake:64"},
                            ingest={"batch_files": 2, "batch_units": 2, "batch_units_max": 32,
                                    "batch_seconds": batch_seconds, "tidy_every": 0}),
                   embedder=FakeEmbedder(dim=64))
        writes = []
        real = m._catalog.write
        m._catalog.write = lambda *a, **k: (writes.append(len(a[1])), real(*a, **k))[1]
        assert m.ingest([notes]).added == 64
        return writes
    quick = commits(1000.0, "quick")  # every batch is "quick"
    slow = commits(1e-9, "slow")  # every batch is "slow"
    assert len(slow) == 32 and set(slow) == {2}
    assert len(quick) < 10 and max(quick) == 32, quick
