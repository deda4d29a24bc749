"""Plain data shared by every stage: sources, units, hits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

# The vocabularies users type (CLI choices, config values, MCP arguments): written once here.
MODES = ("hybrid", "bm25", "dense", "graph")
Mode = Literal[MODES]
TRUST = ("low", "normal", "high")
Trust = Literal[TRUST]
CHAT_FORMATS = ("chatgpt", "claude", "jsonl", "locomo")
ChatFormat = Literal[CHAT_FORMATS]


@dataclass(slots=True)
class Source:
    """One ingested file (or export). ``content_hash`` decides whether re-ingest is needed."""

    source_id: str
    uri: str
    kind: str
    content_hash: str
    size: int
    mtime: float
    title: str
    n_units: int
    ingested_at: datetime
    trust: str = "normal"
    # Segmenter version + unit settings that produced the units: a change re-ingests the file.
    pipeline: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ingested_at"] = self.ingested_at.isoformat()
        return d


@dataclass(slots=True)
class Unit:
    """A segment-level memory unit and its provenance.

    ``text`` is what a person reads; ``index_text`` (title + section path + text) is what
    BM25 and the embedder see, so a passage keeps the context of its document.
    Spans: ``char_*`` index the reader's text; ``byte_*`` index the file's bytes and are -1
    when the text was extracted (PDF, DOCX, HTML) rather than read verbatim.
    """

    id: str
    source_id: str
    source_hash: str
    ord: int
    title: str
    section: str
    text: str
    index_text: str
    char_start: int
    char_end: int
    byte_start: int
    byte_end: int
    line_start: int
    line_end: int
    tokens: int
    ingested_at: datetime
    level: int = 0
    event_time: datetime | None = None
    # Where event_time came from: heading | front matter | text | file name | chat (None: undated).
    time_source: str | None = None
    # When its note last changed (front matter updated/modified), kept beside the event time.
    updated_at: datetime | None = None
    speaker: str | None = None
    session: str | None = None
    # Conversation units: the turn ids they span (e.g. LoCoMo dia_ids), in order.
    turn_ids: list[str] = field(default_factory=list)
    # A note's tags (front matter and inline #tags), nested ones with their parents:
    # "hive/marigold" is stored as "hive" and "hive/marigold" so that --tag hive finds it.
    tags: list[str] = field(default_factory=list)
    vector: list[float] | None = field(default=None, repr=False)
    # Consolidation state. status (in the table): pending | committed (live) | merged |
    # superseded | archived; only committed units are retrieved by default.
    merged_into: str | None = None  # a duplicate's canonical unit
    merged_from: list[str] = field(default_factory=list)  # a canonical unit's duplicates (provenance)
    valid_to: datetime | None = None  # when a newer unit superseded or replaced this one
    # When this text entered memory (an unchanged passage of an edited file keeps its first
    # ingest); None: ingested_at. With valid_to, the window `--as-of` reads.
    valid_from: datetime | None = None
    superseded_by: str | None = None
    access_count: int = 0  # times cited in an answer (decay: recall strengthens memory)
    last_access: datetime | None = None
    pinned: bool = False  # evergreen: never decays or archives
    children: list[str] = field(default_factory=list)  # a summary's units (level >= 1)


@dataclass(slots=True)
class Hit:
    """A unit returned by search, with the scores that put it there."""

    unit_id: str
    score: float
    text: str
    uri: str
    title: str
    section: str
    line_start: int
    line_end: int
    char_start: int
    char_end: int
    source_id: str
    scores: dict[str, float] = field(default_factory=dict)
    rank: int = 0
    event_time: str | None = None
    # Where event_time came from: heading | front matter | text | file name | chat.
    time_source: str | None = None
    updated_at: str | None = None  # when its note last changed (front matter updated/modified)
    speaker: str | None = None
    trust: str = "normal"
    # `mem search --explain`: each retriever's rank and score, and what each later stage
    # (fusion, title bridging, time boost, rerank) made of it. None unless asked for.
    explain: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["explain"] is None:
            del d["explain"]
        return d


@dataclass(frozen=True)
class SearchFilters:
    """The user's search filters (--since/--until/--speaker/--session); store/query.py
    turns them into a predicate."""

    since: datetime | None = None
    until: datetime | None = None
    speaker: str | None = None
    session: str | None = None
    tags: tuple[str, ...] = ()  # any of these (a nested tag's parent included)
    sources: tuple[str, ...] = ()  # source ids (`--source PATH` resolved by Memory.sources)

    def __bool__(self) -> bool:
        return any((self.since, self.until, self.speaker, self.session, self.tags, self.sources))


@dataclass(slots=True)
class UnitRecord:
    """A unit as `mem history` and `mem forget --weak` show it: its state, its times, and
    the file it came from (``uri``), without the vector."""

    id: str
    source_id: str
    uri: str
    status: str
    text: str
    section: str | None = None
    ingested_at: datetime | None = None
    event_time: datetime | None = None
    last_access: datetime | None = None
    valid_to: datetime | None = None
    superseded_by: str | None = None
    valid_from: datetime | None = None  # None: since it was ingested

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class EntityView:
    """`mem graph show`: an entity (named as most often written; ``id`` is the folded name
    lookups use; ``type`` person, organization, place, product, work, event, group, note or
    ""), its neighbours (id, name, type, weight: relation strength), and the relations and
    units naming it (each row with ``source``, the file it came from)."""

    entity: str
    id: str
    type: str
    mentioned_in: int
    neighbours: list[dict]
    relations: list[dict]
    units: list[dict]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GraphTrace:
    """What one graph retrieval did (seed entities, rounds, PPR time, why it stopped): the
    graph ranker fills it, search and eval report it."""

    seeds: list[str] = field(default_factory=list)
    rounds: int = 0
    ppr_ms: float = 0.0
    stopped: str = ""
