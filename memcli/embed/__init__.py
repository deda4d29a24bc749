"""Embedders turn text into unit-length vectors. Real one: sentence-transformers; fake for tests."""

from memcli.embed.base import Embedder, fingerprint

__all__ = ["Embedder", "fingerprint", "make_embedder"]


def make_embedder(model: str, *, batch_size: int = 32, device: str = "cpu") -> Embedder:
    """Build the configured embedder. ``fake:<dim>`` gives the deterministic test embedder."""
    if model.startswith("fake"):
        from memcli.embed.fake import FakeEmbedder

        dim = int(model.split(":", 1)[1]) if ":" in model else 64
        return FakeEmbedder(dim=dim)
    from memcli.embed.st import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model, batch_size=batch_size, device=device)
