"""Bulk embedding on Ray Data actors (`mem ingest --ray`, extra ``memcli[scale]``).

Only the embedding is distributed: this process still discovers, reads and segments the
files, and writes every unit through the same Catalog path as a plain ingest (pending ->
Tantivy -> committed, under the journal), so an interrupted bulk ingest is recovered like any
other and its units are the same units (same ids; the same vectors, computed by the same
model in the actors). Each actor loads the model once per chunk and embeds batches of texts;
chunks are large (``chunk_units``) so that start-up is paid rarely.
"""

from __future__ import annotations

import os

import numpy as np

from memcli.embed.base import BATCH_SIZE
from memcli.errors import ConfigError


class _EmbedActor:
    """One model per actor; ``__call__`` embeds one Ray Data batch."""

    def __init__(self, model: str, batch_size: int, backend: str, threads: int) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        try:
            import torch

            torch.set_num_threads(threads)
        except ImportError:
            pass
        from memcli.embed import make_embedder

        self.embedder = make_embedder(model, batch_size=batch_size, backend=backend)

    def __call__(self, batch: dict) -> dict:
        vecs = self.embedder.embed(list(batch["text"]))
        return {"row": batch["row"], "vector": np.asarray(vecs, dtype=np.float32)}


class RayEncoder:
    """texts -> vectors on a Ray cluster (``address``), or on a local Ray started here."""

    def __init__(self, model: str, *, batch_size: int = BATCH_SIZE, backend: str = "auto", address: str | None = None,
                 workers: int | None = None, chunk_units: int = 20_000, threads_per_worker: int = 1) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("`mem ingest --ray` needs Ray", hint="pip install 'memcli[scale]'") from None
        self.ray = ray
        self.model, self.batch_size, self.backend = model, batch_size, backend
        self.chunk_units = chunk_units
        self.threads = threads_per_worker
        if not ray.is_initialized():
            if address:
                ray.init(address=address, log_to_driver=False, logging_level="ERROR")
            else:
                ray.init(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False, log_to_driver=False,
                         logging_level="ERROR")
        self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)) // threads_per_worker)
        from ray.data import DataContext

        ctx = DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.verbose_progress = False
        import logging

        for name in ("ray", "ray.data"):  # mem prints its own progress; Ray's INFO lines are noise here
            logging.getLogger(name).setLevel(logging.ERROR)

    def __call__(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        import warnings

        ds = self.ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)])
        with warnings.catch_warnings():  # max_restarts=0 (no retry of a model load) is a deprecated spelling in 2.60
            warnings.simplefilter("ignore")
            out = self._map(ds)
        rows, vecs = [], []
        for b in out.iter_batches(batch_format="numpy", batch_size=None):
            rows.append(b["row"])
            vecs.append(b["vector"])
        order = np.concatenate(rows)
        result = np.empty((len(texts), vecs[0].shape[1]), dtype=np.float32)
        result[order] = np.concatenate(vecs)
        return result

    def _map(self, ds):
        return ds.map_batches(_EmbedActor, fn_constructor_kwargs={"model": self.model, "batch_size": self.batch_size,
                                                                  "backend": self.backend, "threads": self.threads},
                              batch_size=max(self.batch_size, 64),
                              compute=self.ray.data.ActorPoolStrategy(size=self.workers),
                              num_cpus=self.threads, max_restarts=0, batch_format="numpy")

    def close(self) -> None:
        if self.ray.is_initialized():
            self.ray.shutdown()
