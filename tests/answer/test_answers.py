"""What a user saw from `mem ask`, each as a small fixture: the question echoed back, saved
chats quoted as answers, the chat's date instead of the date in the evidence, citations
that start at [2], and --show-context without the excerpts."""

import json

import pytest

from memcli.cli import run
from memcli.embed.fake import FakeEmbedder
from memcli.memory import Memory

TYRES = """# Road bike tyres

## What tyre pressure for 32mm tyres?

What tyre pressure for 32mm tyres? It depends on your weight and the road.
For 32mm tyres I run 60 psi at the front and 65 psi at the rear.

## Tubeless

Tubeless tyres can run a little lower without pinch flats.
"""


@pytest.fixture
def memory(settings, tmp_path):
    def make(files: dict[str, str]):
        d = tmp_path / "notes"
        d.mkdir(exist_ok=True)
        for name, body in files.items():
            (d / name).write_text(body, encoding="utf-8")
        m = Memory(settings, embedder=FakeEmbedder(dim=64))
        m.ingest([d], recursive=True)
        return m
    return make


def test_the_question_is_never_the_answer(memory):
    m = memory({"tyres.md": TYRES})
    q = "What tyre pressure should I use for 32mm tyres?"
    ans = m.ask(q, answer="extractive")
    assert not ans.abstained and "60 psi" in ans.answer
    assert "?" not in ans.answer and ans.evidence != "What tyre pressure for 32mm tyres?"


def test_a_saved_chat_does_not_answer_with_its_own_question(memory):
    m = memory({"rust.md": "# Rust smart pointers\n\nArc stands for Atomically Reference Counted: "
                           "a thread-safe reference-counting pointer.\n"})
    chat = m.chat_session(answer="extractive")
    chat.ask("What does the Arc type stand for in Rust?")
    saved = chat.save()
    assert saved is not None and "you asked" in saved.read_text()
    ans = m.ask("What does the Arc type stand for in Rust?", answer="extractive")
    assert "Atomically Reference Counted" in ans.answer
    assert ans.answer != "What does the Arc type stand for in Rust?"
    assert not ans.citations[0].uri.endswith(".jsonl") or "Atomically" in ans.evidence


def test_a_date_in_the_evidence_wins_over_the_turn_date(settings, tmp_path):
    chat = tmp_path / "export.jsonl"
    rows = [
        {"session": "s1", "speaker": "Ana", "time": "2024-03-02T10:00:00", "text": "Renewed my passport today! It expires on 14 August 2025."},
        {"session": "s1", "speaker": "Ben", "time": "2024-03-02T10:01:00", "text": "Nice, my driving licence is fine until 2030."},
        {"session": "s2", "speaker": "Ana", "time": "2023-05-08T09:00:00", "text": "I went to the pottery class yesterday and made a bowl."},
    ]
    chat.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    m = Memory(settings, embedder=FakeEmbedder(dim=64))
    m.ingest([chat])
    ans = m.ask("When does my passport expire?", answer="extractive")
    assert ans.answer == "14 August 2025" and ans.evidence_date == "14 August 2025"
    assert ans.evidence[ans.answer_span[0]:ans.answer_span[1]] == "14 August 2025"
    ans = m.ask("When did Ana go to the pottery class?", answer="extractive")
    assert ans.answer == "7 May 2023"  # "yesterday", said on 8 May 2023


def test_a_question_about_one_speaker_is_not_answered_from_another(settings, tmp_path):
    chat = tmp_path / "export.jsonl"
    rows = [{"session": "s1", "speaker": "Caroline", "time": "2023-05-08T10:00:00",
             "text": "After the charity race I realised how much I love running with friends."},
            {"session": "s1", "speaker": "Melanie", "time": "2023-05-08T10:01:00",
             "text": "That is lovely, I went painting with my kids at the lake."}]
    chat.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    m = Memory(settings, embedder=FakeEmbedder(dim=64))
    m.ingest([chat])
    assert m.ask("What did Melanie realise after the charity race?", answer="extractive").abstained
    ans = m.ask("What did Caroline realise after the charity race?", answer="extractive")
    assert not ans.abstained and "love running" in ans.answer


def test_citations_start_at_one_and_show_context_prints_the_excerpts(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MEM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "tyres.md").write_text(TYRES)
    (notes / "chain.md").write_text("# Chain\n\nWax the chain every 300 km; it runs quieter than oil.\n")
    assert run(["ingest", str(notes)]) == 0
    capsys.readouterr()
    assert run(["ask", "What tyre pressure should I use for 32mm tyres?", "--show-context"]) == 0
    out = capsys.readouterr().out
    assert "60 psi" in out and "[1]" in out and "Context" in out
    assert "Tubeless tyres can run a little lower" in out  # the excerpt text itself, not only its path
    assert run(["ask", "What tyre pressure should I use for 32mm tyres?", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["number"] for c in data["citations"]] == [1]
    assert {"answer", "evidence", "evidence_date", "citations", "answer_span", "evidence_unit"} <= set(data)


def test_listing_questions_gather_every_occurrence(settings, tmp_path):
    chat = tmp_path / "export.jsonl"
    said = [("2023-05-01", "Melanie", "I went camping with the kids at the lake this weekend."),
            ("2023-05-01", "Caroline", "I started a new painting class for adults."),
            ("2023-06-10", "Melanie", "We went camping again, this time in the mountains."),
            ("2023-07-02", "Melanie", "Camping in the rain was still fun for the kids."),
            ("2023-07-03", "Caroline", "My dog loves the beach more than anything.")]
    chat.write_text("\n".join(json.dumps({"session": f"s{i}", "speaker": who, "time": f"{day}T10:00:00", "text": text})
                              for i, (day, who, text) in enumerate(said)) + "\n")
    m = Memory(settings, embedder=FakeEmbedder(dim=64))
    m.ingest([chat])
    ans = m.ask("How many times has Melanie gone camping?", answer="extractive")
    assert ans.answer.startswith("3 times:") and "mountains" in ans.answer and "painting" not in ans.answer
