"""Readers use real parsers; bad files raise ReadError with a message a person can act on."""

import io
import zipfile
from pathlib import Path

import pytest

from memcli.errors import EmptyInput, ReadError
from memcli.ingest.readers import read_document
from memcli.store.lexical import safe_query

SAMPLE = Path(__file__).resolve().parents[2] / "recipes" / "sample"


def test_html_keeps_headings_and_drops_scripts():
    p = SAMPLE / "club" / "newsletter-august.html"
    doc = read_document(p, p.read_bytes())
    assert doc.title == "Riverside Beekeepers — August Newsletter"
    assert "tracking" not in doc.text and "font-family" not in doc.text
    sections = {b.section[-1] for b in doc.blocks if b.section}
    assert {"Extractor loans", "Asian hornet alert", "Honey show"} <= sections
    assert "£20" in doc.text


def test_pdf_pages_become_sections():
    p = SAMPLE / "purchases" / "bee-supply-invoice.pdf"
    doc = read_document(p, p.read_bytes())
    assert "National hive kit" in doc.text
    assert doc.blocks and doc.blocks[0].section == ("page 1",)
    assert not doc.verbatim


def test_docx_headings_and_tables():
    p = SAMPLE / "garden" / "greenhouse-build-plan.docx"
    doc = read_document(p, p.read_bytes())
    assert doc.title == "Greenhouse build plan"
    assert ("Greenhouse build plan", "Costs") in {b.section for b in doc.blocks}
    assert "Automatic vent openers | £38" in doc.text


@pytest.mark.parametrize("name,data,message", [
    ("bad.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "PDF"),
    ("bad.docx", b"PK\x03\x04 not really a zip", "docx"),
    ("latin.txt", "café".encode("latin-1"), "UTF-8"),
    ("bin.md", b"abc\x00\x01\x02" * 100, "binary"),
    ("x.exe", b"MZ....", "unsupported"),
])
def test_bad_files_raise_clear_errors(name, data, message):
    with pytest.raises(ReadError, match=message):
        read_document(Path(name), data)


def test_empty_file_is_its_own_kind_of_error():
    with pytest.raises(EmptyInput):
        read_document(Path("e.md"), b"  \n\n")


def test_zip_bomb_docx_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"0" * (300 * 1024 * 1024))
    with pytest.raises(ReadError, match="zip bomb"):
        read_document(Path("bomb.docx"), buf.getvalue())


def test_safe_query_neutralises_query_syntax():
    assert safe_query('title:x AND (foo OR "bar') == "title x foo bar"
    assert safe_query("what is the name of the kitten") == "what name kitten"
    assert safe_query("to be or not to be") == "to be or not"  # all stopwords: keep them
    assert safe_query("+-!&&||^~*?") == ""
    assert len(safe_query(" ".join(f"w{i}" for i in range(5000))).split()) == 64
