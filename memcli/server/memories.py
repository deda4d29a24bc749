"""The resident Memory objects of one home: one per distinct settings (at most eight), sharing
the models they loaded, so the next command finds the embedder (and the GGUF) warm; dropped or
refreshed when another process wrote. Kept apart from daemon.py (the process, its socket and
its queue)."""

from __future__ import annotations

import os
from pathlib import Path

from memcli.paths import local_dir

MAX_MEMORIES = 8  # distinct settings held at once (a settings change per command is rare)


class Fallback(BaseException):
    """This request is not for this server (another home): the client runs it itself.
    A BaseException so that the CLI's error mapping lets it through."""


def _model_key(section: str, settings) -> str:
    """Models are shared between Memory objects whose settings of that section agree."""
    return f"{section}:{getattr(settings, section).model_dump_json()}"


def _model_label(key: str, model) -> str:
    kind = key.split(":", 1)[0]
    name = getattr(model, "name", None) or Path(str(getattr(model, "path", ""))).name or type(model).__name__
    return f"{kind}: {name} ({type(model).__name__})"


class Writes:
    """What other processes' writes mean for an open Memory, seen from the home's files: a new
    table set (or tables directory) means opening fresh stores, a new Tantivy commit a fresh
    searcher (LanceDB reads are consistent by themselves)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._sig: tuple | None = None

    def signature(self) -> tuple:
        def mtime(p: Path) -> int:
            try:
                return p.stat().st_mtime_ns
            except OSError:
                return 0

        lance = self.home / "lance"
        try:
            tables = tuple(sorted(os.listdir(lance)))
        except OSError:
            tables = ()
        return tables, mtime(lance), mtime(self.home / "tantivy" / "meta.json")

    def since_last(self) -> str | None:
        """"reopen", "refresh", or None (nothing changed, or the first look)."""
        sig, prev = self.signature(), self._sig
        self._sig = sig
        if prev is None or sig == prev:
            return None
        return "reopen" if sig[:2] != prev[:2] else "refresh"


class Memories:
    """The resident Memory objects of one home (see the module)."""

    def __init__(self, home: Path, location: str) -> None:
        self.home, self.location = home, location
        self._mems: dict[str, object] = {}
        self._models: dict[str, object] = {}
        self._writes = Writes(home)

    def fresh(self, settings):
        """A Memory of this home of its own (the page reads on one beside the main thread's),
        sharing the loaded embedder."""
        from memcli.memory import Memory

        return Memory(settings, embedder=self._models.get(_model_key("embed", settings)))

    def get(self, settings):
        """The resident Memory for these settings (models shared across settings)."""
        from memcli.memory import Memory

        if local_dir(settings.home).resolve() != self.home.resolve():
            raise Fallback(f"this server holds {self.location}")
        key = settings.model_dump_json()
        mem = self._mems.get(key)
        if mem is None:
            if len(self._mems) >= MAX_MEMORIES:
                self._mems.pop(next(iter(self._mems)))
            mem = Memory(settings, embedder=self._models.get(_model_key("embed", settings)),
                         generator=self._models.get(_model_key("llm", settings)))
            self._mems[key] = mem
        return mem

    def harvest(self) -> None:
        """Keep the models the last command loaded for the next one."""
        for mem in self._mems.values():
            if mem._embedder_loaded is not None:
                self._models.setdefault(_model_key("embed", mem.settings), mem._embedder_loaded)
            if mem._generator_loaded is not None:
                self._models.setdefault(_model_key("llm", mem.settings), mem._generator_loaded)

    def models(self) -> list[str]:
        """The loaded models, as `mem serve --status` lists them."""
        return sorted(_model_label(k, m) for k, m in self._models.items())

    def refresh(self) -> None:
        """Another process may have written: fresh stores, or a fresh searcher (Writes)."""
        change = self._writes.since_last()
        if change == "reopen":
            self._mems.clear()
        elif change == "refresh":
            for mem in self._mems.values():
                mem.refresh()
