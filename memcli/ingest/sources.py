"""Find the files to ingest: explicit paths, directories (optionally recursive), globs.

Problems (missing paths, symlink loops, unsupported explicit files) become per-path
errors; discovery never raises for one bad path.
"""

from __future__ import annotations

import errno
import fnmatch
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from memcli.ingest.ignore import IgnoreRules
from memcli.ingest.readers import kind_of


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    ignored: int = 0  # files in directories with formats memcli does not read
    skipped_dirs: int = 0  # subdirectories not entered without --recursive
    roots: list[Path] = field(default_factory=list)


def source_id_for(path: Path) -> str:
    return hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _os_message(e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "symlink loop"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if e.errno == errno.ENOENT:
        return "no such file or directory"
    return e.strerror or str(e)


def matches_globs(rel: str, name: str, globs: list[str]) -> bool:
    return not globs or any(fnmatch.fnmatch(name, g) or fnmatch.fnmatch(rel, g) for g in globs)


def discover(paths: list[str | Path], *, recursive: bool = False, globs: list[str] | None = None) -> Discovery:
    out = Discovery()
    seen: set[Path] = set()
    globs = list(globs or [])

    def add(p: Path) -> None:
        try:
            real = p.resolve(strict=True)
        except (OSError, RuntimeError) as e:
            msg = _os_message(e) if isinstance(e, OSError) else "symlink loop"
            out.errors.append((str(p), msg))
            return
        if real not in seen:
            seen.add(real)
            out.files.append(real)

    for raw in paths:
        p = Path(raw).expanduser()
        try:
            st = p.stat()
        except OSError as e:
            out.errors.append((str(p), _os_message(e)))
            continue
        except RuntimeError:
            out.errors.append((str(p), "symlink loop"))
            continue
        if not os.path.isdir(p):
            if kind_of(p) is None:
                out.errors.append((str(p), f"unsupported file type {p.suffix or '(no suffix)'!r}"))
            elif st.st_size >= 0:
                add(p)
            continue
        root = p.resolve()
        rules = IgnoreRules(root)
        out.roots.append(root)
        stack = [root]
        visited = {root}
        while stack:
            d = stack.pop()
            try:
                entries = sorted(os.scandir(d), key=lambda e: e.name)
            except OSError as e:
                out.errors.append((str(d), _os_message(e)))
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                ep = Path(entry.path)
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                if rules.ignored(ep, is_dir):  # .memignore / .gitignore
                    continue
                if is_dir and entry.name == "logseq" and os.path.isfile(os.path.join(entry.path, "config.edn")):
                    continue  # a Logseq graph's settings, page backups (bak/) and recycle bin: not notes
                if is_dir:
                    if recursive:
                        real = ep.resolve()
                        if real not in visited:
                            visited.add(real)
                            stack.append(ep)
                    else:
                        out.skipped_dirs += 1
                    continue
                if entry.is_symlink() and os.path.isdir(ep):
                    continue  # directory symlinks are not followed
                if kind_of(ep) is None:
                    out.ignored += 1
                    continue
                rel = str(ep.relative_to(root))
                if matches_globs(rel, entry.name, globs):
                    add(ep)
    out.files.sort()
    return out
