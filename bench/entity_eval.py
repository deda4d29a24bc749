"""Entity quality of the graph extractors on 100 hand-labelled units (issue #36).

The units are drawn by bench/entity_sample.py from ../shared/data and the Obsidian help
vault (the texts are not copied here; each gold row keeps a hash of its text). Gold
(bench/entity_gold.jsonl): the named things a person would want as graph nodes — people,
organisations, places, products and software, works, events, named groups, and the notes a
passage links to; not dates, numbers, nationality adjectives or UI labels. Scored as the
product sees a unit: the extractor's entities plus the passage's link targets, matched on
the folded name (`normalise`).

    python bench/entity_eval.py ../shared/data /path/to/obsidian-help [--extractors rules,ner]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from entity_sample import draw  # noqa: E402

from memcli.graph.extract import TYPE_NOTE, make_extractor, normalise  # noqa: E402
from memcli.markup import note_links  # noqa: E402


def predict(extractor, texts: list[str]) -> list[dict[str, str]]:
    out = []
    for text, ex in zip(texts, extractor.extract_many([(t, "") for t in texts])):
        got = {normalise(e): ex.types.get(e, "") for e in ex.entities if normalise(e)}
        for t in note_links(text):
            got.setdefault(normalise(t), TYPE_NOTE)
        out.append(got)
    return out


def score(gold: list[dict[str, str]], pred: list[dict[str, str]]) -> dict:
    tp = sum(len(g.keys() & p.keys()) for g, p in zip(gold, pred))
    n_pred, n_gold = sum(map(len, pred)), sum(map(len, gold))
    typed = [(g[k], p[k]) for g, p in zip(gold, pred) for k in g.keys() & p.keys() if p[k]]
    return {"precision": round(tp / max(n_pred, 1), 3), "recall": round(tp / max(n_gold, 1), 3),
            "predicted": n_pred, "gold": n_gold, "matched": tp,
            "type_accuracy": round(sum(a == b for a, b in typed) / len(typed), 3) if typed else None,
            "typed_matches": len(typed)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("vault", type=Path)
    ap.add_argument("--extractors", default="rules,ner")
    ap.add_argument("--show", action="store_true", help="print each unit's misses and extras")
    a = ap.parse_args()
    gold_rows = [json.loads(x) for x in (Path(__file__).parent / "entity_gold.jsonl").open()]
    sample = draw(a.data, a.vault)
    for g, s in zip(gold_rows, sample):
        if hashlib.sha1(s["text"].encode()).hexdigest()[:12] != g["sha1"]:
            sys.exit(f"unit {g['i']} differs from the labelled one: check the data and vault commits")
    texts = [s["text"] for s in sample]
    gold = [{normalise(n): t for n, t in g["entities"]} for g in gold_rows]
    sets = sorted({g["set"] for g in gold_rows})
    report = {}
    for name in a.extractors.split(","):
        ex = make_extractor(name)
        ex.extract_many([("warm up", "")])
        t0 = time.perf_counter()
        pred = predict(ex, texts)
        secs = time.perf_counter() - t0
        row = {"all": score(gold, pred), "seconds": round(secs, 2)}
        for s in sets:
            idx = [i for i, g in enumerate(gold_rows) if g["set"] == s]
            row[s] = score([gold[i] for i in idx], [pred[i] for i in idx])
        report[name] = row
        if a.show:
            for i, (g, p) in enumerate(zip(gold, pred)):
                miss, extra = sorted(g.keys() - p.keys()), sorted(p.keys() - g.keys())
                if miss or extra:
                    print(f"{name} #{i}: missed {miss} extra {extra}", file=sys.stderr)
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
