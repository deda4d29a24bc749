"""Ignore files: `.memignore` and `.gitignore` in a folder being ingested or watched.

The common subset of gitignore: one glob per line, `#` comments, a trailing `/` matches
folders only, a pattern with a `/` inside is anchored to the ignore file's folder, one
without matches a name at any depth below it, `**` spans folders. Negations (`!`) are not
supported and are skipped rather than misread.
"""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache
from pathlib import Path

NAMES = (".memignore", ".gitignore")


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern:
    return re.compile(fnmatch.translate(pattern).replace(".*", "[^/]*").replace("[^/]*[^/]*", ".*"))


def _patterns(folder: Path) -> list[tuple[str, bool, bool]]:
    """(glob, anchored, dirs_only) for each usable line of the folder's ignore files."""
    out = []
    for name in NAMES:
        try:
            lines = (folder / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith(("#", "!")):
                continue
            dirs_only = line.endswith("/")
            line = line.strip("/")
            if line:
                out.append((line, "/" in line, dirs_only))
    return out


class IgnoreRules:
    """Ignore rules below one root, read lazily per folder and cached for the walk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[Path, list[tuple[str, bool, bool]]] = {}

    def _rules(self, folder: Path):
        if folder not in self._cache:
            self._cache[folder] = _patterns(folder)
        return self._cache[folder]

    def ignored(self, path: Path, is_dir: bool) -> bool:
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return False
        folders = [self.root, *[self.root.joinpath(*rel.parts[:i]) for i in range(1, len(rel.parts))]]
        for folder in folders:
            sub = path.relative_to(folder).as_posix()
            for glob, anchored, dirs_only in self._rules(folder):
                if dirs_only and not is_dir:
                    continue
                if anchored:
                    if _compile(glob).fullmatch(sub):
                        return True
                elif fnmatch.fnmatch(path.name, glob):
                    return True
        return False

    def excluded(self, path: Path) -> bool:
        """The file itself or a folder above it (below the root) is ignored."""
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return False
        for i in range(1, len(rel.parts)):
            if self.ignored(self.root.joinpath(*rel.parts[:i]), True):
                return True
        return self.ignored(path, False)
