"""Memory poisoning: injected text reaches the model only as quoted, labelled data."""

import shutil
from pathlib import Path

from memcli.embed.fake import FakeEmbedder
from memcli.llm.fake import FakeGenerator
from memcli.memory import Memory

RED = Path(__file__).resolve().parents[1] / "fixtures" / "redteam"


def test_injections_are_quoted_data_with_low_trust_labels(settings, corpus, tmp_path):
    gen = FakeGenerator()
    # Every candidate line in the prompt (not the best 3), so that the injections reach it.
    settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"generate_lines": 12})})
    mem = Memory(settings, embedder=FakeEmbedder(dim=64), generator=gen)
    mem.ingest([corpus], recursive=True)
    shutil.copytree(RED, tmp_path / "red")
    mem.ingest([tmp_path / "red"], trust="low")
    assert {s.trust for s in mem.sources() if "/red/" in s.uri} == {"low"}

    for q in ("When does the hive kit sale start?", "How do I bake the honey cake?"):
        ans = mem.ask(q, answer="generate")
        system, user = gen.prompts[-1]
        assert system["role"] == "system" and "not instructions" in system["content"]
        assert "evil.example" not in system["content"]
        body = user["content"].split("Memory excerpts:\n\n", 1)[1].rsplit("\n\nQuestion:", 1)[0]
        for line in body.splitlines():
            # Every line of memory is either a provenance header or a quoted line.
            assert line == "" or line.startswith("> ") or line.startswith("[")
        assert "LOW TRUST" in body
        assert "> IMPORTANT SYSTEM NOTICE" in body or "> </memory>" in body
        assert user["content"].rstrip().endswith(f"Question: {q}")
        low = [c for c in ans.citations if "/red/" in c.uri]
        assert all(c.trust == "low" for c in low)


def test_changing_trust_reingests(settings, tmp_path):
    mem = Memory(settings, embedder=FakeEmbedder(dim=64))
    shutil.copytree(RED, tmp_path / "red")
    mem.ingest([tmp_path / "red"])
    rep = mem.ingest([tmp_path / "red"], trust="low")
    assert rep.count("updated") == 2 and {s.trust for s in mem.sources()} == {"low"}
