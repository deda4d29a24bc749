"""A deterministic generated corpus of Markdown notes for benchmarks."""

from __future__ import annotations

import random
from pathlib import Path

WORDS = (
    "garden hive queen honey frame brood varroa swarm compost tomato basil soil water "
    "greenhouse seedling harvest winter spring summer autumn frost mulch bed carrot bean "
    "pollen nectar colony inspection mentor club meeting invoice budget recipe sauce jar "
    "weather storm rain sunny week morning evening neighbour friend apple tree fence path "
    "notes plan check remember ordered built planted watered treated counted measured"
).split()


def sentence(rng: random.Random) -> str:
    n = rng.randint(8, 20)
    s = " ".join(rng.choice(WORDS) for _ in range(n))
    return s[0].upper() + s[1:] + "."


def make_corpus(root: Path, files: int = 200, sections: int = 10, seed: int = 7) -> Path:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        parts = [f"# Note {f}\n"]
        for s in range(sections):
            paras = [" ".join(sentence(rng) for _ in range(rng.randint(3, 6))) for _ in range(rng.randint(2, 3))]
            parts.append(f"## Topic {s}\n\n" + "\n\n".join(paras) + "\n")
        (root / f"note-{f:04d}.md").write_text("\n".join(parts))
    return root


def scratch(prefix: str):
    """A temporary directory for one benchmark run, removed afterwards."""
    import tempfile

    return tempfile.TemporaryDirectory(prefix=prefix)
