"""Tantivy BM25 index over unit index text. Derived from LanceDB; rebuildable."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from memcli.text import WORD

# Lucene's classic English stop set. Dropped from queries only: "what is the name of ..."
# otherwise lets rare function words ("of") outscore the content words.
STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with".split()
)


def safe_query(text: str, max_terms: int = 64) -> str:
    """Reduce free text to plain lower-case terms, so query syntax can never break parsing.

    Lower-casing also turns AND/OR/NOT into ordinary words; the term cap keeps a 10k-char
    paste from becoming a 2,000-clause query.
    """
    words = WORD.findall(text.lower())
    content = [w for w in words if w not in STOPWORDS] or words
    seen: dict[str, None] = {}
    for w in content:
        seen.setdefault(w, None)
        if len(seen) >= max_terms:
            break
    return " ".join(seen)


class LexicalIndex:
    def __init__(self, path: Path) -> None:
        import tantivy

        self._t = tantivy
        path.mkdir(parents=True, exist_ok=True)
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("id", stored=True, tokenizer_name="raw")
        sb.add_text_field("source_id", stored=False, tokenizer_name="raw")
        sb.add_text_field("text", stored=False, tokenizer_name="en_stem")
        self.schema = sb.build()
        self.index = tantivy.Index(self.schema, path=str(path))
        self.path = path
        self._searcher = None

    def _writer(self):
        return self.index.writer(heap_size=64_000_000, num_threads=1)

    def replace(self, source_ids: Sequence[str], docs: Iterable[tuple[str, str, str]]) -> None:
        """Drop every doc of ``source_ids`` and add ``(id, source_id, text)`` docs, one commit."""
        w = self._writer()
        for sid in source_ids:
            w.delete_documents_by_term("source_id", sid)
        for uid, sid, text in docs:
            w.add_document(self._t.Document(id=uid, source_id=sid, text=text))
        w.commit()
        w.wait_merging_threads()
        self._searcher = None

    def delete_sources(self, source_ids: Sequence[str]) -> None:
        self.replace(source_ids, ())

    def delete_ids(self, ids: Sequence[str]) -> None:
        w = self._writer()
        for uid in ids:
            w.delete_documents_by_term("id", uid)
        w.commit()
        w.wait_merging_threads()
        self._searcher = None

    def compact(self) -> None:
        """Drop files of merged-away segments (deleted docs go with them)."""
        w = self._writer()
        w.garbage_collect_files()
        w.wait_merging_threads()
        self._searcher = None

    def disk_usage(self) -> tuple[int, int]:
        """(bytes on disk, bytes the index uses), as LanceStore.disk_usage: the difference is
        files of segments the index no longer lists (merged away, their deleted docs with them)
        and, pro rata, deleted docs still inside listed segments (freed when Tantivy next
        merges them)."""
        import json

        try:
            meta = json.loads((self.path / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return 0, 0
        listed = {seg["segment_id"].replace("-", ""): seg for seg in meta.get("segments", [])}
        on_disk = dead = 0
        for f in self.path.iterdir():
            seg_id = f.name.split(".", 1)[0]
            if len(seg_id) != 32 or not f.is_file():
                continue  # meta.json, .managed.json, locks
            seg = listed.get(seg_id)
            size = f.stat().st_size
            on_disk += size
            if seg is None:
                dead += size
            elif seg.get("deletes") and seg.get("max_doc"):
                dead += size * seg["deletes"].get("num_deleted_docs", 0) // seg["max_doc"]
        return on_disk, on_disk - dead

    def refresh(self) -> None:
        """Another process committed: the next search opens a fresh searcher."""
        self._searcher = None

    def searcher(self):
        if self._searcher is None:
            self.index.reload()
            self._searcher = self.index.searcher()
        return self._searcher

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        q_text = safe_query(query)
        if not q_text:
            return []
        try:
            q = self.index.parse_query(q_text, ["text"])
        except ValueError:
            q, _errors = self.index.parse_query_lenient(q_text, ["text"])
        s = self.searcher()
        res = s.search(q, k, count=False)
        return [(s.doc(addr)["id"][0], float(score)) for score, addr in res.hits]

    def count(self) -> int:
        return int(self.searcher().num_docs)

    def doc_freq(self, words: Sequence[str]) -> dict[str, int]:
        """How many units hold each word (stemmed as the index stems it): the answer's
        refusal asks whether a question's rare terms are in memory at all."""
        s = self.searcher()
        out = {}
        for w in words:
            q_text = safe_query(w)
            if not q_text:
                continue
            try:
                q = self.index.parse_query(q_text, ["text"])
            except ValueError:
                continue
            out[w] = int(s.search(q, 1, count=True).count or 0)
        return out

    def all_ids(self) -> set[str]:
        s = self.searcher()
        n = int(s.num_docs)
        if n == 0:
            return set()
        res = s.search(self._t.Query.all_query(), n, count=False)
        return {s.doc(addr)["id"][0] for _, addr in res.hits}
