"""Typer app: global options, error mapping, and the commands of the foundation."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer

from memcli.cli import render
from memcli.cli.options import HopsOpt, JsonOpt, KOpt, ModeOpt, check_mode

app = typer.Typer(
    name="mem",
    help="A local, private memory for your documents and conversations.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Show and change settings (YAML + MEM_* env + flags).", no_args_is_help=True)
app.add_typer(config_app, name="config")


def _register_subapps() -> None:
    from memcli.cli import ask_cmd, consolidate_cmd, serve_cmd
    from memcli.cli.eval_cmd import eval_app
    from memcli.cli.graph_cmd import graph_app

    ask_cmd.register(app)
    consolidate_cmd.register(app)
    serve_cmd.register(app)
    app.add_typer(eval_app, name="eval")
    app.add_typer(graph_app, name="graph")




class State:
    home: Optional[Path] = None
    config: Optional[Path] = None
    debug: bool = False
    # `mem serve` sets this: settings → its resident Memory (models and stores stay loaded).
    provider = None


state = State()


def version_cb(value: bool) -> None:
    if value:
        from memcli import __version__

        typer.echo(f"mem {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    home: Annotated[Optional[Path], typer.Option("--home", envvar="MEM_HOME", help="Memory home directory.")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", envvar="MEM_CONFIG", help="Config YAML file.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=version_cb, is_eager=True, help="Show the version.")] = False,
) -> None:
    state.home, state.config, state.debug = home, config, debug


def memory(**overrides):
    from memcli.config import load_settings
    from memcli.memory import Memory

    flags = {"home": str(state.home) if state.home else None, **overrides}
    settings = load_settings(flags, path=state.config)
    return state.provider(settings) if state.provider else Memory(settings)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and directories to remember.")],
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Descend into subdirectories.")] = False,
    glob: Annotated[Optional[list[str]], typer.Option("--glob", "-g", help="Only files matching this glob (repeatable).")] = None,
    prune: Annotated[bool, typer.Option("--prune", help="Forget sources under PATHS whose files are gone.")] = False,
    fmt: Annotated[Optional[str], typer.Option("--format", help="Force a chat export format: chatgpt, claude, jsonl, locomo (default: detect).")] = None,
    trust: Annotated[str, typer.Option("--trust", help="Trust label for these sources: low | normal | high. Low-trust memory is marked in prompts and answers.")] = "normal",
    graph: Annotated[Optional[bool], typer.Option("--graph/--no-graph", help="Extract entities and relations into the knowledge graph (default: config graph.enabled).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Read files (md, txt, html, pdf, docx, code, chat exports) into memory units.

    Unchanged files are skipped (content hash); changed files replace their old units.
    """
    from memcli.errors import ConfigError, IngestFailures
    from memcli.ingest.readers.chat import FORMATS

    if fmt is not None and fmt not in FORMATS:
        raise ConfigError(f"unknown --format {fmt!r}; choose from {', '.join(FORMATS)}")
    if trust not in ("low", "normal", "high"):
        raise ConfigError(f"unknown --trust {trust!r}; choose low, normal or high")
    mem = memory(**({"graph.enabled": graph} if graph is not None else {}))
    if json_ or not sys.stderr.isatty():
        rep = mem.ingest(list(paths), recursive=recursive, globs=glob, prune=prune, fmt=fmt, trust=trust)
    else:
        rep = _ingest_with_progress(mem, paths, recursive, glob, prune, fmt, trust)
    if json_:
        render.emit_json(rep.to_dict())
    else:
        render.ingest_summary(rep)
    if rep.failed:
        raise IngestFailures(f"{len(rep.failed)} of {len(rep.results)} files failed; the rest were ingested")


def _ingest_with_progress(mem, paths, recursive, glob, prune, fmt, trust):
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

        return mem.ingest(list(paths), recursive=recursive, globs=glob, prune=prune, on_progress=on_progress, fmt=fmt, trust=trust)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: KOpt = None,
    mode: ModeOpt = None,
    hops: HopsOpt = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Only memory from this day on (YYYY-MM-DD).")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Only memory up to this day (YYYY-MM-DD).")] = None,
    speaker: Annotated[Optional[str], typer.Option("--speaker", help="Only conversation units with this speaker.")] = None,
    session: Annotated[Optional[str], typer.Option("--session", help="Only this conversation session id.")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Read 'last March', 'two weeks ago' relative to this day.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Search memory: hybrid BM25 + dense (+ graph when graph.weight > 0) by default."""
    check_mode(mode)
    from memcli.retrieve.filters import SearchFilters, parse_day

    filters = SearchFilters(since=parse_day(since) if since else None,
                            until=parse_day(until, end=True) if until else None,
                            speaker=speaker, session=session)
    mem = memory()
    hits = mem.search(query, k=k, mode=mode, filters=filters or None, as_of=parse_day(as_of) if as_of else None,
                      hops=hops)
    if json_:
        render.emit_json({"query": query, "mode": mode or mem.settings.search.mode,
                          "hits": [h.to_dict() for h in hits]})
    else:
        from memcli.retrieve.snippet import merge_adjacent

        render.hits_view(merge_adjacent(hits), query)  # neighbouring units of a page read as one


@app.command()
def forget(
    source: Annotated[Optional[str], typer.Argument(help="A source path, a directory of sources, or a source id.")] = None,
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
        would = mem.resolve_sources(source)
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


@app.command()
def sources(json_: JsonOpt = False) -> None:
    """List the sources in memory."""
    srcs = memory().sources()
    if json_:
        render.emit_json([s.to_dict() for s in srcs])
    else:
        render.sources_table(srcs)


@app.command()
def stats(json_: JsonOpt = False) -> None:
    """Counts and sizes of this memory."""
    st = memory().stats()
    if json_:
        render.emit_json(st)
    else:
        render.kv_table("Memory", st)


@app.command()
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


@app.command()
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


@config_app.command("show")
def config_show(json_: JsonOpt = False) -> None:
    """Print the effective settings, and where each value that is not a default came from."""
    import yaml

    from memcli.config import config_path, home_config_path, load_settings

    flags = {"home": str(state.home) if state.home else None}
    origins: dict[str, str] = {}
    s = load_settings(flags, path=state.config, origins=origins)
    data = s.model_dump(mode="json")
    files = {"user": str(state.config or config_path()), "home": str(home_config_path(flags, path=state.config))}
    if json_:
        render.emit_json({"config_file": files["user"], "home_config_file": files["home"],
                          "settings": data, "origins": origins})
        return
    render.out.print(f"# user config: {files['user']}", markup=False)
    render.out.print(f"# home config: {files['home']} (wins over the user config)", markup=False)
    for line in yaml.safe_dump(data, sort_keys=False).rstrip().splitlines():
        render.out.print(line, markup=False)
    if origins:
        render.out.print("# not defaults:", markup=False)
        for k, where in sorted(origins.items()):
            render.out.print(f"#   {k}: {where}", markup=False)


def config_target(global_: bool) -> Path:
    """Where `config set` / `models use` write: a file named by --config; else, for an
    explicitly chosen home (--home, MEM_HOME), that home's own config.yaml, so that changing
    one home never changes the others; else the user's config ($MEM_CONFIG, XDG; --global)."""
    from memcli.config import config_path, home_config_path

    if global_ or state.config is not None and os.environ.get("MEM_CONFIG") is None:
        return state.config or config_path()
    if state.home is not None:
        return home_config_path({"home": str(state.home)})
    return state.config or config_path()


GlobalOpt = Annotated[bool, typer.Option("--global", help="Write the user's config file, not this home's.")]


@config_app.command("set", context_settings={"ignore_unknown_options": True})  # values like -5
def config_set(
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. search.fusion")],
    value: Annotated[str, typer.Argument(help="New value (YAML scalar)")],
    global_: GlobalOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Write one setting (validated first) to this home's config.yaml when a home is chosen
    (--home or MEM_HOME), else to the user's config file."""
    from memcli.config import set_config_value

    path = set_config_value(key, value, path=config_target(global_))
    if json_:
        render.emit_json({"config_file": str(path), "key": key, "value": value})
    else:
        render.out.print(f"{key} = {value}  [dim]({path})[/dim]")


_register_subapps()


def run(argv: list[str] | None = None) -> int:
    """Run the app and return its exit code; typed errors become one-line messages."""
    from typer._click import exceptions as click_exc  # typer vendors click

    from memcli.errors import MemError

    state.debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        rv = app(args=argv, standalone_mode=False)
        if rv == 130:  # typer's form of a KeyboardInterrupt (Ctrl-C, SIGTERM) outside a write
            render.err.print("[yellow]interrupted[/yellow]")
        return rv if isinstance(rv, int) else 0
    except MemError as e:
        if state.debug:
            traceback.print_exc()
        from memcli.errors import Interrupted

        label = "[yellow]" if isinstance(e, Interrupted) else "[red]error:[/red] [default]"
        render.err.print(f"{label}{render.escape(e.message)}[/]")
        if e.hint:
            render.err.print(f"[dim]hint: {render.escape(e.hint)}[/dim]")
        return e.exit_code
    except typer.Exit as e:
        return e.exit_code
    except click_exc.ClickException as e:
        e.show()
        return e.exit_code
    except BrokenPipeError:
        # The reader went away (`mem ask … | head -1`): not an error, as with cat.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except (KeyboardInterrupt, typer.Abort):
        render.err.print("[yellow]interrupted[/yellow]")
        return 130
    except Exception as e:
        if state.debug:
            traceback.print_exc()
        render.err.print(f"[red]error:[/red] internal error: {type(e).__name__}: {render.escape(str(e))}")
        render.err.print("[dim]run with --debug for the traceback[/dim]")
        return 1


def _terminate(signum, frame) -> None:
    """SIGTERM ends a command like Ctrl-C: the write in progress unwinds (journal, lock, pid
    file) instead of leaving a stale lock behind."""
    raise KeyboardInterrupt


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(run())
