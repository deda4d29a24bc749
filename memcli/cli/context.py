"""What every command shares: the root options (--home, --config, --debug) and the one way
to get the Memory they name. Commands import this, never the app (no import circle)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional


class State:
    home: Optional[str] = None  # a directory or an object-store URI
    config: Optional[Path] = None
    debug: bool = False
    # `mem serve` sets this: settings → its resident Memory (models and stores stay loaded).
    provider = None


state = State()


def memory(**overrides):
    from memcli.config import load_settings
    from memcli.memory import Memory

    flags = {"home": str(state.home) if state.home else None, **overrides}
    settings = load_settings(flags, path=state.config)
    return state.provider(settings) if state.provider else Memory(settings)


def config_target(global_: bool) -> Path:
    """Where `config set` / `models use` write: a file named by --config; else, for an
    explicitly chosen home (--home, MEM_HOME), that home's own config.yaml, so that changing
    one home never changes the others; else the user's config ($MEM_CONFIG, XDG; --global)."""
    from memcli.config import config_path, home_config_path

    if global_ or state.config is not None and os.environ.get("MEM_CONFIG") is None:
        return state.config or config_path()
    if state.home is not None:
        return home_config_path({"home": str(state.home)})
    return state.config or config_path()
