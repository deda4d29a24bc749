"""Fuzzing the doors (hypothesis): random bytes, Markdown, HTML, PDF-ish and chat-export JSON
into the readers; random strings into search, ask and `config set`. Every failure must be one
of memcli's typed errors (a one-line message with its exit code), never a traceback."""

import json
import string

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402

from memcli.errors import ConfigError, MemError  # noqa: E402
from memcli.ingest.readers import read_document  # noqa: E402

FUZZ = hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SUFFIXES = [".md", ".txt", ".html", ".pdf", ".docx", ".json", ".jsonl", ".py"]

markdownish = st.lists(st.sampled_from(["# ", "## ", "- ", "```", "> ", "| a | b |", "[x](http://e)", "\n", "\n\n",
                                        "word ", "Ünïcødé ", "\x00", "\t", "{ #anchor }"]), max_size=60).map("".join)
htmlish = st.lists(st.sampled_from(["<p>", "</p>", "<script>", "<table><tr><td>", "&amp;", "<br/>", "text ",
                                    "<!--", "-->", "<h1>", "\u202e"]), max_size=60).map("".join)
pdfish = st.binary(max_size=400).map(lambda b: b"%PDF-1.4\n" + b + b"\n%%EOF")
turn = st.fixed_dictionaries({}, optional={
    "speaker": st.one_of(st.text(max_size=10), st.integers(), st.none()),
    "role": st.sampled_from(["user", "assistant", None, 3]),
    "text": st.one_of(st.text(max_size=40), st.integers(), st.lists(st.text(max_size=5), max_size=3)),
    "content": st.one_of(st.text(max_size=40), st.none(), st.dictionaries(st.text(max_size=3), st.text(max_size=3))),
    "time": st.one_of(st.text(max_size=20), st.integers(), st.floats(allow_nan=True)),
    "session": st.one_of(st.text(max_size=5), st.none()),
})
chat_json = st.one_of(
    st.lists(turn, max_size=5).map(json.dumps),
    st.lists(st.fixed_dictionaries({"title": st.text(max_size=5), "mapping": st.dictionaries(
        st.text(max_size=4), st.dictionaries(st.sampled_from(["message", "parent", "children"]), turn), max_size=3)}),
        max_size=3).map(json.dumps),
    st.lists(st.fixed_dictionaries({"sample_id": st.text(max_size=4), "conversation": st.dictionaries(
        st.sampled_from(["speaker_a", "session_1", "session_1_date_time", "session_x"]),
        st.one_of(st.text(max_size=10), st.lists(turn, max_size=3)))}), max_size=2).map(json.dumps),
)


@FUZZ
@given(data=st.one_of(st.binary(max_size=600), markdownish.map(str.encode), htmlish.map(str.encode), pdfish,
                      chat_json.map(str.encode)),
       suffix=st.sampled_from(SUFFIXES))
def test_readers_fail_only_with_typed_errors(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        doc = read_document(path, data)
    except MemError as e:
        assert e.message and "\n" not in e.message.strip()
    else:
        assert doc is not None


@FUZZ
@given(jsonl=st.lists(turn, max_size=6).map(lambda ts: "\n".join(json.dumps(t) for t in ts)))
def test_jsonl_chat_exports_fail_only_with_typed_errors(tmp_path, jsonl):
    path = tmp_path / "chat.jsonl"
    path.write_text(jsonl)
    try:
        read_document(path, jsonl.encode())
    except MemError:
        pass


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    from memcli.config import Settings
    from memcli.embed.fake import FakeEmbedder
    from memcli.memory import Memory

    root = tmp_path_factory.mktemp("fuzz")
    (root / "notes").mkdir()
    (root / "notes" / "garden.md").write_text("# Garden\n\nPlant tomatoes in May. San Marzano is for sauce.\n")
    m = Memory(Settings(home=root / "home", embed={"model": "fake:64"}), embedder=FakeEmbedder(dim=64))
    m.ingest([root / "notes"])
    return m


@FUZZ
@given(q=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200))
def test_search_and_ask_take_any_string(filled, q):
    for call in (lambda: filled.search(q, k=3), lambda: filled.ask(q, answer="extractive")):
        try:
            call()
        except ConfigError as e:
            assert not q.strip() and "empty query" in e.message


@FUZZ
@given(key=st.one_of(st.sampled_from(["search.k", "search.fusion", "llm.answer", "ingest.max_file_mb", "embed",
                                      "nope.nothing", "search", ""]), st.text(alphabet=string.ascii_lowercase + ".", max_size=20)),
       value=st.one_of(st.text(max_size=30), st.sampled_from(["-5", "0", "1e9", "[1, 2]", "{a: 1}", "null", "rrf", ":"])))
def test_config_set_takes_any_key_and_value(tmp_path, key, value):
    from memcli.config import set_config_value

    try:
        set_config_value(key, value, path=tmp_path / "config.yaml")
    except ConfigError as e:
        assert e.message
