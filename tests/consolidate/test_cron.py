"""`mem schedule` under a real cron daemon (Debian's `cron`, which .ci/run installs when it is
missing): install --every 1m, wait for one scheduled run, and check that `mem schedule show`
reports it with its outcome and that the job found its home, config and venv in cron's bare
environment. The machine's own crontab is saved and put back."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.cron, pytest.mark.skipif(
    not (shutil.which("cron") and shutil.which("crontab") and hasattr(os, "geteuid") and os.geteuid() == 0),
    reason="needs Debian's cron daemon and root (.ci/run installs cron with apt when it can)")]


@pytest.fixture
def cron_daemon():
    saved = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    running = subprocess.run(["pgrep", "-x", "cron"], capture_output=True).returncode == 0
    if not running:
        subprocess.run(["cron"], check=True)  # daemonises itself
    yield
    if saved.returncode == 0:
        subprocess.run(["crontab", "-"], input=saved.stdout, text=True, check=True)
    else:
        subprocess.run(["crontab", "-r"], capture_output=True)
    if not running:
        subprocess.run(["pkill", "-x", "cron"], capture_output=True)


def test_a_scheduled_consolidation_runs_under_cron(tmp_path, cron_daemon):
    home, notes, config = tmp_path / "home", tmp_path / "notes", tmp_path / "config.yaml"
    notes.mkdir()
    para = "The spare hive key hangs behind the shed door next to the smoker fuel, always put back."
    for name in ("a", "b"):
        (notes / f"{name}.md").write_text(f"# Note {name}\n\n{para}\n")
    config.write_text("embed:\n  model: fake:64\n")  # the job must see this config too
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEM_")}
    env.update(MEM_HOME=str(home), MEM_CONFIG=str(config))
    env.pop("MEMCLI_CRONTAB_FILE", None)
    cli = [sys.executable, "-c", "from memcli.cli import main; main()"]
    assert subprocess.run(cli + ["ingest", str(notes)], env=env, capture_output=True).returncode == 0
    inst = subprocess.run(cli + ["schedule", "install", "--every", "1m", "--json"], env=env,
                          capture_output=True, text=True)
    assert inst.returncode == 0, inst.stderr
    line = json.loads(inst.stdout)["line"]
    assert f"MEM_CONFIG={config}" in line and f"MEM_HOME={home}" in line and "/mem consolidate" in line
    log = home / "consolidate.cron.log"
    deadline = time.time() + 150  # the next minute boundary, and the run itself
    while time.time() < deadline and not (log.exists() and '"dry_run"' in log.read_text()
                                          and log.read_text().rstrip().endswith("}")):
        time.sleep(2)
    time.sleep(1)
    assert log.exists(), "cron never ran the job"
    text = log.read_text()
    assert "error" not in text.lower() and "Traceback" not in text, text
    show = json.loads(subprocess.run(cli + ["schedule", "show", "--json"], env=env, capture_output=True,
                                     text=True).stdout)
    assert show["installed"] and show["last_run"]["ok"], show
    assert show["last_run"]["after"]["units"]["committed"] == 1  # the copy was merged by the cron run
    assert subprocess.run(cli + ["schedule", "remove"], env=env, capture_output=True).returncode == 0
