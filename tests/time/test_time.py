"""Time from the content: dated headings, file names and first lines date units (no front
matter anywhere), and a filter that matches nothing says why (real LanceDB + Tantivy)."""

import json
from datetime import datetime, timezone

from memcli.cli.app import run
from memcli.ingest.dates import Dater, file_date, heading_date, leading_date
from memcli.ingest.readers.base import Document
from memcli.types import SearchFilters

JOURNAL = """# Journal 2025

## 12 April

Sowed the tomatoes in the greenhouse and watered the seed trays.

## 20 April

Potted on the tomato seedlings; the Sungold are 15 cm tall.

## 3 May

Planted the tomatoes out in the raised bed after the frost.
"""


def day(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=timezone.utc)


def folder(tmp_path):
    d = tmp_path / "notes"
    d.mkdir()
    (d / "journal.md").write_text(JOURNAL)
    (d / "2023-11-02-boiler.md").write_text("# Boiler\n\nThe engineer replaced the pressure valve on the boiler.\n")
    (d / "invoice.txt").write_text("Northfield Bee Supplies\nInvoice date: 28 April 2025\n\nTwo brood boxes and frames.\n")
    (d / "recipes.md").write_text("# Carrots\n\nHoney-glazed carrots with thyme. #recipes\n")
    return d


def test_dates_come_from_headings_file_names_and_first_lines():
    assert heading_date("12 April", 2025) == day("2025-04-12")
    assert heading_date("Monday 3 June", 2024) == day("2024-06-03")
    assert heading_date("2025-06-03 — boiler service", None) == day("2025-06-03")
    assert heading_date("Plans for 12 April", 2025) is None  # mentions a date; is not one
    assert heading_date("12 April", None) is None  # no year anywhere: no date is invented
    assert file_date("/n/2023-11-02-boiler.md") == day("2023-11-02")
    assert file_date("/n/2025-04-spring.md") == day("2025-04-01")
    assert file_date("/n/2025/06/notes.md") == day("2025-06-01")
    assert file_date("/n/v1.2.md") is None
    assert leading_date("Northfield\nInvoice date: 28 April 2025\n") == day("2025-04-28")
    assert leading_date("Posted on June 3, 2024") == day("2024-06-03")
    assert leading_date("Ate 12 eggs.") is None
    from memcli.ingest.readers.structure import note_time, note_time_key

    assert note_time({"created": 1623456789000}) == datetime(2021, 6, 12, 0, 13, 9, tzinfo=timezone.utc)  # Dendron
    assert note_time_key({"modified": "2024-01-02", "title": "x"}) == "modified"
    doc = Document("markdown", "Journal 2025", JOURNAL, [])
    assert Dater(doc).at(("Journal 2025", "20 April")) == (day("2025-04-20"), "heading")
    assert Dater(doc).at(("Journal 2025",)) == (None, None)  # the year alone dates nothing


def test_since_and_until_select_journal_entries_not_whole_files(mem, tmp_path):
    mem.ingest([folder(tmp_path)])
    rows = mem._lance.units_where(None, ["title", "section", "event_time", "time_source"])
    dated = {(r["section"].split(" › ")[-1] if r["section"] else r["title"]): (r["event_time"], r["time_source"]) for r in rows}
    assert dated["20 April"] == (day("2025-04-20"), "heading")
    assert dated["Boiler"] == (day("2023-11-02"), "file name")
    assert dated["Carrots"] == (None, None)  # undated: no time is invented from the ingest
    hits = mem.search("tomatoes", filters=SearchFilters(since=day("2025-04-15"), until=day("2025-04-30")), k=10)
    entries = [h.section.split(" › ")[-1] for h in hits if h.uri.endswith("journal.md")]
    assert entries == ["20 April"]  # one entry, not the whole journal
    assert {h.uri.rsplit("/", 1)[-1] for h in hits} == {"journal.md", "invoice.txt"}  # 28 April too
    hits = mem.search("tomatoes", filters=SearchFilters(since=day("2025-05-01")), k=10)
    assert [h.section.split(" › ")[-1] for h in hits] == ["3 May"]
    inv = mem.search("brood boxes", filters=SearchFilters(since=day("2025-04-28"), until=day("2025-04-28T23:59:59")), k=3)
    assert inv and inv[0].uri.endswith("invoice.txt")


def test_a_filter_that_matches_nothing_says_why(fake_cli, tmp_path, capsys):
    d = tmp_path / "undated"
    d.mkdir()
    for i in range(3):
        (d / f"note{i}.md").write_text(f"# Note {i}\n\nThe kettle descaling routine, part {i}. #kitchen\n")
    assert run(["ingest", str(d)]) == 0
    capsys.readouterr()
    assert run(["search", "kettle", "--since", "2025-09-01", "--json"]) == 0
    why = json.loads(capsys.readouterr().out)["why_empty"]
    assert "none of the 3 sources carries a date" in why
    assert run(["search", "kettle", "--tag", "recipes"]) == 0
    said = capsys.readouterr().out
    assert "no note has the tag #recipes" in said and "#kitchen" in said
    (d / "dated.md").write_text("# Old\n\nDescaled the kettle.\n\n## 2023-05-01\n\nDescaled the kettle again.\n")
    assert run(["ingest", str(d)]) == 0
    capsys.readouterr()
    assert run(["search", "kettle", "--since", "2025-09-01", "--json"]) == 0
    assert "dated, 2023-05-01; none since 2025-09-01" in json.loads(capsys.readouterr().out)["why_empty"]
    assert run(["ask", "how do I descale the kettle?", "--since", "2025-09-01", "--json"]) == 0
    assert "none since 2025-09-01" in json.loads(capsys.readouterr().out)["refusal"]


def test_sources_tag_on_a_full_memory(fake_cli, tmp_path, capsys):
    d = folder(tmp_path)
    assert run(["ingest", str(d)]) == 0
    capsys.readouterr()
    assert run(["sources", "--tag", "recipes", "--json"]) == 0
    assert [s["uri"].rsplit("/", 1)[-1] for s in json.loads(capsys.readouterr().out)] == ["recipes.md"]
    assert run(["sources", "--tag", "notes"]) == 0  # a folder's name is no tag
    said = capsys.readouterr().out
    assert "Memory is empty" not in said and "no note has the tag #notes" in said and "#recipes" in said


def test_ask_as_of_a_moment_before_an_edit_answers_with_the_old_fact(fake_cli, tmp_path, capsys):
    import time as _time

    d = tmp_path / "house"
    d.mkdir()
    note = d / "wifi.md"
    note.write_text("# Wifi\n\nThe wifi password is marigold-42.\n\n## Router\n\nThe router sits in the hall cupboard.\n")
    assert run(["ingest", str(d)]) == 0
    capsys.readouterr()
    _time.sleep(1.1)
    before = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _time.sleep(1.1)
    note.write_text("# Wifi\n\nThe wifi password is clover-77.\n\n## Router\n\nThe router sits in the hall cupboard.\n")
    assert run(["ingest", str(d)]) == 0
    capsys.readouterr()

    assert run(["ask", "what is the wifi password?", "--json"]) == 0
    assert "clover-77" in json.loads(capsys.readouterr().out)["answer"]
    assert run(["ask", "what is the wifi password?", "--as-of", before, "--json"]) == 0
    old = json.loads(capsys.readouterr().out)
    assert "marigold-42" in old["answer"] and "clover-77" not in old["answer"]
    assert run(["search", "wifi password", "--as-of", before, "--json"]) == 0
    texts = [h["text"] for h in json.loads(capsys.readouterr().out)["hits"]]
    assert any("marigold-42" in t for t in texts) and not any("clover-77" in t for t in texts)
    assert any("hall cupboard" in t for t in texts)  # the unchanged passage was held then too
    assert run(["search", "wifi password", "--json"]) == 0
    assert not any("marigold-42" in h["text"] for h in json.loads(capsys.readouterr().out)["hits"])
    assert run(["search", "wifi password", "--as-of", "2001-01-01", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"] == []  # nothing was held then

    # mem history: the replaced passage and its successor, each with its window.
    assert run(["search", "wifi password", "--json", "-k", "1"]) == 0
    uid = json.loads(capsys.readouterr().out)["hits"][0]["unit_id"]
    assert run(["history", uid, "--json"]) == 0
    chain = json.loads(capsys.readouterr().out)
    assert [c["status"] for c in chain] == ["replaced", "committed"] and chain[0]["valid_to"]

    # Forgetting stays forgetting: the replaced passage goes too.
    assert run(["forget", str(note), "--yes"]) == 0
    capsys.readouterr()
    assert run(["search", "wifi password", "--as-of", before, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"] == []


def test_the_timeline_draws_an_edit_as_a_span_from_was_to_now(mem, tmp_path):
    d = tmp_path / "n"
    d.mkdir()
    (d / "wifi.md").write_text("# Wifi\n\nThe wifi password is marigold-42.\n")
    mem.ingest([d])
    (d / "wifi.md").write_text("# Wifi\n\nThe wifi password is clover-77.\n")
    mem.ingest([d])
    spans = [i for i in mem.timeline()["items"] if i["kind"] == "supersession"]
    assert len(spans) == 1 and "marigold-42" in spans[0]["was"] and "clover-77" in spans[0]["now"]
    assert spans[0]["start"] < spans[0]["end"]


HOUSE = """# House log 2025

## 14 January

The boiler was serviced by Northfield Heating; they replaced the pressure valve.

## 12 April

Sowed tomatoes and basil in the greenhouse. Cleaned the gutters.

## 3 September

Boiler service again: the engineer bled the radiators and checked the flue.

## 20 September

Painted the shed door green.
"""


def test_questions_about_time_are_answered_from_the_dates(fake_cli, tmp_path, capsys):
    d = tmp_path / "house"
    d.mkdir()
    (d / "log.md").write_text(HOUSE)
    assert run(["ingest", str(d)]) == 0
    capsys.readouterr()

    def ask(q):
        assert run(["ask", q, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    day = ask("What did I do on 12 April?")  # no year: the latest 12 April memory holds
    assert day["answer"].startswith("12 April 2025: Sowed tomatoes") and day["evidence_date"] == "2025-04-12"
    last = ask("When did I last service the boiler?")
    assert last["answer"].startswith("3 September 2025:") and "bled the radiators" in last["answer"]
    first = ask("When did I first service the boiler?")
    assert first["answer"].startswith("14 January 2025:") and "pressure valve" in first["answer"]
    month = ask("What happened in September 2025?")
    assert "3 September 2025: Boiler service" in month["answer"] and "20 September 2025: Painted the shed" in month["answer"]
    assert len(month["citations"]) == 2


def test_a_note_keeps_created_and_modified_and_filters_read_created(mem, tmp_path):
    d = tmp_path / "vault"
    d.mkdir()
    (d / "boiler.md").write_text("---\ncreated: 2024-03-01\nmodified: 2025-06-10\n---\n# Boiler\n\nThe valve was replaced.\n")
    mem.ingest([d])
    hit = mem.search("valve replaced", k=1)[0]
    assert hit.event_time.startswith("2024-03-01") and hit.time_source == "front matter created"
    assert hit.updated_at.startswith("2025-06-10")  # kept beside it, not used by the filters
    assert mem.search("valve", filters=SearchFilters(since=day("2025-01-01")), k=3) == []
