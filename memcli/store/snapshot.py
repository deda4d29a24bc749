"""What a search reads from LanceDB, kept beside it so that a cold `mem search` needs no LanceDB.

A command without a resident server spent about half its wall time importing LanceDB and
pyarrow (0.55–0.7 s of 1.4 s on this project's slower 2-core box) to read a few things: the
live units' vectors (an exact scan: below ``search.ann_min_units`` LanceDB has no ANN index
either), which candidates are live, the sources the hits show, bridging's note titles, and
a conversation home's turn vectors. The rows themselves come from Tantivy's sealed document store already. So the writer, at the
end of every write it holds the lock for, saves those few things here: the vectors as one
``.npy`` (memory-mapped, the table's own dtype, so the scores are LanceDB's), the rest as
one JSON file that names it. Both are written under new names and swapped in with a rename,
so a reader sees a whole snapshot or the previous one.

A snapshot stands for the table versions it was written from. A reader lists each table's
``_versions`` directory (a few directory reads, no LanceDB) and uses the snapshot only when
every version matches; anything else — a newer write, a filter, a conversation home's turn
vectors, a home past the size cap — goes to LanceDB as before, with the same answers.

Like Tantivy it holds derived data only, and no unit's text: unit ids, vectors, per source its
uri, title and content hash (the key of its sealed rows), and per conversation turn only the
head that names its speaker ("[8 May, 2023] Caroline:"). A forget rewrites it without the
forgotten sources, and a write that cannot write it removes it.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import numpy as np

from memcli.store.query import UnitFilter
from memcli.types import Source

DIR = "snapshot"
META = "snapshot.json"
FORMAT = 1
TABLES = ("units", "sources", "turn_vectors", "relations")  # what a search reads, by version
_MAX_U64 = 2**64 - 1


def table_versions(lance_dir: Path) -> dict[str, list[int] | None]:
    """Each table's newest version, with its manifest's size and modification time (a table
    dropped and made again — a reindex — counts its versions from 1 again), read with
    directory listings only; None: no such table. Lance names a version's manifest
    ``{v}.manifest`` or, in its newer scheme, ``{2**64 - 1 - v:020}.manifest`` (so that the
    newest lists first)."""
    out: dict[str, list[int] | None] = {}
    for name in TABLES:
        d = lance_dir / f"{name}.lance" / "_versions"
        try:
            names = os.listdir(d)
        except OSError:
            out[name] = None
            continue
        best, file = None, None
        for n in names:
            if n.endswith(".manifest") and n[:-9].isdigit():
                v = int(n[:-9])
                v = _MAX_U64 - v if v > 2**63 else v
                if best is None or v > best:
                    best, file = v, n
        try:
            st = os.stat(d / file) if file else None
        except OSError:
            st = None
        out[name] = None if st is None else [best, st.st_size, st.st_mtime_ns]
    return out


def drop(home: Path) -> None:
    """Remove the snapshot (a write that could not bring it up to date; a reindex)."""
    d = Path(home) / DIR
    try:
        for p in d.iterdir():
            p.unlink(missing_ok=True)
    except OSError:
        pass


def write(home: Path, lance_dir: Path, lance, aliases: tuple[int, list[tuple[str, str]]], cap: int) -> bool:
    """Bring the snapshot up to the tables' current versions (the writer, under its lock).
    The vectors are read again only when the live units changed (an access count, a pin's
    flag or a source's row do not change them). False (and no snapshot): a home without
    units, with conversation turns, or past ``cap`` units."""
    d = Path(home) / DIR
    before = table_versions(lance_dir)
    t = lance.units_table()
    if t is None or before["units"] is None:
        drop(home)
        return False
    live = lance.committed(["id", "source_id", "level"])
    n = 0 if live is None else live.num_rows
    if n == 0 or n >= cap:
        drop(home)
        return False
    ids = live.column("id").to_pylist()
    fp = lance.fingerprint()
    old = _read_meta(d)
    vec_name = None
    turns = _turns(lance) if before["turn_vectors"] is not None else None
    if turns is not None and len(turns[0]) >= cap:
        drop(home)
        return False
    if (old is not None and old.get("ids") == ids and old.get("fingerprint") == fp and (d / old["vectors"]).is_file()
            and (old.get("turns") or {}).get("units") == (turns[0] if turns else None)):
        vec_name = old["vectors"]
    else:
        vecs = lance.vectors_of(ids)
        dtype = np.float16 if str(t.schema.field("vector").type.value_type) == "halffloat" else np.float32
        mat = np.stack([np.asarray(vecs[u], dtype=dtype) for u in ids]) if ids else np.zeros((0, 0), dtype)
        d.mkdir(parents=True, exist_ok=True)
        vec_name = f"vectors-{uuid.uuid4().hex[:12]}.npy"
        _save(d / vec_name, mat)
        if turns is not None:
            _save(d / vec_name.replace("vectors-", "vectors-turns-"), turns[2])
    sources = {s.source_id: s.to_dict() for s in lance.sources()}
    src_ids = sorted(sources)
    index = {sid: i for i, sid in enumerate(src_ids)}
    meta = {
        "format": FORMAT, "versions": before, "fingerprint": fp, "vectors": vec_name, "ids": ids,
        "source": [index.get(s, -1) for s in live.column("source_id").to_pylist()],
        "level": [int(v or 0) for v in live.column("level").to_pylist()],
        "sources": [sources[s] for s in src_ids], "aliases": [aliases[0], [list(a) for a in aliases[1]]],
        "turns": {"units": turns[0], "heads": turns[1]} if turns is not None else None,
    }
    if table_versions(lance_dir) != before:  # written to while read: the next write saves it
        drop(home)
        return False
    tmp = d / f".{META}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(json.dumps(meta, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, d / META)
    keep = {vec_name, vec_name.replace("vectors-", "vectors-turns-")}
    for p in d.iterdir():  # earlier vector files (a reader holding one open keeps its copy), a killed write's leftovers
        if (p.name.startswith("vectors-") and p.name not in keep) or p.name.startswith(f".{META}."):
            p.unlink(missing_ok=True)
    return True


def _save(path: Path, mat: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, mat)
        f.flush()
        os.fsync(f.fileno())


def _turns(lance) -> tuple[list[str], list[str], np.ndarray] | None:
    """A conversation home's turn vectors: each turn's unit, the speaker head of its text
    (all the speaker boost reads: "[1:56 pm on 8 May, 2023] Caroline:"), its vector."""
    from memcli.store.turns import turn_head

    t = lance.turns.table()
    if t is None:
        return None
    rows = t.to_arrow()
    vecs = np.asarray(rows.column("vector").to_pylist(), dtype=np.float32).reshape(rows.num_rows, -1)
    return (rows.column("unit_id").to_pylist(), [turn_head(x) for x in rows.column("text").to_pylist()], vecs)


def _read_meta(d: Path) -> dict | None:
    try:
        meta = json.loads((d / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == FORMAT else None


def load(home: Path, lance_dir: Path) -> "SnapshotReads | None":
    """The snapshot when it stands for the tables' current versions, else None."""
    d = Path(home) / DIR
    meta = _read_meta(d)
    if meta is None or meta.get("versions") != table_versions(lance_dir):
        return None
    try:
        vectors = np.load(d / meta["vectors"], mmap_mode="r")
        turns = (None if not meta.get("turns") else
                 np.load(d / meta["vectors"].replace("vectors-", "vectors-turns-"), mmap_mode="r"))
    except (OSError, ValueError, KeyError):
        return None
    return SnapshotReads(meta, vectors, lance_dir, turns)


def _cosines(m: np.ndarray, q: np.ndarray) -> np.ndarray:
    """LanceDB's cosine (1 - its distance) of each row of ``m`` to ``q``."""
    m = np.asarray(m, dtype=np.float32)
    q = np.asarray(q, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1) * max(float(np.linalg.norm(q)), 1e-12)
    return (m @ q) / np.maximum(norms, 1e-12)


class _Turns:
    """TurnStore's two reads, from the snapshot (None: a home without turn vectors)."""

    def __init__(self, meta: dict | None, vectors: np.ndarray | None) -> None:
        self.units = meta["units"] if meta else []
        self.heads = meta["heads"] if meta else []
        self.vectors = vectors

    def table(self):
        return self if self.vectors is not None else None

    def search(self, vector, n: int, boost=lambda text: 0.0) -> list[tuple[str, float]]:
        sims = _cosines(self.vectors, vector)
        best: dict[str, float] = {}
        for i in np.argsort(-sims, kind="stable")[:n]:
            sc = float(sims[i]) + boost(self.heads[i])
            u = self.units[i]
            best[u] = max(best.get(u, -9.0), sc)
        return sorted(best.items(), key=lambda x: -x[1])

    def best_of(self, unit_ids, vector, boost=lambda text: 0.0) -> dict[str, float]:
        want = set(unit_ids)
        rows = [i for i, u in enumerate(self.units) if u in want]
        if not rows:
            return {}
        sims = _cosines(self.vectors[rows], vector)
        out: dict[str, float] = {}
        for i, s in zip(rows, sims):
            u = self.units[i]
            out[u] = max(out.get(u, -9.0), float(s) + boost(self.heads[i]))
        return out


class _Version:
    def __init__(self, version: int | None) -> None:
        self.version = version


_LEAVES = UnitFilter(level=0)


class SnapshotReads:
    """The read methods a default search calls on LanceStore, answered from the snapshot;
    every other attribute (and a call it cannot answer: a filter, another column) goes to
    the real store, opened then (``real``, set by the one who made this)."""

    def __init__(self, meta: dict, vectors: np.ndarray, lance_dir: Path, turns: np.ndarray | None = None) -> None:
        self.meta = meta
        self.vectors = vectors
        self.lance_dir = lance_dir
        self.versions = meta["versions"]  # {table: [version, manifest size, manifest mtime]}
        self.ids: list[str] = meta["ids"]
        self.row_of = {u: i for i, u in enumerate(self.ids)}
        self.level = np.asarray(meta["level"], dtype=np.int32)
        self.source_ix = np.asarray(meta["source"], dtype=np.int32)
        self.source_rows = meta["sources"]
        self._sources: dict[str, Source] | None = None
        self.real = None  # () -> LanceStore
        self.turns = _Turns(meta.get("turns"), turns)

    def __getattr__(self, name: str):
        if name.startswith("__") or self.__dict__.get("real") is None:
            raise AttributeError(name)
        return getattr(self.real(), name)

    def fresh(self) -> bool:
        return table_versions(self.lance_dir) == self.versions

    # --- what a search asks -------------------------------------------------------------
    def units_table(self, fp: dict[str, object] | None = None, **kw):
        if kw or (fp is not None and self.meta["fingerprint"] != {k: str(v) for k, v in fp.items()}):
            return self.real().units_table(fp, **kw)  # a mismatch: the store says so, as always
        return _Version(self.versions["units"][0])

    def sources_table(self):
        return _Version(self.versions["sources"][0])

    def has_summaries(self) -> bool:
        return bool((self.level > 0).any())

    def _mask(self, where) -> np.ndarray | None:
        """Rows a filter keeps: none, or leaves only; None: a filter the snapshot cannot apply."""
        if where is None:
            return np.ones(len(self.ids), dtype=bool)
        if where == _LEAVES:
            return self.level == 0
        return None

    def dense_search(self, vector, k: int, columns, *, ann_nprobes: int = 20, ann_refine: int = 5, where=None):
        keep = self._mask(where)
        if keep is None or list(columns) != ["id"]:
            return self.real().dense_search(vector, k, columns, ann_nprobes=ann_nprobes, ann_refine=ann_refine,
                                            where=where)
        sims = np.where(keep, _cosines(self.vectors, vector), -np.inf)
        top = np.argsort(-sims, kind="stable")[: min(k, int(keep.sum()))]
        return [{"id": self.ids[i], "_distance": float(1.0 - sims[i])} for i in top]

    def units_by_ids(self, ids, columns=None, where=None) -> dict[str, dict]:
        keep = self._mask(where)
        if keep is None or columns is None or list(columns) != ["id"]:
            return self.real().units_by_ids(ids, columns, where=where)
        return {u: {"id": u} for u in ids if (i := self.row_of.get(u)) is not None and keep[i]}

    def _source_map(self) -> dict[str, Source]:
        if self._sources is None:
            from datetime import datetime

            self._sources = {r["source_id"]: Source(**{**r, "ingested_at": datetime.fromisoformat(r["ingested_at"])})
                             for r in self.source_rows}
        return self._sources

    def sources_by_ids(self, ids) -> dict[str, Source]:
        m = self._source_map()
        return {i: m[i] for i in ids if i in m}

    def source_titles(self) -> list[tuple[str, str]]:
        return [(r["source_id"], r["title"]) for r in self.source_rows]

    def vectors_of(self, ids) -> dict[str, np.ndarray]:
        return {u: np.asarray(self.vectors[i], dtype=np.float32) for u in ids if (i := self.row_of.get(u)) is not None}

    def leaves_of(self, source_ids, columns, limit: int) -> list[dict]:
        """Bridging's linked notes: their rows from Tantivy's sealed store (``lexical``, set
        by the one who made this), opened with the source's key, and their vectors."""
        from memcli.store.lexical import ROW_COLUMNS

        cols = list(columns)
        lexical = self.__dict__.get("lexical")
        if lexical is None or not lexical.has_rows or not set(cols) <= {*ROW_COLUMNS, "vector"}:
            return self.real().leaves_of(source_ids, columns, limit)
        asked = set(source_ids)
        wanted = [i for i, r in enumerate(self.source_rows) if r["source_id"] in asked]
        rows = np.flatnonzero(np.isin(self.source_ix, wanted) & (self.level == 0))[:limit]
        opened = lexical.open_rows([self.ids[i] for i in rows], self.sources_by_ids)
        if len(opened) < len(rows):  # some not sealed with their source's current key: LanceDB has them
            return self.real().leaves_of(source_ids, columns, limit)
        out = []
        for i in rows:
            row = opened[self.ids[i]]
            row["vector"] = np.asarray(self.vectors[i], dtype=np.float32)
            out.append({c: row[c] for c in cols})
        return out

    def aliases(self) -> tuple[int, list[tuple[str, str]]]:
        v, pairs = self.meta["aliases"]
        return v, [tuple(p) for p in pairs]
