"""Calibrate `llm.min_similarity`, the abstention floor of `mem ask`, and check it held-out.

`mem ask` abstains when the best retrieved unit's dense cosine is below the floor. Here the
score is taken exactly as `mem ask` takes it (max dense score over `mem search`'s top k), on
memory homes built by `mem eval --workdir`:

- answerable: each home's own questions (LoCoMo categories 1-4; multi-hop questions);
- off-topic: questions from the *other* domain (multi-hop questions against a chat memory,
  LoCoMo questions against a Wikipedia memory) — "memory does not hold this";
- adversarial: LoCoMo category 5 (reported only: they name things that are in memory).

Leave-one-home-out: the floor is fitted on the other homes (maximising balanced accuracy
between answerable and off-topic) and scored on the held-out one. The floor to ship is the
one fitted on all homes.

    python bench/abstention.py LOCOMO_WORKDIR LOCOMO_JSON MULTIHOP_DIR:WORKDIR ... [--answer]

``--answer`` scores what `mem ask` now compares with the floor: the larger of the top unit's
dense cosine and the best extractive sentence's cosine.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np


def top_dense(mem, questions: list[str], k: int) -> np.ndarray:
    out = []
    for q in questions:
        hits = mem.search(q, k=k)
        out.append(max((h.scores.get("dense", 0.0) for h in hits), default=0.0))
    return np.asarray(out)


def answer_score(mem, questions: list[str], k: int) -> np.ndarray:
    """What `mem ask` now compares with the floor: the larger of the best unit's dense cosine
    and the best extractive sentence's cosine (a short question can be far from every whole
    unit and close to the one sentence that answers it)."""
    from memcli.ingest.segment import estimate_tokens
    from memcli.answer.context import build_context
    from memcli.answer.pick import best_sentence

    out = []
    for q in questions:
        hits = mem.search(q, k=k)
        top = max((h.scores.get("dense", 0.0) for h in hits), default=0.0)
        best = best_sentence(q, build_context(hits, budget=mem.settings.llm.context_tokens,
                                              count_tokens=estimate_tokens), mem._embedder.embed) if hits else None
        out.append(max(top, (best.signals or {}).get("similarity", 0.0) if best else 0.0))
    return np.asarray(out)


def fit(pos: np.ndarray, neg: np.ndarray) -> float:
    """The floor maximising balanced accuracy (keep answerable, abstain on off-topic)."""
    cands = np.unique(np.concatenate([pos, neg]))
    best, floor = -1.0, 0.0
    for c in cands:
        acc = 0.5 * ((pos >= c).mean() + (neg < c).mean())
        if acc > best:
            best, floor = acc, float(c)
    return floor


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    return float(((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()))


def main() -> None:
    from memcli.config import Settings
    from memcli.embed.st import SentenceTransformerEmbedder
    from memcli.memory import Memory

    flags = {a for a in sys.argv[1:] if a.startswith("--")}
    loc_work, loc_json, *multi = [a for a in sys.argv[1:] if not a.startswith("--")]
    emb = SentenceTransformerEmbedder()
    k = Settings().llm.k
    convs = json.loads(Path(loc_json).read_text())
    multi_sets = []
    for spec in multi:
        data_dir, work = spec.split(":")
        qs = [json.loads(x)["question"] for x in (Path(data_dir) / "queries.jsonl").read_text().splitlines() if x.strip()]
        multi_sets.append((Path(data_dir).name, Path(work) / "home", qs))
    all_multi_q = [q for _, _, qs in multi_sets for q in qs]
    all_loc_q = [str(q["question"]) for c in convs for q in c["qa"] if str(q.get("category")) != "5"]
    homes = []
    for c in convs:
        sid = str(c["sample_id"])
        home = Path(loc_work) / re.sub(r"[^\w.-]", "_", sid) / "home"
        ans = [str(q["question"]) for q in c["qa"] if str(q.get("category")) in "1234"]
        adv = [str(q["question"]) for q in c["qa"] if str(q.get("category")) == "5"]
        homes.append((sid, home, ans, all_multi_q[:150], adv))
    for name, home, qs, in multi_sets:
        homes.append((name, home, qs, all_loc_q[::7][:150], []))
    score = answer_score if "--answer" in flags else top_dense
    print(f"score: {'max(top dense, best sentence)' if score is answer_score else 'top dense'}")
    scores = {}
    for name, home, ans, off, adv in homes:
        mem = Memory(Settings(home=home), embedder=emb)
        scores[name] = (score(mem, ans, k), score(mem, off, k), score(mem, adv, k))
        print(f"{name:18s} answerable {np.median(scores[name][0]):.3f}  off-topic {np.median(scores[name][1]):.3f}"
              f"  adversarial {np.median(scores[name][2]) if len(adv) else float('nan'):.3f}  (median top dense)")
    rows = []
    for name in scores:
        pos = np.concatenate([scores[n][0] for n in scores if n != name])
        neg = np.concatenate([scores[n][1] for n in scores if n != name])
        f = fit(pos, neg)
        p, n, a = scores[name]
        rows.append((name, f, (p < f).mean(), (n < f).mean(), (a < f).mean() if len(a) else float("nan"), auc(p, n)))
    print("\nleave-one-home-out: floor fitted on the others, scored here")
    print(f"{'held out':18s} {'floor':>6s} {'false abst.':>11s} {'off-topic abst.':>15s} {'cat-5 abst.':>11s} {'AUC':>6s}")
    for name, f, fa, oa, ca, u in rows:
        print(f"{name:18s} {f:6.3f} {fa:11.3f} {oa:15.3f} {ca:11.3f} {u:6.3f}")
    m = np.mean([r[2:5] for r in rows if r[4] == r[4]], axis=0)
    print(f"mean (LoCoMo homes): false abstention {m[0]:.3f}, off-topic abstention {m[1]:.3f}, cat-5 abstention {m[2]:.3f}")
    pos = np.concatenate([v[0] for v in scores.values()])
    neg = np.concatenate([v[1] for v in scores.values()])
    print(f"\nfloor fitted on all homes: {fit(pos, neg):.3f}  (AUC {auc(pos, neg):.3f})")


if __name__ == "__main__":
    main()
