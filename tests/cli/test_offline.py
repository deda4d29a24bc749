"""Offline guarantee: ingest, search and ask work with every socket blocked."""

import shutil
import socket

import pytest

from memcli.config import Settings
from memcli.memory import Memory

pytestmark = pytest.mark.models


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*a, **k):
        raise OSError("network access attempted during an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_ingest_search_ask_with_sockets_blocked(tmp_path, no_network):
    from conftest import SAMPLE

    from memcli.embed.st import SentenceTransformerEmbedder

    shutil.copytree(SAMPLE, tmp_path / "sample")
    mem = Memory(Settings(home=tmp_path / "home"), embedder=SentenceTransformerEmbedder())
    rep = mem.ingest([tmp_path / "sample"], recursive=True)
    assert not rep.failed and rep.count("added") >= 20
    assert mem.search("who called about the swarm?", k=3)
    ans = mem.ask("what prize did the honey win?")
    assert not ans.abstained and ans.citations
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return
    gen = mem.ask("what prize did the honey win?", answer="generate")
    assert gen.answer
