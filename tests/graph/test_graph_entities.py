"""A graph a person would recognise: typed entities from spaCy's model, names as written,
every link between notes an edge, stubs that are not failures (real LanceDB + igraph)."""

import json

from memcli.cli.app import run
from memcli.graph.extract import RELATION_LINKS, RuleExtractor, normalise


def write(root, files: dict[str, str]):
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def test_a_person_is_typed_as_a_person_and_named_as_written(mem, tmp_path):
    write(tmp_path / "n", {
        "a.md": "# Spring\n\nMaya Lindqvist met Dan Okafor in Uppsala to plan the greenhouse.\n",
        "b.md": "# Later\n\nLater that week Dan Okafor phoned the supplier in Uppsala about glass.\n",
        "c.md": "# Shop\n\nthe invoice says dan okafor paid in full.\n"})  # once lower-cased
    mem.ingest([tmp_path / "n"])
    view = mem.graph.show("DAN OKAFOR")  # lookups fold case
    assert view.entity == "Dan Okafor" and view.id == "dan okafor" and view.type == "person"
    near = {nb["name"]: nb["type"] for nb in view.neighbours}
    assert near.get("Maya Lindqvist") == "person" and near.get("Uppsala") == "place"
    assert all(r["subject_name"][:1].isupper() and r["object_name"][:1].isupper() for r in view.relations)


def test_sentence_initial_common_words_are_not_entities(mem, tmp_path):
    write(tmp_path / "n", {"a.md": "# Tools\n\nRunning the tests is easy. Several people asked. Having a "
                                   "backup helps. Using Syncthing, Ana copies the vault to her laptop.\n"})
    mem.ingest([tmp_path / "n"])
    ids = set(mem._graph.load().entity_ids)
    assert not ids & {"running", "several", "having", "using"}
    assert "ana" in ids
    rules = RuleExtractor().extract("Running the tests is easy. Several people came. Ana met Ben in Lisbon.")
    assert {normalise(e) for e in rules.entities} == {"ana", "ben", "lisbon"}


def test_a_markdown_link_between_notes_becomes_an_edge(mem, tmp_path):
    write(tmp_path / "v", {
        "projects/boiler.md": "# Boiler service\n\nThe engineer came on Tuesday; see [the invoice](../admin/invoice-2025.md#total).\n",
        "admin/invoice-2025.md": "# Heating invoice\n\nPaid 180 pounds for the annual boiler service.\n"})
    mem.ingest([tmp_path / "v"], recursive=True)
    rel = mem._graph.store.relations_of("boiler service")
    assert ("boiler service", RELATION_LINKS, "heating invoice") in {(r["subject"], r["relation"], r["object"]) for r in rel}
    view = mem.graph.show("Heating invoice")  # the backlink, by the linked note's title
    assert any(r["relation"] == RELATION_LINKS and r["subject"] == "boiler service" for r in view.relations)


def test_a_relative_wiki_link_reaches_the_linked_notes_entity(mem, tmp_path):
    write(tmp_path / "v", {
        "garden/sowing.md": "# Sowing\n\nTomatoes go in after [[./beds/Raised bed|the raised bed]] is topped up.\n",
        "garden/beds/Raised bed.md": "---\ntitle: The raised bed\n---\nCompost and topsoil, half and half.\n",
        "garden/other.md": "# Other\n\nSee [[../garden/sowing]] for dates.\n"})
    mem.ingest([tmp_path / "v"], recursive=True)
    ids = set(mem._graph.load().entity_ids)
    assert not any(i.startswith(("/", ".")) for i in ids)  # no "/raised bed" twin of the note
    links = {(r["subject"], r["object"]) for r in mem._graph.store.relations_of("sowing") if r["relation"] == RELATION_LINKS}
    assert ("sowing", "raised bed") in links  # the note's own entity (title "The raised bed")
    assert ("other", "sowing") in links


def test_graph_show_lists_link_edges_before_co_mentions(mem, tmp_path):
    body = " ".join(f"Ana met Ben{i} in Lisbon." for i in range(25))
    write(tmp_path / "v", {"hub.md": f"# Hub\n\n{body}\n\nNext: [[Target note]].\n",
                           "Target note.md": "# Target note\n\nNothing else here.\n"})
    mem.ingest([tmp_path / "v"], recursive=True)
    view = mem.graph.show("Hub", limit=5)
    assert view.relations[0]["relation"] == RELATION_LINKS


def test_a_stub_note_is_counted_apart_and_ingest_exits_0(fake_cli, tmp_path, capsys):
    d = write(tmp_path / "v", {"real.md": "# Real\n\nThe boiler was serviced in May.\n",
                               "stub.md": "---\ntitle: Someday\ntags: [todo]\n---\n",
                               "stub2.md": "---\nstatus: draft\n---\n\n\n"})
    assert run(["ingest", str(d), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["added"] == 1 and rep["stubs"] == 2 and rep["failed"] == 0
    assert run(["ingest", str(d)]) == 0
    assert "2 stub notes" in capsys.readouterr().out


def test_graph_mode_puts_the_bridge_note_in_the_top_two(mem, tmp_path):
    # Five notes: the question names the film; the director's note holds the answer; another
    # note merely mentions the same city and must not tie with the bridge.
    write(tmp_path / "n", {
        "film.md": "# Night Harbour\n\nNight Harbour is a 1961 film directed by Tove Ahlgren. It was shot in winter.\n",
        "director.md": "# Tove Ahlgren\n\nTove Ahlgren was born in Turku and later moved to Helsinki to study painting.\n",
        "market.md": "# Market day\n\nThe market hall in Turku sells rye bread, smoked fish and winter apples.\n",
        "bread.md": "# Sourdough\n\nFeed the starter twice a day and keep it warm. Rye flour makes it lively.\n",
        "garden.md": "# Tomatoes\n\nPlant tomatoes after the frost. Water them deeply in July.\n"})
    mem.ingest([tmp_path / "n"])
    hits = mem.search("Where was the director of Night Harbour born?", mode="graph", k=5)
    titles = [h.title for h in hits]
    assert "Tove Ahlgren" in titles[:2]
    assert titles.index("Tove Ahlgren") < titles.index("Market day") if "Market day" in titles else True


def test_the_entity_model_loads_without_torch():
    # thinc imports torch whenever it can (1 s, ~180 MB of an ingest's memory); the model never uses it
    import subprocess
    import sys

    code = ("import sys\nfrom memcli.graph.ner import NerExtractor\n"
            "x = NerExtractor().extract('Maya Lindqvist met Dan Okafor in Uppsala.')\n"
            "print(sorted(x.types.items()))\nprint('torch' in sys.modules)\n"
            "import torch\nprint(torch.tensor([1, 2]).sum().item())\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    found, torch_loaded, after = p.stdout.splitlines()
    assert "('Dan Okafor', 'person')" in found and "('Uppsala', 'place')" in found
    assert torch_loaded == "False" and after == "3"  # and torch still imports for whoever needs it


def test_a_large_batch_is_read_by_worker_processes_with_the_same_result():
    # spaCy's model runs on one core; a graph build's batch is split across processes. Run in
    # a child so that this test's pool (and its models) go with it.
    import subprocess
    import sys

    code = ("from memcli.graph import ner\n"
            "items = [(f'Maya Lindqvist met Dan Okafor {i} times in Uppsala. The {i}th visit was short.', f'Note {i}')"
            " for i in range(ner.PARALLEL_MIN)]\n"
            "here = ner.NerExtractor(1).extract_many(items)\n"
            "two = ner.NerExtractor(2)\npar = two.extract_many(items)\n"
            "print(len(par), [(x.entities, x.triples, x.types) for x in here] == [(x.entities, x.triples, x.types) for x in par])\n"
            "print(ner._pool is not None and two.workers == 2)\n")  # no worker died on the way
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    same, pooled = p.stdout.splitlines()
    assert same == "64 True" and pooled == "True"  # the pool read them all, and it agrees
