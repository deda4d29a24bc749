"""Start a home's resident process in the background (`mem serve --detach`, autostart).

Standard library only: the entry point asks ``held`` before it has imported anything heavy.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

from memcli.paths import local_dir


def held(home) -> bool:
    """Whether a server holds this home's serve lock: running, starting or still exiting."""
    lock = Path(local_dir(home)) / "serve.lock"
    try:
        f = open(lock, "rb")
    except OSError:
        return False
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def start(home, idle_timeout_s: float, *, autostarted: bool = False) -> subprocess.Popen:
    """`mem serve` for ``home`` in its own session (a terminal's Ctrl-C or hang-up does not
    reach it), logging to <home>/serve.log; returns at once."""
    here = Path(local_dir(home))
    here.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "memcli", "--home", str(home), "serve", "--idle-timeout", str(idle_timeout_s)]
    if autostarted:
        cmd.append("--autostarted")
    with open(here / "serve.log", "ab") as log:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                close_fds=True)
