"""Options that several commands share, declared once."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

KOpt = Annotated[Optional[int], typer.Option("-k", help="How many units.", min=1)]
ModeOpt = Annotated[Optional[str], typer.Option("--mode", "-m", help="hybrid | bm25 | dense | graph")]
HopsOpt = Annotated[Optional[int], typer.Option(
    "--hops", help="Iterative multi-hop graph retrieval: up to N rounds seeded by bridge entities (1 = single-step).",
    min=1, max=5)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def check_mode(mode: str | None) -> None:
    from memcli.errors import ConfigError
    from memcli.retrieve.hybrid import MODES

    if mode is not None and mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
