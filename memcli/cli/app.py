"""Typer app: global options, error mapping, and the commands of the foundation."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer

from memcli.cli import (ask_cmd, config_cmd, consolidate_cmd, core_cmd, eval_cmd, graph_cmd, help, plugins_cmd, render,
                        serve_cmd)
from memcli.cli.context import state
from memcli.cli.help import complete_path

help.install()

app = typer.Typer(
    name="mem",
    help="A local, private memory for your documents and conversations.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def version_cb(value: bool) -> None:
    if value:
        from memcli import __version__

        typer.echo(f"mem {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    home: Annotated[Optional[str], typer.Option("--home", envvar="MEM_HOME", metavar="DIR|URI", help="Memory home: a directory, or s3://bucket/prefix (gs://, az://) on object storage.", autocompletion=complete_path)] = None,
    config: Annotated[Optional[Path], typer.Option("--config", envvar="MEM_CONFIG", help="Config YAML file.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=version_cb, is_eager=True, help="Show the version.")] = False,
) -> None:
    state.home, state.config, state.debug = home, config, debug


# One registration style: each module adds its own commands (the order is --help's order).
for _module in (core_cmd, ask_cmd, consolidate_cmd, config_cmd, graph_cmd, serve_cmd, eval_cmd, plugins_cmd):
    _module.register(app)


def run(argv: list[str] | None = None) -> int:
    """Run the app and return its exit code; typed errors become one-line messages."""
    from typer._click import exceptions as click_exc  # typer vendors click

    from memcli.errors import MemError

    state.debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        rv = app(args=argv, prog_name="mem", standalone_mode=False)
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
