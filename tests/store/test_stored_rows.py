"""A search shows rows from the lexical index's document store; LanceDB still decides what
is live. An index made before rows were stored keeps working, and `mem doctor --repair`
rebuilds it with them."""

import shutil

import tantivy

from memcli.retrieve.rows import ROW_COLUMNS
from memcli.store.lexical import LexicalIndex, open_row
from memcli.text import index_text

QUESTIONS = ["Where do I store the bicycle?", "tomato seedlings", "what did the invoice say"]


def _shown(mem, q):
    return [h.to_dict() if hasattr(h, "to_dict") else vars(h) for h in mem.search(q, k=5)]


def test_stored_rows_are_the_rows_lancedb_holds(mem, corpus):
    mem.ingest([corpus], recursive=True)
    lex = mem._lexical
    assert lex.has_rows
    ids = sorted(mem._lance.committed_ids())
    stored = lex.rows(ids)
    assert set(stored) == set(ids)
    lance = mem._lance.units_by_ids(ids, [*ROW_COLUMNS, "source_hash"])
    for uid in ids:
        sid, sealed = stored[uid]
        key = lance[uid].pop("source_hash")
        assert open_row(uid, sealed, key) == lance[uid], uid
        assert open_row(uid, sealed, "0" * 64) is None  # another key opens nothing
        assert lance[uid]["text"].encode() not in sealed


def test_forgetting_leaves_no_readable_row_in_tantivys_files(mem, tmp_path):
    # A deleted Tantivy document stays in its store file until a merge: sealed, with a key
    # that forgetting removes from LanceDB, it is not the note's text.
    d = tmp_path / "n"
    d.mkdir()
    secret = "zebracornflowerpassphrase"
    (d / "secret.md").write_text(f"# Secret\n\nThe door code word is {secret} and nobody knows it.\n")
    (d / "other.md").write_text("# Other\n\nPlain notes about tomatoes and compost.\n")
    mem.ingest([d])
    key = next(s.content_hash for s in mem.sources() if s.uri.endswith("secret.md"))
    mem.forget(str(d / "secret.md"))
    on_disk = b"".join(p.read_bytes() for p in mem.home.rglob("*") if p.is_file())
    assert secret.encode() not in on_disk and key.encode() not in on_disk
    assert mem.search("tomatoes compost", k=1) and mem.doctor().healthy


def test_a_unit_lancedb_no_longer_holds_live_is_not_shown(mem, corpus):
    mem.ingest([corpus], recursive=True)
    q = "tomato seedlings"
    top = mem.search(q, k=3)[0]
    # The unit leaves the live set in LanceDB only; its Tantivy doc (with its row) stays.
    mem._lance.set_status([top.unit_id], "archived")
    assert top.unit_id in mem._lexical.rows([top.unit_id])
    assert top.unit_id not in {h.unit_id for h in mem.search(q, k=10)}


def _old_index(mem) -> None:
    """The home's Tantivy index as an older mem made it: no stored rows."""
    path = mem.home / "tantivy"
    rows = mem._lance.committed(list(ROW_COLUMNS)).to_pylist()
    shutil.rmtree(path)
    path.mkdir()
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("source_id", stored=False, tokenizer_name="raw")
    sb.add_text_field("text", stored=False, tokenizer_name="en_stem")
    index = tantivy.Index(sb.build(), path=str(path))
    w = index.writer(heap_size=15_000_000, num_threads=1)
    for r in rows:
        w.add_document(tantivy.Document(id=r["id"], source_id=r["source_id"],
                                        text=index_text(r["title"], r["section"], r["text"])))
    w.commit()
    w.wait_merging_threads()


def _open_home(tmp_path):
    """The same home, opened afresh (as the next command would)."""
    from memcli.config import Settings
    from memcli.embed.fake import FakeEmbedder
    from memcli.memory import Memory

    return Memory(Settings(home=tmp_path / "h", embed={"model": "fake:64"}), embedder=FakeEmbedder(dim=64))


def test_an_index_without_rows_reads_them_from_lancedb_until_doctor_rebuilds_it(tmp_path, corpus):
    mem = _open_home(tmp_path)
    mem.ingest([corpus], recursive=True)
    before = {q: _shown(mem, q) for q in QUESTIONS}
    _old_index(mem)

    old = _open_home(tmp_path)
    assert not LexicalIndex(old.home / "tantivy").has_rows
    assert {q: _shown(old, q) for q in QUESTIONS} == before  # rows from LanceDB, same hits
    rep = old.doctor()
    assert "lexical index stores the rows a search shows" in {f.check for f in rep.findings if not f.ok}
    assert old.doctor(repair=True).healthy

    fixed = _open_home(tmp_path)
    assert fixed._lexical.has_rows and fixed.doctor().healthy
    assert {q: _shown(fixed, q) for q in QUESTIONS} == before


def test_an_index_from_another_version_is_a_clear_error_until_doctor_rebuilds_it(tmp_path, corpus):
    # A later mem may add fields; this one cannot open that index. Derived data: the search
    # says what to run (not "internal error"), and `mem doctor --repair` rebuilds it.
    import pytest

    from memcli.errors import StoreError

    mem = _open_home(tmp_path)
    mem.ingest([corpus], recursive=True)
    before = {q: _shown(mem, q) for q in QUESTIONS}
    path = mem.home / "tantivy"
    shutil.rmtree(path)
    path.mkdir()
    sb = tantivy.SchemaBuilder()
    for name in ("id", "source_id", "text", "a_field_from_the_future"):
        sb.add_text_field(name, stored=True, tokenizer_name="raw")
    tantivy.Index(sb.build(), path=str(path))

    newer = _open_home(tmp_path)
    with pytest.raises(StoreError) as e:
        newer.search(QUESTIONS[0], k=5)
    assert "another version of mem" in e.value.message and "mem doctor --repair" in e.value.hint
    rep = newer.doctor()
    assert "lexical index opens with this version's schema" in {f.check for f in rep.findings if not f.ok}
    assert newer.doctor(repair=True).healthy

    fixed = _open_home(tmp_path)
    assert fixed.doctor().healthy
    assert {q: _shown(fixed, q) for q in QUESTIONS} == before
