"""The `mem` command line. Parses arguments, calls ``Memory``, renders. No logic here.

Importing this package must stay cheap: torch, lancedb, tantivy and friends load only
inside the commands that need them (a test asserts it).
"""

from memcli.cli.app import app, main, run

__all__ = ["app", "main", "run"]
