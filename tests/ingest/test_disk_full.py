"""A disk that fills up mid-ingest: a clear message and exit 5, nothing half-written, the home
readable at once and `mem doctor` clean; once space returns, a rerun finishes the job.
The failure is injected (ENOSPC from the store writes, on the third batch) in a child process."""

import json
import os
import subprocess
import sys

CHILD = r"""
import errno, sys
from memcli.store import lance
real = lance.LanceStore.add_units
calls = {"n": 0}
def full(self, *a, **kw):
    calls["n"] += 1
    if calls["n"] == 3:
        raise OSError(errno.ENOSPC, "No space left on device")
    return real(self, *a, **kw)
lance.LanceStore.add_units = full
from memcli.cli import run
sys.exit(run(sys.argv[1:]))
"""


def test_a_full_disk_mid_ingest_is_a_store_error_and_leaves_nothing_half_written(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(12):
        (notes / f"n{i:02d}.md").write_text(f"# Note {i}\n\n" + f"Bees and honey, note {i}. " * 40)
    env = {**os.environ, "MEM_HOME": str(tmp_path / "home"), "MEM_EMBED__MODEL": "fake:64",
           "MEM_INGEST__BATCH_UNITS": "4", "MEM_CONFIG": str(tmp_path / "none.yaml")}
    full = subprocess.run([sys.executable, "-c", CHILD, "ingest", str(notes)], env=env, capture_output=True, text=True)
    assert full.returncode == 5, full.stderr
    assert "No space left on device" in full.stderr and "free some disk space" in full.stderr
    assert "Traceback" not in full.stderr
    cli = [sys.executable, "-c", "from memcli.cli import main; main()"]
    doctor = subprocess.run(cli + ["doctor", "--json"], env=env, capture_output=True, text=True)
    stores = [f for f in json.loads(doctor.stdout)["findings"] if f["check"] != "answer model"]
    assert all(f["ok"] for f in stores), stores  # rolled back at once: nothing to repair
    assert subprocess.run(cli + ["search", "bees and honey"], env=env, capture_output=True).returncode == 0
    again = subprocess.run(cli + ["ingest", str(notes), "--json"], env=env, capture_output=True, text=True)
    rep = json.loads(again.stdout)
    assert again.returncode == 0 and rep["added"] + rep["unchanged"] == 12 and rep["unchanged"] >= 1
