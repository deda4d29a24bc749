"""The everyday commands: ingest, search, forget, sources, stats, reindex, doctor."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Optional

import typer

from memcli.cli import render
from memcli.cli.help import complete_path
from memcli.cli.context import memory
from memcli.cli.options import (AsOfOpt, FormatOpt, HopsOpt, JsonOpt, KOpt, ModeOpt, SessionOpt, SinceOpt, SourceOpt, SpeakerOpt,
                                TagOpt, TrustOpt, UntilOpt, search_filters)


def register(app: typer.Typer) -> None:
    for fn in (ingest, search, forget, sources, stats, reindex, doctor, export):
        app.command()(fn)
    app.command("import")(import_)


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and directories to remember.", autocompletion=complete_path)],
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Descend into subdirectories.")] = False,
    glob: Annotated[Optional[list[str]], typer.Option("--glob", "-g", help="Only files matching this glob (repeatable).")] = None,
    prune: Annotated[bool, typer.Option("--prune", help="Forget sources under PATHS whose files are gone.")] = False,
    fmt: FormatOpt = None,
    trust: TrustOpt = "normal",
    graph: Annotated[Optional[bool], typer.Option("--graph/--no-graph", help="Extract entities and relations into the knowledge graph (default: config graph.enabled).")] = None,
    ray: Annotated[bool, typer.Option("--ray", help="Bulk: embed on Ray Data actors (a local Ray unless --ray-address; needs memcli[scale]).")] = False,
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", metavar="ADDRESS", help="A Ray cluster to embed on (implies --ray), e.g. ray://head:10001.")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="With --ray: embedding actors (default: the cluster's CPUs).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Read files (md, txt, html, pdf, docx, code, chat exports) into memory units.

    Unchanged files are skipped (content hash); changed files replace their old units.
    """
    from memcli.errors import IngestFailures

    mem = memory(**({"graph.enabled": graph} if graph is not None else {}))
    bulk = {"ray": ray, "ray_address": ray_address, "workers": workers} if ray or ray_address else {}
    with render.stdout_reserved() if bulk else nullcontext():
        if json_ or not sys.stderr.isatty():
            rep = mem.ingest(list(paths), recursive=recursive, globs=glob, prune=prune, fmt=fmt, trust=trust, **bulk)
        else:
            rep = _ingest_with_progress(mem, paths, recursive, glob, prune, fmt, trust, bulk)
    if json_:
        render.emit_json(rep.to_dict())
    else:
        render.ingest_summary(rep)
    if rep.failed:
        raise IngestFailures(f"{len(rep.failed)} of {len(rep.results)} files failed; the rest were ingested")


def _ingest_with_progress(mem, paths, recursive, glob, prune, fmt, trust, bulk):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("files · {task.fields[units]} units · {task.fields[rate]} units/s"), TimeElapsedColumn(),
        console=render.err, transient=False,
    ) as bar:
        task = bar.add_task("ingest", total=None, units=0, rate="–")
        import time

        t0 = time.perf_counter()

        def on_progress(p) -> None:
            dt = time.perf_counter() - t0
            rate = f"{p.units_done / dt:.0f}" if dt > 0 and p.units_done else "–"
            bar.update(task, total=p.files_total, completed=p.files_done, units=p.units_done, rate=rate)

        return mem.ingest(list(paths), recursive=recursive, globs=glob, prune=prune, on_progress=on_progress, fmt=fmt,
                          trust=trust, **bulk)


def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: KOpt = None,
    mode: ModeOpt = None,
    hops: HopsOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    speaker: SpeakerOpt = None,
    session: SessionOpt = None,
    as_of: AsOfOpt = None,
    tag: TagOpt = None,
    source: SourceOpt = None,
    explain: Annotated[bool, typer.Option("--explain", help="Say why each hit ranks where it does: BM25 and dense ranks, fused score, what bridging, the time boost and reranking added.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Search memory: hybrid BM25 + dense (+ graph when graph.weight > 0) by default."""
    from memcli.retrieve.filters import parse_moment

    mem = memory()
    filters = search_filters(mem, since=since, until=until, speaker=speaker, session=session, tag=tag, source=source)
    hits = mem.search(query, k=k, mode=mode, filters=filters, as_of=parse_moment(as_of) if as_of else None,
                      hops=hops, explain=explain)
    why = mem.why_empty(filters) if not hits and filters else None
    if json_:
        render.emit_json({"query": query, "mode": mode or mem.settings.search.mode,
                          "hits": [h.to_dict() for h in hits]} | ({"why_empty": why} if why else {}))
    else:
        from memcli.retrieve.snippet import merge_adjacent

        # neighbouring units of a page read as one (not when each hit's own ranking is asked for)
        render.hits_view(hits if explain else merge_adjacent(hits), query, why)


def forget(
    source: Annotated[Optional[str], typer.Argument(help="A source path, a directory of sources, or a source id.", autocompletion=complete_path)] = None,
    weak: Annotated[bool, typer.Option("--weak", help="Instead: delete decayed (archived) units, listing them first.")] = False,
    older_than: Annotated[str, typer.Option("--older-than", help="With --weak: only units untouched this long (e.g. 180d, 12w, 1y).")] = "180d",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before forgetting several sources; with --weak: really delete (otherwise only list).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be forgotten, change nothing.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Remove a source's units from every store (or, with --weak, decayed units).

    Forgetting a directory that holds more than one source asks first (or needs --yes)."""
    from memcli.errors import ConfigError

    if weak:
        from memcli.cli.consolidate_cmd import forget_weak

        forget_weak(memory(), older_than, yes, json_)
        return
    if source is None:
        raise ConfigError("name a SOURCE to forget, or use --weak")
    mem = memory()
    if dry_run or not yes:
        would = mem.sources(source)
        if dry_run:
            if json_:
                render.emit_json({"would_forget": [s.to_dict() for s in would]})
            else:
                for s in would:
                    render.out.print(f"would forget {render.escape(s.uri)} ({s.n_units} units)")
            return
        if len(would) > 1:
            what = f"Forget {len(would)} sources ({sum(s.n_units for s in would)} units) under {source}"
            if not sys.stdin.isatty():
                raise ConfigError(f"{what} needs confirmation", hint="add --yes to forget them, or --dry-run to list them")
            if not typer.confirm(f"{what}?", default=False):
                render.err.print("nothing forgotten")
                raise typer.Exit(1)
    gone = mem.forget(source)
    if json_:
        render.emit_json({"forgotten": [s.to_dict() for s in gone]})
    else:
        for s in gone:
            render.out.print(f"forgot {render.escape(s.uri)} ({s.n_units} units)")


def sources(
    tag: Annotated[Optional[list[str]], typer.Option("--tag", "-t", metavar="TAG", help="Only sources with a note tagged so (repeatable: any of them).")] = None,
    json_: JsonOpt = False,
) -> None:
    """List the sources in memory (and, below them, files that failed to ingest, with why)."""
    mem = memory()
    srcs = mem.sources(tags=tag)
    if json_:
        render.emit_json([s.to_dict() for s in srcs])
    else:
        from memcli.types import SearchFilters

        render.sources_table(srcs, mem.why_empty(SearchFilters(tags=tuple(tag))) if tag and not srcs else None)
        for f in mem.ingest_status()["failed"]:
            render.err.print(f"[red]failed:[/red] {render.escape(f['path'])}: {render.escape(f['reason'])}")


def stats(json_: JsonOpt = False) -> None:
    """Counts and sizes of this memory."""
    render.record("Memory", memory().stats(), json_)


def reindex(json_: JsonOpt = False) -> None:
    """Re-embed every unit with the configured embedding model (after changing embed.model)."""
    mem = memory()
    if json_ or not sys.stderr.isatty():
        res = mem.reindex()
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("[bold]reindex"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=render.err) as bar:
            task = bar.add_task("reindex", total=None)
            res = mem.reindex(on_progress=lambda done, total: bar.update(task, completed=done, total=total))
    if json_:
        render.emit_json(res)
    else:
        render.out.print(f"re-embedded {res['units']} units: {res['from'].get('embed_model')} → {res['to']['embed_model']}")


def doctor(
    repair: Annotated[bool, typer.Option("--repair", help="Fix what is found (takes the write lock).")] = False,
    json_: JsonOpt = False,
) -> None:
    """Check that every store agrees; exit 5 when something is wrong (after --repair: still wrong)."""
    from memcli.errors import StoreError

    rep = memory().doctor(repair=repair)
    if json_:
        render.emit_json(rep.to_dict())
    else:
        for f in rep.findings:
            mark = "[green]ok[/green]" if f.ok else ("[yellow]repaired[/yellow]" if f.repaired else "[red]problem[/red]")
            render.out.print(f"{mark:>24}  {f.check}: {render.escape(f.detail)}")
    model = next((f for f in rep.findings if f.check == "answer model"), None)
    stores_ok = all(f.ok or f.repaired for f in rep.findings if f is not model)
    if not stores_ok:
        raise StoreError("memory needs repair", hint="mem doctor --repair")
    if model is not None and not model.ok:
        from memcli.errors import ModelError
        from memcli.llm.probe import REBUILD_HINT

        raise ModelError(model.detail, hint=REBUILD_HINT)


def export(
    file: Annotated[Path, typer.Argument(help="The archive to write (one file; e.g. memory.tar).", autocompletion=complete_path)],
    json_: JsonOpt = False,
) -> None:
    """Write the whole memory to one file: units with vectors, provenance, states and pins.

    A backup, or a move: `mem --home NEW import FILE` restores it (another machine, or a home
    on object storage)."""
    res = memory().export(file)
    if json_:
        render.emit_json(res)
    else:
        render.out.print(f"wrote {render.escape(str(file))}: {res.get('sources', 0)} sources, "
                         f"{res.get('units', 0)} units ({res['bytes'] / 1e6:.1f} MB)")


def import_(
    file: Annotated[Path, typer.Argument(help="An archive written by `mem export`.", autocompletion=complete_path)],
    merge: Annotated[bool, typer.Option("--merge", help="Import into a home that already holds memory (the archive's sources replace any with the same id).")] = False,
    json_: JsonOpt = False,
) -> None:
    """Load an archive written by `mem export` into this home (empty, unless --merge)."""
    res = memory().import_(file, merge=merge)
    if json_:
        render.emit_json(res)
    else:
        render.out.print(f"imported {res['sources']} sources, {res['units']} units"
                         + (f" ({res['replaced']} replaced)" if res["replaced"] else ""))
