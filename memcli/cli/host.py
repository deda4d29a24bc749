"""The CLI as the resident server's host: the server (memcli.server) runs these commands
without importing the CLI; `mem serve` hands it this object."""

from __future__ import annotations


class CliHost:
    def settings(self, location: str):
        from memcli.cli.context import state
        from memcli.config import load_settings

        return load_settings({"home": location}, path=state.config)

    def run(self, argv: list[str]) -> int:
        import importlib

        # the module: `memcli.cli.app` as an attribute is the Typer app (memcli/cli/__init__.py)
        return importlib.import_module("memcli.cli.app").run(argv)

    def enter(self, provider, width: int | None) -> None:
        from memcli.cli import render
        from memcli.cli.context import state

        state.provider = provider
        render.bind(width=width)

    def leave(self) -> None:
        from memcli.cli import render
        from memcli.cli.context import state

        state.provider = None
        render.bind()
