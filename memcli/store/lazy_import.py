"""Import lancedb without the half second its REST namespace client costs a cold process.

``import lancedb`` imports ``lance_namespace``, which imports the generated OpenAPI client
``lance_namespace_urllib3_client``: its package ``__init__`` loads every API class and all
~160 pydantic request/response models (0.45 s of a 1.2 s import on this machine). memcli
opens tables on a directory or an object store, never through a REST namespace, so nearly
all of that is dead weight for a `mem search` that must answer in under a second.

The client package is therefore imported *deferred*: its submodules import normally (its
``__path__`` is the real one), the package ``__init__`` runs on the first attribute it does
not yet have, and a model named in ``from …models import Name`` is loaded from its own
module (the generator's convention: ``CreateTableRequest`` lives in
``models/create_table_request.py``), falling back to the whole ``__init__`` when the
convention does not hold. Nothing is stubbed: every name resolves to the real object, so
a namespace connection still works. (``lancedb.embeddings`` is not deferred: its providers
register themselves on import, and a table that names one must find it: 45 ms kept.)

``lance_namespace`` itself re-exports ~110 of those models (``from …models import (…)``) only
to annotate the methods of its abstract namespace class, and building them was still ~0.15 s
of a cold command. It is compiled with postponed annotations, without that import, and each
model (and its backwards-compatible alias) becomes a module attribute loaded on first use
(PEP 562): lancedb's own imports load ~20 models, ``from lance_namespace import *`` all of
them, as before.

``overrides.override``, which lancedb puts on ~100 methods, disassembles the caller's
bytecode to find base classes — a definition-time check by and for lancedb's developers
that costs ~0.1 s per process; it is a pass-through (marking ``__override__``, as the real
one does) while lancedb's modules load, and restored right after.

pyarrow asks whether pandas is installed the first time it converts a Python value (a
``pa.scalar(True)`` while ``pyarrow._dataset`` loads) and imports all of pandas (0.2 s) to
answer. A process that owns its imports and never hands pyarrow a pandas object — a `mem`
command, the resident server — calls ``withhold_pandas()`` first: the probe is told "not
installed" once (pyarrow remembers), and pandas itself stays importable for anyone who
imports it. A library user's process (`import memcli` in a notebook) is never affected.

tests/store/test_lazy_import.py pins all of this; if a lancedb upgrade stops importing one of
these packages, its finder entry is simply never asked.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys
import threading
import types

from memcli.malloc import tame

# The deferred packages, and where a missing name is looked for before the package's own
# ``__init__`` runs: "snake" (the generated client's one-model-per-module convention) or
# the submodules to try in order.
DEFERRED: dict[str, str | tuple[str, ...]] = {
    "lance_namespace_urllib3_client": (),
    "lance_namespace_urllib3_client.models": "snake",
}
# Modules whose ``from PKG import (…)`` of the generated models is made lazy instead: the
# module is compiled with postponed annotations (the models only annotate its methods) and
# each model becomes a module attribute resolved on first use (PEP 562).
LAZY_MODELS: dict[str, str] = {"lance_namespace": "lance_namespace_urllib3_client.models"}
_ALIAS = re.compile(r"^(\w+) = (\w+)[ \t]*$", re.M)
_lock = threading.RLock()


def _module_name(class_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


class _DeferredPackage(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        d = self.__dict__
        with _lock:
            if not d.get("_memcli_full"):
                where = d["_memcli_where"]
                for sub in [_module_name(name)] if where == "snake" else where:
                    try:
                        mod = importlib.import_module(f"{self.__name__}.{sub}")
                    except ImportError:
                        continue
                    if hasattr(mod, name):
                        return getattr(mod, name)
                d["_memcli_full"] = True
                exec(d.pop("_memcli_code"), d)  # the real __init__, into this very module
        if name in d:
            return d[name]
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self) -> None:
        self._real: dict[str, importlib.machinery.ModuleSpec] = {}
        self._lazy: dict[str, tuple] = {}

    def find_spec(self, fullname, path, target=None):
        if fullname not in DEFERRED and fullname not in LAZY_MODELS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.submodule_search_locations or not hasattr(spec.loader, "get_code"):
            return None  # not installed, or not a plain package: import it the usual way
        if fullname in LAZY_MODELS:
            lazy = _lazy_models_code(spec, LAZY_MODELS[fullname])
            if lazy is None:
                return None  # its source no longer has that shape: the usual way
            self._lazy[fullname] = lazy
        self._real[fullname] = spec
        return importlib.machinery.ModuleSpec(fullname, self, origin=spec.origin, is_package=True)

    def create_module(self, spec):
        return None if spec.name in LAZY_MODELS else _DeferredPackage(spec.name)

    def exec_module(self, module) -> None:
        real = self._real[module.__name__]
        if module.__name__ in self._lazy:
            code, names, aliases = self._lazy.pop(module.__name__)
            module.__path__ = list(real.submodule_search_locations)
            module.__file__ = real.origin
            module.__getattr__ = _model_getter(module, LAZY_MODELS[module.__name__], names, aliases)
            exec(code, module.__dict__)
            return
        module.__path__ = list(real.submodule_search_locations)
        module.__file__ = real.origin
        module.__dict__["_memcli_code"] = real.loader.get_code(module.__name__)
        module.__dict__["_memcli_where"] = DEFERRED[module.__name__]


def _lazy_models_code(spec, models: str):
    """The module's code without its ``from <models> import (…)`` (and the ``X = Model``
    aliases of those names), compiled with postponed annotations; None when the source does
    not have that one plain parenthesised import."""
    import __future__

    try:
        src = spec.loader.get_source(spec.name)
    except (ImportError, OSError):
        return None
    found = list(re.finditer(r"^from %s import \(([^)]*)\)" % re.escape(models), src or "", re.M))
    if len(found) != 1 or " as " in found[0].group(1):
        return None
    m = found[0]
    names = set(re.findall(r"\w+", m.group(1)))
    src = src[:m.start()] + "\n" * m.group(0).count("\n") + src[m.end():]  # line numbers kept
    aliases: dict[str, str] = {}

    def alias(a: re.Match) -> str:
        if a.group(2) not in names:
            return a.group(0)
        aliases[a.group(1)] = a.group(2)
        return ""

    src = _ALIAS.sub(alias, src)
    return compile(src, spec.origin, "exec", flags=__future__.annotations.compiler_flag, dont_inherit=True), names, aliases


def _model_getter(module, models: str, names: set[str], aliases: dict[str, str]):
    def __getattr__(name: str):
        real = aliases.get(name, name)
        if real not in names:
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(models), real)
        setattr(module, name, value)
        return value

    return __getattr__


_withhold_pandas = False


def withhold_pandas() -> None:
    """This process never gives pyarrow a pandas object: skip pyarrow's pandas probe."""
    global _withhold_pandas
    _withhold_pandas = True


class _NoPandas(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname == "pandas":
            raise ImportError("pandas is withheld from pyarrow's probe in a mem process")
        return None


def _answer_pyarrows_pandas_probe() -> None:
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.scalar(True)  # the probe runs here, once per process, and hears "not installed"
    finally:
        sys.meta_path.remove(finder)


def import_lancedb():
    """``lancedb``, imported with its REST namespace client deferred."""
    if "lancedb" in sys.modules:
        return sys.modules["lancedb"]
    if _withhold_pandas:
        _answer_pyarrows_pandas_probe()
    tame()  # bound glibc's heaps before LanceDB's and Tantivy's native threads start
    with _lock:
        if not any(isinstance(f, _Finder) for f in sys.meta_path):
            sys.meta_path.insert(0, _Finder())
        with _plain_override():
            return importlib.import_module("lancedb")


def _mark_override(method=None, **_checks):
    def mark(m):
        try:
            m.__override__ = True
        except AttributeError:
            pass
        return m

    return mark if method is None else mark(method)


@contextlib.contextmanager
def _plain_override():
    try:
        import overrides
    except ImportError:  # a lancedb that no longer uses it
        yield
        return
    saved = overrides.override, overrides.overrides
    overrides.override = overrides.overrides = _mark_override
    try:
        yield
    finally:
        overrides.override, overrides.overrides = saved
