"""Where a memory home and its server socket live. Standard library only: the thin client
(memcli/server/client.py) resolves these before deciding whether to import anything."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

APP = "memcli"
# AF_UNIX paths are limited to 108 bytes on Linux (104 on macOS).
_SOCK_MAX = 100


def default_home() -> Path:
    env = os.environ.get("MEM_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / APP


def socket_path(home: Path) -> Path:
    """``<home>/serve.sock``; a short path under the runtime dir when that is too long."""
    home = Path(os.path.abspath(os.path.expanduser(str(home))))
    p = home / "serve.sock"
    if len(str(p)) <= _SOCK_MAX:
        return p
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    digest = hashlib.sha256(str(home).encode()).hexdigest()[:16]
    return Path(base) / f"memcli-{os.getuid()}" / f"{digest}.sock"
