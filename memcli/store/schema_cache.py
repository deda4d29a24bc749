"""A table handle that reads its schema once, not three times a query.

LanceDB's synchronous query builder reads the table's schema through the background event
loop each time it asks whether a scan must carry row ids for blob columns
(``_blob_auto_row_id_enabled``, twice a query) and which blob columns a projection reads
(once): three round trips per query, nine of a search's 23 (tests/store/test_schema_cache.py
counts them; docs/upstream/lancedb-schema-reads.md is the report for LanceDB, with a minimal
reproduction). A schema changes only when columns are added, altered or dropped, or the
handle moves to another version; this handle keeps the schema it read until one of those
calls, made through it, says otherwise.

What it does not see: another process adding a column to the same table. mem's schema only
grows when a newer mem migrates a home on open, and a resident server reopens its stores
when the home's tables change (server/memories.py); the blob checks this serves are about
columns mem never has.
"""

from __future__ import annotations

_FORGETS = ("add", "merge_insert", "delete", "update", "add_columns", "alter_columns", "drop_columns",
            "checkout", "checkout_latest", "restore", "optimize", "compact_files", "migrate_v2_manifest_paths")
_classes: dict[type, type] = {}


def _forgetting(name: str):
    def method(self, *a, **k):
        self.__dict__.pop("_memcli_schema", None)
        try:
            return getattr(super(type(self), self), name)(*a, **k)
        finally:
            self.__dict__.pop("_memcli_schema", None)

    method.__name__ = name
    return method


def _cached_class(base: type) -> type:
    if base not in _classes:
        def schema(self):
            s = self.__dict__.get("_memcli_schema")
            if s is None:
                s = self.__dict__["_memcli_schema"] = super(cls, self).schema
            return s

        body = {"schema": property(schema, doc="The table's schema, read once (see memcli.store.schema_cache)."),
                "__module__": __name__}
        body |= {n: _forgetting(n) for n in _FORGETS if hasattr(base, n)}
        cls = type(f"SchemaCached{base.__name__}", (base,), body)
        _classes[base] = cls
    return _classes[base]


def cache_schema(table):
    """``table`` itself, now reading its schema once (None stays None)."""
    if table is None or type(table) in _classes.values():
        return table
    if not isinstance(getattr(type(table), "schema", None), property):
        return table  # not the LanceTable shape this knows: leave it as it is
    table.__class__ = _cached_class(type(table))
    return table
