"""Turn `mem eval --json` outputs into Markdown tables for docs/evaluation.md.

Usage: python bench/eval_report.py RESULT.json [RESULT.json ...]
"""

from __future__ import annotations

import json
import sys


def table(res: dict) -> str:
    answer_rows = [r for r in res["rows"] if r["name"].startswith("answer/")]
    rows = [r for r in res["rows"] if not r["name"].startswith("answer/")]
    keys = list(rows[0]["metrics"])
    best = {k: max(r["metrics"][k] for r in rows) for k in keys}
    out = [f"**{res['benchmark']} · {res['dataset']}** — {res['queries']} queries, "
           f"{res['ingest']['units']} units, ingest {res['ingest']['seconds']:.0f} s", "",
           "| mode | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    for r in rows:
        cells = [f"**{r['metrics'][k]:.3f}**" if r["metrics"][k] == best[k] else f"{r['metrics'][k]:.3f}" for k in keys]
        out.append(f"| {r['name']} | " + " | ".join(cells) + " |")
    if "by_category" in rows[0]:
        key = "evidence_recall@1024tok"
        cats = sorted({c for r in rows for c in r["by_category"]})
        out += ["", f"{key} by category:", "", "| mode | " + " | ".join(f"cat {c}" for c in cats) + " |",
                "|---|" + "---:|" * len(cats)]
        for r in rows:
            out.append(f"| {r['name']} | " + " | ".join(f"{r['by_category'][c][key]:.3f}" for c in cats) + " |")
    if answer_rows:
        akeys = list(answer_rows[0]["metrics"])
        out += ["", "Answers (F1 over categories 1–4; abstention on category 5):", "",
                "| answer | " + " | ".join(akeys) + " | F1 by category 1/2/3/4 |", "|---|" + "---:|" * (len(akeys) + 1)]
        for r in answer_rows:
            cat = " / ".join(f"{r['by_category'][c]['f1']:.3f}" for c in "1234" if c in r["by_category"])
            out.append(f"| {r['name']} | " + " | ".join(f"{r['metrics'][k]:.3f}" for k in akeys) + f" | {cat} |")
    return "\n".join(out)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        with open(path) as f:
            print(table(json.load(f)))
            print()
