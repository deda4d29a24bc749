"""Retrievers over a Memory for the agent frameworks people already use: LangChain
(``memcli.adapters.langchain``, extra ``memcli[langchain]``) and LlamaIndex
(``memcli.adapters.llamaindex``, extra ``memcli[llamaindex]``). Each result carries the
hit's provenance, the same fields as `mem search --json`."""

from __future__ import annotations

PROVENANCE = ("unit_id", "uri", "title", "section", "line_start", "line_end", "source_id", "event_time", "speaker",
              "trust", "score", "rank")


def provenance(hit) -> dict:
    """A hit's metadata for a framework's document or node (no text: that is the content)."""
    d = hit.to_dict()
    return {k: d[k] for k in PROVENANCE if d.get(k) is not None}
