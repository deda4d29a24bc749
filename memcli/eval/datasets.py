"""Loaders for the public benchmark layouts (see ../shared/data/*/README.md)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from memcli.errors import NotFoundError, ReadError


@dataclass
class Passage:
    id: str
    title: str
    text: str


@dataclass
class Query:
    id: str
    text: str
    gold: dict[str, float]  # passage id -> relevance grade
    meta: dict = field(default_factory=dict)


def _jsonl(path: Path) -> list[dict]:
    if not path.exists():
        raise NotFoundError(f"{path} not found")
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ReadError(f"{path}:{n}: invalid JSON ({e.msg})") from None
    return out


def load_multihop(root: Path) -> tuple[list[Passage], list[Query]]:
    corpus = [Passage(str(r["id"]), r.get("title", ""), r["text"]) for r in _jsonl(root / "corpus.jsonl")]
    queries = [
        Query(str(r["id"]), r["question"], {g: 1.0 for g in r["supporting_ids"]},
              {"type": r.get("type"), "answer": r.get("answer")})
        for r in _jsonl(root / "queries.jsonl")
    ]
    return corpus, queries


def load_beir(root: Path, split: str = "test") -> tuple[list[Passage], list[Query]]:
    corpus = [Passage(str(r["_id"]), r.get("title", ""), r["text"]) for r in _jsonl(root / "corpus.jsonl")]
    qrels_path = root / "qrels" / f"{split}.tsv"
    if not qrels_path.exists():
        raise NotFoundError(f"{qrels_path} not found")
    qrels: dict[str, dict[str, float]] = {}
    with open(qrels_path, encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            qrels.setdefault(str(row["query-id"]), {})[str(row["corpus-id"])] = float(row["score"])
    queries = [Query(str(r["_id"]), r["text"], qrels[str(r["_id"])])
               for r in _jsonl(root / "queries.jsonl") if str(r["_id"]) in qrels]
    return corpus, queries
