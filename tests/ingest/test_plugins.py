"""Plugins through the `memcli` entry-point group: the example org-mode reader installed into a
temporary path (a dist-info folder on PYTHONPATH is what pip would leave), and a broken one."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "plugins" / "memcli-org"


def install(site: Path, dist: str, entry_points: dict[str, str]) -> None:
    info = site / f"{dist.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[memcli]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))


def mem(env, *args, check=True):
    p = subprocess.run([sys.executable, "-m", "memcli", *args], env=env, capture_output=True, text=True, timeout=300)
    assert not check or p.returncode == 0, p.stderr
    return p


def environment(tmp_path: Path, site: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEM_")}
    env.update({"PYTHONPATH": os.pathsep.join([str(site), str(ORG)]), "MEM_HOME": str(tmp_path / "home"),
                "MEM_CONFIG": str(tmp_path / "none.yaml"), "MEM_EMBED__MODEL": "fake:64", "MEM_NO_SERVER": "1",
                "MEM_PLUGIN_CACHE": str(tmp_path / "plugin-cache.json")})
    return env


def test_an_installed_plugin_reads_org_files(tmp_path):
    site = tmp_path / "site"
    install(site, "memcli-org", {"org": "memcli_org"})
    env = environment(tmp_path, site)
    listed = json.loads(mem(env, "plugins", "--json").stdout)
    assert [(p["name"], p["dist"], p["hooks"]) for p in listed["plugins"]] == [("org", "memcli-org", ["register_readers"])]
    assert listed["readers"][".org"] == "memcli_org.read_org" and listed["failed"] == []
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "boiler.org").write_text("#+title: Boiler\n* Service\nThe engineer replaced the pressure valve.\n")
    rep = json.loads(mem(env, "ingest", str(notes), "--json").stdout)
    assert rep["added"] == 1 and rep["failed"] == 0
    hits = json.loads(mem(env, "search", "pressure valve", "--json").stdout)["hits"]
    assert hits[0]["uri"].endswith("boiler.org") and hits[0]["title"] == "Boiler"
    # Without the plugin the same file is plain text: no title, the markup left in.
    bare = environment(tmp_path / "bare", tmp_path / "empty-site")
    mem(bare, "ingest", str(notes))
    plain = json.loads(mem(bare, "search", "pressure valve", "--json").stdout)["hits"][0]
    assert plain["title"] != "Boiler" and "#+title" in plain["text"]


def test_a_broken_plugin_is_reported_and_does_not_stop_mem(tmp_path):
    site = tmp_path / "site"
    install(site, "memcli-broken", {"broken": "memcli_no_such_module"})
    install(site, "memcli-org", {"org": "memcli_org"})
    env = environment(tmp_path, site)
    listed = json.loads(mem(env, "plugins", "--json").stdout)
    assert [f["name"] for f in listed["failed"]] == ["broken"] and "ModuleNotFoundError" in listed["failed"][0]["error"]
    assert [p["name"] for p in listed["plugins"]] == ["org"]  # the others still load
    said = mem(env, "plugins")
    assert "broken" in said.stderr and "failed to load" in said.stderr
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# A\n\nThe hive key hangs behind the shed door.\n")
    assert json.loads(mem(env, "ingest", str(notes), "--json").stdout)["added"] == 1
    doctor = json.loads(mem(env, "doctor", "--json").stdout)
    line = next(f for f in doctor["findings"] if f["check"] == "plugins")
    assert "broken" in line["detail"] and "failed to load" in line["detail"]


def test_a_plugin_embedder_is_chosen_by_embed_model(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "memcli_tinyembed.py").write_text('''
import memcli
from memcli.embed.fake import FakeEmbedder


class Tiny(FakeEmbedder):
    def __init__(self, dim):
        super().__init__(dim=dim)
        self.name = f"tiny-{dim}"


@memcli.hookimpl
def register_embedders(register):
    register("tiny", lambda arg: Tiny(int(arg or 16)))
''')
    install(site, "memcli-tinyembed", {"tiny": "memcli_tinyembed"})
    env = environment(tmp_path, site) | {"MEM_EMBED__MODEL": "tiny:24"}
    listed = json.loads(mem(env, "plugins", "--json").stdout)
    assert "tiny" in listed["embedders"] and listed["plugins"][0]["hooks"] == ["register_embedders"]
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# A\n\nThe hive key hangs behind the shed door.\n")
    mem(env, "ingest", str(notes))
    stats = json.loads(mem(env, "stats", "--json").stdout)
    assert stats["embedder"]["embed_model"] == "tiny-24" and int(stats["embedder"]["embed_dim"]) == 24


def test_a_plugin_chat_format_is_detected_and_forced(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "memcli_wa.py").write_text('''
import memcli


def detect(data):
    return isinstance(data, dict) and "wa_messages" in data


def read(path, data):
    turns = [(str(i), m["from"], m["body"], m["ts"]) for i, m in enumerate(data["wa_messages"])]
    return [(data.get("chat", "chat"), data.get("chat"), turns)]


@memcli.hookimpl
def register_importers(register):
    register("wa", detect, read)
''')
    install(site, "memcli-wa", {"wa": "memcli_wa"})
    env = environment(tmp_path, site)
    assert "wa" in json.loads(mem(env, "plugins", "--json").stdout)["chat_formats"]
    export = tmp_path / "family.json"
    export.write_text(json.dumps({"chat": "Family", "wa_messages": [
        {"from": "Ana", "body": "The spare hive key is behind the shed door.", "ts": "2025-06-03T10:00:00Z"},
        {"from": "Ben", "body": "Thanks, found it.", "ts": "2025-06-03T10:05:00Z"}]}))
    assert json.loads(mem(env, "ingest", str(export), "--json").stdout)["added"] == 1  # detected
    hit = json.loads(mem(env, "search", "spare hive key", "--json", "-k", "1").stdout)["hits"][0]
    assert hit["speaker"] and "Ana" in hit["speaker"] and hit["event_time"].startswith("2025-06-03")
    assert hit["time_source"] == "chat"
    other = tmp_path / "other.json"
    other.write_text(json.dumps([{"mapping": {}}]))
    assert mem(env, "ingest", str(other), "--format", "nope", check=False).returncode == 2  # refused before any work
