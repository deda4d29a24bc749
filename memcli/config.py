"""Where settings come from (the typed settings themselves: memcli.settings, named here too).

Precedence (lowest first): defaults < YAML file < ``MEM_*`` environment < flags.
Nested keys use a double underscore in the environment: ``MEM_SEARCH__FUSION=rrf``.
The YAML file is ``$MEM_CONFIG``, else ``config.yaml`` in the XDG config dir.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from memcli.errors import ConfigError
from memcli.paths import APP, default_home, local_dir
from memcli.settings import (  # noqa: F401 - the settings are named from here too
    ConsolidateSettings, EmbedSettings, GraphSettings, IngestSettings, LLMSettings, SearchSettings, SegmentSettings,
    ServeSettings, Settings, StorageSettings, explain, reference_markdown,
)


def config_path() -> Path:
    env = os.environ.get("MEM_CONFIG")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(xdg) / APP / "config.yaml"


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = tree
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ConfigError(f"config key {dotted!r}: {p!r} is not a section")
    node[parts[-1]] = value


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """``MEM_HOME`` and ``MEM_<SECTION>__<KEY>`` only: any other ``MEM_*`` variable (another
    tool's ``MEM_LIMIT=4g``, our own ``MEM_CONFIG``/``MEM_ONNX_CACHE``) is not a setting."""
    tree: dict[str, Any] = {}
    sections = {k for k, f in Settings.model_fields.items() if k != "home"}
    for key, raw in environ.items():
        if not key.startswith("MEM_"):
            continue
        dotted = key[4:].lower().replace("__", ".")
        if dotted != "home" and dotted.split(".", 1)[0] not in sections:
            continue
        if dotted != "home" and "." not in dotted:
            continue
        # YAML parsing gives ints, floats and booleans their types.
        _set_dotted(tree, dotted, _yaml().safe_load(raw) if raw and dotted != "home" else raw)  # a home is a path
    return tree


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _yaml():
    """PyYAML, imported when there is YAML to read (12 ms a cold command without a config
    file need not pay)."""
    import yaml

    return yaml


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    yaml = _yaml()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read config {path}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping, got {type(data).__name__}")
    return data


HOME_CONFIG = "config.yaml"  # a memory home's own settings, inside the home


def _leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out.update(_leaves(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def home_config_path(overrides: dict[str, Any] | None = None, *, environ: dict[str, str] | None = None,
                     path: Path | None = None, user_tree: dict[str, Any] | None = None) -> Path:
    """``<home>/config.yaml`` of the home these flags / this environment / the user file choose
    (``user_tree``: the user file, when the caller has read it already)."""
    env = dict(os.environ if environ is None else environ)
    home = (overrides or {}).get("home") or env.get("MEM_HOME")
    if not home:
        home = (read_yaml(path or config_path()) if user_tree is None else user_tree).get("home")
    return local_dir(home) / HOME_CONFIG if home else default_home() / HOME_CONFIG


def load_settings(
    overrides: dict[str, Any] | None = None,
    *,
    environ: dict[str, str] | None = None,
    path: Path | None = None,
    origins: dict[str, str] | None = None,
) -> Settings:
    """Build settings: defaults < the user's YAML < the home's own ``config.yaml`` < ``MEM_*``
    environment < dotted-key ``overrides`` (flags). ``origins`` (optional) receives, for each
    key that is not a default, where its value came from."""
    env = dict(os.environ if environ is None else environ)
    user_file = path or config_path()
    user_tree = read_yaml(user_file)
    layers: list[tuple[str, dict[str, Any]]] = [(str(user_file), user_tree)]
    home_file = home_config_path(overrides, environ=env, path=path, user_tree=user_tree)
    if home_file.resolve() != user_file.resolve():
        home_tree = read_yaml(home_file)
        home_tree.pop("home", None)  # a home cannot move itself
        layers.append((str(home_file), home_tree))
    layers.append(("environment (MEM_*)", _env_overrides(env)))
    flag_tree: dict[str, Any] = {}
    for k, v in (overrides or {}).items():
        if v is not None:
            _set_dotted(flag_tree, k, v)
    layers.append(("command-line flag", flag_tree))
    tree: dict[str, Any] = {}
    for name, layer in layers:
        tree = _merge(tree, layer)
        if origins is not None:
            origins.update({k: name for k in _leaves(layer)})
    return _validate(tree)


def _validate(tree: dict[str, Any]) -> Settings:
    try:
        return Settings.model_validate(tree)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid setting {loc}: {first['msg']}") from e


def set_config_value(dotted: str, raw: str, *, path: Path | None = None) -> Path:
    """Write one dotted key to the YAML file, validating the result first."""
    p = path or config_path()
    tree = read_yaml(p)
    yaml = _yaml()
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        raise ConfigError(f"{dotted}: {raw!r} is not a value (YAML scalar): {str(e).splitlines()[0]}") from None
    _set_dotted(tree, dotted, value)
    _validate(tree)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(tree, sort_keys=False), encoding="utf-8")
    os.replace(tmp, p)
    return p
