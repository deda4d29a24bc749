"""Options that several commands share, declared once. Choices come from memcli/types.py,
so --help lists them, the shell completes them and a typo is refused before any work."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from memcli.types import ChatFormat, Mode, Trust

KOpt = Annotated[Optional[int], typer.Option("-k", help="How many units.", min=1)]
ModeOpt = Annotated[Optional[Mode], typer.Option("--mode", "-m", help="Retrieval mode (default: config search.mode).")]
HopsOpt = Annotated[Optional[int], typer.Option(
    "--hops", help="Iterative multi-hop graph retrieval: up to N rounds seeded by bridge entities (1 = single-step).",
    min=1, max=5)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
FormatOpt = Annotated[Optional[ChatFormat], typer.Option(
    "--format", help="Force a chat export format (default: detect).")]
TrustOpt = Annotated[Trust, typer.Option(
    "--trust", help="Trust label for these sources. Low-trust memory is marked in prompts and answers.")]
