"""Ingest time vs bare embedding time, measured in one run.

Ingests a generated corpus (>= 2,000 units) with the real MiniLM embedder the product uses
(``make_embedder``: the checked ONNX export, else torch), then encodes the very same unit
texts with that embedder's bare ``embed``. Prints the ratio (target <= 1.15). Model load time
is excluded from both sides and printed separately.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _corpus import make_corpus  # noqa: E402


def main() -> None:
    from memcli.config import Settings
    from memcli.embed import make_embedder
    from memcli.ingest.segment import index_text
    from memcli.memory import Memory

    files = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp:
        corpus = make_corpus(Path(tmp) / "corpus", files=files)
        t = time.perf_counter()
        e = Settings().embed
        emb = make_embedder(e.model, batch_size=e.batch_size)
        load_s = time.perf_counter() - t
        emb.embed(["warm up the model"] * 8)

        mem = Memory(Settings(home=Path(tmp) / "home"), embedder=emb)
        t = time.perf_counter()
        rep = mem.ingest([corpus])
        ingest_s = time.perf_counter() - t

        rows = [u for s in mem.sources() for u in mem._lance.units_of(s.source_id)]
        texts = [index_text(r["title"], r["section"], r["text"]) for r in rows]
        t = time.perf_counter()
        emb.embed(texts)
        encode_s = time.perf_counter() - t

    n = rep.units_written
    print(f"files={files} units={n} embedder={type(emb).__name__} model_load={load_s:.2f}s")
    print(f"ingest={ingest_s:.2f}s ({n / ingest_s:.0f} units/s)  bare_encode={encode_s:.2f}s ({n / encode_s:.0f} units/s)")
    print(f"ingest/encode ratio = {ingest_s / encode_s:.3f}  (target <= 1.15)")


if __name__ == "__main__":
    main()
