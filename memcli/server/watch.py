"""`mem watch`: keep folders ingested as files change.

watchfiles batches the events of one burst (an editor's save writes temp files, renames,
touches) and waits ``debounce_ms`` of quiet before yielding; then changed files are
ingested by name (unchanged content is skipped by its hash, so a save that changes nothing
re-embeds nothing), and a deletion re-walks the roots with ``--prune`` semantics, which
also covers renamed and removed folders. Ingests go through `mem serve` when one runs for
this home (its models are already loaded), else through this process's own Memory.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from memcli.ingest.ignore import IgnoreRules
from memcli.ingest.readers import kind_of
from memcli.ingest.sources import matches_globs

# Editor droppings that watchfiles' default filter does not already skip.
TEMP_SUFFIXES = ("~", ".swp", ".swx", ".swo", ".tmp", ".part", ".crdownload", ".kate-swp")


class Watcher:
    def __init__(self, mem, paths: list[Path], *, globs: list[str] | None = None, prune: bool = True,
                 debounce_ms: int = 800, report: Callable[[str], None] = print, as_json: bool = False) -> None:
        self.mem = mem
        self.paths = [Path(p).expanduser().resolve() for p in paths]
        self.roots = [p for p in self.paths if p.is_dir()]
        self.rules = {r: IgnoreRules(r) for r in self.roots}
        self.globs = list(globs or [])
        self.prune = prune
        self.debounce_ms = debounce_ms
        self.report = report
        self.as_json = as_json
        self.batches = 0

    # -- which paths matter -------------------------------------------------------------
    def wanted(self, path: str) -> bool:
        p = Path(path)
        if p.name.startswith((".", "#")) or p.name.endswith(TEMP_SUFFIXES) or kind_of(p) is None:
            return False
        for root in self.roots:
            try:
                rel = p.relative_to(root)
            except ValueError:
                continue
            if any(part.startswith(".") for part in rel.parts) or self.rules[root].excluded(p):
                return False  # discovery skips hidden folders and ignored files too
            return matches_globs(str(rel), p.name, self.globs)
        return p in self.paths  # a file named on the command line

    # -- one round ------------------------------------------------------------------------
    def catch_up(self) -> dict:
        """Ingest everything under the paths once (what changed while nobody watched)."""
        return self._ingest([str(p) for p in self.paths], prune=self.prune, why="catch-up")

    def handle(self, changes: set[tuple[object, str]]) -> dict | None:
        from watchfiles import Change

        self.rules = {r: IgnoreRules(r) for r in self.roots}  # ignore files may have changed too
        deleted = any(c == Change.deleted for c, p in changes)
        changed = sorted({p for c, p in changes if c != Change.deleted and self.wanted(p) and Path(p).is_file()})
        if deleted and self.prune:
            # A re-walk with prune: deleted files and folders leave memory, renamed ones come back.
            return self._ingest([str(p) for p in self.paths], prune=True, why="deleted")
        if changed:
            return self._ingest(changed, prune=False, why="changed")
        return None

    def run(self, stop_event=None) -> None:
        from watchfiles import DefaultFilter, watch

        default = DefaultFilter()
        for changes in watch(*self.paths, watch_filter=lambda c, p: default(c, p), debounce=self.debounce_ms,
                             step=50, stop_event=stop_event, raise_interrupt=False):
            self.handle(changes)

    def _ingest(self, paths: list[str], *, prune: bool, why: str) -> dict:
        t0 = time.perf_counter()
        rep = via_server(self.mem.home, paths, self.globs, prune)
        how = "server"
        if rep is None:
            how = "local"
            rep = self.mem.ingest(paths, recursive=True, globs=self.globs or None, prune=prune).to_dict()
        self.batches += 1
        line = {"batch": self.batches, "why": why, "via": how, "files": len(paths),
                "added": rep.get("added", 0), "updated": rep.get("updated", 0),
                "unchanged": rep.get("unchanged", 0), "failed": rep.get("failed", 0),
                "pruned": len(rep.get("pruned", []) or []), "units": rep.get("units", 0),
                "seconds": round(time.perf_counter() - t0, 2)}
        if self.as_json:
            self.report(json.dumps(line))
        else:
            self.report(f"{time.strftime('%H:%M:%S')} {why}: {line['added']} added, {line['updated']} updated, "
                        f"{line['unchanged']} unchanged, {line['pruned']} pruned, {line['failed']} failed "
                        f"({line['units']} units, {line['seconds']} s, {how})")
        return line


def via_server(home: Path, paths: list[str], globs: list[str], prune: bool) -> dict | None:
    """The ingest report from `mem serve` of ``home``; None when none runs."""
    from memcli.server.client import served_json

    argv = ["ingest", "--recursive", "--json", *sum((["--glob", g] for g in globs), [])]
    argv += ["--prune"] if prune else []
    return served_json(home, [*argv, "--", *paths])
