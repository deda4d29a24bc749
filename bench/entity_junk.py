"""Junk in the graph of a real notes folder: the share of entities that are single common
words ("Several", "Running", "Note"), per extractor (issue #36).

A single-word entity counts as a common word when the folder itself writes the word in
lower case at least as often as capitalised: "several" is common, "Obsidian" is not. The
"before" row runs the rule extractor as it was at ``--before-rev`` (read from git).

    python bench/entity_junk.py /path/to/notes-folder [--before-rev 4d9112c]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from memcli.graph.extract import make_extractor, normalise
from memcli.ingest.readers import read_document
from memcli.ingest.segment import segment
from memcli.markup import note_links


def units_of(folder: Path) -> list[tuple[str, str]]:
    out = []
    for f in sorted(folder.rglob("*.md")):
        if any(p.startswith(".") for p in f.relative_to(folder).parts):
            continue
        try:
            doc = read_document(f, f.read_bytes())
        except Exception:
            continue
        out += [(g.text, doc.title) for g in segment(doc, min_tokens=100, max_tokens=400)]
    return out


def old_rules(rev: str):
    src = subprocess.run(["git", "show", f"{rev}:memcli/graph/extract.py"], capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "old_extract.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("old_extract", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_extract"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)

    class Old:
        name = f"rules@{rev}"

        def extract_many(self, items):
            return [mod.RuleExtractor().extract(t, h) for t, h in items]
    return Old()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=Path)
    ap.add_argument("--before-rev", default="4d9112c")
    a = ap.parse_args()
    units = units_of(a.folder)
    words = Counter(re.findall(r"[A-Za-z][\w'-]*", "\n".join(t for t, _ in units)))
    lower = Counter()
    cap = Counter()
    for w, n in words.items():
        (cap if w[:1].isupper() else lower)[w.lower()] += n
    report = {"folder": str(a.folder), "units": len(units)}
    for ex in (old_rules(a.before_rev), make_extractor("rules"), make_extractor("ner")):
        t = time.perf_counter()
        got = ex.extract_many(units)
        secs = time.perf_counter() - t
        ents = Counter()
        for (text, _), g in zip(units, got):
            for e in {normalise(x) for x in g.entities} | {normalise(x) for x in note_links(text)}:
                if e:
                    ents[e] += 1
        single = [e for e in ents if " " not in e and e.isalpha()]
        common = [e for e in single if lower[e] >= max(cap[e], 1)]
        report[ex.name] = {"entities": len(ents), "single_word": len(single), "common_word": len(common),
                           "common_share": round(len(common) / max(len(ents), 1), 3), "seconds": round(secs, 1),
                           "most_mentioned_common": [e for e, _ in ents.most_common() if e in set(common)][:15]}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    sys.exit(main())
