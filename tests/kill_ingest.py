"""Kill test: SIGKILL `mem ingest` (and, with --ops, `consolidate`, `forget`, `pin` and
`graph build`) at random moments, then check that nothing is lost, duplicated or half-written.

Run directly for a longer soak:
    .venv/bin/python tests/kill_ingest.py --trials 100 --ops ingest,consolidate,forget,pin,graph
(CI runs a modest count through tests/ingest/test_kill.py.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path


def make_corpus(root: Path, files: int, rng: random.Random) -> None:
    root.mkdir(parents=True, exist_ok=True)
    words = "hive queen honey garden tomato compost bicycle river winter lantern harbour".split()
    for i in range(files):
        sections = [f"## Part {j}\n\n" + " ".join(rng.choice(words) for _ in range(60)) + ".\n" for j in range(4)]
        (root / f"note-{i:03d}.md").write_text(f"# Note {i}\n\n" + "\n".join(sections))


def env_for(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"MEM_HOME": str(home), "MEM_EMBED__MODEL": "fake:64", "MEM_INGEST__BATCH_UNITS": "6",
                "MEM_SEGMENT__MIN_TOKENS": "10", "MEM_SEGMENT__MAX_TOKENS": "40", "MEM_GRAPH__ENABLED": "true",
                "MEM_CONFIG": str(home.parent / "none.yaml")})
    return env


def mem(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "memcli", *args], env=env, capture_output=True, text=True)


OPS = ("ingest", "consolidate", "forget", "pin", "graph")


def command(op: str, corpus: Path, rng: random.Random, files: int) -> list[str]:
    some = str(corpus / f"note-{rng.randrange(files):03d}.md")
    return {"ingest": ["ingest", str(corpus)], "consolidate": ["consolidate"], "forget": ["forget", some],
            "pin": ["pin", some], "graph": ["graph", "build"]}[op]


def run_trials(workdir: Path, trials: int, files: int = 40, seed: int = 0, ops: tuple[str, ...] = ("ingest",),
               check_each: bool = False) -> dict:
    rng = random.Random(seed)
    corpus, home = workdir / "corpus", workdir / "home"
    make_corpus(corpus, files, rng)
    env = env_for(home)
    if ops != ("ingest",):
        mem(["ingest", str(corpus)], env)  # something to consolidate, forget and pin
    killed, by_op, unclean = 0, {op: 0 for op in ops}, []
    # How long each command runs when left alone (updated as runs finish): kills are timed
    # within it, so they land in the work, whatever the machine and however fast startup is.
    took = {op: 1.5 for op in ops}
    for t in range(trials):
        # Change a few files each time, so kills also land in "replace the old units".
        for victim in {corpus / f"note-{rng.randrange(files):03d}.md" for _ in range(3)}:
            victim.write_text(victim.read_text() + f"\nEdit {t}: the lantern moved.\n")
        op = rng.choice(ops)
        t0 = time.monotonic()
        p = subprocess.Popen([sys.executable, "-m", "memcli", *command(op, corpus, rng, files)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = t0 + rng.uniform(0.3, 1.0) * took[op]
        while p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            killed += 1
            by_op[op] += 1
        else:
            took[op] = time.monotonic() - t0
        p.wait()
        if check_each:  # recover what the kill left (as the next command would), then a clean doctor
            mem(["doctor", "--repair"], env)
            if mem(["doctor", "--json"], env).returncode != 0:
                unclean.append(t)
    final = mem(["ingest", str(corpus), "--json"], env)
    doctor = mem(["doctor", "--json"], env)
    return {"trials": trials, "killed": killed, "killed_by_op": by_op,
            "doctor_unclean_after_recovery": unclean if check_each else None, "final_rc": final.returncode,
            "final": json.loads(final.stdout) if final.stdout else final.stderr,
            "doctor_rc": doctor.returncode, "doctor": json.loads(doctor.stdout) if doctor.stdout else doctor.stderr,
            "check": check(corpus, home)}


def check(corpus: Path, home: Path) -> dict:
    """Every file present once, with exactly its units, identical in both stores."""
    from memcli.config import Settings
    from memcli.embed.fake import FakeEmbedder
    from memcli.memory import Memory

    m = Memory(Settings(home=home, embed={"model": "fake:64"}), embedder=FakeEmbedder(64))
    # Consolidation adds derived sources (e.g. memcli:/topic-summaries): files only here.
    sources = [s for s in m.sources() if not s.uri.startswith("memcli:")]
    files = sorted(str(p.resolve()) for p in corpus.glob("*.md"))
    problems = []
    if sorted(s.uri for s in sources) != files:
        problems.append("source list differs from the files")
    for s in sources:
        if s.content_hash != hashlib.sha256(Path(s.uri).read_bytes()).hexdigest():
            problems.append(f"stale content for {s.uri}")
        # Leaves of any settled status: consolidation may merge or archive them, never drop them.
        # (An edit's replaced passages are history, kept for --as-of: not the file's units.)
        units = m._lance.units_where(f"source_id = '{s.source_id}' AND level = 0 AND status NOT IN ('pending', 'replaced')",
                                    ["id", "char_start"])
        if len(units) != s.n_units or len({u["char_start"] for u in units}) != len(units):
            problems.append(f"{s.uri}: {len(units)} units, expected {s.n_units} distinct")
    if m._lance.committed_ids() != m._lexical.all_ids():
        problems.append("LanceDB and Tantivy disagree")
    if m._lance.units_where("status = 'pending'", ["id"]):
        problems.append("uncommitted units remain")
    return {"files": len(files), "units": m._lance.count_units(), "problems": problems}


if __name__ == "__main__":
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ops", default="ingest", help=f"comma list of {', '.join(OPS)}")
    ap.add_argument("--check-each", action="store_true", help="recover and run mem doctor after every kill")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        res = run_trials(Path(d), a.trials, a.files, a.seed, tuple(a.ops.split(",")), a.check_each)
        res["seconds"] = round(time.perf_counter() - t0, 1)
        print(json.dumps({k: v for k, v in res.items() if k not in ("final",)}, indent=2))
        sys.exit(0 if not res["check"]["problems"] and res["doctor_rc"] == 0 and res["final_rc"] == 0
                 and not res["doctor_unclean_after_recovery"] else 1)
