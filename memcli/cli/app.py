"""Typer app: global options, error mapping, and the commands of the foundation."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer

from memcli.cli import help, render
from memcli.cli.context import state
from memcli.cli.help import complete_path

help.install()

# Each module registers its own commands (this order is --help's order). A command line that
# names one of these builds only the module that owns it: Typer turns every registered
# command's signature into Click parameters on each run (~75 ms for all 24 on a 2-core box,
# most of a cold `mem search`'s CLI cost besides the imports of the modules themselves).
# tests/cli/test_cli.py checks this table against what the modules register.
OWNERS: dict[str, tuple[str, ...]] = {
    "core_cmd": ("ingest", "search", "forget", "sources", "stats", "reindex", "doctor", "export", "import"),
    "ask_cmd": ("ask", "chat", "models"),
    "consolidate_cmd": ("consolidate", "pin", "history", "schedule"),
    "config_cmd": ("config",),
    "graph_cmd": ("graph",),
    "serve_cmd": ("serve", "ui", "mcp", "watch"),
    "eval_cmd": ("eval",),
    "plugins_cmd": ("plugins",),  # and the commands plugins add
}


def version_cb(value: bool) -> None:
    if value:
        from memcli import __version__

        typer.echo(f"mem {__version__}")
        raise typer.Exit()


def _root(
    home: Annotated[Optional[str], typer.Option("--home", envvar="MEM_HOME", metavar="DIR|URI", help="Memory home: a directory, or s3://bucket/prefix (gs://, az://) on object storage.", autocompletion=complete_path)] = None,
    config: Annotated[Optional[Path], typer.Option("--config", envvar="MEM_CONFIG", help="Config YAML file.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=version_cb, is_eager=True, help="Show the version.")] = False,
) -> None:
    state.home, state.config, state.debug = home, config, debug


_APPS: dict[tuple[str, ...], typer.Typer] = {}


def build(modules: tuple[str, ...] = tuple(OWNERS)) -> typer.Typer:
    """The app with the commands of ``modules`` (all of them: the whole CLI), made once."""
    import importlib

    if modules not in _APPS:
        a = typer.Typer(
            name="mem",
            help="A local, private memory for your documents and conversations.",
            no_args_is_help=True,
            add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
            rich_markup_mode="rich",
            pretty_exceptions_enable=False,
        )
        a.callback()(_root)
        for name in modules:
            importlib.import_module(f"memcli.cli.{name}").register(a)
        _APPS[modules] = a
    return _APPS[modules]


def app_for(argv: list[str]) -> typer.Typer:
    """Only the module owning the command ``argv`` names; the whole CLI for anything else
    (no command, --help, a plugin's command, shell completion)."""
    from memcli.server.client import route

    cmd = route(argv)[1]
    if cmd is None and "--version" in argv and "--help" not in argv:
        return build(())  # the root's own option: no command to build
    owner = [m for m, names in OWNERS.items() if cmd in names]
    if len(owner) != 1 or owner[0] == "plugins_cmd" or any(k.endswith("_COMPLETE") for k in os.environ):
        return build()
    return build((owner[0],))


def __getattr__(name: str):
    if name == "app":  # the whole CLI (tests, completion scripts, `python -m typer`)
        return build()
    raise AttributeError(name)


def run(argv: list[str] | None = None) -> int:
    """Run the app and return its exit code; typed errors become one-line messages."""
    from typer._click import exceptions as click_exc  # typer vendors click

    from memcli.errors import MemError

    state.debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        args = sys.argv[1:] if argv is None else argv
        rv = app_for(args)(args=args, prog_name="mem", standalone_mode=False)
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
