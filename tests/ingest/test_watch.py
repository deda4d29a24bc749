"""`mem watch`: search follows edits, additions and deletions; unchanged saves embed nothing."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("watchfiles")


@pytest.fixture
def env(child_env):
    return {**child_env, "MEM_SERVE__WATCH_DEBOUNCE_MS": "150"}


class Watch:
    """A running `mem watch --json`, its report lines read as they come."""

    def __init__(self, env, folder) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "memcli", "watch", str(folder), "--glob", "*.md", "--json"],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: "queue.Queue[dict]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.stderr_ready = threading.Event()
        threading.Thread(target=self._err, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))

    def _err(self) -> None:
        for line in self.proc.stderr:
            if "watching" in line:
                self.stderr_ready.set()

    def next(self, timeout: float = 20.0) -> dict:
        return self.lines.get(timeout=timeout)

    def quiet(self, seconds: float) -> bool:
        try:
            extra = self.lines.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected ingest round: {extra}")


def search_uris(env, query: str) -> list[str]:
    p = subprocess.run([sys.executable, "-m", "memcli", "search", query, "--mode", "bm25", "--json"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return [h["uri"] for h in json.loads(p.stdout)["hits"]]


def test_search_follows_a_watched_folder(env, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "bees.md").write_text("# Bees\n\nThe queen is laying well.\n")
    w = Watch(env, notes)
    try:
        first = w.next()
        assert first["why"] == "catch-up" and first["added"] == 1
        assert w.stderr_ready.wait(20)
        time.sleep(0.3)

        (notes / "owls.md").write_text("# Owls\n\nA tawny owl nests in the oak.\n")  # add
        r = w.next()
        assert r["added"] == 1
        assert any(u.endswith("owls.md") for u in search_uris(env, "tawny owl"))

        (notes / "owls.md").write_text("# Owls\n\nA barn owl hunts over the meadow.\n")  # edit
        assert w.next()["updated"] == 1
        uris = search_uris(env, "barn owl meadow")
        assert any(u.endswith("owls.md") for u in uris) and not search_uris(env, "tawny")

        # An editor's burst: temp files, a backup, a save that changes nothing, a non-matching file.
        (notes / ".owls.md.swp").write_text("swap")
        (notes / "owls.md~").write_text("backup")
        (notes / "scratch.txt").write_text("not matched by --glob *.md")
        (notes / "owls.md").write_text("# Owls\n\nA barn owl hunts over the meadow.\n")
        (notes / ".owls.md.swp").unlink()
        r = w.next()
        assert r["added"] == r["updated"] == 0 and r["units"] == 0  # nothing re-embedded
        assert not any(u.endswith(("scratch.txt", "~")) for u in search_uris(env, "matched backup swap"))

        (notes / "owls.md").unlink()  # delete
        r = w.next()
        assert r["pruned"] == 1
        assert not search_uris(env, "barn owl meadow")
        assert any(u.endswith("bees.md") for u in search_uris(env, "queen laying"))
        w.quiet(1.0)
    finally:
        w.proc.terminate()
        w.proc.wait(timeout=20)
