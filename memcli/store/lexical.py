"""Tantivy BM25 index over unit index text. Derived from LanceDB; rebuildable.

It also stores each unit's row as a search shows it (``ROW_COLUMNS``, columns that never
change once a unit is written): LanceDB reads every selected column of a row apart, ~15 ms
for a search's 40 candidates at a million units, where Tantivy's document store returns
them in ~1.5 ms. LanceDB still decides which units are live.

A deleted document stays in Tantivy's store files until a segment merge, which tantivy-py
cannot force, and `mem forget` promises the text leaves the disk. So a stored row is sealed:
compressed, then XORed with a SHAKE-256 stream keyed by its source's content hash (and the
unit id). The key lives only in LanceDB (the source's row and the unit's), which forgetting
deletes and compacts away; what stays in Tantivy then cannot be read (crypto-shredding).
A row that does not open (its key is gone or changed) is read from LanceDB instead.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
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


# What a hit shows and what the search steps after fusion read; a unit's own, never updated.
ROW_COLUMNS = ("id", "source_id", "title", "section", "text", "line_start", "line_end",
               "char_start", "char_end", "event_time", "speaker", "session", "ord", "time_source", "updated_at")
_TIMES = ("event_time", "updated_at")


def _utc(v: datetime | None) -> str | None:
    """As LanceDB gives it back: UTC, microseconds (a naive time is taken as UTC)."""
    if v is None:
        return None
    return (v.replace(tzinfo=timezone.utc) if v.tzinfo is None else v.astimezone(timezone.utc)).isoformat()


# Read with ROW_COLUMNS wherever rows are indexed again: the key of the sealed row.
KEY_COLUMN = "source_hash"
ROW_FIELD = "sealed_row"  # an index whose rows are not sealed (or absent) is rebuilt by doctor


def _stream_xor(data: bytes, key: str, uid: str) -> bytes:
    pad = hashlib.shake_256(f"{key}\0{uid}".encode()).digest(len(data))
    return (int.from_bytes(data, "little") ^ int.from_bytes(pad, "little")).to_bytes(len(data), "little")


def seal_row(unit) -> bytes:
    """A unit (a Unit, or a row dict with ``ROW_COLUMNS`` and ``KEY_COLUMN``) as stored: its
    source id, then its row as a JSON list in column order, compressed and sealed."""
    get = unit.__getitem__ if isinstance(unit, Mapping) else (lambda c: getattr(unit, c))
    plain = json.dumps([_utc(get(c)) if c in _TIMES else get(c) for c in ROW_COLUMNS],
                       separators=(",", ":"), ensure_ascii=False).encode()
    sid = get("source_id")
    return sid.encode() + b"\0" + _stream_xor(zlib.compress(plain, 1), get(KEY_COLUMN), get("id"))


def open_row(uid: str, sealed: bytes, key: str | None) -> dict | None:
    """The row, or None when ``key`` does not open it (not the key it was sealed with)."""
    if not key:
        return None
    try:
        row = dict(zip(ROW_COLUMNS, json.loads(zlib.decompress(_stream_xor(sealed, key, uid)))))
    except (zlib.error, ValueError):
        return None
    if row.get("id") != uid:
        return None
    for c in _TIMES:
        if row[c] is not None:
            row[c] = datetime.fromisoformat(row[c])
    return row


def _fields_on_disk(path: Path) -> set[str] | None:
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {f["name"] for f in meta.get("schema", [])}


class LexicalIndex:
    def __init__(self, path: Path) -> None:
        import tantivy

        self._t = tantivy
        path.mkdir(parents=True, exist_ok=True)
        on_disk = _fields_on_disk(path)
        # An index made before rows were stored keeps its schema (searches read rows from
        # LanceDB there); `mem doctor --repair` rebuilds it with them.
        self.has_rows = on_disk is None or ROW_FIELD in on_disk
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("id", stored=True, tokenizer_name="raw")
        sb.add_text_field("source_id", stored=False, tokenizer_name="raw")
        sb.add_text_field("text", stored=False, tokenizer_name="en_stem")
        if self.has_rows:
            sb.add_bytes_field(ROW_FIELD, stored=True, indexed=False)
        self.schema = sb.build()
        self.path = path
        self._searcher = None
        self.foreign: str | None = None  # why the index on disk cannot be opened with this schema
        try:
            self._index = tantivy.Index(self.schema, path=str(path))
        except ValueError as e:
            if "schema" not in str(e).lower():
                raise
            # Made by another version of mem (fields it does not know): derived data, so
            # doctor rebuilds it; until then every use says so instead of an internal error.
            self._index, self.foreign = None, str(e)

    @property
    def index(self):
        if self._index is None and self.foreign:
            from memcli.errors import StoreError

            raise StoreError(f"the search index in {self.path} was made by another version of mem",
                             hint="`mem doctor --repair` rebuilds it from memory's tables (stop `mem serve` first)")
        return self._index

    @index.setter
    def index(self, value) -> None:
        self._index = value

    def reset(self) -> None:
        """Empty, made anew with today's schema (doctor's repair of an index made before rows
        were stored; the caller indexes the live units again)."""
        import shutil

        self._searcher = None
        self.index = None
        shutil.rmtree(self.path, ignore_errors=True)
        self.__init__(self.path)

    def _writer(self):
        return self.index.writer(heap_size=64_000_000, num_threads=1)

    def replace(self, source_ids: Sequence[str], docs: Iterable[tuple]) -> None:
        """Drop every doc of ``source_ids`` and add ``(id, source_id, index text, unit)`` docs, one
        commit; the unit (a Unit, or a row dict as ``seal_row`` takes it) is sealed here, and only
        into an index that stores rows."""
        w = self._writer()
        for sid in source_ids:
            w.delete_documents_by_term("source_id", sid)
        Document, rows = self._t.Document, self.has_rows
        for uid, sid, text, unit in docs:
            w.add_document(Document(id=uid, source_id=sid, text=text, **{ROW_FIELD: seal_row(unit)}) if rows
                           else Document(id=uid, source_id=sid, text=text))
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

    def rows(self, ids: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """(source id, sealed row) of the ``ids`` it holds, by id: one term-set query
        (``open_row`` with the source's content hash reads a row)."""
        if not self.has_rows or not ids:
            return {}
        s = self.searcher()
        res = s.search(self._t.Query.term_set_query(self.schema, "id", list(ids)), len(ids), count=False)
        out = {}
        for _, addr in res.hits:
            doc = s.doc(addr)
            data = doc.get_first(ROW_FIELD)
            if data is not None:
                sid, _, sealed = bytes(data).partition(b"\0")
                out[doc.get_first("id")] = (sid.decode(), sealed)
        return out

    def open_rows(self, ids: Sequence[str], sources_by_ids) -> dict[str, dict]:
        """The rows of ``ids`` the index holds sealed with their source's current key, opened;
        ``sources_by_ids``: source ids -> {id: Source} (its ``content_hash`` is the key). An id
        missing from the result is not in the index, or was sealed with another key."""
        sealed = self.rows(ids)
        keys = sources_by_ids(sorted({sid for sid, _ in sealed.values()}))
        out = {}
        for u, (sid, data) in sealed.items():
            src = keys.get(sid)
            row = open_row(u, data, src.content_hash) if src is not None else None
            if row is not None:
                out[u] = row
        return out

    def count(self) -> int:
        return int(self.searcher().num_docs)

    def doc_freq(self, words: Sequence[str], source_id: str | None = None) -> dict[str, int]:
        """How many units hold each word (stemmed as the index stems it), of one source when
        ``source_id`` is given: the answer's refusal asks whether a question's rare terms are
        in memory at all, and whether the note it answers from mentions what the question asks about."""
        s = self.searcher()
        t = self._t
        out = {}
        for w in words:
            q_text = safe_query(w)
            if not q_text:
                continue
            try:
                q = self.index.parse_query(q_text, ["text"])
            except ValueError:
                continue
            if source_id is not None:
                q = t.Query.boolean_query([(t.Occur.Must, q),
                                           (t.Occur.Must, t.Query.term_query(self.schema, "source_id", source_id))])
            out[w] = int(s.search(q, 1, count=True).count or 0)
        return out

    def all_ids(self) -> set[str]:
        s = self.searcher()
        n = int(s.num_docs)
        if n == 0:
            return set()
        res = s.search(self._t.Query.all_query(), n, count=False)
        return {s.doc(addr)["id"][0] for _, addr in res.hits}
