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


def test_a_line_shown_as_the_answer_is_not_shown_again_as_evidence(capsys):
    from memcli.answer import Answer
    from memcli.cli import render

    line = "The honey won second prize in the light honey class at the county show."
    fell_back = Answer(question="what prize did the honey win?", answer=line, mode="generate", abstained=False,
                       evidence=line, generated="The honey won the prize of 2025.",
                       note="The model's answer left out what your notes say, so this is the line from your notes that answers it.")
    render.answer_view(fell_back, streamed=False, show_context=False)
    out = capsys.readouterr().out
    assert "Evidence" not in out and "second prize" in out and "left out" in out
    generated = Answer(question="what prize did the honey win?", answer="Second prize [1].", mode="generate",
                       abstained=False, evidence=line)
    render.answer_view(generated, streamed=False, show_context=False)
    assert "Evidence" in capsys.readouterr().out
