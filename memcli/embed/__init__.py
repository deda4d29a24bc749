"""Embedders turn text into unit-length vectors. Real one: sentence-transformers (torch) or
the same model exported to ONNX (no torch import: the light query path); fake for tests."""

from __future__ import annotations

from memcli.embed.base import BATCH_SIZE, Embedder, fingerprint
from memcli.plugins import hookimpl

__all__ = ["Embedder", "fingerprint", "loads_light", "make_embedder", "prepare_light_encoder"]


@hookimpl
def register_embedders(register) -> None:
    """The deterministic test embedder ("fake:64"), through the hook a plugin's embedder uses."""
    def fake(arg: str):
        from memcli.embed.fake import FakeEmbedder

        return FakeEmbedder(dim=int(arg) if arg else 64)
    register("fake", fake)


def make_embedder(model: str, *, batch_size: int = BATCH_SIZE, device: str = "cpu", backend: str = "auto") -> Embedder:
    """Build the configured embedder. ``fake:<dim>`` gives the deterministic test embedder.

    backend auto: the checked ONNX export of the model when one exists (no torch import),
    else torch; onnx / onnx-int8: export first if needed; torch: always torch.
    """
    from memcli.plugins import embedder_factory

    named = embedder_factory(model)  # "fake:64", or a plugin's embedder (register_embedders)
    if named is not None:
        factory, arg = named
        return factory(arg)
    from memcli.embed.st import SentenceTransformerEmbedder, display_name, resolve_model

    if backend != "torch" and device == "cpu":
        from memcli.embed import onnx

        path = resolve_model(model)
        variant = "int8" if backend == "onnx-int8" else "fp32"
        e = onnx.load(display_name(model, path), path, variant=variant, batch_size=batch_size)
        if e is not None:
            return e
        if backend != "auto":
            from memcli.errors import ModelError

            st = SentenceTransformerEmbedder(model, batch_size=batch_size, device=device)
            meta = onnx.export(st, path, variants=("fp32", variant))
            e = onnx.load(st.name, path, variant=variant, batch_size=batch_size)
            if e is None:
                raise ModelError(f"the ONNX export of {model} does not reproduce its torch vectors "
                                 f"(min cosine {meta['variants']['fp32']['min_cosine']:.5f})",
                                 hint="set embed.backend to auto or torch")
            return e
    return SentenceTransformerEmbedder(model, batch_size=batch_size, device=device)


def loads_light(model: str, *, device: str = "cpu", backend: str = "auto") -> bool:
    """Whether ``make_embedder`` would load without torch (the fake, or a checked ONNX export)."""
    if model.startswith("fake"):
        return True
    if backend == "torch" or device != "cpu":
        return False
    from memcli.embed import onnx
    from memcli.embed.st import display_name, resolve_model

    try:
        path = resolve_model(model)
    except Exception:
        return False
    return onnx.usable(display_name(model, path), path, variant="int8" if backend == "onnx-int8" else "fp32")


def prepare_light_encoder(embedder: Embedder) -> dict | None:
    """After torch was loaded anyway (ingest, reindex): export the model to ONNX once, so
    later queries skip the torch import. Returns the export's meta, or None when there was
    nothing to do. Never raises: the torch path keeps working without it."""
    from memcli.embed.st import SentenceTransformerEmbedder

    if not isinstance(embedder, SentenceTransformerEmbedder) or embedder._model.device.type != "cpu":
        return None
    from memcli.embed import onnx

    if onnx.exported(embedder.name, embedder.model_path):
        return None
    try:
        return onnx.export(embedder, embedder.model_path)
    except Exception as e:  # an exporter problem must not fail the ingest that triggered it
        return {"error": f"{type(e).__name__}: {e}"}
