"""Minimal reproduction: LanceDB's sync query builder reads the table schema three times per
query, each a round trip through the background event loop (lancedb 0.40, Python).

    python docs/upstream/lancedb_schema_reads.py
"""

import collections
import tempfile
import traceback

import lancedb
import numpy as np
import pyarrow as pa
from lancedb.background_loop import LOOP

db = lancedb.connect(tempfile.mkdtemp())
n, dim = 1000, 8
t = db.create_table("t", data=pa.table({
    "id": [f"u{i}" for i in range(n)],
    "vector": pa.FixedSizeListArray.from_arrays(pa.array(np.random.rand(n * dim).astype(np.float32)), dim)}))

real, calls = LOOP.run, collections.Counter()


def counted(coro):
    frames = [f.name for f in traceback.extract_stack(limit=6)[:-1]]
    calls[frames[-1]] += 1
    return real(coro)


LOOP.run = counted
t.search(np.random.rand(dim).astype(np.float32)).select(["id"]).limit(10).to_arrow()
print("vector query:", dict(calls))
calls.clear()
t.search().where("id IN ('u1', 'u2')").select(["id"]).limit(2).to_arrow()
print("filtered scan:", dict(calls))
