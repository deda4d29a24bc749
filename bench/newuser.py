"""A collection nobody trained or tuned on, asked as a new user would: the hand pick vs the reader.

    python bench/newuser.py DOCS_DIR bench/newuser/click_questions.jsonl [--home DIR]

DOCS_DIR is a documentation folder fetched for the purpose (here: pallets/click's docs/ at
2c8cd3ac958a7eb316d67f2d316c27086c4c0369, never in the reader's training data); the
questions were written after reading it, four of them about things it does not say. An
answer is right when it contains one of the question's key strings and is at most 400
characters (docsqa's rule); an unanswerable question is right only when refused.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from memcli.config import Settings  # noqa: E402
from memcli.memory import Memory  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("docs", type=Path)
    ap.add_argument("questions", type=Path)
    ap.add_argument("--home", type=Path, default=ROOT / "bench" / "out" / "newuser" / "home")
    ap.add_argument("--picks", default="hand,reader")
    a = ap.parse_args()
    qs = [json.loads(x) for x in a.questions.read_text().splitlines() if x.strip()]
    base = Settings(home=a.home)
    mem = Memory(base)
    mem.ingest([a.docs], recursive=True, globs=["*.md"])
    table = {}
    for pick in a.picks.split(","):
        m = Memory(base.model_copy(update={"llm": base.llm.model_copy(update={"pick": pick})}), embedder=mem._embedder)
        right = refused_right = false_ref = 0
        t = time.perf_counter()
        rows = []
        for q in qs:
            ans = m.ask(q["question"])
            text = "" if ans.abstained else ans.answer
            ok = (ans.abstained if not q["answerable"] else
                  (not ans.abstained and len(text) <= 400 and any(k.lower() in text.lower() for k in q["must_contain_any"])))
            right += ok and q["answerable"]
            refused_right += ok and not q["answerable"]
            false_ref += q["answerable"] and ans.abstained
            rows.append({"id": q["id"], "ok": bool(ok), "answer": text[:160], "refusal": ans.refusal})
        n_ans = sum(q["answerable"] for q in qs)
        table[pick] = {"answers_right": f"{right}/{n_ans}", "refused_right": f"{refused_right}/{len(qs) - n_ans}",
                       "false_refusals": false_ref, "right": f"{right + refused_right}/{len(qs)}",
                       "seconds_per_question": round((time.perf_counter() - t) / len(qs), 3), "rows": rows}
        print(json.dumps({pick: {k: v for k, v in table[pick].items() if k != "rows"}}), flush=True)
    out = a.home.parent / "results.json"
    out.write_text(json.dumps(table, indent=2))
    print(f"per question: {out}")


if __name__ == "__main__":
    main()
