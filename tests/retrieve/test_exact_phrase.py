"""A rare exact phrase that BM25 is sure about survives hybrid fusion (issue: hybrid buried it)."""

import random

import pytest

from memcli.config import Settings
from memcli.memory import Memory

pytestmark = pytest.mark.models

# Close in meaning to the question, without its words: dense prefers these.
TOPICS = ["the onboarding checklist for new hires", "a welcome pack for people joining the team",
          "hidden passwords and private login hints", "the confidential access phrase policy",
          "how to reset a forgotten passphrase", "the security badge rules for recent arrivals",
          "a mentor for each fresh recruit", "keeping credentials away from strangers"]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = tmp_path_factory.mktemp("exact")
    notes = root / "notes"
    notes.mkdir()
    rng = random.Random(3)
    for i in range(60):
        a, b = rng.sample(TOPICS, 2)
        extra = ["", " A secret was kept.", " The newcomer said hello."][i % 3]  # BM25 runners-up
        (notes / f"note{i:02d}.md").write_text(f"# Note {i}\n\nToday we talked about {a}. Later, {b}.{extra}\n"
                                               f"Everyone agreed that {a} matters.\n")
    # The one file that holds the rare word, in a page about something else (dense misses it).
    (notes / "vault.md").write_text(
        "# House\n\nThe boiler was serviced in March and the plumber replaced the valve under the sink. "
        "Bins go out on Tuesday, recycling every other week. The gutters need clearing before winter and "
        "the fence panel by the shed is loose. Codeword: purple-walrus-42. The water meter is in the front "
        "garden under a small lid.\n")
    m = Memory(Settings(home=root / "home"))
    m.ingest([notes], recursive=True)
    return m


def test_the_exact_phrase_is_in_the_hybrid_top_3(home):
    q = "secret codeword newcomer"
    assert home.search(q, mode="bm25", k=1)[0].uri.endswith("vault.md")
    assert any(h.uri.endswith("vault.md") for h in home.search(q, k=3))


def test_without_protection_fusion_buries_it(home):
    q = "secret codeword newcomer"
    home.settings.search.outlier_z = 0
    try:
        assert not any(h.uri.endswith("vault.md") for h in home.search(q, k=3))
    finally:
        home.settings.search.outlier_z = 4.0
