"""Segmentation follows structure, respects token bounds, and keeps exact spans."""

from pathlib import Path

from memcli.ingest.pipeline import build_units
from memcli.ingest.readers import read_document
from memcli.ingest.readers.structure import code_blocks, markdown_blocks
from memcli.ingest.segment import estimate_tokens, segment
from memcli.store.schema import utcnow


def _md(sections: int, words: int) -> str:
    body = []
    for i in range(sections):
        body.append(f"## Section {i}\n\n" + " ".join(f"word{i}x{j}" for j in range(words)) + ".\n")
    return "# Title\n\n" + "\n".join(body)


def test_markdown_sections_become_units_with_their_heading_path():
    text = _md(3, 150)
    doc = read_document(Path("n.md"), text.encode())
    segs = segment(doc, min_tokens=100, max_tokens=400)
    assert len(segs) == 3
    assert [g.section for g in segs] == [("Title", f"Section {i}") for i in range(3)]
    for g in segs:
        assert g.index_text.startswith("Title › Section")
        assert doc.text[g.start:g.end] == g.text


def test_small_sections_merge_and_are_labelled_by_their_parent():
    doc = read_document(Path("n.md"), _md(4, 10).encode())
    segs = segment(doc, min_tokens=100, max_tokens=400)
    assert len(segs) == 1
    assert segs[0].section == ("Title",)


def test_long_paragraph_splits_at_sentences_within_bounds():
    para = " ".join(f"Sentence number {i} talks about bees and honey." for i in range(120))
    doc = read_document(Path("n.txt"), para.encode())
    segs = segment(doc, min_tokens=50, max_tokens=120)
    assert len(segs) > 3
    assert all(estimate_tokens(g.text) <= 120 for g in segs)
    assert all(g.text.endswith(".") for g in segs)  # cut at sentence ends, not mid-sentence
    assert " ".join(g.text for g in segs) == para


def test_run_on_text_without_sentences_splits_by_words():
    doc = read_document(Path("n.txt"), ("token " * 2000).encode())
    segs = segment(doc, min_tokens=50, max_tokens=100)
    assert all(estimate_tokens(g.text) <= 100 for g in segs)
    assert sum(len(g.text.split()) for g in segs) == 2000


def test_exact_token_check_splits_units_the_embedder_would_truncate():
    doc = read_document(Path("n.txt"), ("alpha beta gamma. " * 100).encode())
    # A tokenizer that sees four pieces per word: every estimated-small unit is really too long.
    segs = segment(doc, min_tokens=50, max_tokens=400,
                   count_tokens=lambda ts: [len(t.split()) * 4 for t in ts], hard_limit=200)
    assert all(len(g.index_text.split()) * 4 <= 200 for g in segs)


def test_python_code_is_split_by_top_level_definitions():
    code = "import os\n\n\ndef a():\n    return 1\n\n\n@decor\nclass B:\n    x = 1\n"
    blocks = code_blocks(code, ".py")
    names = [b.section for b in blocks if b.kind == "code"]
    assert names == [("def a",), ("class B",)]
    klass = [b for b in blocks if b.section == ("class B",)][0]
    assert code[klass.start:klass.end].startswith("@decor")


def test_other_code_is_split_by_layout():
    code = "package main\n\nfunc a() {\n\treturn\n}\n\nfunc b() {\n\n\treturn\n}\n"
    blocks = code_blocks(code, ".go")
    assert [b.section for b in blocks if b.kind == "code"] == [("func a()",), ("func b()",)]


def test_setext_and_front_matter_titles():
    title, blocks = markdown_blocks("---\ntitle: Plan\n---\nIntro\n\nPart\n----\n\ntext\n")
    assert title == "Plan"
    assert any(b.kind == "heading" and b.section == ("Part",) for b in blocks)


def test_byte_and_line_spans_point_into_the_file():
    raw = ("\ufeff# Café notes\n\nCrème brûlée on Sunday.\n\n## Later\n\n" + "Naïve text. " * 80).encode()
    doc = read_document(Path("c.md"), raw)
    units = build_units("sid", "hash", doc, segment(doc, min_tokens=20, max_tokens=60), utcnow())
    assert len(units) > 1
    lines = raw.decode("utf-8-sig").splitlines()
    for u in units:
        assert raw[u.byte_start:u.byte_end].decode() == u.text
        assert u.text.splitlines()[0] in lines[u.line_start - 1]
        assert u.text.splitlines()[-1] in lines[u.line_end - 1]
    assert len({u.id for u in units}) == len(units)


def test_long_blocks_split_into_balanced_pieces():
    para = " ".join(f"Sentence {i} is about the hive." for i in range(40))  # ~ 320 tokens
    doc = read_document(Path("b.txt"), para.encode())
    sizes = [estimate_tokens(g.text) for g in segment(doc, min_tokens=50, max_tokens=222)]
    assert len(sizes) == 2 and abs(sizes[0] - sizes[1]) <= 16


FRAGMENTS = """# API reference { #api }

### Internal

### Internal { #internal }

""" + "\n".join(
    f"- Thanks to [@user{i}](https://github.com/user{i}). Fixed the parser for https://example.com/a.b/c{i}."
    for i in range(60)) + """

## Path Parameters { #path-parameters }

You can declare path parameters with the same syntax as Python format strings.

### Internal

## Tail

See https://github.com/tiangolo.
"""


def test_no_fragment_units_from_tiny_headings_and_links():
    from memcli.ingest.segment import min_unit_tokens

    doc = read_document(Path("ref.md"), FRAGMENTS.encode())
    segs = segment(doc, min_tokens=100, max_tokens=400)
    assert segs
    assert min(estimate_tokens(g.text) for g in segs) >= min_unit_tokens(100)
    assert not any(g.text.strip().startswith("com/") for g in segs)  # no sentence ends inside a URL
    assert all(not g.text.strip().startswith("#") or "\n" in g.text.strip() for g in segs)  # no heading-only unit
    for g in segs:  # attribute anchors leave section paths and index text
        assert "{ #" not in " ".join(g.section) and "{ #" not in g.index_text
    assert any("## Path Parameters\n" in g.index_text for g in segs)
