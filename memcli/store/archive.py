"""`mem export` / `mem import`: a whole memory as one portable file.

The archive is a plain tar of Arrow IPC files, one per table (sources; units with their
vectors, provenance, states, supersede links, pins and access counts; turn vectors; the
graph tables), and a ``manifest.json`` with the format, the embedder fingerprint and row
counts. Arrow keeps vectors bit-exact and every column typed; tar keeps it one file that any
machine can read without memcli. Derived data (the Tantivy index, the igraph cache, ANN
indexes) is not stored: import rebuilds it.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

from memcli.errors import ConfigError

FORMAT = "memcli-archive/1"
TABLES = ("sources", "units", "turn_vectors", "entities", "mentions", "relations", "extractions")


def write_archive(path: Path, tables: dict, manifest: dict) -> int:
    """Write ``tables`` (name -> pyarrow.Table) and ``manifest``; returns the file's size.
    Written beside the target and renamed: a failed export never leaves half a file."""
    import pyarrow as pa

    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    manifest = {**manifest, "format": FORMAT, "tables": {n: t.num_rows for n, t in tables.items()}}
    try:
        with tarfile.open(tmp, "w") as tar:
            _add(tar, "manifest.json", json.dumps(manifest, indent=2, default=str).encode())
            for name, table in tables.items():
                sink = io.BytesIO()
                with pa.ipc.new_file(sink, table.schema) as w:
                    w.write_table(table)
                _add(tar, f"{name}.arrow", sink.getvalue())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path.stat().st_size


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def read_archive(path: Path) -> tuple[dict, dict]:
    """(manifest, name -> pyarrow.Table). A file that is not a memcli archive is a clear error."""
    import pyarrow as pa

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no such archive: {path}")
    try:
        with tarfile.open(path, "r") as tar:
            names = {m.name: m for m in tar.getmembers() if m.isfile()}
            if "manifest.json" not in names:
                raise ConfigError(f"{path} is not a memcli archive (no manifest.json)",
                                  hint="make one with `mem export FILE`")
            manifest = json.loads(tar.extractfile(names["manifest.json"]).read())
            if manifest.get("format") != FORMAT:
                raise ConfigError(f"{path}: unknown archive format {manifest.get('format')!r} (this mem reads {FORMAT})")
            tables = {}
            for name in TABLES:
                member = names.get(f"{name}.arrow")
                if member is not None:
                    tables[name] = pa.ipc.open_file(pa.BufferReader(tar.extractfile(member).read())).read_all()
    except (tarfile.TarError, pa.ArrowInvalid, ValueError, OSError) as e:
        raise ConfigError(f"{path} is not a readable memcli archive: {e}") from None
    for name, n in (manifest.get("tables") or {}).items():
        if name in tables and tables[name].num_rows != n:
            raise ConfigError(f"{path}: table {name} has {tables[name].num_rows} rows, the manifest says {n}")
    if "units" in tables and "sources" not in tables:
        raise ConfigError(f"{path}: units without their sources")
    return manifest, tables
