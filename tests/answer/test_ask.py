"""`mem ask` end to end with real stores, the fake embedder and the fake generator."""

import json

import pytest

from memcli.cli import run
from memcli.embed.fake import FakeEmbedder
from memcli.llm.fake import FakeGenerator
from memcli.memory import Memory


@pytest.fixture
def asked(settings, corpus):
    gen = FakeGenerator()
    m = Memory(settings, embedder=FakeEmbedder(dim=64), generator=gen)
    m.ingest([corpus], recursive=True)
    return m, gen


def test_extractive_answer_cites_its_unit(asked):
    m, gen = asked
    ans = m.ask("Which variety is for sauce?", answer="extractive")
    assert not ans.abstained and "San Marzano" in ans.answer
    assert ans.citations[0].uri.endswith("garden.md") and ans.citations[0].line_start >= 1
    assert gen.prompts == []  # extractive answers never load the model


def test_a_streamed_answer_is_the_same_answer_and_a_chat_streams_too(asked):
    m, gen = asked
    whole = m.ask("Which variety is for sauce?", answer="extractive")
    steps = m.ask("Which variety is for sauce?", answer="extractive", stream=True)
    assert list(steps) == []  # an extractive answer is one quoted line: nothing to stream
    assert steps.result().answer == whole.answer and steps.result() is steps.result()
    chat = m.chat_session(answer="generate")
    steps = chat.ask("grilled sardines Lisbon tasca", stream=True)
    pieces = list(steps)
    assert pieces and "".join(pieces).strip() == steps.result().answer
    assert [t.question for t in chat.turns] == ["grilled sardines Lisbon tasca"]  # recorded when it ended


def test_generated_answer_maps_citation_numbers(asked):
    m, gen = asked
    tokens = []
    steps = m.ask("grilled sardines Lisbon tasca", answer="generate", stream=True)
    tokens.extend(steps)  # the text as the model writes it
    ans = steps.result()
    assert "".join(tokens).strip() == ans.answer
    assert ans.citations and ans.citations[0].number == int(ans.answer.rsplit("[", 1)[1].rstrip("] "))
    prompt = gen.prompts[0]
    assert [m_["role"] for m_ in prompt] == ["system", "user"]
    assert prompt[1]["content"].rstrip().endswith("Question: grilled sardines Lisbon tasca")
    assert {"retrieve", "context", "first_token", "generate"} <= set(ans.timings)


def test_generated_prompt_holds_less_memory_than_the_extractive_context(settings, corpus):
    settings.llm.context_tokens, settings.llm.generate_context_tokens = 400, 100
    gen = FakeGenerator()
    m = Memory(settings, embedder=FakeEmbedder(dim=64), generator=gen)
    m.ingest([corpus], recursive=True)
    q = "when do the tomatoes get planted and watered?"
    wide = m.ask(q, answer="extractive")
    narrow = m.ask(q, answer="generate")
    assert sum(c["tokens"] for c in narrow.context) <= 100 < sum(c["tokens"] for c in wide.context) <= 400
    settings.llm.generate_context_tokens = None  # falls back to context_tokens
    assert sum(c["tokens"] for c in m.ask(q, answer="generate").context) > 100


def test_model_saying_not_in_memory_abstains_with_closest_hits(settings, corpus):
    m = Memory(settings, embedder=FakeEmbedder(dim=64), generator=FakeGenerator(reply="Not in your memory."))
    m.ingest([corpus], recursive=True)
    ans = m.ask("what is the capital of Peru?", answer="generate")
    assert ans.abstained and ans.answer == "Not in your memory." and ans.closest


def test_low_similarity_abstains_before_any_model_call(asked):
    m, gen = asked
    m.settings.llm.min_similarity = 0.99
    ans = m.ask("quantum chromodynamics lattice", answer="generate")
    assert ans.abstained and gen.prompts == []


def test_empty_memory_abstains(settings):
    ans = Memory(settings, embedder=FakeEmbedder(dim=64), generator=FakeGenerator()).ask("anything")
    assert ans.abstained


def test_cli_ask_json(capsys, fake_cli, corpus):
    assert run(["ingest", "-r", str(corpus)]) == 0
    capsys.readouterr()
    assert run(["ask", "Which variety is for sauce?", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mode"] == "extractive" and "San Marzano" in data["answer"]
    assert data["citations"][0]["unit_id"]
    assert run(["ask", "Which variety is for sauce?", "--generate", "--no-stream"]) == 0
    out = capsys.readouterr().out
    assert "Answer:" in out and "garden.md" in out


def test_abstention_floor_comes_from_the_embedder_unless_configured(mem, corpus):
    mem.ingest([corpus], recursive=True)
    mem._embedder.abstain_floor = 0.999  # a vector space where nothing here is close enough
    assert mem.ask("Where did we stay in Lisbon?").abstained
    mem.settings.llm.min_similarity = 0.0  # an explicit setting wins
    assert not mem.ask("Where did we stay in Lisbon?").abstained
