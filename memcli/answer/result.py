"""What an answer is: the text a person reads, its citations, the evidence line and, when
memory does not hold the answer, the refusal and the closest hits. The shape `mem ask --json`,
MCP and the page return (``to_dict``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from memcli.types import Hit


@dataclass
class Citation:
    number: int
    unit_id: str
    uri: str
    section: str
    line_start: int
    line_end: int
    score: float
    event_time: str | None = None
    trust: str = "normal"


@dataclass
class Answer:
    question: str
    answer: str
    mode: str  # extractive | generate
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    evidence: str | None = None
    evidence_date: str | None = None
    context: list[dict] = field(default_factory=list)
    closest: list[Hit] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    model: str | None = None
    answer_span: list[int] | None = None  # [start, end) of the answer inside ``evidence``, when it is a part of it
    evidence_unit: str | None = None  # the unit that holds the evidence sentence
    refusal: str | None = None  # why memory does not hold the answer (when abstained)
    pick: str | None = None  # what picked the evidence: reader | hand
    explain: list[dict] | None = None  # the ranked candidates and their features (--explain)
    note: str | None = None  # what the reader should know about how this answer was made
    generated: str | None = None  # a generated answer the grounding check replaced
    # The hops an answer went through: each one's question, the bridge it named and the line
    # that named it (a two-hop answer; a comparison read through each side's director: two).
    hops: list[dict] | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["closest"] = [h.to_dict() for h in self.closest]
        return d
