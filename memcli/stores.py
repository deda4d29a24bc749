"""Where memory lives, as a part of Memory: its LanceDB tables (a directory, or a bucket with
this machine's copy for reads), the Tantivy index, the graph tables, the Catalog over them, and
the one-writer lock. Built lazily from settings, so a command opens only what it uses; kept
apart from memory.py, which runs the operations over them."""

from __future__ import annotations

from functools import cached_property


class Stores:
    """Mixed into Memory (it uses ``settings``, ``location``, ``remote``, ``home``,
    ``ensure_home``, ``_embedder`` and ``_generator``): the stores, opened on first use."""

    @cached_property
    def _lance(self):
        from memcli.store.lance import LanceStore

        if self.remote:
            from memcli.store.remote import storage_options

            self.ensure_home()
            st = self.settings.storage
            try:
                store = LanceStore(self.location.rstrip("/") + "/lance", storage_options(st),
                                   consistency_s=st.consistency_s, vector_dtype=self.settings.embed.vector_dtype)
                store.db.list_tables(limit=1)  # one request: an unreachable store says so here, once
            except (OSError, RuntimeError, ValueError) as e:
                raise _unreachable(self.location, e) from None
            return store
        return LanceStore(self.ensure_home() / "lance", vector_dtype=self.settings.embed.vector_dtype)

    @cached_property
    def _mirror(self):
        """A remote home's tables copied to this machine for reads (store/mirror.py); None
        for a local home, or with storage.read_cache off."""
        if not (self.remote and self.settings.storage.read_cache):
            return None
        from memcli.store.mirror import Mirror
        from memcli.store.remote import object_store

        st = self.settings.storage
        return Mirror(object_store(self.location.rstrip("/") + "/lance", st), self.ensure_home() / "mirror",
                      st.consistency_s)

    @cached_property
    def _mirror_store(self):
        from memcli.store.lance import LanceStore

        return LanceStore(self._mirror.root, vector_dtype=self.settings.embed.vector_dtype, read_only=True)

    @property
    def _reads(self):
        """The store reads go to: a local home's own tables; for a remote home, this machine's
        copy of them, caught up first when it may be stale (at most every
        storage.consistency_s, and at once after this machine wrote). The bucket itself until
        the copy holds the tables (an empty home)."""
        m = self._mirror
        if m is None:
            return self._local_reads()
        self._lance  # noqa: B018 - opens the bucket first: an unreachable one is one clear error
        try:
            m.catch_up()
        except (OSError, RuntimeError, ValueError) as e:
            raise _unreachable(self.location, e) from None
        return self._mirror_store if m.ready() else self._lance

    def _local_reads(self):
        """A local home's reads: the snapshot (store/snapshot.py) while it stands for the
        tables' current versions, so that a cold search imports no LanceDB; the tables
        themselves otherwise (and for anything the snapshot does not hold)."""
        snap = self.__dict__.get("_snapshot")
        if snap is not None and snap.fresh():
            return snap
        self.__dict__.pop("_snapshot", None)
        if self.settings.search.snapshot and not self.remote and self.home.is_dir():
            from memcli.store import snapshot

            snap = snapshot.load(self.home, self.home / "lance")
            if snap is not None:
                snap.real, snap.lexical = (lambda: self._lance), self._lexical
                self.__dict__["_snapshot"] = snap
                return snap
        return self._lance

    def _save_snapshot(self) -> None:
        """After a write (under its lock): the snapshot follows the tables, or goes."""
        from memcli.store import snapshot

        if "_lance" not in self.__dict__ or self.remote:
            return
        s = self.settings.search
        if not s.snapshot:
            snapshot.drop(self.home)
            return
        try:
            snapshot.write(self.home, self.home / "lance", self._lance, self._graph.store.aliases(), s.ann_min_units)
        except Exception:  # a cache: never the reason a write fails
            snapshot.drop(self.home)

    def _reads_stale(self) -> None:
        """This machine wrote (or a reader must see the newest): the copy catches up first."""
        if "_mirror" in self.__dict__ and self._mirror is not None:
            self._mirror.stale()

    @cached_property
    def _remote_lock(self):
        """The cross-machine write lock and journal of a home on object storage."""
        from memcli.store.remote import RemoteLock

        return RemoteLock(self.location, self.settings.storage, lease_s=self.settings.storage.lock_lease_s,
                          timeout=self.settings.ingest.lock_timeout_s)

    @cached_property
    def _lexical(self):
        from memcli.store.lexical import LexicalIndex

        return LexicalIndex(self.ensure_home() / "tantivy")

    @cached_property
    def _catalog(self):
        from memcli.store.catalog import Catalog

        cat = Catalog(self.home, self._lance, self._lexical, self._graph.store,
                      journal=self._remote_lock if self.remote else None)
        cat.keep_history = self.settings.ingest.keep_history
        return cat

    @cached_property
    def _graph(self):
        """Graph memory (entity/relation tables, the igraph cache, PPR)."""
        from memcli.graph.index import GraphIndex

        return GraphIndex(self.ensure_home(), self._lance.db, self.settings.graph,
                          lambda names: self._embedder.embed(names), lambda: self._generator,
                          reads=self._graph_reads if self._mirror is not None else None)

    def _graph_reads(self):
        """The graph tables a query reads on a remote home: this machine's copy once it is ready."""
        return self._graph.store if self._reads is self._lance else self._graph_copy

    @cached_property
    def _graph_copy(self):
        from memcli.graph.store import GraphStore

        return GraphStore(self._mirror_store.db, read_only=True)

    def _lock(self, timeout: float | None = None):
        """One writer at a time: a file lock in the home; for a remote home also the
        cross-machine lock (store/remote.py)."""
        from memcli.store.lock import WriteLock

        timeout = self.settings.ingest.lock_timeout_s if timeout is None else timeout
        local = WriteLock(self.ensure_home(), timeout=timeout)
        if not self.remote:
            return _Writing(local, self._fold_access, self._save_snapshot)
        from memcli.store.remote import RemoteWriteLock

        self._lance  # noqa: B018 - opens the store first: an unreachable bucket is one clear error
        self._remote_lock.timeout = timeout
        lock = RemoteWriteLock(local, self._remote_lock, on_acquire=self._read_latest, on_release=self._reads_stale)
        return _Writing(lock, self._fold_access, lambda: None)

    def _fold_access(self) -> None:
        """First thing a write does: answers' recall noted since the last one goes into LanceDB."""
        from memcli.store.access import FILE, FOLDING

        if (self.home / FILE).exists() or (self.home / FOLDING).exists():
            self._catalog.fold_access()

    def refresh(self, *, latest: bool = False) -> None:
        """Catch up with what other processes wrote: a fresh Tantivy searcher; with ``latest``,
        every open table read at its newest version (a remote home's copy too), as after a
        write by this process. Cheap when nothing is open yet (a resident process calls it
        before each read)."""
        if latest and "_lance" in self.__dict__:
            self._read_latest()
        if "_lexical" in self.__dict__:
            self._lexical.refresh()

    def _read_latest(self) -> None:
        self._lance.refresh()
        self._reads_stale()
        if "_graph" in self.__dict__:
            self._graph.store.refresh()

    def _sync_lexical(self, reads) -> None:
        """A remote home's Tantivy cache on this machine catches up with LanceDB (other
        machines' writes), read from ``reads``; skipped, not waited for, while a writer here
        holds the lock."""
        if not self.remote:
            return
        from memcli.errors import LockBusyError
        from memcli.store.lock import WriteLock

        try:
            with WriteLock(self.ensure_home(), timeout=0):
                self._catalog.sync_lexical_cache(self.home / "tantivy.synced", reads)
        except LockBusyError:
            pass

    @property
    def _version_keep_s(self) -> float:
        """How long an old table version stays once a newer one exists. A home on object
        storage: other machines read up to ``storage.consistency_s`` behind, so their version
        must outlive that (a read of a version whose files are gone fails); here, every
        reader checks for the latest version at each read: ``consolidate.compact_keep_s``."""
        keep = self.settings.consolidate.compact_keep_s
        return max(keep, 2 * self.settings.storage.consistency_s + 30) if self.remote else keep


class _Writing:
    """A write lock that runs ``first`` once it holds the lock, and ``after`` before it lets
    go when the write went through."""

    def __init__(self, lock, first, after) -> None:
        self.lock = lock
        self.first = first
        self.after = after

    def __enter__(self):
        self.lock.__enter__()
        try:
            self.first()
        except BaseException as e:
            self.lock.__exit__(type(e), e, e.__traceback__)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.after()
        finally:
            self.lock.__exit__(*exc)


def _unreachable(location: str, e: Exception):
    """A remote home that cannot be reached: one line of the cause, and where to look."""
    import re

    from memcli.errors import StoreError

    text = " ".join(str(e).split())
    known = re.search(r"Connection refused|Failed to resolve region[^,]*|NoSuchBucket|AccessDenied|"
                      r"InvalidAccessKeyId|SignatureDoesNotMatch|dns error[^,)]*|timed out", text)
    cause = known.group(0) if known else text[:160]
    return StoreError(f"cannot reach the memory home {location}: {cause}",
                      hint="check storage.endpoint / storage.region, that the bucket exists, and the credentials "
                           "in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
