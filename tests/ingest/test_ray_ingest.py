"""`mem ingest --ray`: embedding on Ray Data actors gives the same memory as a plain ingest."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from memcli.config import Settings
from memcli.embed.fake import FakeEmbedder
from memcli.memory import Memory

pytest.importorskip("ray", reason="Ray is the scale extra (memcli[scale]); `make test` installs it")


def _home(tmp_path, name):
    s = Settings(home=tmp_path / name, embed={"model": "fake:64"}, graph={"enabled": True})
    return Memory(s, embedder=FakeEmbedder(dim=64))


def test_ray_ingest_writes_the_same_units_and_vectors_as_a_plain_one(tmp_path, corpus):
    for i in range(30):
        (corpus / f"note{i:02d}.md").write_text(f"# Note {i}\n\n" + f"Sentence {i} about hives and harbours. " * 25)
    plain, bulk = _home(tmp_path, "plain"), _home(tmp_path, "bulk")
    plain.ingest([corpus], recursive=True)
    rep = bulk.ingest([corpus], recursive=True, ray=True, workers=2)
    assert rep.units_written == plain._lance.count_units() and not rep.failed
    a, b = plain._lance.committed_ids(), bulk._lance.committed_ids()
    assert a == b and len(a) > 30
    va, vb = plain._lance.vectors_of(sorted(a)), bulk._lance.vectors_of(sorted(b))
    assert max(float(np.abs(va[i] - vb[i]).max()) for i in a) <= 1e-6
    assert bulk.doctor().healthy
    assert [h.unit_id for h in bulk.search("hives harbours")] == [h.unit_id for h in plain.search("hives harbours")]


def test_the_cli_bulk_ingest_runs_on_a_local_ray(tmp_path, corpus):
    env = {**os.environ, "MEM_HOME": str(tmp_path / "h"), "MEM_EMBED__MODEL": "fake:64"}
    p = subprocess.run([sys.executable, "-m", "memcli", "ingest", "-r", str(corpus), "--ray", "--workers", "2", "--json"],
                       env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert json.loads(p.stdout)["added"] == 3
