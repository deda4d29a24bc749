"""`mem chat` piped, with the fake embedder and the fake LLM."""

import json

from memcli.cli import run
from memcli.answer.chat import cheap_rewrite, needs_context


def test_cheap_rewrite_carries_the_subject_of_the_last_question():
    hist = [("Which tomato variety is for sauce?", "San Marzano is the variety for sauce.")]
    out = cheap_rewrite("When do I plant it?", hist)
    assert out.startswith("When do I plant it? (") and "tomato" in out and "San" in out
    assert cheap_rewrite("Where is the Lisbon tram 28 going?", hist) == "Where is the Lisbon tram 28 going?"
    assert needs_context("and him?") and not needs_context("Where did we stay in Lisbon?")


def test_piped_chat_answers_rewrites_and_saves(capsys, fake_cli, monkeypatch, corpus):
    assert run(["ingest", "-r", str(corpus)]) == 0
    capsys.readouterr()
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(
        "Which variety is for sauce?\nWhen do they go out?\n/sources\n/bogus\n/exit\n"))
    assert run(["chat", "--generate"]) == 0
    out = capsys.readouterr().out
    assert out.count("you>") == 2
    # The follow-up was rewritten before retrieval (the fake LLM's reply is no rewrite, so the
    # cheap fallback carried the previous question's subject).
    assert "searched for: When do they go out? (" in out and "sauce" in out
    assert "garden.md" in out
    assert "saved this chat into memory (2 exchanges)" in out
    assert run(["sources", "--json"]) == 0
    srcs = json.loads(capsys.readouterr().out)
    chat_src = [s for s in srcs if "/chats/" in s["uri"]]
    assert chat_src and chat_src[0]["kind"] == "conversation"
    assert run(["search", "Which variety is for sauce", "--mode", "bm25", "--json"]) == 0
    assert any("/chats/" in h["uri"] for h in json.loads(capsys.readouterr().out)["hits"])


def test_forget_and_no_save(capsys, tmp_path, monkeypatch, corpus):
    import io
    import sys

    monkeypatch.setenv("MEM_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    assert run(["ingest", "-r", str(corpus)]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("Which variety is for sauce?\n/forget\n"))
    assert run(["chat"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("Where did we stay in Lisbon?\n"))
    assert run(["chat", "--no-save"]) == 0
    capsys.readouterr()
    run(["sources", "--json"])
    assert not [s for s in json.loads(capsys.readouterr().out) if "/chats/" in s["uri"]]
