"""The rule extractor, normalisation, and PPR against igraph's own."""

import numpy as np
import pytest

from memcli.graph.extract import RELATION_COOCCUR, RELATION_MENTIONS, RuleExtractor, capitalised_spans, normalise, parse_extraction


def test_capitalised_spans_keep_names_and_drop_sentence_openers():
    assert capitalised_spans("The Bank of America sued Ana and Ben in New York City.") == [
        "Bank of America", "Ana", "Ben", "New York City"]
    assert capitalised_spans("When did Lothair II's mother die?") == ["Lothair II's"]
    assert capitalised_spans("she said yes.") == []


def test_normalise_folds_case_articles_and_possessives():
    assert normalise("  The  Beatles ") == "beatles"
    assert normalise("Lothair II's") == "lothair ii"
    assert normalise("Ana") == normalise("ANA")


def test_rule_extraction_relates_names_within_a_sentence_and_to_the_title():
    ex = RuleExtractor().extract("Ana met Ben in Lisbon. Later Carla arrived.", "Holiday")
    assert set(ex.entities) == {"Holiday", "Ana", "Ben", "Lisbon", "Carla"}
    co = {(a, b) for a, r, b in ex.triples if r == RELATION_COOCCUR}
    assert ("Ana", "Ben") in co and ("Ben", "Lisbon") in co
    assert not any("Carla" in pair for pair in co)  # another sentence
    assert ("Holiday", RELATION_MENTIONS, "Carla") in ex.triples


def test_llm_output_parsing_counts_unusable_replies():
    ok = parse_extraction('{"entities": ["Ana"], "triples": [["Ana", "adopted", "Pixel"]]}')
    assert ok.ok and ok.entities == ["Ana", "Pixel"] and ok.triples == [("Ana", "adopted", "Pixel")]
    assert not parse_extraction('{"entities": [], "triples": []}').ok
    assert not parse_extraction("not json").ok


def test_power_iteration_ppr_matches_igraph_prpack():
    ig = pytest.importorskip("igraph")
    from memcli.graph.graph import MemGraph
    from memcli.graph.ppr import personalized_pagerank

    g = ig.Graph.Erdos_Renyi(n=200, m=500)
    g.add_vertices(2)  # isolated (dangling) nodes
    g.es["weight"] = list(np.random.default_rng(0).uniform(0.5, 2.0, g.ecount()))
    mg = MemGraph(g, [], [], [], np.zeros((0, 4)), np.ones(0), {})
    reset = np.zeros(g.vcount())
    reset[[3, 7, 200]] = [0.6, 0.3, 0.1]
    ours = personalized_pagerank(mg, reset, 0.5)
    ref = g.personalized_pagerank(directed=False, damping=0.5, reset=list(reset), weights="weight")
    assert np.allclose(ours, ref, atol=1e-9)


def test_query_linking_prefers_names_over_common_words():
    ig = pytest.importorskip("igraph")
    from memcli.graph.graph import MemGraph
    from memcli.graph.ppr import GraphRanker

    ids = ["film", "north carolina", "north", "leland", "demon"]
    g = ig.Graph(n=len(ids))
    mg = MemGraph(g, ids, [i.title() for i in ids], [], np.zeros((len(ids), 4)), np.ones(len(ids)), {})
    r = GraphRanker(mg)
    got = {ids[i] for i in r.query_entities("Who directed the film shot in Leland, North Carolina?")}
    assert got == {"leland", "north carolina"}  # not "film" (lower case), not "north" (inside a name)
    assert {ids[i] for i in r.query_entities("which film was shot in leland")} == {"film", "leland"}  # all lower case


def test_a_phrase_the_question_writes_in_lower_case_is_not_a_name():
    # One passage capitalised "Tornado Outbreak"; a question writing "tornado outbreak" means
    # the common noun, and seeding the walk with that passage's entity pulls it to the top.
    ig = pytest.importorskip("igraph")
    from memcli.graph.graph import MemGraph
    from memcli.graph.ppr import GraphRanker

    ids = ["tornado outbreak", "south dakota"]
    mg = MemGraph(ig.Graph(n=2), ids, ["Tornado Outbreak", "South Dakota"], [], np.zeros((2, 4)), np.ones(2), {})
    r = GraphRanker(mg)
    assert r.query_entities("Which state did the Late-May tornado outbreak hit first?") == {}
    assert {ids[i] for i in r.query_entities("Which Tornado Outbreak hit South Dakota?")} == set(ids)
