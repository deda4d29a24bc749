"""Draw the 100 units hand-labelled for entity quality (bench/entity_gold.jsonl).

25 LoCoMo turns, 25 HotpotQA and 25 MuSiQue passages (their first two sentences) and 25
paragraphs of the Obsidian help vault (a real notes folder, fetched: obsidian-help at the
commit in bench/reader_manifest.json). Deterministic (seed 7), so the gold file lines up.

    python bench/entity_sample.py ../shared/data /path/to/obsidian-help > /tmp/sample.jsonl
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

_SENT = re.compile(r"(?<=[.!?])\s+")


def _short(text: str, sentences: int = 2) -> str:
    return " ".join(_SENT.split(text.strip())[:sentences])


def draw(data: Path, vault: Path, per: int = 25, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    out: list[dict] = []
    turns = []
    for conv in json.loads((data / "locomo" / "locomo_dev.json").read_text()):
        c = conv["conversation"]
        for k, v in c.items():
            if k.startswith("session_") and isinstance(v, list):
                turns += [t["text"] for t in v if len(t["text"].split()) >= 12]
    out += [{"set": "locomo", "text": t} for t in rng.sample(turns, per)]
    for name in ("hotpotqa", "musique"):
        rows = [json.loads(x) for x in (data / "multihop" / name / "corpus.jsonl").open()]
        out += [{"set": name, "text": _short(r["text"])} for r in rng.sample(rows, per)]
    paras = []
    for f in sorted(vault.rglob("*.md")):
        body = re.sub(r"(?s)^---.*?\n---\n", "", f.read_text(encoding="utf-8", errors="replace"))
        body = re.sub(r"(?s)```.*?```", "", body)
        for p in re.split(r"\n\s*\n", body):
            p = p.strip()
            if len(p.split()) >= 12 and not p.startswith(("#", "|", "!", "<", ">")):
                paras.append(_short(p, 3))
    out += [{"set": "obsidian-help", "text": t} for t in rng.sample(paras, per)]
    return out


if __name__ == "__main__":
    for i, row in enumerate(draw(Path(sys.argv[1]), Path(sys.argv[2]))):
        print(json.dumps({"i": i, **row}, ensure_ascii=False))
