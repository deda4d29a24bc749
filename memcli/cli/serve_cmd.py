"""`mem serve`, `mem mcp`, `mem watch`: long-running front ends over the same Memory calls."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from memcli.cli import render
from memcli.cli.context import memory
from memcli.cli.help import complete_path
from memcli.cli.options import JsonOpt


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("ui")(ui)
    app.command("mcp")(mcp)
    app.command("watch")(watch)


def serve(
    detach: Annotated[bool, typer.Option("--detach", "-d", help="Run in the background (log: <home>/serve.log); return when it is ready.")] = False,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the server of this home.")] = False,
    status: Annotated[bool, typer.Option("--status", help="Say whether a server runs for this home, and how it is doing.")] = False,
    idle_timeout: Annotated[Optional[float], typer.Option("--idle-timeout", help="Seconds without a command before it exits (default: config serve.idle_timeout_s).", min=0.1)] = None,
    autostarted: Annotated[bool, typer.Option("--autostarted", hidden=True, help="Started by a command (serve.autostart), not typed.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Keep this home's models and stores loaded: `mem search`/`ask`/`ingest`… then answer in a
    fraction of a second. Every `mem` command uses it when it runs, and works the same without it.

    One server per home, on a Unix socket inside the home (mode 0600); it exits after an idle
    timeout. The first command typed at a terminal starts one by itself (serve.autostart);
    while one runs, every write goes through it. Exit 1 from --status when none runs."""
    from memcli.server.client import control

    from memcli.paths import is_remote, local_dir

    settings = memory().settings  # builds nothing: the settings say which home and timeout
    home = settings.home if is_remote(settings.home) else local_dir(settings.home).resolve()
    if stop or status:
        reply = control(home, "status" if status else "stop")
        if json_:
            render.emit_json({"running": True, **reply} if reply else {"running": False, "home": str(home)})
        elif reply is None:
            render.out.print(f"no memory server runs for {render.escape(str(home))}")
        elif status:
            render.kv_table("Memory server", {"running": True, **reply})
        else:
            render.out.print(f"stopping the memory server (pid {reply['pid']})")
        if reply is None:
            raise typer.Exit(1)
        if stop:
            _wait_gone(home)
        return
    timeout = idle_timeout or settings.serve.idle_timeout_s
    if detach:
        _detach(home, timeout, json_)
        return
    from memcli.cli.host import CliHost
    from memcli.server.daemon import Server

    # An autostarted server may find the previous one still finishing its exit: it waits.
    Server(home, host=CliHost(), idle_timeout_s=timeout, autostarted=autostarted,
           claim_wait_s=10.0 if autostarted else 0.0).serve()


def _wait_gone(home: Path, limit: float = 30.0) -> None:
    from memcli.server.client import control

    t0 = time.time()
    while time.time() - t0 < limit and control(home, "status", timeout=1.0) is not None:
        time.sleep(0.1)


def _detach(home: Path | str, timeout: float, json_: bool, quiet: bool = False) -> None:
    from memcli.errors import LockBusyError, MemError
    from memcli.server.client import control

    from memcli.paths import local_dir

    running = control(home, "status")
    if running is not None:
        raise LockBusyError(f"a memory server already runs for {home} (pid {running['pid']})",
                            hint="mem serve --stop first to restart it")
    from memcli.server import spawn

    here = local_dir(home)  # this machine's directory for the home (itself, when local)
    proc = spawn.start(home, timeout)
    t0 = time.time()
    while time.time() - t0 < 120:
        reply = control(home, "status", timeout=1.0)
        if reply is not None:
            if quiet:
                return
            if json_:
                render.emit_json({"running": True, **reply, "ready_s": round(time.time() - t0, 2)})
            else:
                render.out.print(f"serving {render.escape(str(home))} (pid {reply['pid']}, ready in "
                                 f"{time.time() - t0:.1f} s; stops after {timeout:g} s idle)")
            return
        if proc.poll() is not None:
            tail = (here / "serve.log").read_text(errors="replace").strip().splitlines()[-3:]
            raise MemError("the memory server did not start: " + " / ".join(tail))
        time.sleep(0.1)
    raise MemError("the memory server did not become ready within 120 s", hint=f"see {here / 'serve.log'}")


def ui(
    no_open: Annotated[bool, typer.Option("--no-open", help="Print the address; do not open a browser.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Open a page on your memory: search (with why each hit ranks), answers with their
    evidence, sources, a timeline and the knowledge graph.

    Served by this home's resident process (started if none runs) on 127.0.0.1 only, with a
    secret per start in the address; `serve.ui_read_only` forbids forgetting and pinning."""
    from memcli.errors import MemError
    from memcli.paths import is_remote, local_dir
    from memcli.server.client import control

    settings = memory().settings
    home = settings.home if is_remote(settings.home) else local_dir(settings.home).resolve()
    if control(home, "status") is None:
        _detach(home, settings.serve.idle_timeout_s, json_=False, quiet=True)
    reply = control(home, "ui", timeout=30.0)
    if reply is None or "error" in reply:
        raise MemError("the memory server could not serve the page: " + (reply or {}).get("error", "no reply"),
                       hint=f"see {local_dir(home) / 'serve.log'}")
    if json_:
        render.emit_json(reply)
        return
    render.out.print(f"mem ui: {reply['url']}", markup=False, soft_wrap=True)
    render.out.print("[dim]the address holds this start's secret: open it here, do not share it; "
                     "`mem serve --stop` closes the page with the server[/dim]")
    if not no_open:
        import webbrowser

        webbrowser.open(reply["url"])


def mcp(
    http: Annotated[bool, typer.Option("--http", help="Streamable HTTP on 127.0.0.1 instead of stdio; clients send Authorization: Bearer TOKEN.")] = False,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="With --http: the port (0: a free one, printed).")] = 0,
) -> None:
    """Serve this memory to AI agents over the Model Context Protocol (stdio, or --http).

    Tools: search, ask, sources, stats, history (read-only), ingest, pin, forget (annotated
    as such; same JSON as --json). Add it to an MCP client as the command `mem mcp`, or run
    `mem mcp --http` and give the client the URL and token it prints (MEM_MCP_TOKEN fixes
    the token; see docs/integrations.md)."""
    from memcli.server.mcp import build_server

    server = build_server(memory())
    if not http:
        server.run("stdio")
        return
    import os
    import secrets

    from memcli.server.mcp import serve_http

    token = os.environ.get("MEM_MCP_TOKEN") or secrets.token_urlsafe(24)

    def ready(url: str) -> None:
        render.err.print(f"MCP (Streamable HTTP) at {url} — send the header `Authorization: Bearer {token}`",
                         markup=False, soft_wrap=True)
        sys.stderr.flush()

    try:
        serve_http(server, port=port, token=token, on_ready=ready)
    except KeyboardInterrupt:
        pass


def watch(
    paths: Annotated[list[Path], typer.Argument(help="Folders (or files) to keep ingested.", autocompletion=complete_path)],
    glob: Annotated[Optional[list[str]], typer.Option("--glob", "-g", help="Only files matching this glob (repeatable).")] = None,
    prune: Annotated[bool, typer.Option("--prune/--no-prune", help="Forget sources whose files are deleted (default: on).")] = True,
    once: Annotated[bool, typer.Option("--once", help="Catch up (ingest, prune) and exit without watching.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="One JSON line per ingest round.")] = False,
) -> None:
    """Keep folders ingested: changed files are re-ingested, new ones added, deleted ones
    forgotten — debounced, through `mem serve` when it runs. Ctrl-C stops."""
    from memcli.server.watch import Watcher


    mem = memory()
    from memcli.errors import NotFoundError

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise NotFoundError(f"no such file or directory: {missing[0]}")
    w = Watcher(mem, list(paths), globs=glob, prune=prune, debounce_ms=mem.settings.serve.watch_debounce_ms,
                report=_watch_report, as_json=json_)
    w.catch_up()
    if not once:
        render.err.print(f"[dim]watching {len(paths)} path(s); Ctrl-C stops[/dim]")
        w.run()


def _watch_report(line: str) -> None:
    render.out.print(line, markup=False, soft_wrap=True)
    sys.stdout.flush()
