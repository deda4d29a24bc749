"""A LlamaIndex retriever over a Memory: ``MemcliRetriever(memory=mem, k=4).retrieve(question)``
returns ``llama_index.core`` NodeWithScore whose node metadata is the hit's provenance."""

from __future__ import annotations

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from memcli.adapters import provenance


class MemcliRetriever(BaseRetriever):
    """Hybrid search of a memcli memory (BM25 + dense, reranked as configured)."""

    def __init__(self, memory, k: int = 4, mode: str | None = None, **kwargs) -> None:
        self.memory, self.k, self.mode = memory, k, mode
        super().__init__(**kwargs)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.memory.search(query_bundle.query_str, k=self.k, mode=self.mode)
        return [NodeWithScore(node=TextNode(text=h.text, id_=h.unit_id, metadata=provenance(h)), score=h.score)
                for h in hits]
