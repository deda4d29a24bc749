"""Fit the extractive answer's ranker (memcli/answer/pick.json) on labelled dev data.

    python bench/train_pick.py [--data ../shared/data] [--workdir bench/out/pick] [--write]

Every question goes through the product's own path — ingest into a home, `Memory.search`,
context assembly, candidates, the feature table — and each candidate gets a label:

- docsqa (Markdown manuals): the sentence holds one of the question's key tokens;
- LoCoMo (conversations, categories 1-4): the sentence is part of an evidence turn;
- multi-hop (HotpotQA, 2Wiki, MuSiQue): the sentence holds the gold answer (yes/no skipped).

The model is a conditional logit — a softmax over one question's candidates, fitted by
gradient descent with L2 — so it learns which candidate of a question answers, not how
often sentences answer. Two models: ``cheap`` on every candidate (no similarity; it picks the
shortlist the encoder sees) and ``full`` on the cheap model's shortlist with similarity.

It prints the cross-set table first (train on the other groups, test on the held-out one:
top-1 accuracy among questions whose candidates hold an answer, learned vs hand weights),
then fits on all groups and, with --write, ships the weights.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from memcli.answer.candidates import pool as candidate_pool  # noqa: E402
from memcli.answer.context import build_context  # noqa: E402
from memcli.answer.features import CHEAP, FULL, table  # noqa: E402
from memcli.answer.policy import HAND as HAND_POLICY  # noqa: E402

SIM_TOP = HAND_POLICY.shortlist
from memcli.answer.qtypes import question_type  # noqa: E402
from memcli.answer.ranker import MODEL_FILE, Linear, Ranker  # noqa: E402
from memcli.config import Settings  # noqa: E402
from memcli.memory import Memory  # noqa: E402
from memcli.text import STOP, estimate_tokens  # noqa: E402

_NORM = re.compile(r"[^a-z0-9]+")
# The cached feature tables are rebuilt when this changes (columns, labels or candidates).
FEATURES_VERSION = [list(CHEAP), list(FULL), "labels-2"]


def norm(text: str) -> str:
    return " " + _NORM.sub(" ", text.lower()).strip() + " "


# -- data: (question, labels-per-candidate) through the product's own path ------------------
def featurize(mem: Memory, question: str, label) -> dict | None:
    hits = mem.search(question, k=mem.settings.llm.k)
    excerpts = build_context(hits, budget=mem.settings.llm.context_tokens, count_tokens=estimate_tokens)
    cands = candidate_pool(question, excerpts)
    if not cands:
        return None
    y = np.array([bool(label(c)) for c in cands], dtype=bool)
    top = max((e.score for e in excerpts), default=0.0) or 1.0
    qt = question_type(question)
    Xc, _ = table(question, qt, cands, None, top)
    vecs = mem.embedder.embed([question] + [c.text for c in cands])
    sims = vecs[1:] @ vecs[0]
    Xf, _ = table(question, qt, cands, sims, top)
    return {"q": question, "y": y.tolist(), "cheap": Xc.tolist(), "full": Xf.tolist(), "texts": [c.text for c in cands]}


def docsqa(data: Path, work: Path, settings: Settings) -> list[dict]:
    root = data / "docsqa"
    mem = Memory(settings.model_copy(update={"home": work / "docsqa"}))
    mem.ingest([root / "corpus"], recursive=True, globs=["*.md"])
    out = []
    for line in (root / "questions.jsonl").read_text().splitlines():
        q = json.loads(line)
        if not q["answerable"]:
            continue
        keys = [k.lower() for k in q["must_contain_any"] + [q["answer"]] + q["answer_aliases"] if k]
        out.append(featurize(mem, q["question"], lambda c: any(k in c.text.lower() for k in keys)))
    return [r for r in out if r]


def locomo(data: Path, work: Path, settings: Settings, per_conv: int | None) -> list[dict]:
    from memcli.eval.locomo import ANSWERABLE, evidence_ids, load_locomo, spaced

    out = []
    for ci, conv in enumerate(load_locomo(data / "locomo" / "locomo_dev.json")):
        sid = str(conv.get("sample_id") or f"conversation-{ci + 1}")
        cdir = work / "locomo" / re.sub(r"[^\w.-]", "_", sid)
        cdir.mkdir(parents=True, exist_ok=True)
        f = cdir / "conversation.json"
        body = json.dumps([{"sample_id": sid, "conversation": conv["conversation"]}], ensure_ascii=False)
        if not f.exists() or f.read_text(encoding="utf-8") != body:
            f.write_text(body, encoding="utf-8")  # the layout `mem eval locomo --workdir` uses
        mem = Memory(settings.model_copy(update={"home": cdir / "home"}))
        mem.ingest([f])
        turns = {str(t["dia_id"]): norm(t.get("text", "")) for k, v in conv["conversation"].items()
                 if re.fullmatch(r"session_\d+", k) and isinstance(v, list) for t in v if isinstance(t, dict)}
        for q in spaced([q for q in conv.get("qa", []) if str(q.get("category")) in ANSWERABLE], per_conv):
            gold = [turns[i] for i in evidence_ids(q.get("evidence", [])) if i in turns]
            if not gold:
                continue
            # The sentence of an evidence turn that says (part of) the answer, not its "Thanks, Mel!".
            said = {w for w in norm(str(q.get("answer", ""))).split() if len(w) > 2 and w not in STOP}
            out.append(featurize(mem, q["question"], lambda c: c.kind == "turn" and len(norm(c.text)) > 3
                                 and any(norm(c.text) in g for g in gold)
                                 and (not said or bool(said & set(norm(c.text).split())))))
    return [r for r in out if r]


def multihop(data: Path, work: Path, settings: Settings, name: str, limit: int | None) -> list[dict]:
    from memcli.eval.datasets import load_multihop
    from memcli.eval.runner import write_corpus

    root = data / "multihop" / name
    passages, _ = load_multihop(root)
    write_corpus(passages, work / name / "corpus")
    mem = Memory(settings.model_copy(update={"home": work / name / "home"}))
    mem.ingest([work / name / "corpus"])
    out = []
    rows = [json.loads(x) for x in (root / "queries.jsonl").read_text().splitlines() if x.strip()][:limit]
    for r in rows:
        golds = [norm(a) for a in [r["answer"]] + (r.get("answer_aliases") or []) if a]
        if any(g.strip() in ("yes", "no") for g in golds):
            continue
        out.append(featurize(mem, r["question"], lambda c: any(g in norm(c.text) for g in golds)))
    return [r for r in out if r]


# -- the model ------------------------------------------------------------------------------
def fit(groups: list[tuple[np.ndarray, np.ndarray, float]], names: tuple[str, ...], l2: float = 0.01,
        steps: int = 400, lr: float = 0.3) -> Linear:
    """Conditional logit: maximise log Σ_{answering} softmax(score) per question, each
    question weighted (so that every data set counts the same, whatever its size)."""
    groups = [(X, y, wt) for X, y, wt in groups if y.any() and len(y) > 1]
    allX = np.concatenate([X for X, _, _ in groups])
    mean, scale = allX.mean(0), allX.std(0)
    bias = names.index("bias")
    mean[bias], scale[bias] = 0.0, 1.0
    scale[scale < 1e-6] = 1.0
    Z = [((X - mean) / scale, y, wt) for X, y, wt in groups]
    total = sum(wt for _, _, wt in Z)
    w = np.zeros(len(names))
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        g = l2 * w
        for X, y, wt in Z:
            s = X @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            q = p * y
            q /= q.sum()
            g += wt * (X.T @ (p - q)) / total
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    w[bias] = 0.0  # a constant changes no pick
    return Linear(names, w.astype(np.float32), mean.astype(np.float32), scale.astype(np.float32))


def as_groups(rows: list[dict], key: str) -> list[tuple[np.ndarray, np.ndarray, float]]:
    return [(np.asarray(r[key], np.float32), np.asarray(r["y"], bool), r.get("weight", 1.0)) for r in rows]


def top1(rows: list[dict], ranker: Ranker) -> float:
    """Share of questions (with an answering candidate) whose pick answers: cheap shortlist,
    then the full model on it — as memcli.answer.pick does."""
    right = n = 0
    for r in rows:
        y = np.asarray(r["y"], bool)
        if not y.any():
            continue
        n += 1
        cheap = ranker.cheap.score(np.asarray(r["cheap"], np.float32), CHEAP)
        short = np.argsort(-cheap, kind="stable")[:SIM_TOP]
        full = ranker.full.score(np.asarray(r["full"], np.float32)[short], FULL)
        right += bool(y[short[int(np.argmax(full))]])
    return right / max(n, 1)


def shortlist_rows(rows: list[dict], cheap: Linear) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for r in rows:
        s = cheap.score(np.asarray(r["cheap"], np.float32), CHEAP)
        idx = np.argsort(-s, kind="stable")[:SIM_TOP]
        out.append((np.asarray(r["full"], np.float32)[idx], np.asarray(r["y"], bool)[idx], r.get("weight", 1.0)))
    return out


def balanced(groups: dict[str, list[dict]], names) -> list[dict]:
    """The named groups' questions, each weighted 1 / (its group's size)."""
    return [r | {"weight": 1.0 / len(groups[g])} for g in names for r in groups[g]]


def train(rows: list[dict]) -> Ranker:
    cheap = fit(as_groups(rows, "cheap"), CHEAP)
    full = fit(shortlist_rows(rows, cheap), FULL)
    return Ranker("learned", cheap, full, {})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out" / "pick")
    ap.add_argument("--locomo-per-conversation", type=int, default=None, help="questions per conversation (default: all)")
    ap.add_argument("--multihop-limit", type=int, default=None)
    ap.add_argument("--write", action="store_true", help=f"write the fitted weights to {MODEL_FILE.relative_to(ROOT)}")
    args = ap.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no dev data at {args.data}")
    args.workdir.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=str(args.workdir / "unused"))
    cache = args.workdir / "features.json"
    t0 = time.perf_counter()
    if cache.exists() and json.loads(cache.read_text()).get("version") == FEATURES_VERSION:
        groups = json.loads(cache.read_text())["groups"]
    else:
        groups = {"docsqa": docsqa(args.data, args.workdir, settings),
                  "locomo": locomo(args.data, args.workdir, settings, args.locomo_per_conversation),
                  "multihop": [r for n in ("hotpotqa", "2wikimultihopqa", "musique")
                               for r in multihop(args.data, args.workdir, settings, n, args.multihop_limit)]}
        cache.write_text(json.dumps({"version": FEATURES_VERSION, "groups": groups}))
    print(f"features: {', '.join(f'{g} {len(r)} questions' for g, r in groups.items())} ({time.perf_counter() - t0:.0f} s)")
    hand = Ranker.hand()
    print("\ncross-set top-1 (questions whose candidates hold an answer)")
    print(f"{'held out':10} {'n':>5} {'hand':>7} {'learned':>8}   trained on")
    for held in groups:
        rest = balanced(groups, [g for g in groups if g != held])
        model = train(rest)
        n = sum(1 for r in groups[held] if any(r["y"]))
        print(f"{held:10} {n:5d} {top1(groups[held], hand):7.3f} {top1(groups[held], model):8.3f}   "
              f"{' + '.join(g for g in groups if g != held)}")
    everything = balanced(groups, list(groups))
    model = train(everything)
    print(f"\nall groups, in-sample: hand {top1(everything, hand):.3f}, learned {top1(everything, model):.3f}")
    for lin in (model.cheap, model.full):
        print("  " + ", ".join(f"{n} {w:+.2f}" for n, w in zip(lin.names, lin.weights) if n != "bias"))
    if args.write:
        meta = {"trained": date.today().isoformat(), "command": "python bench/train_pick.py --write",
                "questions": {g: len(r) for g, r in groups.items()}}
        MODEL_FILE.write_text(json.dumps(meta | {"cheap": model.cheap.to_dict(), "full": model.full.to_dict()},
                                         indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
