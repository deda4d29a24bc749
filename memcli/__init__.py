"""memcli: a local, private memory for documents and conversations.

The Python API (docs/python-api.md) is what this module names; everything else under
``memcli.*`` is internal and may change between versions::

    import memcli

    mem = memcli.open("~/memory")                 # a home directory (or s3://bucket/prefix)
    mem.ingest(["~/notes"], recursive=True)
    for hit in mem.search("who called about the swarm?", k=5):
        print(hit.rank, hit.uri, hit.line_start, hit.text[:80])
    print(mem.ask("what prize did the honey win?").answer)

Names load on first use: ``import memcli`` stays as cheap as the `mem` command needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memcli.version import __version__

# public name -> module that defines it
_PUBLIC = {
    "Memory": "memcli.memory",
    "Settings": "memcli.config",
    "SearchFilters": "memcli.types",
    "Hit": "memcli.types",
    "Source": "memcli.types",
    "UnitRecord": "memcli.types",
    "EntityView": "memcli.types",
    "Answer": "memcli.answer.result",
    "Citation": "memcli.answer.result",
    "IngestReport": "memcli.ingest.pipeline",
    "MemError": "memcli.errors",
    "NotFoundError": "memcli.errors",
    "LockBusyError": "memcli.errors",
    "hookimpl": "memcli.plugins",  # marks a plugin's hook (docs/plugins.md)
}
__all__ = ["__version__", "open", *_PUBLIC]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors
    from memcli.config import Settings
    from memcli.errors import LockBusyError, MemError, NotFoundError
    from memcli.ingest.pipeline import IngestReport
    from memcli.answer.result import Answer, Citation
    from memcli.memory import Memory
    from memcli.plugins import hookimpl
    from memcli.types import EntityView, Hit, SearchFilters, Source, UnitRecord


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        import importlib

        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'memcli' has no attribute {name!r}")


def open(home: str | None = None, **settings: Any) -> "Memory":  # noqa: A001 - memcli.open(home), like io.open
    """The memory at ``home`` (a directory or an object-store URI; default: $MEM_HOME, else
    ~/.local/share/memcli), with settings as `mem` reads them (config files, MEM_* env)
    and ``settings`` on top, by section: ``memcli.open(home, search={"k": 5})``."""
    from memcli.config import load_settings
    from memcli.memory import Memory

    flags: dict[str, Any] = {"home": str(home) if home is not None else None}

    def flatten(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                flatten(f"{prefix}.{k}", v)
        else:
            flags[prefix] = value

    for section, value in settings.items():
        flatten(section, value)
    return Memory(load_settings(flags))
