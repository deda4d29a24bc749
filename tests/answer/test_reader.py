"""The reader on a small made-up notes folder: it quotes the line that answers, not the
topical one; an index page is navigation; an on-topic question memory cannot answer is
refused; filters narrow `mem ask`; a generated answer that invents falls back to the line.

The reader is the shipped model (memcli/answer/reader.safetensors) over the installed MiniLM,
and the home embeds with that MiniLM too (the reader reads its question-line cosine), as a
user's home does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memcli.answer.reader import available, load
from memcli.cli.app import app
from memcli.config import Settings
from memcli.memory import Memory

NOTES = Path(__file__).resolve().parents[1] / "fixtures" / "notes-reader"

pytestmark = pytest.mark.skipif(not available() or load() is None, reason="the shipped reader or its MiniLM base is missing")


@pytest.fixture(scope="module")
def notes(tmp_path_factory) -> Memory:
    home = tmp_path_factory.mktemp("reader") / "home"
    mem = Memory(Settings(home=home, llm={"pick": "reader"}))
    mem.ingest([NOTES], recursive=True)
    return mem


def test_the_shortcut_line_among_topical_lines(notes):
    a = notes.ask("Which keyboard shortcut did I give up so that the screenshot tool could use it?")
    assert not a.abstained, a.refusal
    assert "Ctrl+Shift+S" in a.evidence, a.evidence
    assert a.citations[0].uri.endswith("tools/shortcuts.md")


def test_the_ssh_url_not_the_clone_command(notes):
    a = notes.ask("Where on the page do I find the SSH clone URL?")
    assert not a.abstained, a.refusal
    assert "Code button" in a.evidence, a.evidence


def test_an_index_page_is_navigation_not_an_answer(notes):
    a = notes.ask("How big is the first download of the local model?")
    assert "4.2 GB" in a.evidence, a.evidence
    assert not a.citations[0].uri.endswith("README.md")
    hits = notes.search("local models download size", k=3)
    assert all(not h.uri.endswith("README.md") for h in hits), [h.uri for h in hits]


def test_an_on_topic_question_memory_cannot_answer_is_not_answered_with_another_recipes_intro(notes):
    # The user's report: "Here's the recipe I've landed on" from a different recipe. The reader
    # does not quote it; it does not refuse either (the sourdough loaf clears its threshold),
    # which the closing note and docs/evaluation.md report as not met.
    a = notes.ask("What is my recipe for banana bread?")
    assert "recipe I've landed on" not in a.answer
    assert a.abstained or "pancake" not in (a.evidence or "").lower()


def test_a_question_about_something_memory_never_mentions_is_refused_with_the_closest_notes(notes):
    a = notes.ask("Which `--frobnicate` flag does the forge need for SSH clones?")
    assert a.abstained and a.refusal and a.closest


def test_a_refusal_keeps_answerable_questions(notes):
    a = notes.ask("How much flour goes into a sourdough loaf?")
    assert not a.abstained, a.refusal
    assert "500 g bread flour" in a.evidence


def test_ask_since_narrows_the_answer_to_newer_notes(notes, tmp_path, monkeypatch):
    monkeypatch.setenv("MEM_HOME", str(notes.settings.home))
    monkeypatch.setenv("MEM_LLM__PICK", "reader")
    r = CliRunner().invoke(app, ["ask", "What did the bike shop do?", "--since", "2025-01-01", "--json"])
    assert r.exit_code == 0, r.output
    a = json.loads(r.output)
    assert all(c["uri"].endswith("2025-spring.md") for c in a["citations"]), a["citations"]
    r = CliRunner().invoke(app, ["ask", "What did the bike shop do?", "--until", "2024-12-31", "--json"])
    assert r.exit_code == 0, r.output
    assert all(c["uri"].endswith("2024-spring.md") for c in json.loads(r.output)["citations"])


def test_ask_source_narrows_and_a_missing_source_is_an_error(notes, monkeypatch):
    monkeypatch.setenv("MEM_HOME", str(notes.settings.home))
    monkeypatch.setenv("MEM_LLM__PICK", "reader")
    r = CliRunner().invoke(app, ["ask", "How much flour?", "--source", str(NOTES / "kitchen" / "pancakes.md"), "--json"])
    assert r.exit_code == 0, r.output
    a = json.loads(r.output)
    assert all(c["uri"].endswith("pancakes.md") for c in a["citations"]) and "200 g flour" in (a["evidence"] or "")
    r = CliRunner().invoke(app, ["ask", "How much flour?", "--source", str(NOTES / "nowhere")])
    assert r.exit_code != 0 and "no source in memory matches" in str(r.exception)


class InventingGenerator:
    """Answers every question with code the notes never show (as the bundled 135M model did)."""

    name = "inventor"
    n_ctx = 2048

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages, **kw):
        self.prompts.append(messages[-1]["content"])
        yield "Use `import django` and call `django.setup()` [1]."


class CopyingGenerator(InventingGenerator):
    name = "copier"

    def stream(self, messages, **kw):
        self.prompts.append(messages[-1]["content"])
        yield "The starter gets fed on Sundays [1]."


def test_generation_that_invents_falls_back_to_the_reader_line(notes):
    gen = InventingGenerator()
    mem = Memory(notes.settings, embedder=notes._embedder, generator=gen)
    a = mem.ask("How do I make a read-only copy of the team's notes repository?", answer="generate")
    assert "django" not in a.answer
    assert "git clone" in a.answer
    assert a.generated and "django" in a.generated
    assert a.note and a.note.endswith(".") and "django" in a.note and "…" not in a.note
    # The model was shown lines, not whole excerpts.
    assert "Push access needs a key" not in gen.prompts[0] or len(gen.prompts[0]) < 900
    # Evidence and citations name the same note.
    assert a.citations and a.citations[0].uri.endswith("git-hosting.md")
    assert a.evidence and a.evidence in " ".join((NOTES / "tools" / "git-hosting.md").read_text().split())


def test_evidence_and_citations_agree_on_a_copied_answer(notes):
    mem = Memory(notes.settings, embedder=notes._embedder, generator=CopyingGenerator())
    a = mem.ask("When does the sourdough starter get fed?", answer="generate")
    assert not a.abstained and a.generated is None
    assert a.citations[0].uri.endswith("sourdough.md")
    assert "Sundays" in (a.evidence or "")
