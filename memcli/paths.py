"""Where a memory home and its server socket live. Standard library only: the thin client
(memcli/server/client.py) resolves these before deciding whether to import anything."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

APP = "memcli"
# AF_UNIX paths are limited to 108 bytes on Linux (104 on macOS).
_SOCK_MAX = 100


def default_home() -> Path | str:
    """$MEM_HOME (a URI stays a string: Path would fold its "//"), else the XDG data dir."""
    env = os.environ.get("MEM_HOME")
    if env:
        return env if is_remote(env) else Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / APP


def socket_path(home: Path) -> Path:
    """``<home>/serve.sock``; a short path under the runtime dir when that is too long."""
    home = Path(os.path.abspath(local_dir(home)))
    p = home / "serve.sock"
    if len(str(p)) <= _SOCK_MAX:
        return p
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    digest = hashlib.sha256(str(home).encode()).hexdigest()[:16]
    return Path(base) / f"memcli-{os.getuid()}" / f"{digest}.sock"


REMOTE = re.compile(r"^(s3|gs|gcs|az|abfs|abfss)://[^/]+", re.I)


def is_remote(home: str | os.PathLike) -> bool:
    return bool(REMOTE.match(str(home)))


def local_dir(home: str | os.PathLike) -> Path:
    """Where this machine keeps what is per machine: for a local home, the home itself; for a
    remote one, a cache dir named after it (Tantivy cache, locks, socket, logs, its config)."""
    if not is_remote(home):
        return Path(os.path.expanduser(str(home)))
    uri = str(home).rstrip("/")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", uri.split("://", 1)[1])[:48].strip("-")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "memcli" / "homes" / f"{slug}-{hashlib.sha256(uri.encode()).hexdigest()[:12]}"
