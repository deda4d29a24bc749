"""Labelled candidates for the reader, made through the product's own path.

    python bench/reader_data.py [--data ../shared/data] [--docs DIR ...] [--out bench/out/reader]

Every question is searched in a memory home holding its corpus; the answer layer cuts the
retrieved excerpts into candidates (memcli.answer.candidates) and each candidate is labelled.
So the negatives are exactly the topical lines that fool a pick: retrieval's neighbours and
the other lines of the answering page.

Families (one JSONL each in --out):
- ``chat``: LoCoMo dev (categories 1-4: a sentence of an evidence turn that says part of the
  answer; category 5, adversarial: every candidate negative, a no-answer example);
- ``encyclopedic``: HotpotQA / 2Wiki / MuSiQue dev (a sentence holding the gold answer; yes/no skipped);
- ``docs``: synthetic questions from public documentation (bench/reader_synth.py; the
  answering sentence; the code block for a command; a quarter of the questions again with
  their own page removed from the candidates: a no-answer example). Pages are split by a
  hash of their path: 15 % are held out of training and reported on;
- ``docsqa``: ../shared/data/docsqa, for evaluation only (never trained on).

Each row also records the hand pick of today's product (memcli.answer.pick.best_sentence)
and the cheap hand score of every candidate (the reader's shortlist), so that
bench/train_reader.py compares the reader with the hand pick on the same candidates.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from memcli.answer.candidates import pool as candidate_pool  # noqa: E402
from memcli.answer.context import build_context  # noqa: E402
from memcli.answer.features import table  # noqa: E402
from memcli.answer.pick import best_sentence  # noqa: E402
from memcli.answer.qtypes import question_type  # noqa: E402
from memcli.answer.ranker import Ranker  # noqa: E402
from memcli.answer.reader import candidate_text, context_text  # noqa: E402
from memcli.config import Settings  # noqa: E402
from memcli.memory import Memory  # noqa: E402
from memcli.text import STOP, estimate_tokens  # noqa: E402

_NORM = re.compile(r"[^a-z0-9]+")
HAND = Ranker.hand()


def norm(text: str) -> str:
    return " " + _NORM.sub(" ", text.lower()).strip() + " "


def held_out_page(page: str) -> bool:
    return int(hashlib.sha1(page.encode()).hexdigest(), 16) % 100 < 15


def row(mem: Memory, question: str, label, *, family: str, answerable: bool = True, drop_uri: str | None = None,
        **extra) -> dict | None:
    hits = mem.search(question, k=mem.settings.llm.k)
    if drop_uri:
        hits = [h for h in hits if not h.uri.endswith(drop_uri)]
    excerpts = build_context(hits, budget=mem.settings.llm.context_tokens, count_tokens=estimate_tokens)
    cands = candidate_pool(question, excerpts)
    if not cands:
        return None
    top = max((e.score for e in excerpts), default=0.0) or 1.0
    X, names = table(question, question_type(question), cands, None, top)
    cheap = HAND.cheap.score(X, names)
    picked = best_sentence(question, excerpts, mem._embedder.embed, HAND)
    hand = next((i for i, c in enumerate(cands) if picked is not None and c.text == picked.ranked[0].cand.text), -1) \
        if picked is not None and picked.ranked else -1
    return {"q": question, "family": family, "answerable": answerable, "hand": hand, **extra,
            "cands": [{"t": candidate_text(c), "x": context_text(c), "y": int(bool(answerable and label(c))),
                       "cheap": round(float(s), 4), "kind": c.kind, "uri": c.excerpt.first.uri}
                      for c, s in zip(cands, cheap)]}


def docsqa(data: Path, work: Path, settings: Settings) -> list[dict]:
    root = data / "docsqa"
    mem = Memory(settings.model_copy(update={"home": work / "docsqa"}))
    mem.ingest([root / "corpus"], recursive=True, globs=["*.md"])
    out = []
    for line in (root / "questions.jsonl").read_text().splitlines():
        q = json.loads(line)
        keys = [k.lower() for k in q["must_contain_any"] + [q["answer"]] + q["answer_aliases"] if k]
        out.append(row(mem, q["question"], lambda c: any(k in c.text.lower() for k in keys), family="docsqa",
                       answerable=bool(q["answerable"]), id=q["id"]))
    return [r for r in out if r]


def locomo(data: Path, work: Path, settings: Settings, per_conv: int) -> list[dict]:
    from memcli.eval.locomo import ANSWERABLE, evidence_ids, load_locomo, spaced

    out = []
    for ci, conv in enumerate(load_locomo(data / "locomo" / "locomo_dev.json")):
        sid = str(conv.get("sample_id") or f"conversation-{ci + 1}")
        cdir = work / "locomo" / re.sub(r"[^\w.-]", "_", sid)
        cdir.mkdir(parents=True, exist_ok=True)
        f = cdir / "conversation.json"
        body = json.dumps([{"sample_id": sid, "conversation": conv["conversation"]}], ensure_ascii=False)
        if not f.exists() or f.read_text(encoding="utf-8") != body:
            f.write_text(body, encoding="utf-8")
        mem = Memory(settings.model_copy(update={"home": cdir / "home"}))
        mem.ingest([f])
        turns = {str(t["dia_id"]): norm(t.get("text", "")) for k, v in conv["conversation"].items()
                 if re.fullmatch(r"session_\d+", k) and isinstance(v, list) for t in v if isinstance(t, dict)}
        qs = [q for q in conv.get("qa", []) if str(q.get("category")) in ANSWERABLE | {"5"}]
        for q in spaced(qs, per_conv):
            cat = str(q.get("category"))
            if cat == "5":
                out.append(row(mem, q["question"], lambda c: False, family="chat", answerable=False, conv=sid, cat=cat))
                continue
            gold = [turns[i] for i in evidence_ids(q.get("evidence", [])) if i in turns]
            if not gold:
                continue
            said = {w for w in norm(str(q.get("answer", ""))).split() if len(w) > 2 and w not in STOP}
            out.append(row(mem, q["question"], lambda c, gold=gold, said=said: c.kind == "turn" and len(norm(c.text)) > 3
                           and any(norm(c.text) in g for g in gold)
                           and (not said or bool(said & set(norm(c.text).split()))),
                           family="chat", conv=sid, cat=cat, answer=str(q.get("answer", ""))))
    return [r for r in out if r]


def multihop(data: Path, work: Path, settings: Settings, name: str) -> list[dict]:
    from memcli.eval.datasets import load_multihop
    from memcli.eval.runner import write_corpus

    root = data / "multihop" / name
    passages, _ = load_multihop(root)
    write_corpus(passages, work / name / "corpus")
    mem = Memory(settings.model_copy(update={"home": work / name / "home"}))
    mem.ingest([work / name / "corpus"])
    out = []
    for r in [json.loads(x) for x in (root / "queries.jsonl").read_text().splitlines() if x.strip()]:
        golds = [norm(a) for a in [r["answer"]] + (r.get("answer_aliases") or []) if a]
        if any(g.strip() in ("yes", "no") for g in golds):
            continue
        out.append(row(mem, r["question"], lambda c, golds=golds: any(g in norm(c.text) for g in golds),
                       family="encyclopedic", set=name, answer=r["answer"]))
    return [r for r in out if r]


def squad(path: Path, work: Path, settings: Settings, limit: int, seed: int = 0) -> list[dict]:
    """SQuAD 2.0 (the official dev file, as mirrored in chrischute/squad's data/dev-v2.0.json):
    crowd-written questions about Wikipedia paragraphs. Each paragraph is a note under its
    article's title; the answering sentence holds an answer span and comes from the question's
    own paragraph; the unanswerable questions (written to look answerable from that paragraph)
    bring only negatives."""
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    corpus = work / "squad" / "corpus"
    qs = []
    for art in data:
        slug = re.sub(r"[^\w.-]", "_", art["title"])
        for pi, para in enumerate(art["paragraphs"]):
            f = corpus / slug / f"p{pi:03d}.md"
            if not f.exists():
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_text(f"# {art['title'].replace('_', ' ')}\n\n{para['context']}\n", encoding="utf-8")
            qs += [(q, f"{slug}/p{pi:03d}.md") for q in para["qas"]]
    mem = Memory(settings.model_copy(update={"home": work / "squad" / "home"}))
    mem.ingest([corpus], recursive=True, globs=["*.md"])
    rng = random.Random(seed)
    rng.shuffle(qs)
    out = []
    for q, page in qs[:limit]:
        golds = [norm(a["text"]) for a in q.get("answers", []) if a.get("text")]
        impossible = bool(q.get("is_impossible")) or not golds
        label = (lambda c: False) if impossible else \
            (lambda c, golds=golds, page=page: c.excerpt.first.uri.endswith(page) and any(g in norm(c.text) for g in golds))
        out.append(row(mem, q["question"], label, family="encyclopedic", answerable=not impossible, set="squad",
                       page=page, answer=(q.get("answers") or [{}])[0].get("text", "")))
    return [r for r in out if r]


def synthetic(docs: list[Path], work: Path, settings: Settings, seed: int = 0) -> list[dict]:
    from reader_synth import generate

    pairs = generate(docs, seed=seed)
    mem = Memory(settings.model_copy(update={"home": work / "docs"}))
    mem.ingest(docs, recursive=True, globs=["*.md", "*.rst"])
    rng = random.Random(seed)
    out = []
    for p in pairs:
        key = norm(p["answer"]).split()[:10]
        key_s = " " + " ".join(key) + " "

        def label(c, key_s=key_s, code=p["code"]):
            return key_s in norm(c.text) and (c.kind == "code" or not code)

        split = "heldout" if held_out_page(p["page"]) else "train"
        out.append(row(mem, p["question"], label, family="docs", page=p["page"], template=p["template"], split=split))
        if rng.random() < 0.25:
            out.append(row(mem, p["question"], label, family="docs", answerable=False, drop_uri=p["page"],
                           page=p["page"], template=p["template"], split=split))
    return [r for r in out if r]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--docs", type=Path, nargs="*", default=[])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "reader")
    ap.add_argument("--per-conv", type=int, default=400)
    ap.add_argument("--squad", type=Path, default=None,
                    help="SQuAD 2.0 dev-v2.0.json (chrischute/squad data/); its questions join the encyclopedic family")
    ap.add_argument("--squad-questions", type=int, default=2400)
    ap.add_argument("--only", nargs="*", default=["docsqa", "chat", "encyclopedic", "docs"])
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    work = a.out / "homes"
    jobs = {"docsqa": lambda: docsqa(a.data, work, settings),
            "chat": lambda: locomo(a.data, work, settings, a.per_conv),
            "encyclopedic": lambda: [r for n in ("hotpotqa", "2wikimultihopqa", "musique")
                                     for r in multihop(a.data, work, settings, n)],
            "squad": lambda: squad(a.squad, work, settings, a.squad_questions) if a.squad else [],
            "docs": lambda: synthetic(a.docs, work, settings)}
    for name in a.only:
        t = time.time()
        rows = jobs[name]()
        with open(a.out / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        pos = sum(any(c["y"] for c in r["cands"]) for r in rows)
        print(f"{name}: {len(rows)} questions ({pos} with an answering candidate), "
              f"{sum(len(r['cands']) for r in rows)} candidates, {time.time() - t:.0f} s", flush=True)


if __name__ == "__main__":
    main()
