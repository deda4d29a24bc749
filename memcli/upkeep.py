"""Keeping memory in shape, as a part of Memory: consolidation (dedupe, summarise, supersede,
decay, compact), pins and weak units, one-file archives, re-embedding, the health check and the
counts. Kept apart from memory.py, which composes the parts and runs ingest, search and ask."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memcli.types import UnitRecord


class Upkeep:
    """Mixed into Memory (it uses ``settings``, ``home``, ``remote``, the stores — ``_lance``,
    ``_lexical``, ``_catalog``, ``_graph``, ``_lock``, ``_mirror`` —, the models ``_embedder`` and
    ``_generator``, and ``sources``, ``_resolve``, ``_records``, ``_read_latest``,
    ``_sync_lexical``, ``_version_keep_s``, ``_prepare_light_encoder``)."""

    def _consolidator(self, **kw):
        from memcli.consolidate.steps import Consolidator
        from memcli.embed.base import fingerprint

        cs = self.settings.consolidate
        if cs.compact_keep_s != self._version_keep_s:
            cs = cs.model_copy(update={"compact_keep_s": self._version_keep_s})
        return Consolidator(cs, self._catalog, self.home,
                            embed=lambda texts: self._embedder.embed(texts),
                            fingerprint=lambda: fingerprint(self._embedder),
                            generator=lambda: self._generator, graph=self._graph, **kw)

    # -- consolidation ------------------------------------------------------------------
    def consolidate(self, *, dry_run: bool = False, only: list[str] | None = None, now=None):
        """Tidy memory as `mem consolidate` (and its cron job) does: dedupe copies, summarise
        sessions, supersede changed facts, decay what nobody reads, compact the tables.

        Args:
            dry_run: report what would change, change nothing.
            only: run these steps only (names in ``memcli.consolidate.steps.STEPS``).
            now: the moment decay measures from (default: now).

        Returns:
            A report per step (``ConsolidationReport``; ``to_dict()`` is the --json shape).

        Raises:
            ConfigError: an unknown step. LockBusyError: another writer holds the home.
        """
        from memcli.consolidate.steps import STEPS
        from memcli.errors import ConfigError

        bad = [s for s in (only or []) if s not in STEPS]
        if bad:
            raise ConfigError(f"unknown step {bad[0]!r}; choose from {', '.join(STEPS)}")
        with self._lock():
            self._catalog.recover()
            return self._consolidator(dry_run=dry_run, now=now).run(only)

    def pin(self, ref: str, pinned: bool = True) -> int:
        """Make a unit, or every unit of a source, evergreen: decay never archives it, and an
        archived one comes back.

        Args:
            ref: a unit id, or a source (id, path or folder, as :meth:`sources` reads it).
            pinned: False takes the pin off.

        Returns:
            How many units changed.

        Raises:
            NotFoundError: ``ref`` names no unit and no source.
        """
        from memcli.store.query import KEPT, units

        with self._lock():
            self._catalog.recover()
            ids = [r["id"] for r in self._lance.units_where(units(ids=[ref]), ["id"])]
            if not ids:
                sids = [s.source_id for s in self._resolve(ref)]
                ids = [r["id"] for r in self._lance.units_where(units(source_ids=sids, status=KEPT), ["id"])]
            self._catalog.pin(ids, pinned)
            return len(ids)

    def weak_units(self, cutoff, *, forget: bool = False) -> "list[UnitRecord]":
        """Archived (decayed) units nobody read since ``cutoff``: what `mem forget --weak` lists.

        Args:
            cutoff: a datetime; a unit last ingested or read before it is weak.
            forget: delete them too (under the write lock), as `mem forget --weak --yes` does.

        Returns:
            The weak units (``UnitRecord``: ``id``, ``uri``, ``section``, ``text``, …), deleted
            when ``forget``.
        """
        if forget:
            with self._lock():
                self._catalog.recover()
                recs = self.weak_units(cutoff)
                if recs:
                    self._catalog.forget_units([{"id": r.id, "source_id": r.source_id} for r in recs])
                return recs
        from memcli.store.query import units

        rows = self._lance.units_where(units(status="archived", pinned=False),
                                      ["id", "source_id", "status", "section", "text", "ingested_at", "last_access"])
        return self._records([r for r in rows
                              if max(t for t in (r["ingested_at"], r["last_access"]) if t is not None) < cutoff])

    # -- export / import ------------------------------------------------------------------
    def export(self, path: str | Path) -> dict:
        """The whole memory as one file: a backup, or a move to another home (another
        machine, object storage). Read under the write lock, so the file is a consistent cut.

        Returns:
            ``file``, ``bytes`` and the rows written per table.
        """
        from memcli.version import __version__
        from memcli.store.archive import write_archive

        with self._lock():
            self._catalog.recover()
            tables = self._catalog.dump()
            fp = self._lance.fingerprint()
            size = write_archive(Path(path).expanduser(), tables,
                                 {"memcli": __version__, "embedder": fp, "home": str(self.settings.home)})
        return {"file": str(path), "bytes": size, **{n: t.num_rows for n, t in tables.items()}}

    def import_(self, path: str | Path, *, merge: bool = False) -> dict:
        """Load an archive made by :meth:`export` into this home.

        Args:
            path: the archive file.
            merge: add to a home that holds memory (the archive's sources replace any with
                the same id); without it only an empty home takes an archive.

        Returns:
            The rows loaded per table.

        Raises:
            ConfigError: the home holds memory and ``merge`` is off, or the archive's vectors
                come from another embedder than this home's.
        """
        from memcli.errors import ConfigError
        from memcli.store.archive import read_archive

        manifest, tables = read_archive(Path(path).expanduser())
        fp = manifest.get("embedder") or {}
        if "units" in tables and not fp:
            raise ConfigError(f"{path}: the archive does not name the embedder of its vectors")
        with self._lock():
            self._catalog.recover()
            if self._lance.sources() and not merge:
                raise ConfigError(f"{self.settings.home} already holds memory",
                                  hint="import into an empty home, or add --merge")
            if "units" in tables:
                self._lance.units_table(fp, create=True)  # a different vector space is refused here
            res = self._catalog.restore(tables, fp)
            self._catalog.maintain(self.settings.search.ann_min_units)
        return {"file": str(path), **res, "embedder": fp}

    def _auto_compact(self) -> dict | None:
        """Disk that grows with every ingest and forget comes back without anyone running
        `mem consolidate`: when compacting would give back ``ingest.compact_reclaim`` of the
        live size (old versions, deleted rows, Tantivy segments with deletes), or past
        ``ingest.compact_after_versions`` table versions, the compact step runs here, under
        the same write lock (the caller holds it)."""
        ing = self.settings.ingest
        t = self._lance.units_table()
        if t is None:
            return None
        over = bool(ing.compact_after_versions) and len(t.list_versions()) > ing.compact_after_versions
        if not over and ing.compact_reclaim:
            # Both stores against their own live size: a remote home's tables report (0, 0),
            # and its local Tantivy cache alone must not look like garbage over nothing.
            (lance_disk, lance_live), (lex_disk, lex_live) = self._lance.disk_usage(), self._lexical.disk_usage()
            dead = max(0, lance_disk - lance_live) + (lex_disk - lex_live)
            over = dead > ing.compact_reclaim * max(lance_live + lex_live, 1) and dead > 64 * 1024
        if not over:
            return None
        return self._consolidator().compact().counts

    def reindex(self, on_progress=None) -> dict:
        """Re-embed every unit and entity with the configured embedder (after changing
        ``embed.model``); the indexes are rebuilt.

        Returns:
            ``units`` and ``entities`` re-embedded, and the embedder ``from`` and ``to``.
        """
        from memcli.embed.base import fingerprint

        with self._lock():
            self._catalog.recover()
            before = self._lance.fingerprint()
            fp = fingerprint(self._embedder)
            n = self._catalog.reindex(self._embedder.embed, fp, on_progress)
            entities = self._catalog.reembed_graph(self._embedder.embed)
            self._catalog.maintain(self.settings.search.ann_min_units)
        res = {"units": n, "entities": entities, "from": before, "to": {k: str(v) for k, v in fp.items()}}
        self._prepare_light_encoder(res)
        return res

    def doctor(self, *, repair: bool = False):
        """Check the stores against each other (units, BM25 index, graph, vectors, pending
        writes, permissions), the answer model and the plugins, as `mem doctor` does.

        Args:
            repair: fix what can be fixed (finish or undo pending writes, rebuild the index).

        Returns:
            A ``DoctorReport``: ``findings``, each with ``ok`` and a message.
        """
        from memcli.store.doctor import diagnose

        found = self.home.stat().st_mode & 0o777 if self.home.exists() else None  # before opening tightens it
        if self.remote:
            self._read_latest()  # every table at its newest version: a check compares them with each other
        self._sync_lexical(self._lance)  # a remote home's Tantivy is this machine's cache: bring it up to date first
        if not repair:
            rep = diagnose(self.home, self._catalog, self.settings.embed.model, home_mode=found)
        else:
            with self._lock():
                rep = diagnose(self.home, self._catalog, self.settings.embed.model, repair=True, home_mode=found)
        finding = self._answer_model_finding()
        if finding is not None:
            rep.findings.append(finding)
        from memcli.store.doctor import plugin_finding

        finding = plugin_finding()
        if finding is not None:
            rep.findings.append(finding)
        return rep

    def check_answer_model(self, *, force: bool = False):
        """Whether the configured GGUF runs on this machine: llama.cpp is probed once in a
        child process (a build for another CPU crashes there, not here), and the verdict is
        kept until the model or the build changes.

        Args:
            force: probe again even if a verdict is kept.

        Returns:
            The verdict (``ok``, ``message()``, ``seconds``), or None when no GGUF is in use.

        Raises:
            ModelError: the configured model file is missing.
        """
        from memcli.llm.models import resolve_gguf
        from memcli.llm.probe import check, llama_version

        if self.settings.llm.model == "fake" or llama_version() == "not installed":
            return None
        return check(resolve_gguf(self.settings.llm.model), self.ensure_home(), force=force)

    def _answer_model_finding(self):
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
        """Counts, sizes and the embedder: what `mem stats` shows.

        Returns:
            ``sources``, ``units``, ``indexed_units``, the graph's counts, ``disk_bytes``
            (this machine's files; a remote home's ``read_cache_bytes`` are part of them),
            and the embedder's fingerprint.
        """
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
            "units": self._lance.count_units(),
            "indexed_units": self._lexical.count(),
            "by_kind": by_kind,
            "embedder": self._lance.fingerprint(),
            "disk_bytes": size,
            "last_ingest": max((s.ingested_at for s in srcs), default=None),
            "graph": self._graph.reads.counts() | {"unusable_extractions": self._graph.reads.extraction_failures()},
        }
