"""`mem schedule`: a crontab entry that runs `mem consolidate` for this memory home.

The entry is tagged with a comment naming the home, so install is idempotent and remove
touches nothing else. ``MEMCLI_CRONTAB_FILE`` points at a crontab file instead of the user's
crontab (tests use their own file; never the machine's). Without a ``crontab`` program the
caller gets the line to install by hand.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from memcli.errors import ConfigError, MemError


class NoCrontab(MemError):
    """This machine has no crontab program (a minimal container)."""

    exit_code = 2


@dataclass
class Entry:
    line: str
    installed: bool
    target: str
    last_run: dict | None = None


def cron_spec(every: str) -> str:
    """'30m', '6h', '1d', '1w' -> a cron time spec (daily and weekly runs at 03:17)."""
    m = re.fullmatch(r"(\d+)\s*([mhdw])", every.strip().lower())
    if not m:
        raise ConfigError(f"--every {every!r}: use a number and m, h, d or w (e.g. 6h, 1d)")
    n, unit = int(m.group(1)), m.group(2)
    if n < 1:
        raise ConfigError("--every must be at least 1")
    if unit == "m":
        if 60 % n:
            raise ConfigError("--every in minutes must divide 60 (e.g. 10m, 15m, 30m)")
        return f"*/{n} * * * *"
    if unit == "h":
        if 24 % n:
            raise ConfigError("--every in hours must divide 24 (e.g. 1h, 6h, 12h)")
        return f"17 */{n} * * *" if n > 1 else "17 * * * *"
    if unit == "d":
        return f"17 3 */{n} * *" if n > 1 else "17 3 * * *"
    if n != 1:
        raise ConfigError("--every in weeks supports 1w only")
    return "17 3 * * 0"


def command_for(home: Path, config: Path | None = None) -> str:
    """The job's whole environment is on its line: cron starts it with almost none (PATH
    /usr/bin:/bin, no venv, no MEM_* variables), the commonest way a cron job fails silently."""
    mem = shutil.which("mem") or str(Path(sys.executable).with_name("mem"))
    log = home / "consolidate.cron.log"
    env = f"MEM_HOME={shlex.quote(str(home))} HF_HUB_OFFLINE=1"
    if config is not None:
        env += f" MEM_CONFIG={shlex.quote(str(Path(config).expanduser().resolve()))}"
    return f"{env} {shlex.quote(mem)} consolidate --json >> {shlex.quote(str(log))} 2>&1"


def _tag(home: Path) -> str:
    return f"memcli consolidate {home}"


def _crontab():
    from crontab import CronTab

    path = os.environ.get("MEMCLI_CRONTAB_FILE")
    if path:
        Path(path).touch(exist_ok=True)
        return CronTab(tabfile=path), path
    if shutil.which("crontab") is None:
        return None, "crontab"
    return CronTab(user=True), "user crontab"


def last_run(home: Path) -> dict | None:
    """The last `mem consolidate --json` result the cron job logged, if any."""
    log = home / "consolidate.cron.log"
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    start = text.rfind('\n{\n  "dry_run"')
    chunk = text[start + 1:] if start >= 0 else text
    try:
        data = json.loads(chunk)
        return {"ok": True, "at": log.stat().st_mtime, "after": data.get("after")}
    except ValueError:
        tail = text.strip().splitlines()[-1:] if text.strip() else []
        return {"ok": False, "at": log.stat().st_mtime, "error": tail[0] if tail else ""}


def install(home: Path, every: str, config: Path | None = None) -> Entry:
    spec = cron_spec(every)
    cmd = command_for(home, config)
    tab, target = _crontab()
    line = f"{spec} {cmd}  # {_tag(home)}"
    if tab is None:
        raise NoCrontab("this machine has no `crontab` program",
                        hint=f"add this line to your scheduler by hand:\n{line}")
    tab.remove_all(comment=_tag(home))
    job = tab.new(command=cmd, comment=_tag(home))
    job.setall(spec)
    tab.write()
    return Entry(str(job), True, target)


def find(home: Path) -> Entry | None:
    tab, target = _crontab()
    if tab is None:
        return None
    for job in tab.find_comment(_tag(home)):
        return Entry(str(job), True, target, last_run(home))
    return None


def remove(home: Path) -> int:
    tab, target = _crontab()
    if tab is None:
        raise NoCrontab("this machine has no `crontab` program", hint="nothing to remove")
    n = len(list(tab.find_comment(_tag(home))))
    tab.remove_all(comment=_tag(home))
    tab.write()
    return n
