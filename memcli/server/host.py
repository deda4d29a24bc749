"""The server's contract with the front end whose commands it runs (the CLI implements it in
memcli/cli/host.py): the server package never imports the CLI."""

from __future__ import annotations

from typing import Protocol


class Host(Protocol):
    """What the server needs from the front end whose commands it runs."""

    def settings(self, location: str):
        """The settings of the home at ``location`` (to warm its Memory up)."""

    def run(self, argv: list[str]) -> int:
        """Run one command with the process's (rebound) streams; its exit code."""

    def enter(self, provider, width: int | None) -> None:
        """Before a command: Memory objects come from ``provider``; render ``width`` columns."""

    def leave(self) -> None:
        """After a command: back to the server's own state."""
