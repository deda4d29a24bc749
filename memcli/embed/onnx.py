"""The light encoder: the same MiniLM exported once to ONNX, run by onnxruntime + tokenizers.

Why: importing torch and sentence-transformers costs seconds (7 s on a busy 2-core box)
for a query that encodes in milliseconds. The export happens once per model per user
(the first time torch is loaded for it, e.g. by an ingest) into the user cache dir, and is
kept only if it reproduces the torch vectors (cosine >= ``MIN_COSINE`` on a fixed test set),
so vectors already stored stay valid and a home can mix both encoders freely.

An int8-quantised variant is a *different* vector space (its own fingerprint name); it is
only used when asked for (``embed.backend: onnx-int8``), see docs/benchmarks.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from memcli.embed.base import BATCH_SIZE
from memcli.embed.windows import WindowedEncoder

MIN_COSINE = 0.999
FORMAT = 1
INPUTS = ("input_ids", "attention_mask", "token_type_ids")

# Fixed check set: prose, questions, code, numbers, unicode, a text long enough for windows.
CHECK_TEXTS = [
    "", "hello", "What prize did the honey win at the county show?",
    "Plant the tomatoes in May after the last frost. Water them deeply twice a week.",
    "uv pip install --system -r requirements.txt", "httpx.Client(timeout=5.0, follow_redirects=True)",
    "def add(a: int, b: int) -> int:\n    return a + b", "Meeting on 2023-05-07 at 10:30, room 4B.",
    "Caroline: I went to the LGBTQ support group yesterday and it was so powerful.",
    "Él comió paella en València — très bon, ça va? 東京で会いましょう。",
    "   leading and trailing spaces   ", "A" * 40, "Varroa mites: four per day on the sticky board.",
    " ".join(f"Sentence {i} talks about the bees, the hive and the colony's health in spring." for i in range(60)),
]


def cache_root() -> Path:
    """``$MEM_ONNX_CACHE``, else the XDG cache dir: shared by every home and eval run of one user."""
    env = os.environ.get("MEM_ONNX_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "memcli" / "onnx"


def _model_key(name: str, path: Path) -> str:
    """Identifies the weights: a changed model directory gets a fresh export."""
    h = hashlib.sha256(f"{FORMAT}|{name}|{path.resolve()}".encode())
    for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")) + [path / "tokenizer.json"]:
        if f.exists():
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def export_dir(name: str, model_path: Path, root: Path | None = None) -> Path:
    return (root or cache_root()) / f"{Path(name).name}-{_model_key(name, model_path)}"


class OnnxEmbedder(WindowedEncoder):
    """Same interface and, for fp32, the same vectors as ``SentenceTransformerEmbedder``."""

    def __init__(self, directory: Path, *, variant: str = "fp32", batch_size: int = BATCH_SIZE,
                 threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((directory / "meta.json").read_text())
        self.meta = meta
        self.name = meta["name"] if variant == "fp32" else f"{meta['name']}+{variant}"
        self.dim = int(meta["dim"])
        self.max_tokens = int(meta["max_tokens"])
        self.abstain_floor = float(meta["abstain_floor"])
        self.batch_size = batch_size
        self.variant = variant
        self._count = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._count.no_truncation()
        self._count.no_padding()
        self._tok = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._tok.enable_truncation(self.max_tokens + 2)
        self._tok.no_padding()
        so = ort.SessionOptions()
        if threads:
            so.intra_op_num_threads = threads
        so.log_severity_level = 3
        # Its threads otherwise spin for a while after each run, taking both cores from the
        # numpy span head that reads right after the shortlist is embedded (20 -> 45 ms);
        # embedding 240 texts takes the same 2.3 s either way.
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._sess = ort.InferenceSession(str(directory / f"model.{variant}.onnx"), so,
                                          providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._sess.get_inputs()]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._count.encode_batch(list(texts), add_special_tokens=False)]

    def _offsets(self, text: str) -> list[tuple[int, int]]:
        return list(self._count.encode(text, add_special_tokens=False).offsets)

    def _forward(self, encs) -> np.ndarray:
        n = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), n), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for i, e in enumerate(encs):
            ids[i, :len(e.ids)] = e.ids
            mask[i, :len(e.ids)] = 1
            types[i, :len(e.ids)] = e.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self._sess.run(None, {k: feeds[k] for k in self._inputs})[0]
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / m.sum(axis=1).clip(min=1e-9)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(min=1e-12)

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Longest first, in batches of about ``batch_size`` full-length texts' tokens: the
        batch's own longest text sets how many rows it takes. A batch sized by the average
        length put 32–64 of the longest texts in one pass, and the runtime's arena kept the
        ~1 GB their attention needed for the rest of the process (measured: 1.29 GB peak
        at 32 texts a batch, 0.55 GB at 8, and no slower)."""
        # sentence-transformers strips inputs; batches of similar length pad little.
        encs = self._tok.encode_batch([t.strip() for t in texts])
        order = np.argsort([-len(e.ids) for e in encs], kind="stable")
        budget = self.batch_size * (self.max_tokens + 2)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        s = 0
        while s < len(order):
            rows = int(min(512, max(1, budget // max(1, len(encs[order[s]].ids)))))
            idx = order[s:s + rows]
            out[idx] = self._forward([encs[i] for i in idx])
            s += rows
        return out


def exported(name: str, model_path: Path, root: Path | None = None) -> bool:
    """An export of these weights was made (kept or refused): nothing to do again."""
    return (export_dir(name, model_path, root) / "meta.json").is_file()


def usable(name: str, model_path: Path, *, variant: str = "fp32", root: Path | None = None) -> bool:
    """A checked export of these weights exists (``load`` would return it)."""
    try:
        meta = json.loads((export_dir(name, model_path, root) / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    return variant in meta.get("variants", {}) and not (
        variant == "fp32" and meta["variants"]["fp32"]["min_cosine"] < MIN_COSINE)


def load(name: str, model_path: Path, *, variant: str = "fp32", batch_size: int = BATCH_SIZE,
         root: Path | None = None) -> OnnxEmbedder | None:
    """The exported encoder if a checked export exists for these weights, else None."""
    if not usable(name, model_path, variant=variant, root=root):
        return None
    return OnnxEmbedder(export_dir(name, model_path, root), variant=variant, batch_size=batch_size)


def export(st, model_path: Path, *, variants: Sequence[str] = ("fp32",), root: Path | None = None) -> dict:
    """Export ``st`` (a loaded SentenceTransformerEmbedder) and check it against torch.

    Returns the meta written next to the model. An fp32 export below MIN_COSINE stays with
    its verdict (``load`` refuses it) so that it is not tried again on every ingest.
    """
    import torch

    d = export_dir(st.name, model_path, root)
    d.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=d.parent))
    try:
        t0 = time.perf_counter()
        shutil.copyfile(model_path / "tokenizer.json", tmp / "tokenizer.json")
        hf = st._model[0].auto_model.eval()

        class _Hidden(torch.nn.Module):
            def __init__(self, m) -> None:
                super().__init__()
                self.m = m

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.m(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

        enc = st._tok(["a first example", "and a second, longer example text"], padding=True, return_tensors="pt")
        dyn = {k: {0: "batch", 1: "seq"} for k in (*INPUTS, "last_hidden_state")}
        import warnings

        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(_Hidden(hf), tuple(enc[k] for k in INPUTS), str(tmp / "model.fp32.onnx"),
                              input_names=list(INPUTS), output_names=["last_hidden_state"],
                              dynamic_axes=dyn, opset_version=17, dynamo=False)
        if "int8" in variants:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(tmp / "model.fp32.onnx"), str(tmp / "model.int8.onnx"), weight_type=QuantType.QInt8)
        meta = {"format": FORMAT, "name": st.name, "dim": st.dim, "max_tokens": st.max_tokens,
                "abstain_floor": st.abstain_floor, "source": str(model_path), "variants": {}}
        (tmp / "meta.json").write_text(json.dumps(meta))
        ref = st.embed(CHECK_TEXTS)
        for v in ("fp32", *[x for x in variants if x != "fp32"]):
            got = OnnxEmbedder(tmp, variant=v).embed(CHECK_TEXTS)
            meta["variants"][v] = {"min_cosine": float(np.min(np.sum(ref * got, axis=1)))}
        meta["seconds"] = round(time.perf_counter() - t0, 2)
        (tmp / "meta.json").write_text(json.dumps(meta))
        if d.exists():
            shutil.rmtree(d, ignore_errors=True)
        os.replace(tmp, d)
        return meta
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
