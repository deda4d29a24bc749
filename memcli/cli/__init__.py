"""The `mem` command line. Parses arguments, calls ``Memory``, renders. No logic here.

Importing this package must stay cheap: torch, lancedb, tantivy and friends load only
inside the commands that need them (a test asserts it).
"""

from memcli.cli.app import main, run

__all__ = ["app", "main", "run"]


def __getattr__(name: str):
    if name == "app":  # the whole Typer app, built on first use (memcli/cli/app.py)
        from memcli.cli.app import build

        return build()
    raise AttributeError(name)
