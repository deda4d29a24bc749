"""Do a vault's [[links]] help retrieval? The club vault (tests/fixtures/vault-club, written by
tests/fixtures/make_vault.py: 28 notes), ingested with the graph twice — ``graph.links`` on and
off — and its 16 questions, whose answer sits in the note *linked from* the note the question
describes (two hops). hit@1 / hit@3 of the gold note per mode, real MiniLM, one run.

    python bench/vault_links.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VAULT = ROOT / "tests" / "fixtures" / "vault-club"
QUESTIONS = [(q["question"], q["gold"]) for q in json.loads((VAULT / "questions.json").read_text())]


def main() -> None:
    from memcli.config import load_settings
    from memcli.memory import Memory

    work = Path(tempfile.mkdtemp(prefix="mem-vault-"))
    rows = {}
    try:
        for links in (False, True):
            home = work / f"links-{links}"
            mem = Memory(load_settings({"home": str(home), "graph.enabled": True, "graph.links": links}))
            mem.ingest([VAULT], recursive=True)
            for mode, hops in (("hybrid", None), ("graph", 1), ("graph", 2)):
                hit = [0, 0, 0]
                for q, gold in QUESTIONS:
                    names = [h.uri.rsplit("/", 1)[1] for h in mem.search(q, k=5, mode=mode, hops=hops)]
                    for i, k in enumerate((1, 3, 5)):
                        hit[i] += gold in names[:k]
                rows[(f"{mode} hops {hops or 1}", links)] = tuple(hit)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = len(QUESTIONS)
    print(f"{n} two-hop questions over the club vault: hit@1 / @3 / @5 of the note that answers")
    for mode in sorted({m for m, _ in rows}):
        off, on = rows[(mode, False)], rows[(mode, True)]
        print(f"  {mode:<16} links off {' / '.join(map(str, off))}   links on {' / '.join(map(str, on))}   (of {n})")


if __name__ == "__main__":
    main()
