"""Conversation ingest (LoCoMo format) and `mem eval locomo` on a tiny hand-made fixture."""

import json
import shutil
from pathlib import Path

import pytest

from memcli.cli import run

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "chat" / "locomo_tiny.json"


@pytest.mark.parametrize("units", ["turn", "topic"])
def test_locomo_turns_keep_ids_speakers_and_times(mem, tmp_path, units):
    mem.settings.segment.chat_units = units
    f = tmp_path / "chat.json"
    shutil.copy(FIX, f)
    rep = mem.ingest([f])
    assert not rep.failed and mem.sources()[0].kind == "conversation"
    rows = mem._lance.units_of(mem.sources()[0].source_id, ["id", "turn_ids", "speaker", "session", "event_time", "text"])
    turns = [t for r in rows for t in r["turn_ids"]]
    assert turns == ["D1:1", "D1:2", "D1:3", "D1:4", "D2:1", "D2:2"]  # every turn once, in order
    assert all(set(r["session"] for r in rows) <= {"tiny-1/session_1", "tiny-1/session_2"} for _ in [0])
    first = rows[0]
    assert first["event_time"].date().isoformat() == "2023-05-08"
    assert first["text"].startswith("[2023-05-08] Ana: I adopted a grey kitten called Pixel")
    if units == "turn":
        assert len(rows) == 6 and first["speaker"] == "Ana"
    # segments never cross sessions
    for r in rows:
        assert len({t.split(":")[0] for t in r["turn_ids"]}) == 1
    hits = mem.search("kitten name Pixel", mode="bm25", k=1)
    assert "Pixel" in hits[0].text


def test_malformed_export_names_the_turn(mem, tmp_path):
    bad = json.loads(FIX.read_text())
    del bad[0]["conversation"]["session_2"][1]["speaker"]
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(bad))
    rep = mem.ingest([f])
    assert "tiny-1, session_2, turn 2" in rep.failed[0].message


def test_unknown_json_is_skipped_not_failed(mem, tmp_path):
    (tmp_path / "package.json").write_text('{"name": "x"}')
    rep = mem.ingest([tmp_path / "package.json"])
    assert rep.count("skipped") == 1 and not rep.failed


def test_eval_locomo_fixture_exact_values(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MEM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    code = run(["eval", "locomo", str(FIX), "--units", "turn", "--modes", "bm25,dense,hybrid", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    res = json.loads(out)
    assert res["benchmark"] == "locomo" and res["queries"] == 3 and res["ingest"]["units"] == 6
    bm25 = {r["name"]: r for r in res["rows"]}["bm25"]
    assert set(bm25["by_category"]) == {"1", "2", "4", "5"}
    # Six single-turn units: with k >= 5 nearly everything is retrieved; with 2048 tokens all of it.
    assert bm25["metrics"]["evidence_recall@2048tok"] == 1.0
    # "What is the name of Ana's kitten?" -> the two kitten turns come first.
    q = [p for p in res["per_query"] if p["id"] == "tiny-1#0"][0]
    assert sorted(q["modes"]["bm25"]["top_turns"][:2]) == [["D1:1"], ["D1:2"]]
    assert q["modes"]["bm25"]["evidence_recall@5"] == 1.0
    assert q["evidence"] == ["D1:1"]
    assert [p["evidence"] for p in res["per_query"]][1] == ["D1:4", "D2:1"]


def test_eval_locomo_questions_option_samples_each_conversation(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MEM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    code = run(["eval", "locomo", str(FIX), "--units", "turn", "--modes", "bm25", "--questions", "2", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    res = json.loads(out)
    assert res["questions_per_conversation"] == 2
    assert [p["id"] for p in res["per_query"]] == ["tiny-1#0", "tiny-1#2"]  # evenly spaced, ids kept


def test_eval_locomo_answers_report_f1_and_abstention(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MEM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    monkeypatch.setenv("MEM_LLM__MODEL", "fake")
    code = run(["eval", "locomo", str(FIX), "--units", "turn", "--modes", "bm25",
                "--answer", "extractive,generate", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = {r["name"]: r for r in json.loads(out)["rows"]}
    for name in ("answer/extractive", "answer/generate"):
        m = rows[name]["metrics"]
        assert set(m) == {"f1", "false_abstention", "abstention_accuracy_cat5"}
        assert 0 <= m["f1"] <= 1 and rows[name]["by_category"]["5"]["queries"] == 1
    assert rows["answer/generate"]["model"] == "fake-llm" and "model" not in rows["answer/extractive"]
    q = [p for p in json.loads(out)["per_query"] if p["id"] == "tiny-1#0"][0]
    assert "Pixel" in q["modes"]["answer/extractive"]["answer"]


def test_eval_locomo_answer_rows_per_reranker_and_full_conversation(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MEM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    monkeypatch.setenv("MEM_LLM__MODEL", "fake")
    code = run(["eval", "locomo", str(FIX), "--units", "turn", "--modes", "hybrid,hybrid+features,hybrid+llm",
                "--answer", "extractive,full", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    res = json.loads(out)
    rows = {r["name"]: r for r in res["rows"]}
    assert {"answer/extractive", "answer/extractive+features", "answer/extractive+llm", "answer/full"} <= set(rows)
    assert "answer/full+llm" not in rows  # the whole conversation needs no retrieval
    ctx = rows["answer/full"]["context"]
    # The tiny conversation fits the fake model's window: nothing truncated, all evidence seen.
    assert ctx["truncated_conversations"] == 0 and ctx["evidence_share_seen"] == 1.0
    assert rows["hybrid+llm"]["metrics"]["evidence_recall@2048tok"] == 1.0


def test_full_conversation_transcript_keeps_the_latest_turns():
    from memcli.eval.fullcontext import transcript

    conv = json.loads(FIX.read_text())[0]["conversation"]
    whole = transcript(conv, lambda t: len(t.split()), 10_000)
    assert not whole.truncated and len(whole.turns_kept) == 6
    cut = transcript(conv, lambda t: len(t.split()), 40)
    assert cut.truncated and cut.tokens_kept <= 40 and 0 < len(cut.turns_kept) < 6
    assert "D2:1" in cut.turns_kept or len(cut.turns_kept) == 0  # the newest session survives
    assert cut.text.splitlines()[-1] == whole.text.splitlines()[-1]


def test_search_filters_on_time_speaker_and_session(mem, tmp_path):
    from memcli.retrieve.filters import parse_day
    from memcli.types import SearchFilters

    mem.settings.segment.chat_units = "turn"
    f = tmp_path / "chat.json"
    shutil.copy(FIX, f)
    mem.ingest([f])
    for mode in ("bm25", "dense", "hybrid"):
        late = mem.search("marathon", mode=mode, filters=SearchFilters(since=parse_day("2023-06-01")))
        assert late and all(h.event_time.startswith("2023-06-20") for h in late)
        early = mem.search("marathon", mode=mode, filters=SearchFilters(until=parse_day("2023-05-31", end=True)))
        assert early and all(h.event_time.startswith("2023-05-08") for h in early)
        ben = mem.search("marathon", mode=mode, filters=SearchFilters(speaker="ben"))
        assert ben and all(h.speaker == "Ben" for h in ben)
        s2 = mem.search("pottery", mode=mode, filters=SearchFilters(session="session_2"))
        assert s2 and all(h.event_time.startswith("2023-06-20") for h in s2)
    assert mem.search("marathon", filters=SearchFilters(speaker="Nobody")) == []


def test_cli_search_filters(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MEM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    assert run(["ingest", str(FIX)]) == 0
    capsys.readouterr()
    assert run(["search", "marathon", "--since", "2023-06-01", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits and all(h["event_time"] >= "2023-06-01" for h in hits)
    assert run(["search", "x", "--since", "last tuesday"]) == 2


CHAT = FIX.parent


@pytest.mark.parametrize("name,turns,first", [
    ("chatgpt_conversations.json", 3, "[2024-04-24] User: My sourdough starter smells like nail polish"),
    ("claude_conversations.json", 2, "[2025-02-03] User: When should I plant garlic"),
    ("chat.jsonl", 3, "[2025-07-01] Maya: The ferry to the island leaves at 7:40."),
])
def test_chat_exports_become_conversation_units(mem, tmp_path, name, turns, first):
    mem.settings.segment.chat_units = "turn"
    f = tmp_path / name
    shutil.copy(CHAT / name, f)
    rep = mem.ingest([f])
    assert not rep.failed and rep.count("added") == 1
    rows = mem._lance.units_of(mem.sources()[0].source_id, ["text", "turn_ids", "speaker", "event_time", "session"])
    assert len(rows) == turns
    assert rows[0]["text"].startswith(first)
    assert all(r["event_time"] is not None for r in rows)
    assert "(an abandoned branch)" not in " ".join(r["text"] for r in rows)  # only the visible thread


def test_malformed_jsonl_names_the_line(mem, tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"speaker": "a", "text": "hi"}\n{"speaker": "b"}\n')
    rep = mem.ingest([f])
    assert rep.failed and "line 2" in rep.failed[0].message


def test_neighbour_expansion_brings_adjacent_turns_after_the_hit(mem, tmp_path):
    mem.settings.segment.chat_units = "turn"
    f = tmp_path / "chat.json"
    shutil.copy(FIX, f)
    mem.ingest([f])
    r = mem._retriever
    fused = r.ranked("adopted grey kitten", "bm25", 10).fused
    expanded = r.expand_neighbours(fused[:1], 1)
    rows = mem._lance.units_by_ids([u for u, _ in expanded], ["id", "turn_ids"])
    assert [rows[u]["turn_ids"] for u, _ in expanded] == [["D1:1"], ["D1:2"]]  # D1:1 has no left neighbour
    assert expanded[1][1] < expanded[0][1]
    mem.settings.search.neighbours = 1
    hits = mem.search("adopted grey kitten", mode="bm25", k=3)
    assert "Pixel sleeps" not in hits[0].text and len(hits) == 3


def test_eval_locomo_granularities_in_one_run(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MEM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    code = run(["eval", "locomo", str(FIX), "--granularity", "turn,session,segment", "--modes", "bm25,hybrid",
                "--workdir", str(tmp_path / "wd"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    res = json.loads(out)
    assert [r["name"] for r in res["rows"]] == ["turn/bm25", "turn/hybrid", "session/bm25", "session/hybrid",
                                                "segment/bm25", "segment/hybrid"]
    assert res["ingest"]["turn"]["units"] == 6 and res["ingest"]["session"]["units"] == 2
    assert set(res["per_query"][0]["modes"]) >= {"turn/bm25", "session/hybrid", "segment/bm25"}
    assert run(["eval", "locomo", str(FIX), "--granularity", "paragraph"]) == 2


def test_time_expression_in_the_query_lifts_units_in_range(mem, tmp_path):
    from datetime import datetime, timezone

    mem.settings.segment.chat_units = "turn"
    f = tmp_path / "chat.json"
    shutil.copy(FIX, f)
    mem.ingest([f])
    now = datetime(2023, 7, 1, tzinfo=timezone.utc)
    # Both sessions mention the marathon; "in June" points at the second one.
    june = mem.search("marathon in June", mode="bm25", k=1, now=now)
    assert june[0].event_time.startswith("2023-06-20")
    may = mem.search("marathon in May", mode="bm25", k=1, now=now)
    assert may[0].event_time.startswith("2023-05-08")


def test_format_flag_forces_the_reader(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MEM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    f = tmp_path / "export.txt"  # an odd name: detection by suffix would read it as text
    shutil.copy(CHAT / "claude_conversations.json", f)
    assert run(["ingest", str(f), "--format", "claude", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 1
    assert run(["sources", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["kind"] == "conversation"
    assert run(["ingest", str(f), "--format", "whatsapp"]) == 2
    g = tmp_path / "x.json"
    shutil.copy(CHAT / "chat.jsonl", g)
    assert run(["ingest", str(g), "--format", "chatgpt", "--json"]) == 4
    assert "invalid JSON" in json.loads(capsys.readouterr().out)["files"][0]["message"]


def test_eval_locomo_with_consolidation_reports_counts_and_a_tree_row(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MEM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    monkeypatch.setenv("MEM_CONSOLIDATE__SUMMARY_MIN_UNITS", "2")
    code = run(["eval", "locomo", str(FIX), "--units", "turn", "--modes", "hybrid,hybrid/tree", "--consolidate", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    res = json.loads(out)
    c = res["ingest"]["consolidate"]
    assert c["before"]["committed"] == 6 and c["after"]["summaries"] >= 1
    rows = {r["name"]: r for r in res["rows"]}
    # Tree search descends to the turns, so its recall is measured on leaves like hybrid's.
    assert rows["hybrid/tree"]["metrics"]["evidence_recall@2048tok"] == 1.0
    assert rows["hybrid"]["metrics"]["evidence_recall@2048tok"] == 1.0


def test_topic_segments_keep_their_turn_vectors(mem, tmp_path):
    mem.settings.segment.chat_units = "topic"
    f = tmp_path / "chat.json"
    shutil.copy(FIX, f)
    mem.ingest([f])
    src = mem.sources()[0].source_id
    units = {r["id"]: r["turn_ids"] for r in mem._lance.units_of(src, ["id", "turn_ids"])}
    t = mem._lance.turns.table()
    rows = t.to_arrow().to_pylist()
    per_unit = {}
    for r in rows:
        per_unit[r["unit_id"]] = per_unit.get(r["unit_id"], 0) + 1
    # One row per turn (both sessions have several turns), pointing at its segment.
    assert per_unit == {u: len(ts) for u, ts in units.items()}
    assert rows and all(r["source_id"] == src for r in rows)
    # Dense search scores a segment by its best turn too: the kitten question finds its segment.
    qv = mem._embedder.embed_query("grey kitten called Pixel")
    best = mem._lance.turns.search(qv, 5)
    assert any("D1:1" in units[u] for u, _ in best[:1])
    # Re-ingesting a changed file and forgetting it leave no stale turn rows behind.
    f.write_text(f.read_text().replace("Pixel", "Pixie"))
    mem.ingest([f])
    assert {r["unit_id"] for r in t.to_arrow().to_pylist()} <= {r["id"] for r in mem._lance.units_of(src, ["id"])}
    mem.forget(str(f))
    assert t.count_rows() == 0
