"""A sentence-transformers BERT (MiniLM) in numpy: a question's vector with nothing to import
but numpy and tokenizers — what a cold `mem search` waits for.

onnxruntime costs a cold process ~0.25 s before the first query (import, session build);
one short question through six small layers is a few milliseconds of numpy. Weights are
memory-mapped straight from the model's ``model.safetensors`` (8-byte header length, a
JSON header of dtype/shape/offsets, raw little-endian arrays), so opening them reads only
the header. Only the plain recipe is taken — ``BertModel``, absolute positions, GELU, mean
pooling, normalisation — anything else returns None from ``load`` and the ONNX/torch
encoder is used. Its vectors equal torch's to float rounding
(tests/retrieve/test_light_encoder.py), and it names the same vector space.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from memcli.embed.windows import WindowedEncoder
from memcli.malloc import roomy

_SQRT_HALF = math.sqrt(0.5)
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
_POOL = {"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False,
         "pooling_mode_mean_sqrt_len_tokens": False}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """name → read-only array view of the file (no copy; pages load as they are touched)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = raw[8 + n + a:8 + n + b].view(_DTYPES[t["dtype"]]).reshape(t["shape"])
    return out


def _supported(path: Path) -> bool:
    try:
        cfg = json.loads((path / "config.json").read_text())
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((path / "modules.json").read_text())]
        pool = json.loads((path / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return (cfg.get("model_type") == "bert" and cfg.get("hidden_act") == "gelu"
            and cfg.get("position_embedding_type", "absolute") == "absolute"
            and modules == ["Transformer", "Pooling", "Normalize"]
            and all(pool.get(k, False) == v for k, v in _POOL.items())
            and (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file())


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7: below float32's resolution of GELU)."""
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-a * a)
    return s * y


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU, exact (erf) form: what BERT's "gelu" is."""
    return 0.5 * x * (1.0 + _erf(x * _SQRT_HALF))


def dense_weights(w: dict[str, np.ndarray], layers: int) -> dict[str, np.ndarray]:
    """The tensors of the lower ``layers`` layers (and the embeddings), float32, dense weights
    as (in, out): every product is one 2-D GEMM. A float32 file's weights stay views of the
    memory-mapped file — the transpose is BLAS's flag, not a copy — so opening MiniLM takes
    40 ms instead of 95–130 ms (the copy of 90 MB), with the same vectors and warm speed."""
    keep = {k: v for k, v in w.items() if not k.startswith("encoder.layer.") or int(k.split(".")[2]) < layers}
    return {k: (np.asarray(v, dtype=np.float32).T if k.endswith(".weight") and v.ndim == 2
                and "embeddings" not in k else np.asarray(v, dtype=np.float32)) for k, v in keep.items()}


class PackedBert:
    """BERT's layers over several sequences at once without padding: the dense layers (nearly
    all the time) run on every sequence's tokens as one matrix, attention within each
    sequence, so short texts beside a long one cost only their own tokens. Subclasses set
    ``w`` (from dense_weights), ``layers``, ``heads``, ``dim`` and ``eps``."""

    w: dict[str, np.ndarray]
    layers: int
    heads: int
    dim: int
    eps: float

    def act(self, x: np.ndarray) -> np.ndarray:
        return gelu(x)

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _attention(self, q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Softmax attention of one sequence's (n, dim) states, split into heads."""
        n, (h, d) = len(q), (self.heads, self.dim // self.heads)
        q, k, v = (t.reshape(n, h, d).transpose(1, 0, 2) for t in (q, k, v))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(d)  # a Python float keeps float32 (NEP 50)
        s = np.exp(s - s.max(-1, keepdims=True))
        return ((s / s.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(n, self.dim)

    def packed(self, seqs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[np.ndarray]:
        """Token states (n_i, dim) of each (ids, segment ids) sequence."""
        with roomy():  # a few MB per temporary, dozens per layer: keep the heap (memcli.malloc)
            return self._packed(seqs)

    def _packed(self, seqs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[np.ndarray]:
        w = self.w
        bounds = np.cumsum([0] + [len(i) for i, _ in seqs])
        spans = list(zip(bounds[:-1], bounds[1:]))
        ids = np.concatenate([np.asarray(i, np.int64) for i, _ in seqs])
        types = np.concatenate([np.asarray(t, np.int64) for _, t in seqs])
        positions = np.concatenate([np.arange(len(i)) for i, _ in seqs])
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions]
             + w["embeddings.token_type_embeddings.weight"][types]).astype(np.float32)
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            q, k, v = (self._dense(x, f"{p}.attention.self.{m}") for m in ("query", "key", "value"))
            ctx = np.concatenate([self._attention(q[a:b], k[a:b], v[a:b]) for a, b in spans])
            a = self._dense(ctx, f"{p}.attention.output.dense")
            x = layer_norm(x + a, w[f"{p}.attention.output.LayerNorm.weight"], w[f"{p}.attention.output.LayerNorm.bias"], self.eps)
            o = self._dense(self.act(self._dense(x, f"{p}.intermediate.dense")), f"{p}.output.dense")
            x = layer_norm(x + o, w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"], self.eps)
        return [x[a:b] for a, b in spans]


class NumpyBertEncoder(PackedBert, WindowedEncoder):
    """Same interface and vectors as the torch and ONNX encoders; meant for a few texts."""

    # Tokens a pass: enough to keep the products efficient, few enough to keep memory small.
    pass_tokens = 2048

    def __init__(self, path: Path, name: str, abstain_floor: float) -> None:
        from tokenizers import Tokenizer

        cfg = json.loads((path / "config.json").read_text())
        st_cfg = json.loads((path / "sentence_bert_config.json").read_text()) if (path / "sentence_bert_config.json").is_file() else {}
        self.name = name
        self.dim = int(cfg["hidden_size"])
        self.heads = int(cfg["num_attention_heads"])
        self.layers = int(cfg["num_hidden_layers"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.max_tokens = int(st_cfg.get("max_seq_length", 256)) - 2  # without [CLS] and [SEP], as st.py
        self.abstain_floor = abstain_floor
        w = read_safetensors(path / "model.safetensors")
        self.w = dense_weights({k.removeprefix("bert."): v for k, v in w.items()}, self.layers)
        self._tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tok.enable_truncation(self.max_tokens + 2)
        self._tok.no_padding()
        self._count = None

    def _counter(self):
        if self._count is None:
            from tokenizers import Tokenizer

            self._count = Tokenizer.from_str(self._tok.to_str())
            self._count.no_truncation()
            self._count.no_padding()
        return self._count

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._counter().encode_batch(list(texts), add_special_tokens=False)] if texts else []

    def _offsets(self, text: str) -> list[tuple[int, int]]:
        return list(self._counter().encode(text, add_special_tokens=False).offsets)

    def _encode(self, texts: list[str]) -> np.ndarray:
        # sentence-transformers strips inputs; packed sequences need no padding or mask.
        encs = self._tok.encode_batch([t.strip() for t in texts])
        out = np.zeros((len(encs), self.dim), np.float32)
        start = 0
        while start < len(encs):
            end, n = start, 0
            while end < len(encs) and (end == start or n + len(encs[end].ids) <= self.pass_tokens):
                n += len(encs[end].ids)
                end += 1
            for i, x in enumerate(self.packed([(e.ids, e.type_ids) for e in encs[start:end]]), start):
                pooled = x.mean(0)
                out[i] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
            start = end
        return out


def load(model: str) -> NumpyBertEncoder | None:
    """The numpy encoder of ``model`` (a packaged name or a local directory), or None when
    its recipe is not the plain one this file implements."""
    from memcli.embed.base import UNCALIBRATED_FLOOR
    from memcli.embed.st import CALIBRATED_FLOORS, display_name, resolve_model

    try:
        path = resolve_model(model)
    except Exception:
        return None
    if not _supported(path):
        return None
    name = display_name(model, path)
    return NumpyBertEncoder(path, name, CALIBRATED_FLOORS.get(name.lower(), UNCALIBRATED_FLOOR))
