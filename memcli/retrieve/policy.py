"""Every number retrieval decides with that is not a user's setting, in one place.

Numbers a person may want to tune are settings (``search.*``: k, weights, fusion, the
reranker, time boost, …). These are the pipeline's own: how many candidates each stage reads
beyond what it returns, so that filters, turns, dropped ids and caps never leave a search
short. Changing one changes what is measured in docs/evaluation.md.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetrievalPolicy:
    # Turns read per wanted hit when a conversation segment scores by its best turn.
    turn_pool: int = 3
    # BM25 hits read per wanted hit under a filter (BM25 cannot filter; most may drop out).
    filtered_bm25_pool: int = 4
    # The best hits whose titles and links the title bridge follows.
    bridge_head: int = 2
    # Units read for the documents a search links to (a long chat log: its first ones).
    bridge_units: int = 256
    # Rows read for the final hits: k plus this (ids the lexical index holds but LanceDB no
    # longer commits drop out), times ``capped_pool`` under a per-source cap.
    rows_extra: int = 10
    capped_pool: int = 3
    # Summary levels a tree search descends at most.
    max_levels: int = 8
    # The graph's weight when graph mode is asked for and graph.weight is 0: half the dense
    # weight's footing, set a priori (not tuned).
    graph_weight_asked: float = 0.5
    # The title bridge: a note's title (or alias) links only when it is this short, and long
    # enough not to be an ordinary word; an alias may be shorter ("Dan"), never a letter pair.
    max_title_words: int = 8
    min_title_chars: int = 4
    min_alias_chars: int = 3
    # The feature reranker: what a query word in a hit's title, and the query's exact phrase,
    # add to the fused score (scaled to the best hit).
    feature_title_weight: float = 0.15
    feature_phrase_weight: float = 0.15
    # The LLM reranker: its judgement's weight against the fused score, and the passage
    # characters it reads.
    llm_rerank_weight: float = 0.5
    llm_rerank_chars: int = 1500


POLICY = RetrievalPolicy()
