"""The LanceDB tables' shapes: columns, Arrow schemas, vector columns, the ANN index, and the
migration that adds newer columns to an older home's tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import numpy as np

from memcli.store.query import UnitFilter, lit

UNIT_COLUMNS = [
    "id", "source_id", "source_hash", "status", "level", "ord", "title", "section", "text",
    "char_start", "char_end", "byte_start", "byte_end", "line_start", "line_end", "tokens",
    "ingested_at", "event_time", "speaker", "session", "turn_ids",
    "merged_into", "merged_from", "valid_to", "superseded_by", "access_count", "last_access", "pinned", "children",
    "tags", "time_source", "valid_from", "updated_at",
]
LIVE = "status = 'committed'"
LIVE_SUMMARIES = "status = 'committed' AND level > 0"
Where = UnitFilter | str | None  # a str only from store code (see store/query.py)


def sql_list(values: Sequence[str]) -> str:
    """``('a', 'b')`` with quotes doubled (store code; callers use store/query.UnitFilter)."""
    return "(" + ", ".join(lit(v) for v in values) + ")"


def and_(*preds: str | None) -> str | None:
    return " AND ".join(f"({p})" for p in preds if p) or None


def _ts():
    import pyarrow as pa

    return pa.timestamp("us", tz="UTC")


def sources_schema():
    import pyarrow as pa

    return pa.schema([
        ("source_id", pa.string()), ("uri", pa.string()), ("kind", pa.string()),
        ("content_hash", pa.string()), ("size", pa.int64()), ("mtime", pa.float64()),
        ("title", pa.string()), ("n_units", pa.int32()), ("ingested_at", _ts()),
        ("trust", pa.string()), ("pipeline", pa.string()),
    ])


def units_schema(dim: int, fp: dict[str, object], vector_dtype: str = "float32"):
    import pyarrow as pa

    fields = [
        ("id", pa.string()), ("source_id", pa.string()), ("source_hash", pa.string()),
        ("status", pa.string()), ("level", pa.int32()), ("ord", pa.int32()),
        ("title", pa.string()), ("section", pa.string()), ("text", pa.string()),
        ("char_start", pa.int64()), ("char_end", pa.int64()), ("byte_start", pa.int64()),
        ("byte_end", pa.int64()), ("line_start", pa.int32()), ("line_end", pa.int32()),
        ("tokens", pa.int32()), ("ingested_at", _ts()), ("event_time", _ts()),
        ("speaker", pa.string()), ("session", pa.string()), ("turn_ids", pa.list_(pa.string())),
        ("merged_into", pa.string()), ("merged_from", pa.list_(pa.string())), ("valid_to", _ts()),
        ("superseded_by", pa.string()), ("access_count", pa.int32()), ("last_access", _ts()),
        ("pinned", pa.bool_()), ("children", pa.list_(pa.string())), ("tags", pa.list_(pa.string())),
        ("time_source", pa.string()), ("valid_from", _ts()), ("updated_at", _ts()),
        ("vector", pa.list_(pa.float16() if vector_dtype == "float16" else pa.float32(), dim)),
    ]
    return pa.schema(fields, metadata={k: str(v) for k, v in fp.items()})


def vector_matrix(column) -> np.ndarray:
    """A fixed-size-list vector column as a float32 (n, dim) array, without Python lists."""
    arr = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    dim = arr.type.list_size
    if len(arr) == 0:
        return np.zeros((0, dim), dtype=np.float32)
    return np.asarray(arr.flatten().to_numpy(zero_copy_only=False), dtype=np.float32).reshape(-1, dim)


def vector_array(vectors: np.ndarray, field_type):
    """Vectors as the table's vector column type (float32 or float16, fixed size)."""
    import pyarrow as pa

    value = field_type.value_type
    flat = np.ascontiguousarray(vectors, dtype=np.float16 if value == pa.float16() else np.float32).reshape(-1)
    return pa.FixedSizeListArray.from_arrays(pa.array(flat, type=value), field_type.list_size)


def ann_index_config():
    """The vector index: IVF partitions of scalar-quantised vectors, candidates re-scored
    exactly from the stored vectors (``refine_factor``).

    IVF-HNSW-SQ (the index before) lost recall as the table grew (recall@10 0.957 at 100k,
    0.861 at 300k on the dev passages' MiniLM vectors) and took ~5 minutes to build at a
    million units on two cores; IVF-SQ: 0.99-1.00 at 100k/300k, 0.96-0.98 at 1M (20 probes),
    built in 5 s / 7 s / 16 s, queries 11-17 ms (bench/million.py, docs/benchmarks.md)."""
    from lancedb.index import IvfSq

    return IvfSq(distance_type="cosine")


def add_missing_columns(table, expected, skip: Sequence[str] = ()) -> None:
    """Schema migration: columns added in later versions are added to older homes as nulls."""
    have = set(table.schema.names)
    missing = [f for f in expected if f.name not in have and f.name not in skip]
    if missing:
        table.add_columns(missing)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
