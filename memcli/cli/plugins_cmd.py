"""`mem plugins`: what is installed in the `memcli` entry-point group, and what failed."""

from __future__ import annotations

import typer

from memcli.cli import render
from memcli.cli.options import JsonOpt


def register(app: typer.Typer) -> None:
    app.command("plugins")(plugins)
    from memcli.plugins import add_commands

    add_commands(app)


def plugins(json_: JsonOpt = False) -> None:
    """List installed plugins (name, version, hooks), the ones that failed to load, and which
    reader reads each file suffix. Plugins are packages with a `memcli` entry point (docs/plugins.md)."""
    from memcli.plugins import report

    rep = report()
    if json_:
        render.emit_json(rep)
        return
    if not rep["plugins"] and not rep["failed"]:
        render.out.print("[dim]No plugins installed. See docs/plugins.md to write one.[/dim]")
    for p in rep["plugins"]:
        render.out.print(f"[bold]{render.escape(p['name'])}[/bold] {render.escape(p['dist'])} {render.escape(p['version'])}"
                         f"  hooks: {', '.join(p['hooks']) or '—'}")
    for f in rep["failed"]:
        render.err.print(f"[red]✗ {render.escape(f['name'])}[/red] failed to load: {render.escape(f['error'])}")
    added = {s: r for s, r in rep["readers"].items() if "." in r}
    for s, r in added.items():
        render.out.print(f"  [dim]{render.escape(s)} read by {render.escape(r)}[/dim]")
