"""A LangChain retriever over a Memory: ``MemcliRetriever(memory=mem, k=4).invoke(question)``
returns ``langchain_core`` Documents whose metadata is the hit's provenance."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from memcli.adapters import provenance


class MemcliRetriever(BaseRetriever):
    """Hybrid search of a memcli memory (BM25 + dense, reranked as configured)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    memory: Any
    k: int = 4
    mode: str | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.memory.search(query, k=self.k, mode=self.mode)
        return [Document(page_content=h.text, metadata=provenance(h), id=h.unit_id) for h in hits]
