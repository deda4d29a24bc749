"""The kill test, at a modest count: SIGKILL during ingest never corrupts memory."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kill_ingest import run_trials  # noqa: E402


def test_sigkill_during_ingest_leaves_consistent_stores(tmp_path):
    res = run_trials(tmp_path, trials=6, files=30, seed=1)
    assert res["killed"] >= 3, "the kills should mostly land while ingest runs"
    assert res["final_rc"] == 0, res["final"]
    assert res["doctor_rc"] == 0, res["doctor"]
    assert res["check"]["problems"] == []
    assert res["check"]["files"] == 30 and res["check"]["units"] > 30


def test_sigkill_during_any_write_leaves_consistent_stores(tmp_path):
    """ingest, consolidate, forget, pin and graph build, killed at random moments."""
    res = run_trials(tmp_path, trials=8, files=20, seed=2, ops=("ingest", "consolidate", "forget", "pin", "graph"))
    assert res["killed"] >= 3
    assert res["final_rc"] == 0, res["final"]
    assert res["doctor_rc"] == 0, res["doctor"]
    assert res["check"]["problems"] == []
