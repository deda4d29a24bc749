"""What `mem` writes to stdout is its own: a script reading `--json` gets JSON only."""

import json
import subprocess
import sys


def test_a_library_printing_to_stdout_during_bulk_work_lands_on_stderr():
    # Ray's driver prints "(raylet) A worker died …" to fd 1 from its own threads
    code = (
        "import os, sys\n"
        "from memcli.cli import render\n"
        "with render.stdout_reserved():\n"
        "    os.write(1, b'(raylet) noise\\n')\n"
        "    print('more noise')\n"
        "render.emit_json({'added': 3})\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"added": 3}
    assert "(raylet) noise" in p.stderr and "more noise" in p.stderr
