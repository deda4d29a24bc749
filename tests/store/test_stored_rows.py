"""A search shows rows from the lexical index's document store; LanceDB still decides what
is live. An index made before rows were stored keeps working, and `mem doctor --repair`
rebuilds it with them."""

import shutil

import tantivy

from memcli.retrieve.rows import ROW_COLUMNS
from memcli.store.lexical import LexicalIndex
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
    lance = mem._lance.units_by_ids(ids, list(ROW_COLUMNS))
    for uid in ids:
        assert stored[uid] == lance[uid], uid


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


def test_an_index_without_rows_reads_them_from_lancedb_until_doctor_rebuilds_it(tmp_path, corpus):
    from memcli.config import Settings
    from memcli.embed.fake import FakeEmbedder
    from memcli.memory import Memory

    def open_home():
        return Memory(Settings(home=tmp_path / "h", embed={"model": "fake:64"}), embedder=FakeEmbedder(dim=64))

    mem = open_home()
    mem.ingest([corpus], recursive=True)
    before = {q: _shown(mem, q) for q in QUESTIONS}
    _old_index(mem)

    old = open_home()
    assert not LexicalIndex(old.home / "tantivy").has_rows
    assert {q: _shown(old, q) for q in QUESTIONS} == before  # rows from LanceDB, same hits
    rep = old.doctor()
    assert "lexical index stores the rows a search shows" in {f.check for f in rep.findings if not f.ok}
    assert old.doctor(repair=True).healthy

    fixed = open_home()
    assert fixed._lexical.has_rows and fixed.doctor().healthy
    assert {q: _shown(fixed, q) for q in QUESTIONS} == before
