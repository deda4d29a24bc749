"""The retrievers for LangChain and LlamaIndex, with the real packages (the test install has
the extras; a default install does not, and then these skip with the reason)."""

import pytest


@pytest.fixture
def filled(mem, corpus):
    mem.ingest([corpus], recursive=True)
    return mem


def test_langchain_retriever_returns_documents_with_provenance(filled):
    pytest.importorskip("langchain_core", reason="memcli[langchain] is not installed")
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.runnables import RunnableLambda

    from memcli.adapters.langchain import MemcliRetriever

    r = MemcliRetriever(memory=filled, k=2)
    assert isinstance(r, BaseRetriever)
    docs = r.invoke("grilled sardines in Lisbon")
    assert len(docs) == 2 and "sardines" in docs[0].page_content
    meta = docs[0].metadata
    assert meta["uri"].endswith("trip.txt") and meta["line_start"] >= 1 and meta["unit_id"] == docs[0].id
    # It composes like any retriever: a chain that cites where each passage came from.
    chain = r | RunnableLambda(lambda ds: [f"{d.metadata['uri'].rsplit('/', 1)[1]}:{d.metadata['line_start']}" for d in ds])
    assert chain.invoke("varroa mites sticky board")[0].startswith("garden.md:")


def test_llamaindex_retriever_returns_scored_nodes_with_provenance(filled):
    pytest.importorskip("llama_index.core", reason="memcli[llamaindex] is not installed")
    import asyncio

    from llama_index.core.retrievers import BaseRetriever

    from memcli.adapters.llamaindex import MemcliRetriever

    r = MemcliRetriever(memory=filled, k=3)
    assert isinstance(r, BaseRetriever)
    nodes = r.retrieve("grilled sardines in Lisbon")
    assert len(nodes) == 3 and nodes[0].score >= nodes[1].score
    best = nodes[0]
    assert "sardines" in best.node.get_content() and best.node.metadata["uri"].endswith("trip.txt")
    assert best.node.node_id == best.node.metadata["unit_id"]
    again = asyncio.run(r.aretrieve("varroa mites sticky board"))
    assert again[0].node.metadata["uri"].endswith("garden.md")
