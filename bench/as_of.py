"""What `--as-of` costs (issue #37): disk for the replaced passages an edit keeps, and search
time with and without `--as-of`, measured in one run on the same home.

A generated folder (bench/_corpus.py) is ingested; then a tenth of its notes are edited
(one section rewritten) and ingested again, ``--rounds`` times. Reported: units, replaced
units, home size with history against a home that keeps none (ingest.keep_history false),
and warm search p50/p95 for queries without `--as-of`, with `--as-of` now, and with
`--as-of` before the first edit. The embedder is the deterministic fake (vector search cost
does not depend on what the vectors mean).

    python bench/as_of.py [files=1000] [rounds=3]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _corpus import WORDS, make_corpus, scratch, sentence  # noqa: E402


def size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def timed(fn, n: int = 40) -> tuple[float, float]:
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1000)
    return statistics.median(ts), statistics.quantiles(ts, n=20)[18]


def main(files: int = 1000, rounds: int = 3) -> None:
    from memcli.config import Settings
    from memcli.embed.fake import FakeEmbedder
    from memcli.memory import Memory

    with scratch("as-of-") as tmp:
        root = Path(tmp)
        corpus = make_corpus(root / "notes", files=files)
        homes = {}
        for keep in (True, False):
            homes[keep] = Memory(Settings(home=root / f"home-{keep}", embed={"model": "fake:384"},
                                          ingest={"keep_history": keep}), embedder=FakeEmbedder(dim=384))
            homes[keep].ingest([corpus])
        fresh = size(root / "home-True")
        time.sleep(1.0)
        before = datetime.now(timezone.utc)
        time.sleep(1.0)
        rng = random.Random(3)
        for r in range(rounds):
            for f in rng.sample(sorted(corpus.glob("*.md")), files // 10):
                text = f.read_text().split("## Topic 3", 1)
                if len(text) == 2:
                    rest = text[1].split("## Topic 4", 1)
                    new = " ".join(sentence(rng) for _ in range(5))
                    f.write_text(text[0] + "## Topic 3\n\n" + new + "\n\n" + ("## Topic 4" + rest[1] if len(rest) == 2 else ""))
            for m in homes.values():
                m.ingest([corpus])
        m = homes[True]
        units = m._lance.count_units()
        replaced = m._lance.count_units("status = 'replaced'")
        for m2 in homes.values():
            m2._catalog.maintain(None, 0)
        with_h, without = size(root / "home-True"), size(root / "home-False")
        qs = [" ".join(rng.choice(WORDS) for _ in range(4)) for _ in range(8)]
        m.search(qs[0])
        i = iter(range(10**6))
        plain = timed(lambda: m.search(qs[next(i) % 8], k=10))
        now = timed(lambda: m.search(qs[next(i) % 8], k=10, as_of=datetime.now(timezone.utc)))
        past = timed(lambda: m.search(qs[next(i) % 8], k=10, as_of=before))
        print(f"files {files}, {rounds} rounds editing {files // 10} notes each: live units {units}, replaced kept {replaced}")
        print(f"home: fresh {fresh / 2**20:.1f} MiB; after edits with history {with_h / 2**20:.1f} MiB, "
              f"without {without / 2**20:.1f} MiB (history +{(with_h - without) / max(without, 1):.1%})")
        for name, (p50, p95) in (("no --as-of", plain), ("--as-of now", now), ("--as-of before the edits", past)):
            print(f"search {name:26s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({p50 / plain[0]:.2f}x)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
