"""A search reads each table's schema once per handle, not three times a query; a column
added through the handle is seen at once."""

import pyarrow as pa
import pytest

from memcli.store.lazy_import import import_lancedb
from memcli.store.schema_cache import cache_schema


@pytest.fixture
def schema_reads(monkeypatch):
    table = import_lancedb().table
    real = table.LanceTable.schema
    reads = []

    def counted(self):
        reads.append(self.name)
        return real.fget(self)

    monkeypatch.setattr(table.LanceTable, "schema", property(counted))
    return reads


def test_warm_searches_read_no_schema(mem, tmp_path, schema_reads):
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(6):
        (notes / f"n{i}.md").write_text(f"# Note {i}\n\nTomatoes and bees, part {i}. See Note {(i + 1) % 6}.\n")
    mem.ingest([notes])
    mem.search("tomatoes and bees")  # opens the tables: each reads its schema once
    schema_reads.clear()
    for q in ("tomatoes", "bees of note 3", "part 5"):
        assert mem.search(q)
    assert schema_reads == []


def test_a_column_added_through_the_handle_is_seen(tmp_path, schema_reads):
    db = import_lancedb().connect(str(tmp_path / "db"))
    t = cache_schema(db.create_table("t", data=pa.table({"a": [1, 2]})))
    assert t.schema.names == ["a"] and t.schema.names == ["a"]
    assert len(schema_reads) == 1
    t.add_columns({"b": "a * 2"})
    assert t.schema.names == ["a", "b"]
    assert t.search().where("b = 4").to_arrow().column("a").to_pylist() == [2]
    assert cache_schema(None) is None and cache_schema(t) is t
