"""Does query likelihood from a bundled GGUF pick better answer sentences? What does it cost?

    python bench/query_likelihood.py [--data ../shared/data] [--workdir bench/out/pick] [--models smollm2,gemma3-270m]

On docsqa (answerable questions; the same home bench/train_pick.py builds) the extractive
pipeline's shortlist (the cheap ranker's best per question) is scored by each model:
log P(question | sentence), mean per token. Printed per model: top-1 of the learned pick,
of query likelihood alone, and of the learned score plus query likelihood (z-scored within
the question, weight 1), with the seconds per question it adds (warm model, this machine).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from memcli.answer.candidates import split_question  # noqa: E402
from memcli.answer.context import build_context  # noqa: E402
from memcli.answer.pick import score_candidates  # noqa: E402
from memcli.config import Settings  # noqa: E402
from memcli.llm.likelihood import QueryLikelihood  # noqa: E402
from memcli.llm.models import resolve_gguf  # noqa: E402
from memcli.memory import Memory  # noqa: E402
from memcli.text import estimate_tokens  # noqa: E402


def z(v: np.ndarray) -> np.ndarray:
    return (v - v.mean()) / (v.std() + 1e-6)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out" / "pick")
    ap.add_argument("--models", default="smollm2,gemma3-270m")
    ap.add_argument("--shortlist", type=int, default=8)
    args = ap.parse_args()
    root = args.data / "docsqa"
    mem = Memory(Settings(home=str(args.workdir / "docsqa")))
    mem.ingest([root / "corpus"], recursive=True, globs=["*.md"])
    rows = []
    for line in (root / "questions.jsonl").read_text().splitlines():
        q = json.loads(line)
        if not q["answerable"]:
            continue
        keys = [k.lower() for k in q["must_contain_any"] + [q["answer"]] + q["answer_aliases"] if k]
        hits = mem.search(q["question"], k=mem.settings.llm.k)
        excerpts = build_context(hits, budget=mem.settings.llm.context_tokens, count_tokens=estimate_tokens)
        ranked = score_candidates(q["question"], excerpts, mem._embedder.embed, split_question(q["question"])[:1])
        short = ranked[0][:args.shortlist] if ranked else []
        if short:
            rows.append((q["question"], [r.cand.text for r in short], np.array([r.score for r in short]),
                         np.array([any(k in r.cand.text.lower() for k in keys) for r in short])))
    answerable = [r for r in rows if r[3].any()]
    print(f"docsqa: {len(rows)} answerable questions with candidates, {len(answerable)} with an answering one "
          f"in the shortlist of {args.shortlist}")
    learned = sum(bool(y[int(np.argmax(s))]) for _, _, s, y in answerable)
    print(f"learned pick top-1: {learned}/{len(answerable)}")
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        t = time.perf_counter()
        ql = QueryLikelihood(resolve_gguf(name))
        load = time.perf_counter() - t
        alone = both = 0
        spent = 0.0
        for question, texts, s, y in answerable:
            t = time.perf_counter()
            lik = np.array(ql.score(question, texts))
            spent += time.perf_counter() - t
            alone += bool(y[int(np.argmax(lik))])
            both += bool(y[int(np.argmax(z(s) + z(lik)))])
        print(f"{name}: load {load:.2f} s; QL alone {alone}/{len(answerable)}, learned + QL {both}/{len(answerable)}; "
              f"{spent / len(answerable):.2f} s per question for {args.shortlist} sentences")


if __name__ == "__main__":
    main()
