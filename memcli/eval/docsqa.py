"""docsqa: questions a user asks about their own documentation, scored by the set's scorer.

The corpus (Markdown manuals) goes through the normal `mem ingest` path into a work home;
every question goes through `mem ask` (each answer mode, with the default search and after
each reranker). The prediction for a question is the ranked list of files search returned
and the answer text; the dataset's own ``tools/score.py`` decides what is right, so the
numbers are the ones its README defines (hit@3, answers right, abstentions right).
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from memcli.config import Settings
from memcli.errors import ConfigError
from memcli.eval.metrics import dedupe
from memcli.eval.runner import EvalProgress, eval_workdir, rerankers_for


def load_scorer(root: Path):
    """The dataset's scorer module (standard library only, shipped beside the questions)."""
    path = root / "tools" / "score.py"
    if not path.is_file():
        raise ConfigError(f"{root} has no tools/score.py", hint="point at the docsqa directory (README.md, corpus/, questions.jsonl)")
    spec = importlib.util.spec_from_file_location("docsqa_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_questions(root: Path) -> list[dict]:
    path = root / "questions.jsonl"
    if not path.is_file() or not (root / "corpus").is_dir():
        raise ConfigError(f"{root} is not a docsqa directory (needs questions.jsonl and corpus/)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def prediction(qid: str, hits, ans) -> dict:
    files = dedupe([h.uri for h in hits])
    return {"id": qid, "sources": files, "answer": "" if ans.abstained else ans.answer,
            "abstained": bool(ans.abstained)}


# Answer variants an eval can compare (`--variants`): settings each one changes.
VARIANTS = {
    "reader": {"pick": "reader"},  # the trained reader (memcli/answer/reader.py) and its refusal
    "reader-coverage": {"pick": "reader", "refuse_uncovered": False},  # the reader's threshold alone
    "hand+refusal": {"pick": "hand", "refuse_uncovered": True},  # what shipped before the reader
    "hand": {"pick": "hand", "refuse_uncovered": False},  # the hand-set weights, no refusal by coverage
    "default": {},  # what `mem ask` does (llm.pick, llm.refuse_uncovered as configured)
}


def docsqa_eval(*, root: Path, settings: Settings, answers: Sequence[str] = ("extractive",),
                modes: Sequence[str] = (), limit: int | None = None, workdir: Path | None = None,
                k: int = 3, embedder=None, generator=None, variants: Sequence[str] = ("default",),
                on_progress: Callable[[EvalProgress], None] | None = None) -> dict:
    from memcli.memory import Memory

    progress = on_progress or (lambda p: None)
    scorer = load_scorer(root)
    questions = load_questions(root)[:limit]
    with eval_workdir(workdir, "mem-eval-docsqa-") as work:
        s = settings.model_copy(update={"home": work / "home"})
        mem = Memory(s, embedder=embedder, generator=generator)
        t0 = time.perf_counter()
        report = mem.ingest([root / "corpus"], recursive=True, globs=["*.md"],
                            on_progress=lambda p: progress(EvalProgress("ingest", p.files_done, p.files_total)))
        ingest_s = time.perf_counter() - t0
        rerankers = rerankers_for(modes, s, generator)
        mems = {v: mem if not VARIANTS[v] else Memory(
            s.model_copy(update={"llm": s.llm.model_copy(update=VARIANTS[v])}), embedder=mem._embedder,
            generator=generator) for v in variants}
        runs = [(how, None, v) for how in answers for v in variants] + [
            (how, rr, "default") for how in answers for rr in rerankers.values()]
        preds: dict[str, list[dict]] = {}
        seconds: dict[str, float] = {}
        per_query = []
        for i, q in enumerate(questions):
            entry = {"id": q["id"], "question": q["question"], "answerable": q["answerable"], "runs": {}}
            for how, rr, v in runs:
                label = how + (f"+{rr.name}" if rr else "") + (f"/{v}" if v != "default" else "")
                t = time.perf_counter()
                hits = mem.search(q["question"], k=10, reranker=rr)
                ans = mems[v].ask(q["question"], answer=how, reranker=rr)
                seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - t
                p = prediction(q["id"], hits, ans)
                preds.setdefault(label, []).append(p)
                entry["runs"][label] = {"answer": p["answer"], "abstained": p["abstained"], "refusal": ans.refusal,
                                        "evidence": ans.evidence, "sources": p["sources"][:k]}
            per_query.append(entry)
            progress(EvalProgress("questions", i + 1, len(questions)))
        rows = []
        for label, ps in preds.items():
            results, _ = scorer.score(questions, ps, k)
            summ = scorer.summarize(results)
            for r, entry in zip(results, per_query):
                entry["runs"][label].update(correct=r["correct"], reason=r["reason"],
                                            retrieval_hit=r["retrieval_hit"])
            rows.append({"name": f"answer/{label}", "seconds": round(seconds[label], 3), "metrics": {
                f"hit@{k}": summ["retrieval_hit_at_k"]["correct"],
                "answers_right": summ["answer_accuracy"]["correct"],
                "abstentions_right": summ["abstention_accuracy"]["correct"],
                "false_abstentions": summ["false_abstentions"],
                "overall_right": summ["overall_accuracy"]["correct"]},
                "of": {"answerable": summ["answer_accuracy"]["n"], "unanswerable": summ["abstention_accuracy"]["n"],
                       "questions": summ["questions"]}})
        return {"benchmark": "docsqa", "dataset": root.name, "queries": len(questions), "rows": rows,
                "per_query": per_query,
                "ingest": {"files": len(report.results),
                           "units": mem._lance.count_units(), "seconds": round(ingest_s, 3)}}
