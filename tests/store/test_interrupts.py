"""Ctrl-C during a write: LanceDB's commit goes on in its background loop after a
KeyboardInterrupt ends the wait for it, so a write holds the signal until it is whole. Here the
signal arrives at the worst moment — the batch's sources row is being committed — and the
batch is either kept whole and counted, or not there at all."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from memcli.store.interrupts import deferred_interrupts
from memcli.store.lance import LanceStore


def test_a_signal_inside_the_block_is_delivered_once_the_block_is_done():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupts():
            with deferred_interrupts():  # nested: only the outermost delivers
                os.kill(os.getpid(), signal.SIGINT)
                done.append("inner")
            done.append("outer")
    assert done == ["inner", "outer"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored


def test_ctrl_c_while_a_batch_commits_keeps_the_batch_and_counts_it(mem, corpus, monkeypatch):
    add = LanceStore.add_sources
    late: list[threading.Thread] = []

    def add_under_ctrl_c(self, sources):
        # As LanceDB's sync API does: the commit runs elsewhere and this thread waits for it.
        # Unheld, the Ctrl-C ends the wait and the rollback runs before the commit lands.
        t = threading.Thread(target=lambda: (time.sleep(0.3), add(self, sources)))
        late.append(t)
        t.start()
        os.kill(os.getpid(), signal.SIGINT)
        t.join()

    monkeypatch.setattr(LanceStore, "add_sources", add_under_ctrl_c)
    with pytest.raises(Exception) as e:
        mem.ingest([corpus], recursive=True)
    for t in late:
        t.join()
    monkeypatch.undo()
    kept = int(str(e.value.message).split("interrupted: ")[1].split(" of ")[0])
    # No source row without its units (the next ingest would skip such a file as unchanged).
    assert all(len(mem._lance.units_of(s.source_id, ["id"])) == s.n_units > 0 for s in mem.sources())
    assert len(mem.sources()) == kept > 0  # the first batch, whole, and counted
    assert not (mem.home / "journal.json").exists()
    assert mem.doctor().healthy


def test_a_second_ctrl_c_stops_at_once_and_the_next_command_rolls_back(tmp_path):
    code = (
        "import os, signal, time\n"
        "from memcli.store.interrupts import deferred_interrupts\n"
        "with deferred_interrupts():\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(0.05)\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(5)\n"
        "print('not reached')\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert p.returncode == 130 and "not reached" not in p.stdout
    assert "finishing the write in progress" in p.stderr and "next command rolls back" in p.stderr
