"""`mem consolidate` on a real store: each step, forgetting, decay, compaction, cron, the lock."""

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from memcli.cli.app import run
from memcli.config import Settings
from memcli.embed.fake import FakeEmbedder
from memcli.memory import Memory
from memcli.store.schema import utcnow

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "chat" / "phone_update.json"
SHARED_PARA = ("The spare hive key hangs on the hook behind the shed door, next to the smoker fuel and the "
               "veil. Put it back after every inspection so the next person finds it.")


def live_texts(mem):
    return [r["text"] for r in mem._lance.units_where("status = 'committed'", ["text"])]


def test_dedupe_merges_copies_and_forgetting_one_source_keeps_it_for_the_other(mem, tmp_path):
    d = tmp_path / "notes"
    d.mkdir()
    (d / "a.md").write_text(f"# Shed\n\n{SHARED_PARA}\n")
    (d / "b.md").write_text(f"# Shed\n\n{SHARED_PARA}\n")
    mem.ingest([d])
    assert sum(SHARED_PARA[:30] in t for t in live_texts(mem)) == 2
    dry = mem.consolidate(dry_run=True, only=["dedupe"])
    assert dry.steps[0].counts["merged"] == 1 and sum(SHARED_PARA[:30] in t for t in live_texts(mem)) == 2
    rep = mem.consolidate(only=["dedupe"])
    assert rep.steps[0].counts == {"groups": 1, "merged": 1}
    assert sum(SHARED_PARA[:30] in t for t in live_texts(mem)) == 1
    hits = mem.search("spare hive key shed", k=5)
    assert sum(SHARED_PARA[:30] in h.text for h in hits) == 1
    canon = mem._lance.units_where("status = 'committed' AND level = 0", ["id", "source_id", "merged_from"])[0]
    assert len(canon["merged_from"]) == 1  # keeps the provenance of the copy
    assert mem.doctor().healthy
    keep_src = {s.source_id: s for s in mem.sources()}
    mem.forget(next(s.uri for s in keep_src.values() if s.source_id == canon["source_id"]))
    hits = mem.search("spare hive key shed", k=5)
    assert len(hits) == 1 and SHARED_PARA[:30] in hits[0].text  # the other source still remembers it
    assert mem.doctor().healthy


def test_a_newer_fact_supersedes_the_older_one(mem, tmp_path):
    mem.settings.segment.chat_units = "turn"
    mem.settings.consolidate.supersede_cosine = 0.3  # the hashing test embedder is far less semantic than MiniLM
    f = tmp_path / "chat.json"
    shutil.copy(FIX, f)
    mem.ingest([f])
    rep = mem.consolidate(only=["supersede"])
    assert rep.steps[0].counts["superseded"] == 1
    hits = mem.search("What is Ana's phone number?", k=3)
    texts = " ".join(h.text for h in hits)
    assert "555-9876" in texts and "555-1234" not in texts  # the stale fact is out of default retrieval
    old = mem._lance.units_where("status = 'superseded'", ["id", "superseded_by", "valid_to"])[0]
    chain = mem.history(old["id"])
    assert [r.status for r in chain] == ["superseded", "committed"] and "555-9876" in chain[-1].text
    assert chain[0].uri.endswith("chat.json")
    assert old["valid_to"].year == 2023 and old["valid_to"].month == 6
    audit = [json.loads(x) for x in (mem.home / "consolidate.log").read_text().splitlines()]
    assert audit[-1]["step"] == "supersede" and audit[-1]["superseded"] == 1
    assert mem.doctor().healthy


def test_summaries_link_children_stay_out_of_leaf_search_and_tree_search_descends(mem, tmp_path):
    mem.settings.consolidate.summary_group = 3
    mem.settings.consolidate.summary_min_units = 3
    d = tmp_path / "long"
    d.mkdir()
    sections = "\n\n".join(f"## Week {i}\n\nThe hive {'gained' if i % 2 else 'lost'} weight in week {i}. "
                           f"Frames of brood: {i}. The queen was seen on frame {i % 5}. " + "Notes continue here. " * 12
                           for i in range(1, 13))
    (d / "log.md").write_text(f"# Hive log\n\n{sections}\n")
    mem.ingest([d])
    assert mem._lance.count_units() >= 6
    rep = mem.consolidate(only=["summarize"])
    made = rep.steps[0].counts["summaries"]
    assert made >= 2
    sums = mem._lance.units_where("status = 'committed' AND level > 0", ["id", "level", "children", "text"])
    assert all(s["children"] and s["text"] for s in sums)
    assert mem.consolidate(only=["summarize"]).steps[0].counts["summaries"] == 0  # idempotent
    assert all(h.unit_id not in {s["id"] for s in sums} for h in mem.search("hive weight brood", k=20))
    mem.settings.search.levels = "all"
    mem._retriever.s.levels = "all"
    assert any(h.unit_id in {s["id"] for s in sums} for h in mem.search("hive weight brood queen", k=20))
    mem._retriever.s.levels = "tree"
    tree = mem.search("hive weight brood queen", k=5)
    assert tree and all(h.unit_id not in {s["id"] for s in sums} for h in tree)
    assert mem.doctor().healthy
    mem.forget(str(d / "log.md"))
    assert mem._lance.count_units("level > 0") == 0  # summaries go with their source


def test_decay_archives_unused_memory_pin_keeps_it_and_forget_weak_deletes(mem, corpus, fake_cli, capsys):
    mem.ingest([corpus], recursive=True)
    trip = next(s for s in mem.sources() if s.uri.endswith("trip.txt"))
    mem.pin(trip.uri)
    later = utcnow() + timedelta(days=3 * 365)
    rep = mem.consolidate(only=["decay"], now=later)
    archived = rep.steps[0].counts["archived"]
    assert archived == mem._lance.count_units("status = 'archived'") > 0
    assert all(h.uri.endswith("trip.txt") for h in mem.search("tomatoes hive Lisbon", k=10))
    assert mem.doctor().healthy
    weak = mem.weak_units(later)
    assert len(weak) == archived
    assert mem.weak_units(utcnow() - timedelta(days=1)) == []  # nothing that old yet
    gone = mem.weak_units(later, forget=True)
    assert len(gone) == archived and mem._lance.count_units("status = 'archived'") == 0
    assert mem.doctor().healthy  # sources' unit counts follow the deletion


def test_answers_count_as_recall(tmp_path, monkeypatch, corpus):
    from memcli.config import Settings
    from memcli.embed.fake import FakeEmbedder
    from memcli.memory import Memory

    m = Memory(Settings(home=tmp_path / "h", embed={"model": "fake:64"}, llm={"model": "fake"}),
               embedder=FakeEmbedder(dim=64))
    m.ingest([corpus], recursive=True)
    version = m._lance.units_table().version
    ans = m.ask("Where did we stay in Lisbon?")
    again = m.ask("Where did we stay in Lisbon?")
    assert ans.citations and again.citations[0].unit_id == ans.citations[0].unit_id
    # An answer writes no table version (it notes the recall); the next write folds it in.
    m._lance.refresh()
    assert m._lance.units_table().version == version
    m.consolidate(only=["decay"])
    row = m._lance.units_where(f"id = '{ans.citations[0].unit_id}'", ["access_count", "last_access"])[0]
    assert row["access_count"] == 2 and row["last_access"] is not None
    m.consolidate(only=["decay"])  # folded once, not again
    assert m._lance.units_where(f"id = '{ans.citations[0].unit_id}'", ["access_count"])[0]["access_count"] == 2


def _secret_notes(tmp_path):
    d = tmp_path / "n"
    d.mkdir()
    secret = "zebracornflowerpassphrase"
    (d / "secret.md").write_text(f"# Secret\n\nThe door code word is {secret} and nobody else knows it.\n")
    (d / "other.md").write_text("# Other\n\nPlain notes about tomatoes and compost.\n")
    return d, secret


def _on_disk(home, secret):
    return any(secret.encode() in p.read_bytes() for p in home.rglob("*") if p.is_file())


def test_forgetting_removes_the_text_from_disk_without_a_consolidate(mem, tmp_path):
    d, secret = _secret_notes(tmp_path)
    mem.ingest([d])
    assert _on_disk(mem.home, secret)
    mem.forget(str(d / "secret.md"))
    # The old versions still holding it were most of what the home kept: auto-compaction ran.
    assert not _on_disk(mem.home, secret)
    assert mem.search("tomatoes compost", k=1) and mem.doctor().healthy


def test_compaction_removes_forgotten_text_from_disk(mem, tmp_path):
    mem.settings.ingest.compact_reclaim = 0  # only the explicit step compacts here
    mem.settings.ingest.compact_after_versions = 0
    mem.settings.consolidate.compact_keep_s = 3600  # ingest and forget keep an hour of versions
    d, secret = _secret_notes(tmp_path)
    mem.ingest([d])
    mem.forget(str(d / "secret.md"))
    assert _on_disk(mem.home, secret)  # old LanceDB versions still hold it
    mem.settings.consolidate.compact_keep_s = 0
    rep = mem.consolidate(only=["compact"])
    assert not _on_disk(mem.home, secret)
    c = rep.steps[0].counts
    assert c["disk_bytes_after"] < c["disk_bytes_before"]
    assert mem.search("tomatoes compost", k=1) and mem.doctor().healthy


def test_schedule_install_show_remove_uses_its_own_crontab_file(fake_cli, tmp_path, monkeypatch, capsys):
    tab = tmp_path / "crontab"
    tab.write_text("0 1 * * * echo keep-me  # someone else\n")
    monkeypatch.setenv("MEMCLI_CRONTAB_FILE", str(tab))
    assert run(["schedule", "install", "--every", "6h", "--json"]) == 0
    line = json.loads(capsys.readouterr().out)["line"]
    assert line.startswith("17 */6 * * *") and "consolidate --json" in line and str(fake_cli) in line
    assert run(["schedule", "install", "--every", "1d"]) == 0  # replaces, not duplicates
    capsys.readouterr()
    text = tab.read_text()
    assert text.count("consolidate --json") == 1 and "17 3 * * *" in text and "keep-me" in text
    assert run(["schedule", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["installed"] and shown["last_run"] is None
    assert run(["schedule", "remove"]) == 0
    assert "consolidate" not in tab.read_text() and "keep-me" in tab.read_text()


def test_schedule_without_a_crontab_program_prints_the_line(fake_cli, monkeypatch, capsys):
    monkeypatch.delenv("MEMCLI_CRONTAB_FILE", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert run(["schedule", "install"]) == 2
    err = capsys.readouterr().err
    assert "no `crontab` program" in err and "consolidate --json" in err


def test_consolidate_and_ingest_at_once_never_corrupt(tmp_path, corpus):
    env = dict(os.environ, MEM_HOME=str(tmp_path / "home"), MEM_EMBED__MODEL="fake:64",
               MEM_INGEST__LOCK_TIMEOUT_S="60", MEM_GRAPH__ENABLED="true")
    more = tmp_path / "more"
    more.mkdir()
    for i in range(30):
        (more / f"n{i}.md").write_text(f"# Note {i}\n\n" + f"Paragraph about topic {i % 7} and hive {i}. " * 40)
    mem = [sys.executable, "-m", "memcli"]
    assert subprocess.run([*mem, "ingest", str(corpus), "-r"], env=env, capture_output=True).returncode == 0
    a = subprocess.Popen([*mem, "consolidate", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    b = subprocess.Popen([*mem, "ingest", str(more)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert a.wait(120) == 0 and b.wait(120) == 0, (a.stderr.read(), b.stderr.read())
    doc = subprocess.run([*mem, "doctor", "--json"], env=env, capture_output=True, text=True)
    assert doc.returncode == 0, doc.stdout
    # With no wait allowed, the second writer exits with the lock message instead.
    env0 = dict(env, MEM_INGEST__LOCK_TIMEOUT_S="0")
    a = subprocess.Popen([*mem, "consolidate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    import time

    time.sleep(1.0)
    b = subprocess.run([*mem, "ingest", str(more)], env=env0, capture_output=True, text=True)
    a.wait(120)
    assert b.returncode in (0, 6)
    if b.returncode == 6:
        assert "lock" in b.stderr.lower()


def test_topic_summaries_span_sources_and_go_when_a_source_is_forgotten(mem, tmp_path):
    mem.settings.consolidate.summary_min_units = 2
    mem.settings.consolidate.topic_cosine = 0.3  # the hashing test embedder is less semantic than MiniLM
    d = tmp_path / "t"
    d.mkdir()
    (d / "a.md").write_text("# Bees A\n\nThe bees swarm from the hive in May and the queen leaves with them.\n")
    (d / "b.md").write_text("# Bees B\n\nIn May the hive may swarm; the old queen leaves with half the bees.\n")
    (d / "c.md").write_text("# Tax\n\nThe tax return is due in April, file it online with the receipts.\n")
    mem.ingest([d])
    rep = mem.consolidate(only=["summarize"])
    assert rep.steps[0].counts["levels"].get("topic", 0) >= 1
    topic = mem._lance.units_where("source_id = 'topic-summaries'", ["id", "children", "text"])
    srcs = {r["source_id"] for r in mem._lance.units_where("level = 0", ["id", "source_id"])
            if r["id"] in set(topic[0]["children"])}
    assert len(srcs) >= 2 and mem.doctor().healthy
    mem.forget(str(d / "a.md"))
    assert mem._lance.units_where("source_id = 'topic-summaries' AND level > 0", ["id"]) == []
    assert mem.doctor().healthy


def test_documents_update_within_a_subject_and_only_when_written_later(mem, tmp_path):
    mem.settings.consolidate.supersede_cosine = 0.3  # hashing test embedder
    d = tmp_path / "docs"
    d.mkdir()
    old, new, other = d / "wifi-2024.md", d / "wifi-2025.md", d / "office.md"
    old.write_text("# Wifi\n\nThe wifi password is Tulip42 for the home router.\n")
    new.write_text("# Wifi\n\nThe wifi password for the home router is now Maple77.\n")
    other.write_text("# Office\n\nThe wifi password for the office router is now Birch9.\n")
    os.utime(old, (1_700_000_000, 1_700_000_000))  # written a year earlier
    os.utime(new, (1_731_000_000, 1_731_000_000))
    os.utime(other, (1_731_000_000, 1_731_000_000))
    mem.ingest([d])
    rep = mem.consolidate(only=["supersede"])
    assert rep.steps[0].counts["superseded"] == 1  # the office note is another subject
    gone = mem._lance.units_where("status = 'superseded'", ["text"])[0]["text"]
    assert "Tulip42" in gone
    os.utime(old, (1_731_000_000, 1_731_000_000))  # same day: nothing is newer
    old.write_text("# Wifi\n\nThe wifi password is Tulip42 for the home router!\n")
    os.utime(old, (1_731_000_000, 1_731_000_000))
    mem.ingest([d])
    assert mem.consolidate(only=["supersede"]).steps[0].counts["superseded"] == 0


def test_the_same_paragraph_under_other_headings_is_one_memory(tmp_path):
    """The commonest duplicate: a note saved twice, a paragraph pasted into another document,
    under another heading and with a word changed. Real MiniLM vectors would sit below the
    cosine gate because titles differ; the fake embedder's do too."""
    para = ("The quarterly budget review meets in room 4B on the first Monday of each quarter. "
            "Bring the spending report, the hiring plan and the list of open purchase orders.")
    d = tmp_path / "notes"
    d.mkdir()
    (d / "budget.md").write_text(f"# Budget\n\n{para}\n")
    (d / "budget-copy.md").write_text(f"# Budget (copy)\n\n{para}\n")
    (d / "meetings.md").write_text("# Meetings\n\n" + para.replace("each quarter", "every quarter") + "\n")
    m = Memory(Settings(home=tmp_path / "home", embed={"model": "fake:64"}), embedder=FakeEmbedder(dim=64))
    m.ingest([d])
    rep = m.consolidate(only=["dedupe"])
    counts = next(st.counts for st in rep.steps if st.step == "dedupe")
    assert counts == {"groups": 1, "merged": 2}
    hits = m.search("quarterly budget review meeting room", k=5)
    assert sum("room 4B" in h.text for h in hits) == 1


def test_a_dry_run_reports_what_would_change_in_the_same_words(tmp_path, monkeypatch, capsys):
    para = "The spare hive key hangs behind the shed door next to the smoker fuel and the veil, always."
    d = tmp_path / "notes"
    d.mkdir()
    for name in ("a", "b", "c"):
        (d / f"{name}.md").write_text(f"# Note {name}\n\n{para}\n")
    monkeypatch.setenv("MEM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    assert run(["ingest", str(d)]) == 0
    capsys.readouterr()
    assert run(["consolidate", "--dry-run", "--only", "dedupe"]) == 0
    out = capsys.readouterr().out
    assert "merged 2" in out and "live units 3 → 1 (would be)" in out and "{" not in out
    assert run(["consolidate", "--only", "dedupe"]) == 0
    assert "live units 3 → 1;" in capsys.readouterr().out  # the real run agrees


def _home_size(home):
    return sum(f.stat().st_size for f in home.rglob("*") if f.is_file())


def _grow(tmp_path, name, rounds, **ingest):
    """Rounds of edit, ingest and forget: every round leaves table versions and deleted rows."""
    m = Memory(Settings(home=tmp_path / name, embed={"model": "fake:64"}, ingest=ingest), embedder=FakeEmbedder(dim=64))
    d = tmp_path / f"{name}-notes"
    d.mkdir()
    for r in range(rounds):
        for i in range(5):
            (d / f"n{i}.md").write_text(f"# Note {i}\n\n" + f"Round {r} of note {i} about hives and honey. " * 30)
        m.ingest([d])
        m.forget(str(d / "n0.md"))
    return m, d


def test_edit_reingest_forget_cycles_keep_the_home_near_its_fresh_size(tmp_path):
    # Without history: what --as-of keeps (every replaced passage) is measured apart
    # (tests/time/test_time.py, docs/benchmarks.md).
    m, d = _grow(tmp_path, "cycled", 5, keep_history=False)
    fresh = Memory(Settings(home=tmp_path / "fresh", embed={"model": "fake:64"}), embedder=FakeEmbedder(dim=64))
    (d / "n0.md").unlink()
    fresh.ingest([d])  # the same memory, written once
    cycled_b, fresh_b = _home_size(tmp_path / "cycled"), _home_size(tmp_path / "fresh")
    assert cycled_b <= 2 * fresh_b, (cycled_b, fresh_b)
    assert len(m._lance.units_table().list_versions()) <= 6  # old versions go at every write
    assert m.doctor().healthy or all(f.ok for f in m.doctor().findings if f.check != "answer model")
    hits = m.search("hives and honey", k=20)
    assert hits and not any(h.uri.endswith("n0.md") for h in hits) and len(m.sources()) == 4
