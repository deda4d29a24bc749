"""Ingest pipeline: discover -> read -> segment -> embed (batched) -> write, with progress.

Files are processed in batches of about ``ingest.batch_units`` units: each batch is
embedded in one length-sorted pass and written in one commit per store, which keeps
ingest time close to the bare embedding time. One bad file never stops the batch.

Batches grow while they are quick (``ingest.batch_seconds``): with a fast embedder the
per-commit cost would otherwise dominate a large import; with a slow one they stay small, so
Ctrl-C loses little. Every ``ingest.tidy_every`` batches the tables are tidied (new fragments
compacted, old versions dropped) so that a commit's cost does not grow with the table; the
ANN index is trained once, at the end.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from memcli.config import Settings
from memcli.embed.base import Embedder, fingerprint
from memcli.errors import Interrupted, ReadError, SkipInput, StoreError, StubNote
from memcli.ingest.readers import read_document
from memcli.ingest.readers.base import Document
from memcli.ingest.segment import Segment, segment
from memcli.ingest.segment_chat import segment_conversation
from memcli.ingest.sources import Discovery, discover, source_id_for
from memcli.store.catalog import Catalog
from memcli.store.interrupts import deferred_interrupts
from memcli.store.schema import utcnow
from memcli.text import SECTION_SEP
from memcli.types import Source, Unit


@dataclass
class FileResult:
    path: str
    status: str  # added | updated | unchanged | skipped | stub | failed
    units: int = 0
    message: str = ""
    committed: bool = False  # written to every store (or already there): kept if interrupted


@dataclass
class IngestProgress:
    files_total: int
    files_done: int
    units_done: int
    current: str = ""
    graph_unusable: int = 0  # units the graph extractor returned nothing usable for


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    recovered: dict | None = None
    ignored: int = 0
    skipped_dirs: int = 0
    maintenance: dict = field(default_factory=dict)
    seconds: float = 0.0
    graph_unusable: int = 0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def added(self) -> int:
        return self.count("added")

    @property
    def updated(self) -> int:
        return self.count("updated")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def units_written(self) -> int:
        return sum(r.units for r in self.results if r.status in ("added", "updated"))

    def to_dict(self) -> dict:
        return {
            "added": self.count("added"), "updated": self.count("updated"),
            "unchanged": self.count("unchanged"), "skipped": self.count("skipped"), "stubs": self.count("stub"),
            "failed": self.count("failed"),
            "units": self.units_written, "pruned": self.pruned, "ignored": self.ignored,
            "skipped_dirs": self.skipped_dirs, "recovered": self.recovered, "graph_unusable": self.graph_unusable,
            "seconds": round(self.seconds, 3),
            "files": [r.__dict__ for r in self.results],
        }


def unit_id(source_id: str, source_hash: str, level: int, start: int, end: int) -> str:
    key = f"{source_id}:{source_hash}:{level}:{start}:{end}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def build_units(source_id: str, source_hash: str, doc: Document, segs: list[Segment], now,
                path: Path | None = None) -> list[Unit]:
    """Attach ids and provenance (byte and line spans when the text is the file itself), and
    each unit's event time with where it came from (ingest/dates.py)."""
    from memcli.ingest.dates import Dater

    dater = Dater(doc, path)
    units: list[Unit] = []
    text = doc.text
    pos, byte_pos, line = 0, doc.bom, 1
    for i, g in enumerate(sorted(segs, key=lambda g: g.start)):
        # Walk forward once, so spans cost O(len(text)) for the whole document.
        gap = text[pos:g.start]
        byte_pos += len(gap.encode("utf-8", "surrogatepass"))
        line += gap.count("\n")
        body_bytes = len(g.text.encode("utf-8", "surrogatepass"))
        line_end = line + g.text.count("\n")
        meta = g.meta or {}
        when, when_from = (meta["time"], "chat") if meta.get("time") else dater.at(tuple(g.section), g.text)
        units.append(Unit(
            id=unit_id(source_id, source_hash, 0, g.start, g.end),
            source_id=source_id, source_hash=source_hash, ord=i, title=doc.title,
            section=SECTION_SEP.join(g.section), text=g.text, index_text=g.index_text,
            char_start=g.start, char_end=g.end,
            byte_start=byte_pos if doc.verbatim else -1,
            byte_end=byte_pos + body_bytes if doc.verbatim else -1,
            line_start=line, line_end=line_end, tokens=g.tokens, ingested_at=now,
            event_time=when, time_source=when_from, updated_at=doc.updated,
            speaker=meta.get("speaker"), session=meta.get("session"),
            turn_ids=list(meta.get("turn_ids") or []), tags=list(doc.tags),
        ))
        pos, byte_pos, line = g.end, byte_pos + body_bytes, line_end
    return units


# Bump when segmentation changes, so existing memory is re-segmented on the next ingest.
SEGMENTER_VERSION = 4  # 3: no fragment units, sentences do not end inside URLs, heading attributes dropped; 4: dates from content


class IngestPipeline:
    def __init__(self, settings: Settings, catalog: Catalog, embedder: Embedder,
                 on_progress: Callable[[IngestProgress], None] | None = None, graph=None, encode=None,
                 batch_files: int | None = None, keep_s: float | None = None) -> None:
        """``encode``: embeds unit texts elsewhere (ingest/parallel.RayEncoder, with its
        ``chunk_units``); the embedder still segments and names the vector space.
        ``batch_files``: files per commit (default ingest.batch_files). ``keep_s``: how long
        old table versions survive a tidy (Memory._version_keep_s)."""
        self.s = settings
        self.keep_s = settings.consolidate.compact_keep_s if keep_s is None else keep_s
        self.encode = encode
        self.batch_files = batch_files or settings.ingest.batch_files
        self.catalog = catalog
        self.embedder = embedder
        self.graph = graph  # GraphIndex, or None when graph extraction is off
        self.on_progress = on_progress or (lambda p: None)
        self._fp = fingerprint(embedder)
        # Unit bounds follow what the embedder reads; room is left for the title header.
        self.max_tokens = min(settings.segment.max_tokens, max(32, embedder.max_tokens - 32))
        self.min_tokens = min(settings.segment.min_tokens, self.max_tokens // 2)
        sg = settings.segment
        self._turns: dict[str, tuple[list[str], np.ndarray]] = {}  # unit id -> its turns (conversations)
        self._notes: dict[str, dict] = {}  # source id -> a Markdown note's title, file stem, aliases
        self.pipeline = (f"seg{SEGMENTER_VERSION}:{self.min_tokens}-{self.max_tokens}:"
                         f"{sg.chat_units}:{sg.chat_min_tokens}-{sg.chat_max_tokens}")
        self.grow = 1  # batch limits are this multiple of batch_units / batch_files
        self.batches = 0

    def run(self, paths: list[str | Path], *, recursive: bool = False, globs: list[str] | None = None,
            prune: bool = False, fmt: str | None = None, trust: str = "normal") -> IngestReport:
        report = IngestReport()
        failure = None
        try:
            return self._run(report, paths, recursive, globs, prune, fmt, trust)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the CLI turns it into the same)
            pass
        except (OSError, RuntimeError) as e:
            if not _disk_trouble(e):
                raise
            failure = str(e).splitlines()[0][:200]
        # Out of the except block the interrupted frames are gone, and with them any store
        # writer they held (Tantivy's lock). Roll the half-written batch back now, as the next
        # run would, so the home is consistent the moment the command ends.
        import gc

        gc.collect()
        try:
            self.catalog.recover()
        except (OSError, RuntimeError):
            pass  # still no room to roll back: the next command does it (journal)
        kept = sum(1 for r in report.results if r.committed)
        total = len(report.results) or "the"
        if failure is not None:
            raise StoreError(f"could not write to the memory home ({failure}); {kept} of {total} files kept",
                             hint="free some disk space and rerun `mem ingest`; nothing half-written is kept")
        raise Interrupted(f"interrupted: {kept} of {total} files kept, rerun to finish",
                          hint="the next `mem ingest` of the same paths skips what is kept")

    def _run(self, report: IngestReport, paths, recursive, globs, prune, fmt, trust) -> IngestReport:
        t0 = time.perf_counter()
        report.recovered = self.catalog.recover()
        lance = self.catalog.lance
        lance.units_table(self._fp)  # fail fast on a changed embedding model
        found: Discovery = discover(paths, recursive=recursive, globs=globs)
        report.ignored, report.skipped_dirs = found.ignored, found.skipped_dirs
        report.results.extend(FileResult(p, "failed", message=m) for p, m in found.errors)
        existing = lance.source_map()
        prog = IngestProgress(len(found.files), 0, 0)
        self.on_progress(prog)
        self._run_files(found.files, existing, fmt, trust, report, prog)
        if prune:
            report.pruned = self._prune(found, existing, paths)
        if report.units_written or report.pruned or report.count("updated"):
            report.maintenance = self.catalog.maintain(self.s.search.ann_min_units, self.keep_s)
            tidied = self.batches // self.s.ingest.tidy_every if self.s.ingest.tidy_every else 0
            if tidied:
                report.maintenance["tidied"] = tidied
        prog.current = ""
        self.on_progress(prog)
        report.graph_unusable = prog.graph_unusable
        report.seconds = time.perf_counter() - t0
        return report

    def _run_files(self, files: list[Path], existing: dict[str, Source], fmt, trust, report: IngestReport,
                   prog: IngestProgress) -> None:
        batch: list[tuple[Source, list[Unit], FileResult]] = []
        pending_units = 0
        started = time.perf_counter()
        for path in files:
            prog.current = str(path)
            res = FileResult(str(path), "failed")
            report.results.append(res)
            try:
                item = self._prepare(path, existing, fmt, trust)
            except StubNote as e:
                res.status, res.message = "stub", e.message
            except SkipInput as e:
                res.status, res.message = "skipped", e.message
            except ReadError as e:
                res.message = e.message
            except OSError as e:
                res.message = e.strerror or str(e)
            except Exception as e:  # a parser bug on one file must not stop the batch
                res.message = f"{type(e).__name__}: {e}"
            else:
                if item is None:
                    res.status, res.committed = "unchanged", True
                else:
                    src, units, updated = item
                    res.status, res.units = ("updated" if updated else "added"), len(units)
                    batch.append((src, units, res))
                    pending_units += len(units)
            prog.files_done += 1
            if self.encode is not None:  # bulk: large chunks, so the workers start rarely
                full = pending_units >= self.encode.chunk_units
            else:
                full = (pending_units >= self.s.ingest.batch_units * self.grow
                        or len(batch) >= self.batch_files * self.grow)
            if full:
                self._flush(batch, prog, existing)
                self._adapt(time.perf_counter() - started)
                batch, pending_units, started = [], 0, time.perf_counter()
            self.on_progress(prog)
        self._flush(batch, prog, existing)

    def _adapt(self, seconds: float) -> None:
        """Double the batch limits while a batch takes under half of ingest.batch_seconds, halve
        them when one takes over twice that; tidy the tables every ingest.tidy_every batches."""
        ing = self.s.ingest
        top = max(1, ing.batch_units_max // max(1, ing.batch_units))
        if seconds < ing.batch_seconds / 2:
            self.grow = min(self.grow * 2, top)
        elif seconds > ing.batch_seconds * 2:
            self.grow = max(1, self.grow // 2)
        self.batches += 1
        if ing.tidy_every and self.batches % ing.tidy_every == 0:
            self.catalog.maintain(None, self.keep_s)

    def _prepare(self, path: Path, existing: dict[str, Source], fmt: str | None = None, trust: str = "normal"):
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            # Reading a FIFO would block forever; a device has no end.
            raise ReadError("not a regular file (a pipe, socket or device)")
        if st.st_size > self.s.ingest.max_file_mb * 1024 * 1024:
            raise ReadError(f"file is {st.st_size / 2**20:.0f} MiB, over ingest.max_file_mb={self.s.ingest.max_file_mb:g}")
        data = path.read_bytes()
        h = hashlib.sha256(data).hexdigest()
        sid = source_id_for(path)
        old = existing.get(sid)
        if old is not None and old.content_hash == h and old.pipeline == self.pipeline and old.trust == trust:
            return None
        doc = read_document(path, data, fmt)
        if doc.kind == "conversation":
            sg = self.s.segment
            segs = segment_conversation(
                doc, strategy=sg.chat_units, min_tokens=sg.chat_min_tokens,
                max_tokens=min(sg.chat_max_tokens, self.embedder.max_tokens), embed=self.embedder.embed)
        else:
            segs = segment(doc, min_tokens=self.min_tokens, max_tokens=self.max_tokens,
                           count_tokens=self.embedder.count_tokens, hard_limit=self.embedder.max_tokens)
        if not segs:
            if doc.kind == "markdown":  # front matter or a title and nothing else yet
                raise StubNote("a stub: nothing to index yet")
            raise ReadError("no text to remember")
        now = utcnow()
        units = build_units(sid, h, doc, segs, now, path)
        for u, g in zip(units, sorted(segs, key=lambda g: g.start)):  # build_units' order
            if g.meta and "turn_vecs" in g.meta:
                self._turns[u.id] = (g.meta["turn_texts"], g.meta["turn_vecs"])
        if doc.kind == "markdown":  # the names a [[link]] may use for this note (graph/index.py)
            self._notes[sid] = {"title": doc.title, "stem": path.stem, "aliases": list(doc.aliases),
                                "path": os.path.normpath(os.path.abspath(path))}
        src = Source(source_id=sid, uri=str(path), kind=doc.kind, content_hash=h, size=st.st_size,
                     mtime=st.st_mtime, title=doc.title, n_units=len(units), ingested_at=now,
                     pipeline=self.pipeline, trust=trust)
        return src, units, old is not None

    def _flush(self, batch, prog: IngestProgress, existing: dict[str, Source] | None = None) -> None:
        """Embed and write one batch; its sources join ``existing`` (a path given twice is then
        unchanged the second time, not a second copy)."""
        if not batch:
            return
        units = [u for _, us, _ in batch for u in us]
        if self.encode is not None:
            vectors = self.encode([u.index_text for u in units])
            prog.units_done += len(units)
        else:
            vectors = self._embed([u.index_text for u in units], prog)
        turns = [(u, *self._turns.pop(u.id)) for u in units if u.id in self._turns]
        rows = None
        if self.graph is not None:
            prog.current = "graph"
            self.on_progress(prog)
            notes = {s.source_id: self._notes.pop(s.source_id) for s, _, _ in batch if s.source_id in self._notes}
            rows = self.graph.prepare(units, notes=notes)
            prog.graph_unusable += rows.unusable
        with deferred_interrupts():  # a Ctrl-C now lands once the batch is written and counted
            try:
                self.catalog.write([s for s, _, _ in batch], units, vectors, self._fp, graph_rows=rows,
                                   updated=any(res.status == "updated" for _, _, res in batch), turns=turns)
            except Exception as e:
                for _, _, res in batch:
                    res.status, res.units, res.message = "failed", 0, f"write failed: {e}"
                raise
            for src, _, res in batch:
                res.committed = True
                if existing is not None:
                    existing[src.source_id] = src

    def _embed(self, texts: list[str], prog: IngestProgress) -> np.ndarray:
        """Embed longest-first in chunks, so padding stays low and progress keeps moving."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.embedder.dim), dtype=np.float32)
        step = max(64, self.s.embed.batch_size * 4)
        for i in range(0, len(order), step):
            idx = order[i:i + step]
            out[idx] = self.embedder.embed([texts[j] for j in idx])
            prog.units_done += len(idx)
            self.on_progress(prog)
        return out

    def _prune(self, found: Discovery, existing: dict[str, Source], paths) -> list[str]:
        """Forget sources under the given paths whose files are gone."""
        roots = [str(r) for r in found.roots]
        explicit = {str(Path(p).expanduser().absolute()) for p in paths}
        gone = [s for s in existing.values()
                if (s.uri in explicit or any(s.uri.startswith(r.rstrip("/") + "/") for r in roots))
                and not Path(s.uri).exists()]
        if gone:
            self.catalog.forget([s.source_id for s in gone])
        return [s.uri for s in gone]


def _disk_trouble(e: BaseException) -> bool:
    """A full disk, a quota or an I/O error under the home: reported as a store problem (exit 5)
    after the half-written batch is rolled back, not as an internal error."""
    import errno

    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS):
        return True
    text = str(e).lower()
    return any(w in text for w in ("no space left", "disk quota", "read-only file system", "input/output error"))
