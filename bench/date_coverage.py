"""Which units of a real folder get a date, and from where (issue #37); a sample to check
by hand.

Reads every note as `mem ingest` does (readers, segmentation, ingest/dates.py), without
embedding. Prints the share of units dated per source of the date, then ``--sample`` dated
units drawn at random (seed 5): the date, where it came from, and the text it came from.

    python bench/date_coverage.py FOLDER [FOLDER ...] [--sample 50]
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path

from memcli.ingest.dates import Dater
from memcli.ingest.pipeline import build_units
from memcli.ingest.readers import read_document
from memcli.ingest.segment import segment
from memcli.ingest.sources import discover


def units_of(folder: Path):
    found = discover([folder], recursive=True)
    for path in found.files:
        try:
            doc = read_document(path, path.read_bytes())
        except Exception:
            continue
        segs = segment(doc, min_tokens=100, max_tokens=400) if doc.kind != "conversation" else []
        if segs:
            yield path, doc, build_units("s", "h", doc, segs, None, path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--sample", type=int, default=50)
    a = ap.parse_args()
    dated = []
    report = {}
    for folder in a.folders:
        by = Counter()
        n = 0
        for path, doc, units in units_of(folder):
            for u in units:
                n += 1
                by[u.time_source or "none"] += 1
                if u.event_time:
                    dated.append((str(path.relative_to(folder)), u))
        report[folder.name] = {"units": n, "dated": n - by["none"], "share": round((n - by["none"]) / max(n, 1), 3),
                               "by_source": dict(by.most_common())}
    print(json.dumps(report, indent=1))
    rng = random.Random(5)
    for rel, u in rng.sample(dated, min(a.sample, len(dated))):
        where = u.section.split(" › ")[-1] if u.time_source == "heading" else (rel if u.time_source == "file name" else u.title)
        print(f"{u.event_time:%Y-%m-%d}  {u.time_source:12s}  {rel[:50]:50s}  {where[:50]!r}  | {u.text[:70]!r}")


if __name__ == "__main__":
    main()
