"""Shared fixtures: an isolated memory home with the fake embedder, and small corpora."""

from __future__ import annotations

from pathlib import Path

import pytest

from memcli.config import Settings
from memcli.embed.fake import FakeEmbedder
from memcli.memory import Memory

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "recipes" / "sample"
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory) -> Path:
    """One ONNX export per test session, never the developer's cache."""
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch, onnx_cache):
    """No test reads the developer's config, home or caches, or touches the network."""
    cfg = tmp_path_factory.mktemp("cfg")
    for k in list(__import__("os").environ):
        if k.startswith("MEM_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("MEM_CONFIG", str(cfg / "config.yaml"))
    monkeypatch.setenv("MEM_HOME", str(cfg / "default-home"))
    monkeypatch.setenv("MEM_ONNX_CACHE", str(onnx_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # A suite run from a terminal hands its tty to child processes: none may start a server
    # by itself (tests/server/test_autostart.py turns this on where it is the subject).
    monkeypatch.setenv("MEM_SERVE__AUTOSTART", "false")


@pytest.fixture
def settings(tmp_path) -> Settings:
    # Graph extraction is on here (off by default in the product) so every store test,
    # crash recovery included, also exercises the graph tables.
    return Settings(home=tmp_path / "home", embed={"model": "fake:64"},
                    ingest={"lock_timeout_s": 0.2, "batch_units": 8}, graph={"enabled": True})


@pytest.fixture
def mem(settings) -> Memory:
    return Memory(settings, embedder=FakeEmbedder(dim=64))


GARDEN = """# Garden notes

## Tomatoes

Plant the tomatoes in May after the last frost. Water them deeply twice a week so the
fruit does not split. San Marzano is the variety for sauce.

## Bees

The hive was inspected on Sunday. The queen is laying well and the colony is calm.
Varroa mites were counted on the sticky board: four per day.
"""

TRIP = """Trip to Lisbon

We flew to Lisbon on 3 March and stayed in Alfama near the castle.
The best meal was grilled sardines at a small tasca on the hill.

On the last day we took the tram 28 to Estrela and walked back along the river.
"""

CODE = '''"""Hive scale logger."""

import time


def read_weight(sensor):
    """Average ten readings."""
    return sum(sensor.get() for _ in range(10)) / 10


class Alarm:
    def trigger(self):
        print("swarm!")
'''


@pytest.fixture
def corpus(tmp_path) -> Path:
    d = tmp_path / "corpus"
    (d / "sub").mkdir(parents=True)
    (d / "garden.md").write_text(GARDEN)
    (d / "trip.txt").write_text(TRIP)
    (d / "sub" / "scale.py").write_text(CODE)
    return d


@pytest.fixture
def child_env(tmp_path) -> dict:
    """The environment of a `python -m memcli …` child process: tmp home, fake models."""
    import os

    e = {k: v for k, v in os.environ.items() if not k.startswith("MEM_")}
    e.update({"MEM_HOME": str(tmp_path / "home"), "MEM_CONFIG": str(tmp_path / "config.yaml"),
              "MEM_ONNX_CACHE": os.environ["MEM_ONNX_CACHE"],
              "MEM_EMBED__MODEL": "fake:64", "MEM_LLM__MODEL": "fake", "HF_HUB_OFFLINE": "1",
              "MEM_SERVE__AUTOSTART": "false"})
    return e


@pytest.fixture
def fake_cli(tmp_path, monkeypatch):
    """`mem` commands against a tmp home with the fake embedder and the fake LLM."""
    home = tmp_path / "cli-home"
    monkeypatch.setenv("MEM_HOME", str(home))
    monkeypatch.setenv("MEM_EMBED__MODEL", "fake:64")
    monkeypatch.setenv("MEM_LLM__MODEL", "fake")
    return home
