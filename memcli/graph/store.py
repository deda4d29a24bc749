"""LanceDB tables for graph memory, next to ``units``:

- ``entities``: one row per normalised name (id), its display name and an embedding of it;
- ``mentions``: entity -> unit ("mentioned in"), with the unit's source, the entity as the
  unit writes it, and its type there (person, place, note, …): an entity is shown by its
  most frequent spelling and type;
- ``relations``: (subject, relation, object) between entity ids, with unit and source;
- ``extractions``: the LLM extractor's output per unit content hash (a cache: re-ingesting
  unchanged text costs nothing), and whether it was usable.

Rows are written while the units are still pending, under the same journal, so a crash
leaves nothing that recovery does not wipe; forgetting a source deletes its mentions and
relations, then the entities nothing mentions any more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from memcli.store.query import chunks, in_list, lit


def _schemas(dim: int):
    import pyarrow as pa

    return {
        "entities": pa.schema([("id", pa.string()), ("name", pa.string()), ("vector", pa.list_(pa.float32(), dim))]),
        "mentions": pa.schema([("entity_id", pa.string()), ("unit_id", pa.string()), ("source_id", pa.string()),
                               ("name", pa.string()), ("type", pa.string())]),
        "relations": pa.schema([("subject", pa.string()), ("relation", pa.string()), ("object", pa.string()),
                                ("unit_id", pa.string()), ("source_id", pa.string())]),
        "extractions": pa.schema([("key", pa.string()), ("extractor", pa.string()), ("ok", pa.bool_()),
                                  ("json", pa.string())]),
    }


class GraphStore:
    def __init__(self, db, read_only: bool = False) -> None:
        """``read_only``: a copy of another store's tables (store/mirror.py): never migrated here."""
        self.db = db
        self.read_only = read_only
        self._tables: dict[str, object] = {}

    def _exists(self, name: str) -> bool:
        return name in self.db.list_tables(limit=1000).tables

    def table(self, name: str, dim: int | None = None):
        if name not in self._tables:
            if self._exists(name):
                t = self.db.open_table(name)
                if name == "mentions" and "type" not in t.schema.names and not self.read_only:  # a home from before types
                    from memcli.store.schema import add_missing_columns

                    add_missing_columns(t, _schemas(1)[name])
                self._tables[name] = t
            elif dim is not None and not self.read_only:
                self._tables[name] = self.db.create_table(name, schema=_schemas(dim)[name], exist_ok=True)
            else:
                return None
        return self._tables[name]

    def refresh(self) -> None:
        """The latest version of every open graph table (see LanceStore.refresh)."""
        for t in self._tables.values():
            t.checkout_latest()

    def exists(self) -> bool:
        return self._exists("mentions")

    def versions(self) -> dict[str, int]:
        """Table versions: the graph cache is stale when any of them moved."""
        return {n: int(t.version) for n in ("entities", "mentions", "relations")
                if (t := self.table(n)) is not None}

    # -- writes -----------------------------------------------------------------------
    def known_entities(self, ids: Sequence[str]) -> set[str]:
        t = self.table("entities")
        if t is None or not ids:
            return set()
        out = set()
        for part in chunks(ids):
            rows = t.search().where(in_list("id", part)).select(["id"]).limit(None).to_arrow()
            out.update(rows.column("id").to_pylist())
        return out

    def add(self, entities: dict[str, str], vectors: np.ndarray | None, mentions: Iterable[tuple[str, str, str, str, str]],
            relations: Iterable[tuple[str, str, str, str, str]], dim: int) -> None:
        """New entities (id -> name, with their vectors), and mention/relation rows."""
        if entities:
            ids = list(entities)
            self.table("entities", dim).add([{"id": i, "name": entities[i], "vector": vectors[n].tolist()}
                                             for n, i in enumerate(ids)])
        # Mentions last: `mem graph build` treats a unit with mentions as done, so a crash
        # before them leaves the unit to be extracted again, never half-done.
        r = [{"subject": a, "relation": rel, "object": b, "unit_id": u, "source_id": s}
             for a, rel, b, u, s in relations]
        if r:
            self.table("relations", dim).add(r)
        m = [{"entity_id": e, "unit_id": u, "source_id": s, "name": n, "type": k} for e, u, s, n, k in mentions]
        if m:
            self.table("mentions", dim).add(m)

    def drop_unmentioned(self) -> int:
        ents, men = self.table("entities"), self.table("mentions")
        if ents is None or men is None:
            return 0
        used = set(men.search().select(["entity_id"]).limit(None).to_arrow().column("entity_id").to_pylist())
        have = ents.search().select(["id"]).limit(None).to_arrow().column("id").to_pylist()
        gone = [e for e in have if e not in used]
        for part in chunks(gone):
            ents.delete(in_list("id", part))
        return len(gone)

    def delete_units(self, unit_ids: Sequence[str]) -> None:
        for name in ("mentions", "relations"):
            t = self.table(name)
            if t is not None:
                for part in chunks(unit_ids):
                    t.delete(in_list("unit_id", part))

    def dump(self) -> dict:
        """The graph tables as Arrow (`mem export`)."""
        return {n: t.to_arrow() for n in ("entities", "mentions", "relations", "extractions")
                if (t := self.table(n)) is not None}

    def restore(self, tables: dict, dim: int) -> None:
        """Rows of an archive's graph tables; entities (and cached extractions) this home
        already has are kept, not duplicated."""
        import pyarrow as pa
        import pyarrow.compute as pc

        for name, key in (("entities", "id"), ("extractions", "key"), ("relations", None), ("mentions", None)):
            rows = tables.get(name)
            if rows is None or rows.num_rows == 0:
                continue
            t = self.table(name, dim)
            for f in t.schema:  # an archive from before a column existed
                if f.name not in rows.column_names:
                    rows = rows.append_column(f.name, pa.nulls(rows.num_rows, f.type))
            if key is not None:
                have = set(self.all(name, [key]).column(key).to_pylist())
                if have:
                    rows = rows.filter(pc.invert(pc.is_in(rows.column(key), value_set=pa.array(sorted(have), pa.string()))))
            if rows.num_rows:
                t.add(rows.cast(t.schema))

    # -- extraction cache -------------------------------------------------------------
    def cached(self, keys: Sequence[str], extractor: str) -> dict[str, tuple[bool, str]]:
        t = self.table("extractions")
        if t is None or not keys:
            return {}
        out = {}
        for part in chunks(keys):
            rows = t.search().where(f"extractor = {lit(extractor)} AND {in_list('key', part)}").select(
                ["key", "ok", "json"]).limit(None).to_arrow().to_pylist()
            out.update({r["key"]: (r["ok"], r["json"]) for r in rows})
        return out

    def cache(self, rows: Sequence[tuple[str, str, bool, str]], dim: int) -> None:
        if rows:
            self.table("extractions", dim).add([{"key": k, "extractor": e, "ok": ok, "json": j}
                                                for k, e, ok, j in rows])

    # -- reads ------------------------------------------------------------------------
    def all(self, name: str, columns: Sequence[str]):
        t = self.table(name)
        if t is None:
            return None
        return t.search().select(list(columns)).limit(None).to_arrow()

    def entity_name(self, entity_id: str) -> str | None:
        t = self.table("entities")
        if t is None:
            return None
        hit = t.search().where(f"id = {lit(entity_id)}").select(["name"]).limit(1).to_arrow().to_pylist()
        return hit[0]["name"] if hit else None

    def aliases(self) -> tuple[int, list[tuple[str, str]]]:
        """(relations table version, [(alias, title)]) of every "alias of" relation, as display
        names: the other names a note's [[links]] may use (graph/index.py)."""
        t = self.table("relations")
        if t is None:
            return 0, []
        cached = getattr(self, "_alias_cache", None)
        if cached is not None and cached[0] == int(t.version):  # one read per table version, not per query
            return cached
        rows = t.search().where("relation = 'alias of'").select(["subject", "object"]).limit(None).to_arrow().to_pylist()
        names = self.entity_names([e for r in rows for e in (r["subject"], r["object"])])
        self._alias_cache = (int(t.version), [(names.get(r["subject"], r["subject"]), names.get(r["object"], r["object"]))
                                              for r in rows])
        return self._alias_cache

    def entities_starting(self, prefix: str, limit: int = 12) -> list[str]:
        """Display names of entities whose (case-folded) id starts with ``prefix``."""
        t = self.table("entities")
        if t is None:
            return []
        pat = prefix.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        rows = t.search().where(f"id LIKE {lit(pat)}").select(["name"]).limit(limit).to_arrow().to_pylist()
        return sorted({r["name"] for r in rows}, key=str.lower)

    def entity_names(self, entity_ids: list[str]) -> dict[str, str]:
        """id -> display name, in one read (a neighbourhood's labels)."""
        t = self.table("entities")
        if t is None or not entity_ids:
            return {}
        ids = ", ".join(lit(i) for i in dict.fromkeys(entity_ids))
        rows = t.search().where(f"id IN ({ids})").select(["id", "name"]).limit(None).to_arrow().to_pylist()
        return {r["id"]: r["name"] for r in rows}

    def display(self, entity_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """id -> (name as most often written, most frequent type), in one read of the mentions;
        an entity whose mentions carry no spelling (a home from before) keeps its stored name."""
        ids = list(dict.fromkeys(entity_ids))
        out = {i: (n, "") for i, n in self.entity_names(ids).items()}
        t = self.table("mentions")
        if t is None or not ids:
            return out
        for part in chunks(ids):
            rows = t.search().where(in_list("entity_id", part)).select(["entity_id", "name", "type"]).limit(
                None).to_arrow()
            out.update(display_names(rows))
        return out

    def relations_among(self, entity_ids: Sequence[str]) -> list[dict]:
        """Relations whose two ends are both in ``entity_ids`` (the page's overview)."""
        t = self.table("relations")
        if t is None or not entity_ids:
            return []
        ids = list(dict.fromkeys(entity_ids))
        q = f"{in_list('subject', ids)} AND {in_list('object', ids)}"
        return t.search().where(q).select(["subject", "relation", "object", "unit_id", "source_id"]).limit(
            None).to_arrow().to_pylist()

    def relations_of(self, entity_id: str) -> list[dict]:
        """Relations with the entity as subject or object, with the unit that asserted them."""
        t = self.table("relations")
        if t is None:
            return []
        q = f"subject = {lit(entity_id)} OR object = {lit(entity_id)}"
        return t.search().where(q).select(["subject", "relation", "object", "unit_id", "source_id"]).limit(
            None).to_arrow().to_pylist()

    def mentions_of(self, entity_id: str) -> list[dict]:
        t = self.table("mentions")
        if t is None:
            return []
        return t.search().where(f"entity_id = {lit(entity_id)}").select(["unit_id", "source_id"]).limit(
            None).to_arrow().to_pylist()

    def entity_vectors(self) -> tuple[list[str], list[str], np.ndarray]:
        t = self.all("entities", ["id", "name", "vector"])
        if t is None or t.num_rows == 0:
            return [], [], np.zeros((0, 1), dtype=np.float32)
        vec = np.asarray(t.column("vector").to_pylist(), dtype=np.float32)
        return t.column("id").to_pylist(), t.column("name").to_pylist(), vec

    def counts(self) -> dict[str, int]:
        return {n: (t.count_rows() if (t := self.table(n)) is not None else 0)
                for n in ("entities", "mentions", "relations")}

    def extraction_failures(self) -> int:
        t = self.table("extractions")
        return 0 if t is None else t.count_rows("ok = false")

    def reembed(self, embed) -> int:
        ids, names, _ = self.entity_vectors()
        if not ids:
            return 0
        vec = np.asarray(embed(names), dtype=np.float32)
        t = self.table("entities")
        rows = [{"id": i, "name": n, "vector": v.tolist()} for i, n, v in zip(ids, names, vec)]
        if t.schema.field("vector").type.list_size != vec.shape[1]:
            # A new dimension needs a new table; a crash here only loses entity vectors,
            # which `mem doctor` reports and the next reindex rebuilds.
            self.db.drop_table("entities")
            self._tables.pop("entities", None)
            self.table("entities", vec.shape[1]).add(rows)
        else:  # one atomic commit
            t.merge_insert("id").when_matched_update_all().execute(rows)
        return len(ids)


def display_names(mentions) -> dict[str, tuple[str, str]]:
    """Mentions (Arrow: entity_id, name, type) -> id -> (most frequent spelling, most frequent
    non-empty type). Ties go to the spelling with more capitals ("Dan Okafor" over "dan okafor")."""
    names: dict[str, dict[str, int]] = {}
    types: dict[str, dict[str, int]] = {}
    if mentions is None or mentions.num_rows == 0 or "name" not in mentions.column_names:
        return {}
    for e, n, k in zip(mentions.column("entity_id").to_pylist(), mentions.column("name").to_pylist(),
                       mentions.column("type").to_pylist()):
        if n:
            c = names.setdefault(e, {})
            c[n] = c.get(n, 0) + 1
        if k:
            c = types.setdefault(e, {})
            c[k] = c.get(k, 0) + 1
    out = {}
    for e, c in names.items():
        best = max(c.items(), key=lambda x: (x[1], sum(ch.isupper() for ch in x[0])))[0]
        # The most frequent type; on a tie a model's type wins over "note" (title, link target):
        # a note about a person is a person, but a vault's note *Templates* that the small model
        # once took for a person stays a note.
        kinds = types.get(e, {})
        out[e] = (best, max(kinds.items(), key=lambda x: (x[1], x[0] != "note"))[0] if kinds else "")
    return out
