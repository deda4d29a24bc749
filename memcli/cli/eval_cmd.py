"""`mem eval`: retrieval quality on public benchmarks, every mode side by side."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from memcli.cli import render
from memcli.cli.context import memory
from memcli.cli.help import complete_path
from memcli.cli.options import JsonOpt

eval_app = typer.Typer(help="Measure retrieval quality on public benchmarks (modes side by side).",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")

ModesOpt = Annotated[Optional[str], typer.Option("--modes", help="Comma list: bm25,dense,hybrid,hybrid/rrf,hybrid/convex")]
LimitOpt = Annotated[Optional[int], typer.Option("--limit", help="Only the first N queries.", min=1)]
WorkOpt = Annotated[Optional[Path], typer.Option("--workdir", help="Keep the eval home here (reruns skip unchanged passages).")]


ConsolidateOpt = Annotated[bool, typer.Option(
    "--consolidate", help="Run mem consolidate (dedupe, supersede, summarize) after ingest; adds the hybrid/tree row's summaries.")]


def _ks(raw: str) -> list[int]:
    from memcli.errors import ConfigError

    try:
        ks = sorted({int(x) for x in raw.split(",") if x.strip()})
    except ValueError:
        raise ConfigError(f"-k takes comma-separated integers, got {raw!r}") from None
    if not ks or ks[0] < 1:
        raise ConfigError("-k values must be >= 1")
    return ks


def _run(benchmark: str, dataset: str, passages, queries, scorer, depth, modes, workdir, json_,
         consolidate: bool = False, answers: list[str] | None = None):
    from memcli.eval.runner import parse_modes, retrieval_eval

    mem = memory()
    names = parse_modes(modes)
    kw = dict(benchmark=benchmark, dataset=dataset, passages=passages, queries=queries,
              settings=mem.settings, modes=names, score=scorer, depth=depth, workdir=workdir,
              consolidate=consolidate, answers=answers or [])
    if json_ or not sys.stderr.isatty():
        result = retrieval_eval(**kw)
    else:
        result = _with_progress(retrieval_eval, kw)
    _finish(result, workdir, json_)


def _finish(result: dict, workdir: Path | None, json_: bool) -> None:
    """Keep the result before rendering it: a long eval never loses its numbers to the printer."""
    if workdir is not None:
        import json

        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "result.json").write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    if json_:
        render.emit_json(result)
    else:
        render_table(result)
        if workdir is not None:
            render.out.print(f"[dim]result: {workdir / 'result.json'}[/dim]")


def _with_progress(fn, kw):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=render.err) as bar:
        tasks: dict[str, int] = {}

        def on_progress(p) -> None:
            if p.phase not in tasks:
                tasks[p.phase] = bar.add_task(p.phase, total=p.total)
            bar.update(tasks[p.phase], completed=p.done, total=p.total)

        return fn(**kw, on_progress=on_progress)


def render_table(result: dict) -> None:
    from rich.table import Table

    # Answer rows are "answer/…", or "segment/answer/…" when several granularities ran.
    rows = [r for r in result["rows"] if "answer/" not in r["name"]]
    answer_rows = [r for r in result["rows"] if "answer/" in r["name"]]
    keys = list(rows[0]["metrics"]) if rows else []
    t = Table(title=f"{result['benchmark']} · {result['dataset']} · {result['queries']} queries",
              header_style="bold")
    if not rows:
        render.out.print(f"[bold]{result['benchmark']} · {result['dataset']} · {result['queries']} queries[/bold]")
    t.add_column("mode")
    for k in keys:
        t.add_column(k, justify="right")
    t.add_column("seconds", justify="right")
    best = {k: max(r["metrics"][k] for r in rows) for k in keys}
    for r in rows:
        cells = [f"[bold green]{r['metrics'][k]:.3f}[/]" if r["metrics"][k] == best[k] else f"{r['metrics'][k]:.3f}"
                 for k in keys]
        t.add_row(r["name"], *cells, f"{r['seconds']:.1f}")
    if rows:
        render.out.print(t)
    if rows and "by_category" in rows[0] and any(r["by_category"] for r in rows):
        key = "evidence_recall@1024tok"
        cats = sorted({c for r in rows for c in r["by_category"]})
        bt = Table(title=f"{key} by category (1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5 adversarial)",
                   header_style="bold")
        bt.add_column("mode")
        for c in cats:
            bt.add_column(c, justify="right")
        for r in rows:
            bt.add_row(r["name"], *[f"{r['by_category'].get(c, {}).get(key, 0):.3f}" for c in cats])
        render.out.print(bt)
    if answer_rows:
        title = ("answers (F1 over categories 1-4; abstention on category 5)" if result["benchmark"] == "locomo"
                 else "answers")
        if "of" in answer_rows[0]:
            of = answer_rows[0]["of"]
            title += f" ({of['answerable']} answerable, {of['unanswerable']} unanswerable)"
        at = Table(title=title, header_style="bold")
        akeys = list(answer_rows[0]["metrics"])
        at.add_column("answer")
        for k in akeys:
            at.add_column(k, justify="right")
        at.add_column("seconds", justify="right")
        for r in answer_rows:
            at.add_row(r["name"], *[f"{r['metrics'].get(k, 0):.3f}" if isinstance(r["metrics"].get(k, 0), float)
                                    else str(r["metrics"][k]) for k in akeys], f"{r['seconds']:.1f}")
        render.out.print(at)
    ing = result["ingest"]
    what = next(f"{ing[k]} {k}" for k in ("passages", "conversations", "files") if k in ing)
    render.out.print(f"[dim]ingested {what} as {ing['units']} units in {ing['seconds']:.1f}s[/dim]")


@eval_app.command("multihop")
def multihop(
    directory: Annotated[Path, typer.Argument(help="Dir with corpus.jsonl and queries.jsonl", autocompletion=complete_path)],
    k: Annotated[str, typer.Option("-k", help="Recall cut-offs, comma-separated.")] = "2,5",
    modes: ModesOpt = None, limit: LimitOpt = None, workdir: WorkOpt = None, consolidate: ConsolidateOpt = False,
    answer: Annotated[Optional[str], typer.Option("--answer", help="Also answer each query: extractive, generate (comma list); EM and token F1 against its answer.")] = None,
    json_: JsonOpt = False,
) -> None:
    """MuSiQue / 2WikiMultihopQA / HotpotQA: Recall@k of the gold supporting passages."""
    from memcli.errors import ConfigError
    from memcli.eval.datasets import load_multihop
    from memcli.eval.runner import multihop_scorer

    answers = [a.strip() for a in (answer or "").split(",") if a.strip()]
    if any(a not in ("extractive", "generate") for a in answers):
        raise ConfigError("--answer takes extractive, generate (comma list)")
    passages, queries = load_multihop(directory)
    ks = _ks(k)
    _run("multihop", directory.name, passages, queries[:limit], multihop_scorer(ks), max(ks), modes, workdir, json_,
         consolidate, answers)


@eval_app.command("beir")
def beir(
    directory: Annotated[Path, typer.Argument(help="BEIR layout: corpus.jsonl, queries.jsonl, qrels/", autocompletion=complete_path)],
    split: Annotated[str, typer.Option("--split", help="qrels split file name.")] = "test",
    k: Annotated[str, typer.Option("-k", help="nDCG cut-offs, comma-separated.")] = "10",
    modes: ModesOpt = None, limit: LimitOpt = None, workdir: WorkOpt = None, consolidate: ConsolidateOpt = False,
    json_: JsonOpt = False,
) -> None:
    """BEIR datasets (e.g. SciFact): nDCG@k and Recall@100."""
    from memcli.eval.datasets import load_beir
    from memcli.eval.runner import beir_scorer

    passages, queries = load_beir(directory, split)
    ks = _ks(k)
    _run("beir", directory.name, passages, queries[:limit], beir_scorer(ks), max(100, *ks), modes, workdir, json_,
         consolidate)


@eval_app.command("locomo")
def locomo(
    file: Annotated[Path, typer.Argument(help="LoCoMo JSON (list of conversations with qa)", autocompletion=complete_path)],
    units: Annotated[Optional[str], typer.Option("--units", "--granularity", help="Conversation units, one or a comma list: segment (topic), turn, session. Several give rows like segment/hybrid.")] = None,
    k: Annotated[str, typer.Option("-k", help="Evidence recall cut-offs, comma-separated.")] = "5,10,20",
    modes: ModesOpt = None, limit: Annotated[Optional[int], typer.Option("--limit", help="Only the first N conversations.", min=1)] = None,
    answer: Annotated[Optional[str], typer.Option("--answer", help="Also answer: extractive, generate, full (whole conversation in the prompt), comma list; token F1 and abstention. Each reranking mode in --modes adds answer rows after that reranker.")] = None,
    questions: Annotated[Optional[int], typer.Option("--questions", help="At most N questions per conversation, evenly spaced over its QA list (keeps the category mix); for the slow --answer generate/full rows.", min=1)] = None,
    workdir: WorkOpt = None, consolidate: ConsolidateOpt = False, json_: JsonOpt = False,
) -> None:
    """LoCoMo: evidence recall@k and at a token budget, per question category."""
    from memcli.eval.locomo import locomo_eval
    from memcli.eval.runner import parse_modes

    from memcli.errors import ConfigError
    from memcli.eval.locomo import GRANULARITY, merge_granularities

    grains = [g.strip() for g in (units or "").split(",") if g.strip()]
    bad = [g for g in grains if g not in GRANULARITY]
    if bad:
        raise ConfigError(f"unknown granularity {bad[0]!r}; choose from segment, turn, session")
    mem = memory()
    answers = [a.strip() for a in (answer or "").split(",") if a.strip()]
    if any(a not in ("extractive", "generate", "full") for a in answers):
        raise ConfigError("--answer takes extractive, generate, full (comma list)")
    def one(grain: str | None):
        s = mem.settings
        if grain:
            s = s.model_copy(update={"segment": s.segment.model_copy(update={"chat_units": GRANULARITY[grain]})})
        wd = (workdir / grain) if (workdir and grain and len(grains) > 1) else workdir
        kw = dict(path=file, settings=s, modes=parse_modes(modes), limit=limit, workdir=wd, answers=answers, ks=_ks(k),
                  consolidate=consolidate, questions=questions)
        return locomo_eval(**kw) if json_ or not sys.stderr.isatty() else _with_progress(locomo_eval, kw)

    if len(grains) > 1:
        result = merge_granularities({g: one(g) for g in grains})
    else:
        result = one(grains[0] if grains else None)
    _finish(result, workdir, json_)


@eval_app.command("docsqa")
def docsqa(
    directory: Annotated[Path, typer.Argument(help="A docsqa directory: corpus/ (Markdown), questions.jsonl, tools/score.py", autocompletion=complete_path)],
    answer: Annotated[str, typer.Option("--answer", help="Answer modes, comma list: extractive, generate.")] = "extractive",
    modes: Annotated[Optional[str], typer.Option("--modes", help="Reranking rows to add (hybrid+features, hybrid+llm, ...): each answers again after that reranker.")] = None,
    k: Annotated[int, typer.Option("-k", help="Retrieval hit cut-off (files).", min=1)] = 3,
    variants: Annotated[str, typer.Option("--variants", help="Answer variants, comma list: default (what mem ask does), reader, reader-coverage (the reader's threshold alone), hand+refusal (the pick before the reader), hand (the hand pick, no refusal by coverage).")] = "default",
    limit: LimitOpt = None, workdir: WorkOpt = None, json_: JsonOpt = False,
) -> None:
    """Questions about your own documents: retrieval hit@k, answers right, abstentions right
    (scored by the set's own tools/score.py)."""
    from memcli.errors import ConfigError
    from memcli.eval.docsqa import VARIANTS, docsqa_eval
    from memcli.eval.runner import RERANKERS, parse_modes

    answers = [a.strip() for a in answer.split(",") if a.strip()]
    if not answers or any(a not in ("extractive", "generate") for a in answers):
        raise ConfigError("--answer takes extractive, generate (comma list)")
    rr = [m for m in parse_modes(modes) if m in RERANKERS] if modes else []
    vs = [v.strip() for v in variants.split(",") if v.strip()]
    if not vs or any(v not in VARIANTS for v in vs):
        raise ConfigError(f"--variants takes {', '.join(VARIANTS)} (comma list)")
    kw = dict(root=directory, settings=memory().settings, answers=answers, modes=rr, limit=limit, workdir=workdir, k=k,
              variants=vs)
    result = docsqa_eval(**kw) if json_ or not sys.stderr.isatty() else _with_progress(docsqa_eval, kw)
    _finish(result, workdir, json_)
