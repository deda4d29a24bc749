"""lancedb imported with its REST client and embedding providers deferred (store/lazy_import.py):
the cold `mem search` skips them, and every name still resolves to the real object."""

import subprocess
import sys
import textwrap


def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_store_opens_without_the_rest_client(tmp_path):
    out = run(f"""
        import sys
        from memcli.store.lance import LanceStore
        store = LanceStore({str(tmp_path / 'lance')!r})
        import pyarrow as pa
        t = store.db.create_table("t", pa.table({{"id": ["a", "b"], "vector": [[1.0, 0.0], [0.0, 1.0]]}}))
        print(t.search([1.0, 0.0]).limit(1).to_list()[0]["id"])
        print(sorted(m for m in sys.modules if m.startswith("lance_namespace_urllib3_client.api")))
    """)
    assert out.split("\n")[:2] == ["a", "[]"]


def test_every_deferred_name_is_the_real_object():
    out = run("""
        from memcli.store.lazy_import import import_lancedb
        lancedb = import_lancedb()
        import overrides, lance_namespace_urllib3_client as client
        from lance_namespace_urllib3_client.models import CreateTableRequest
        from lancedb.embeddings import get_registry
        assert "sentence-transformers" in get_registry()._functions  # registered at import, as always
        print(client.ApiClient.__module__)                       # the package __init__ ran on demand
        print(CreateTableRequest.__module__)
        print(lancedb.db.LanceDBConnection.open_table.__override__)
        print(overrides.override.__module__)                     # the real decorator is back
    """)
    assert out.split() == ["lance_namespace_urllib3_client.api_client",
                           "lance_namespace_urllib3_client.models.create_table_request",
                           "True", "overrides.overrides"]


def test_a_mem_process_withholds_pandas_from_pyarrows_probe(tmp_path):
    out = run(f"""
        import sys
        from memcli.store import lazy_import
        lazy_import.withhold_pandas()
        from memcli.store.lance import LanceStore
        import pyarrow as pa
        t = LanceStore({str(tmp_path / 'a')!r}).db.create_table("t", pa.table({{"id": ["a"], "vector": [[1.0, 0.0]]}}))
        t.add([{{"id": "b", "vector": [0.0, 1.0]}}])
        print(t.search([0.0, 1.0]).where("id != 'a'").limit(1).to_list()[0]["id"], "pandas" in sys.modules)
        import pandas  # still importable by whoever needs it
        print(pandas.DataFrame({{"x": [1]}}).shape)
    """)
    assert out.split("\n")[:2] == ["b False", "(1, 1)"]


def test_a_library_users_process_keeps_pyarrows_pandas_integration(tmp_path):
    out = run(f"""
        from memcli.store.lance import LanceStore
        import pyarrow as pa
        LanceStore({str(tmp_path / 'b')!r})
        print(pa.table({{"x": [1, 2]}}).to_pandas().shape)
    """)
    assert out.strip() == "(2, 1)"


def test_the_mem_command_itself_never_imports_pandas(tmp_path):
    import os

    env = {**os.environ, "MEM_HOME": str(tmp_path / "home"), "MEM_EMBED__MODEL": "fake:64", "MEM_NO_SERVER": "1"}
    (tmp_path / "n.md").write_text("# Hive\n\nThe hive kit cost 189 GBP.\n")
    for argv in (["ingest", str(tmp_path / "n.md")], ["search", "hive kit cost", "--json"]):
        p = subprocess.run([sys.executable, "-X", "importtime", "-m", "memcli", *argv], env=env,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr[-2000:]
        # (pyarrow's probe shows as a refused `pandas` import of a few microseconds)
        assert "pandas.core.frame" not in p.stderr, argv


def test_lance_namespace_loads_its_models_on_first_use():
    out = run("""
        import sys
        from memcli.store.lazy_import import import_lancedb
        import_lancedb()
        import lance_namespace as ns
        loaded = lambda: len([m for m in sys.modules if m.startswith("lance_namespace_urllib3_client.models.")])
        print(loaded() < 40)                                         # was ~140 models, all built at import
        print(ns.CreateTableRequest.__module__)                      # the real model, loaded now
        print(ns.CreateEmptyTableRequest is ns.CreateTableRequest)   # its backwards-compatible alias
        print(issubclass(ns.LanceNamespace, object), ns.connect.__module__)
        from lance_namespace import *                                # every name in __all__ resolves
        print(loaded() > 100)
    """)
    assert out.split("\n")[:5] == ["True", "lance_namespace_urllib3_client.models.create_table_request", "True",
                                    "True lance_namespace", "True"]
