"""The feature reranker on hand-made candidates."""

import pytest

from memcli.errors import ConfigError, ModelError
from memcli.retrieve.rerank import FeatureReranker, make_reranker


def row(uid, title, text, section=""):
    return {"id": uid, "title": title, "section": section, "text": text}


def test_title_and_phrase_matches_lift_a_candidate():
    rows = {
        "a": row("a", "Journal of Psychotherapy", "A journal about therapy."),
        "b": row("b", "Stanley Hall", "G. Stanley Hall was the first president of the association."),
    }
    ranked = [("a", 1.0), ("b", 0.95)]
    out = FeatureReranker().rerank("Who was the first president, Stanley Hall?", ranked, rows)
    assert [u for u, _ in out] == ["b", "a"]


def test_unknown_rows_keep_their_score_and_order_is_stable_without_signal():
    out = FeatureReranker().rerank("zzz", [("x", 0.9), ("y", 0.5)], {})
    assert out == [("x", 0.9), ("y", 0.5)]


def test_factory():
    assert make_reranker("none") is None
    assert make_reranker("features").name == "features"
    with pytest.raises(ConfigError):
        make_reranker("magic")
    with pytest.raises(ModelError, match="not found"):
        make_reranker("cross-encoder", "/no/such/model")


def test_llm_reranker_orders_by_the_models_judgement():
    from memcli.llm.fake import FakeGenerator
    from memcli.retrieve.rerank import LLMReranker

    rows = {"a": row("a", "Garden", "Tomatoes need staking."),
            "b": row("b", "Bees", "Honey bees swarm in late spring.")}
    gen = FakeGenerator()
    loaded = []
    rr = LLMReranker(lambda: loaded.append(1) or gen)
    out = rr.rerank("When do honey bees swarm?", [("a", 1.0), ("b", 0.9)], rows)
    assert [u for u, _ in out] == ["b", "a"] and loaded  # the model judged b relevant
    assert rr.judgements == 2
    assert rr.rerank("When do honey bees swarm?", [("b", 0.9), ("a", 1.0)], rows) == out
    assert rr.judgements == 2  # the same question over the same passages is not judged again
    rr.rerank("Do tomatoes need staking?", [("a", 1.0)], rows)
    assert rr.judgements == 3
    assert make_reranker("llm", generator=lambda: gen).name == "llm"
    with pytest.raises(ConfigError):
        make_reranker("llm")  # no model to judge with
