"""Plugins: pluggy hooks found through the ``memcli`` entry-point group (as simonw/llm does).

A plugin is a module with functions marked ``@memcli.hookimpl``::

    @memcli.hookimpl
    def register_readers(register):
        register([".org"], read_org)          # read(path) -> str (or a readers.base.Document)

    @memcli.hookimpl
    def register_embedders(register):     # embed.model: "name" or "name:arg"
        register("name", factory)             # factory(arg) -> an Embedder

    @memcli.hookimpl
    def register_importers(register):     # a chat export format
        register("name", detect, read)        # detect(json) -> bool; read(path, json) -> threads

    @memcli.hookimpl
    def register_commands(cli):
        @cli.command()
        def hello(): ...

and an entry point in its package metadata: ``[project.entry-points.memcli] org = "memcli_org"``.
The built-in readers, chat formats and test embedder register through the same hooks (``BUILTIN``), so a
plugin may also take a suffix over. A plugin that fails to import is recorded with its error
(`mem plugins`, `mem doctor`) and never stops `mem`.

Finding entry points scans every installed distribution (~50-80 ms); the result is cached
by the mtimes of the import path's folders, so a command pays it only after a package was
installed or removed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pluggy

GROUP = "memcli"
hookspec = pluggy.HookspecMarker(GROUP)
hookimpl = pluggy.HookimplMarker(GROUP)


class Specs:
    @hookspec
    def register_readers(self, register: Callable) -> None:
        """Call ``register(suffixes, read)``: files with these suffixes are read by ``read(path)``,
        which returns the text (str) or a ``memcli.ingest.readers.base.Document``."""

    @hookspec
    def register_embedders(self, register: Callable) -> None:
        """Call ``register(name, factory)``: ``embed.model: "name"`` or ``"name:arg"`` builds the
        embedder with ``factory(arg)`` (memcli.embed.base.Embedder: embed, embed_query,
        count_tokens, name, dim, max_tokens, abstain_floor)."""

    @hookspec
    def register_importers(self, register: Callable) -> None:
        """Call ``register(name, detect, read)`` for a chat export format: ``detect(data)`` says
        whether a parsed JSON file is one; ``read(path, data)`` returns its conversations as
        ``[(session id, title, [(turn id, speaker, text, time or None), ...]), ...]`` (or a
        Document). ``mem ingest --format name`` forces it."""

    @hookspec
    def register_commands(self, cli) -> None:
        """Add commands to the ``mem`` Typer app (``cli.command()``)."""


@dataclass
class Loaded:
    manager: pluggy.PluginManager
    plugins: list[dict] = field(default_factory=list)  # name, version, module, hooks
    failures: list[dict] = field(default_factory=list)  # name, error
    readers: dict[str, object] = field(default_factory=dict)  # suffix -> read callable, or a built-in kind
    embedders: dict[str, Callable] = field(default_factory=dict)  # name -> factory(arg)
    importers: dict[str, tuple[Callable, Callable, str]] = field(default_factory=dict)  # name -> (detect, read, by whom)


_loaded: Loaded | None = None
_entry_points: list[dict] | None = None  # once per process: app start-up and load() both ask


def _cache_path() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("MEM_PLUGIN_CACHE") or Path(user_cache_dir("memcli")) / "entry-points.json")


def _path_stamp() -> dict[str, float]:
    out = {}
    for p in sys.path:
        try:
            out[p] = os.stat(p or ".").st_mtime
        except OSError:
            continue
    return out


def entry_points() -> list[dict]:
    """The ``memcli`` entry points installed (name, value, dist, version), cached by path mtimes."""
    global _entry_points
    if _entry_points is None:
        _entry_points = _scan_entry_points()
    return _entry_points


def _scan_entry_points() -> list[dict]:
    stamp = _path_stamp()
    cache = _cache_path()
    try:
        data = json.loads(cache.read_text())
        if data.get("stamp") == stamp:
            return data["entry_points"]
    except (OSError, ValueError, KeyError):
        pass
    from importlib.metadata import entry_points as found

    eps = []
    for ep in found(group=GROUP):
        dist = getattr(ep, "dist", None)
        eps.append({"name": ep.name, "value": ep.value, "dist": dist.metadata["Name"] if dist else ep.name,
                    "version": dist.version if dist else ""})
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps({"stamp": stamp, "entry_points": eps}))
        tmp.replace(cache)
    except OSError:
        pass  # a read-only cache costs the scan, nothing else
    return eps


# memcli's own formats, chat exports and test embedder: modules with hookimpls, registered
# before any plugin through the same hooks (named as strings, so this module imports nothing
# above the bottom layer; llm loads its default plugins the same way).
BUILTIN = ("memcli.ingest.readers", "memcli.ingest.readers.chat", "memcli.embed")


def load() -> Loaded:
    """The plugin manager with the built-ins and every installed plugin (once per process)."""
    global _loaded
    if _loaded is not None:
        return _loaded
    import importlib

    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(Specs)
    for module in BUILTIN:
        pm.register(importlib.import_module(module), name=f"builtin:{module}")
    out = Loaded(pm)
    for ep in entry_points():
        try:
            module_name, _, attr = ep["value"].partition(":")
            obj = importlib.import_module(module_name)
            for part in filter(None, attr.split(".")):
                obj = getattr(obj, part)
            pm.register(obj, name=ep["name"])
        except Exception as e:  # a broken plugin is reported, never fatal
            out.failures.append(_failure(ep["name"], e, dist=ep["dist"], version=ep["version"]))
            continue
        hooks = sorted(h.name for h in pm.get_hookcallers(obj) or [])
        out.plugins.append({"name": ep["name"], "dist": ep["dist"], "version": ep["version"],
                            "module": ep["value"], "hooks": hooks})

    def register(suffixes: Iterable[str], read) -> None:
        for s in suffixes:
            s = s.lower() if s.startswith(".") else "." + s.lower()
            out.readers[s] = read

    def register_embedder(name: str, factory: Callable) -> None:
        out.embedders[name.lower()] = factory

    owner = ""  # the plugin whose hook is running

    def register_importer(name: str, detect: Callable, read: Callable) -> None:
        out.importers[name.lower()] = (detect, read, owner)

    # In registration order, built-ins first, so a plugin's registration of a suffix (or a
    # name) wins over memcli's own (.org: plain text without the org plugin, notes with it).
    for hook, fn in ((pm.hook.register_readers, register), (pm.hook.register_embedders, register_embedder),
                     (pm.hook.register_importers, register_importer)):
        for impl in hook.get_hookimpls():
            owner = impl.plugin_name
            try:
                impl.function(fn)
            except Exception as e:
                out.failures.append(_failure(impl.plugin_name, e, hook=hook.name))
    _loaded = out
    return out


def _failure(name: str, e: Exception, *, hook: str = "", dist: str = "", version: str = "") -> dict:
    """A plugin that failed (to import, or in a hook): what `mem plugins` and `mem doctor` show."""
    return {"name": name, "dist": dist, "version": version,
            "error": f"{hook + ': ' if hook else ''}{type(e).__name__}: {e}"}


def add_commands(app) -> None:
    """Plugins' commands on the Typer app; only when a plugin is installed (no import cost else)."""
    if not entry_points():
        return
    loaded = load()
    for impl in loaded.manager.hook.register_commands.get_hookimpls():
        try:
            impl.function(app)
        except Exception as e:
            loaded.failures.append(_failure(impl.plugin_name, e, hook="register_commands"))


def reader_for(suffix: str):
    """A built-in kind (str), a plugin's read callable, or None."""
    return load().readers.get(suffix.lower())


def embedder_factory(model: str):
    """(factory, arg) when a registered embedder names ``model`` ("fake:64", "myplugin:x"), else None."""
    name, _, arg = model.partition(":")
    factory = load().embedders.get(name.lower())
    return (factory, arg) if factory else None


def chat_formats() -> list[str]:
    """Every chat export format `--format` accepts: jsonl (by suffix) and the importers'."""
    return ["jsonl", *sorted(load().importers)]


def importers() -> list[tuple[str, Callable, Callable]]:
    """(name, detect, read), plugins' first: a plugin may claim a file before the built-ins."""
    ranked = sorted(load().importers.items(), key=lambda item: item[1][2].startswith("builtin:"))  # stable
    return [(name, detect, read) for name, (detect, read, _) in ranked]


def report() -> dict:
    """What `mem plugins` shows: installed plugins with their hooks, and the ones that failed."""
    loaded = load()
    return {"plugins": loaded.plugins, "failed": loaded.failures, "embedders": sorted(loaded.embedders),
            "chat_formats": chat_formats(),
            "readers": {s: (r if isinstance(r, str) else f"{getattr(r, '__module__', '?')}.{getattr(r, '__name__', '?')}")
                        for s, r in sorted(loaded.readers.items())}}


def reset() -> None:
    """Forget the loaded plugins (tests install one into a temporary path)."""
    global _loaded, _entry_points
    _loaded = _entry_points = None
