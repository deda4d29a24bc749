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
