"""`mem doctor` finds and repairs what a crash or a bug leaves between the stores."""

import os

from memcli.embed.base import fingerprint
from memcli.ingest.pipeline import IngestPipeline


def test_healthy_memory(mem, corpus):
    mem.ingest([corpus], recursive=True)
    rep = mem.doctor()
    assert rep.healthy, rep.to_dict()


def test_doctor_repairs_an_interrupted_ingest_and_store_drift(mem, corpus):
    mem.ingest([corpus], recursive=True)
    # 1. a killed writer: journal + pending units + index docs
    pipe = IngestPipeline(mem.settings, mem._catalog, mem._embedder)
    extra = corpus / "extra.md"
    extra.write_text("# Extra\n\nA note about a blue bicycle.\n")
    src, units, _ = pipe._prepare(extra, {})
    mem._catalog.journal.begin("ingest", [src.source_id])
    mem._lance.add_units(units, mem._embedder.embed([u.index_text for u in units]), fingerprint(mem._embedder))
    mem._lexical.replace([src.source_id], ((u.id, u.source_id, u.index_text, u) for u in units))
    # 2. drift: one unit vanished from Tantivy, a stale pid, loose permissions
    victim = sorted(mem._lance.committed_ids())[0]
    mem._lexical.delete_ids([victim])
    (mem.home / "write.pid").write_text("999999")
    os.chmod(mem.home, 0o755)

    rep = mem.doctor()
    problems = {f.check for f in rep.findings if not f.ok}
    assert problems == {"home permissions", "write lock", "interrupted write", "pending units",
                        "lexical index matches LanceDB"}
    assert not rep.healthy

    assert mem.doctor(repair=True).healthy
    assert mem.doctor().healthy
    assert victim in mem._lexical.all_ids()
    assert mem._lance.committed_ids() == mem._lexical.all_ids()
    # The interrupted file is simply ingested again by the next run.
    rep = mem.ingest([corpus], recursive=True)
    assert rep.count("added") == 1 and mem.doctor().healthy


def test_cli_doctor_exit_codes(capsys, tmp_path, monkeypatch, corpus):
    from memcli.cli import run

    monkeypatch.setenv("MEM_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    assert run(["ingest", str(corpus)]) == 0
    assert run(["doctor"]) == 0
    (tmp_path / "h" / "write.pid").write_text("999999")  # a writer that died
    assert run(["doctor", "--json"]) == 5
    assert run(["doctor", "--repair"]) == 0
    assert run(["doctor"]) == 0
