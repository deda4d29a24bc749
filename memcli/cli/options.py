"""Options that several commands share, declared once. Choices come from memcli/types.py,
so --help lists them, the shell completes them and a typo is refused before any work."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from memcli.types import Mode, Trust

KOpt = Annotated[Optional[int], typer.Option("-k", help="How many units.", min=1)]
ModeOpt = Annotated[Optional[Mode], typer.Option("--mode", "-m", help="Retrieval mode (default: config search.mode).")]
HopsOpt = Annotated[Optional[int], typer.Option(
    "--hops", help="Iterative multi-hop graph retrieval: up to N rounds seeded by bridge entities (1 = single-step).",
    min=1, max=5)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
def _chat_format(value: str | None) -> str | None:
    if value is None:
        return None
    from memcli.plugins import chat_formats

    names = chat_formats()
    if value.lower() not in names:
        raise typer.BadParameter(f"{value!r} is not a chat format; choose from {', '.join(names)}")
    return value.lower()


FormatOpt = Annotated[Optional[str], typer.Option(
    "--format", metavar="FORMAT", callback=_chat_format,
    help="Force a chat export format: chatgpt, claude, jsonl, locomo, or a plugin's (mem plugins). Default: detect.")]
TrustOpt = Annotated[Trust, typer.Option(
    "--trust", help="Trust label for these sources. Low-trust memory is marked in prompts and answers.")]

# The filters `mem search` and `mem ask` share: what an answer or a hit may be drawn from.
SinceOpt = Annotated[Optional[str], typer.Option("--since", metavar="DAY", help="Only memory from this day on (YYYY-MM-DD).")]
UntilOpt = Annotated[Optional[str], typer.Option("--until", metavar="DAY", help="Only memory up to this day (YYYY-MM-DD).")]
SpeakerOpt = Annotated[Optional[str], typer.Option("--speaker", help="Only conversation units with this speaker.")]
SessionOpt = Annotated[Optional[str], typer.Option("--session", help="Only this conversation session id.")]
TagOpt = Annotated[Optional[list[str]], typer.Option(
    "--tag", "-t", metavar="TAG", help="Only notes with this tag (repeatable: any of them); a nested tag's parent matches it too.")]
AsOfOpt = Annotated[Optional[str], typer.Option(
    "--as-of", metavar="WHEN", help="Memory as it was then (YYYY-MM-DD: the end of that day, or a full ISO time): "
    "passages an edit or a newer fact replaced since come back, later ones do not; 'last March' is read relative to it.")]
SourceOpt = Annotated[Optional[list[str]], typer.Option(
    "--source", "-s", metavar="PATH", help="Only this file, or the files under this folder, or this source id (repeatable: any of them).")]


def search_filters(mem, **given):
    """SearchFilters from the shared options (None when none is given)."""
    from memcli.retrieve.filters import make_filters

    return make_filters(mem.sources, **given)
