"""The `mem` process, and its one way in.

1. A resident server for this home (`mem serve`) takes the command: the client relays it.
2. Else, when a person is at a terminal, one is started in the background for the commands
   that follow (``serve.autostart``), the way build tools start their daemon on first use.
3. This command runs here, in-process (memcli.cli), exactly as the server would run it.

Standard library only until step 3: a served `mem search` costs a Python start and a socket
round trip. This module sits above both the CLI and the server; neither imports the other
upward (the layers contract in pyproject.toml).
"""

from __future__ import annotations

import os
import sys

from memcli.server import client

NOTICE = ("mem: started a memory server for {home} (pid {pid}): the next commands answer in a fraction "
          "of a second. It stops after {idle} idle; `mem serve --stop` stops it now, "
          "`mem config set serve.autostart false` (or MEM_NO_SERVER=1) turns this off.")


def interactive() -> bool:
    """A person is at a terminal: stdin or stdout is one (cron, CI and pipes are not)."""
    for f in (sys.stdin, sys.stdout):
        try:
            if f is not None and f.isatty():
                return True
        except (AttributeError, ValueError):
            continue
    return False


def wants_autostart(argv: list[str], environ=os.environ) -> bool:
    """The cheap half of the decision (no settings read): a command a server would take,
    typed by a person, outside CI, with servers allowed."""
    if environ.get("CI") or environ.get("MEM_NO_SERVER"):
        return False
    return client.forwardable(argv) is not None and interactive()


def _config_flag(argv: list[str]) -> str | None:
    for i, a in enumerate(argv):
        if a == "--config" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--config="):
            return a.split("=", 1)[1]
        if not a.startswith("-"):
            return None
    return None


def _human(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def autostart(argv: list[str]) -> int | None:
    """Start this home's server in the background when wanted; its pid, else None. Never
    fails the command: a server that cannot start leaves the command to run here."""
    if not wants_autostart(argv):
        return None
    try:
        from pathlib import Path

        from memcli.config import load_settings
        from memcli.server import spawn

        home, _ = client.route(argv)
        config = _config_flag(argv)
        settings = load_settings({"home": home}, path=Path(config) if config else None)
        if not settings.serve.autostart or spawn.held(settings.home):
            return None  # off, or a server is starting or exiting: the next command finds it
        proc = spawn.start(settings.home, settings.serve.idle_timeout_s, autostarted=True)
    except Exception:  # a broken config, a read-only home: the command itself says what is wrong
        return None
    sys.stderr.write(NOTICE.format(home=settings.home, pid=proc.pid,
                                   idle=_human(settings.serve.idle_timeout_s)) + "\n")
    sys.stderr.flush()
    return proc.pid


def main() -> None:
    # mem owns this process: pydantic's plugin scan reads every installed package's entry
    # points (~25 ms of a cold command) for plugins no mem command uses.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    argv = sys.argv[1:]
    code = client.try_server(argv)
    if code is None:
        autostart(argv)
        if client.server_command(argv) or client.route(argv)[1] == "serve":
            # the commands a server runs never give pyarrow a pandas object (not eval, not --ray)
            from memcli.store import lazy_import

            lazy_import.withhold_pandas()
        from memcli.cli.app import main as here

        here()  # exits with the command's code
    sys.exit(code)
