"""Unit filters as data; their LanceDB SQL is written here and nowhere else.

Callers say *what* they want (``UnitFilter(status="committed", level=0)``); this module
turns it into a predicate with every value quoted, so no caller builds SQL by hand and a
quote in a session name or an id can never change a query's meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from memcli.types import SearchFilters

# Every state but the in-flight one: what a forget, a pin or doctor counts as a source's units.
KEPT = ("committed", "merged", "superseded", "archived")
# A unit an edit of its file replaced: kept, with its validity window, for `--as-of`.
REPLACED = "replaced"
# What memory held at some moment: live then, whatever it is now.
HISTORIC = ("committed", "superseded", REPLACED)


def lit(value) -> str:
    """One SQL literal: strings quoted (quotes doubled), times as UTC timestamps."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime):
        iso = value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
        return f"CAST({lit(iso)} AS TIMESTAMP)"
    return "'" + str(value).replace("'", "''") + "'"


def in_list(column: str, values: Sequence) -> str:
    if not values:
        return "false"
    return f"{column} IN (" + ", ".join(lit(v) for v in values) + ")"


def chunks(values: Sequence, size: int = 500):
    """Long id lists go in pieces: one predicate per 500 keeps DataFusion's plans small."""
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i:i + size]


@dataclass(frozen=True)
class Near:
    """Units of one conversation session with ``ord`` within ``window`` of ``ord``."""
    source_id: str
    session: str
    ord: int
    window: int


@dataclass(frozen=True)
class UnitFilter:
    """Which units. Fields left None do not filter; all given ones must hold."""
    ids: tuple[str, ...] | None = None
    source_ids: tuple[str, ...] | None = None
    not_source_ids: tuple[str, ...] | None = None
    status: str | tuple[str, ...] | None = None
    level: int | None = None
    min_level: int | None = None
    pinned: bool | None = None
    search: SearchFilters | None = None  # the user's --since/--until/--speaker/--session
    near: tuple[Near, ...] | None = None  # any of these neighbourhoods
    # Memory as it was at this moment (`--as-of`): units live then, replaced or superseded
    # since included; this takes the place of the live-status predicate.
    as_of: datetime | None = None

    def and_(self, **changes) -> "UnitFilter":
        return replace(self, **{k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()})

    def sql(self) -> str | None:
        parts: list[str] = []
        if self.ids is not None:
            parts.append(in_list("id", self.ids))
        if self.source_ids is not None:
            parts.append(in_list("source_id", self.source_ids))
        if self.not_source_ids:
            parts.append("NOT " + in_list("source_id", self.not_source_ids))
        if isinstance(self.status, str):
            parts.append(f"status = {lit(self.status)}")
        elif self.status is not None:
            parts.append(in_list("status", self.status))
        if self.level is not None:
            parts.append(f"level = {int(self.level)}")
        if self.min_level is not None:
            parts.append(f"level >= {int(self.min_level)}")
        if self.pinned is True:
            parts.append("pinned = true")
        elif self.pinned is False:
            parts.append("(pinned IS NULL OR pinned = false)")
        if self.search:
            s = search_sql(self.search)
            if s:
                parts.append(s)
        if self.as_of is not None:
            t = lit(self.as_of)
            parts.append(f"{in_list('status', HISTORIC)} AND COALESCE(valid_from, ingested_at) <= {t} "
                         f"AND (valid_to IS NULL OR valid_to > {t})")
        if self.near is not None:
            parts.append("(" + (" OR ".join(
                f"(source_id = {lit(n.source_id)} AND session = {lit(n.session)} "
                f"AND ord >= {int(n.ord) - int(n.window)} AND ord <= {int(n.ord) + int(n.window)})"
                for n in self.near) or "false") + ")")
        return " AND ".join(parts) or None


def units(**fields) -> UnitFilter:
    """``units(status="committed", level=0)``: lists become tuples (the filter is hashable)."""
    return UnitFilter().and_(**fields)


LIVE = units(status="committed")


def search_sql(f: SearchFilters) -> str | None:
    parts = []
    if f.since:
        parts.append(f"event_time >= {lit(f.since)}")
    if f.until:
        parts.append(f"event_time <= {lit(f.until)}")
    if f.speaker:
        # Multi-speaker units store "A, B": match a whole name in that list, any case.
        n = f.speaker.strip().lower()
        parts.append("(" + " OR ".join([
            f"lower(speaker) = {lit(n)}", f"lower(speaker) LIKE {lit(n + ', %')}",
            f"lower(speaker) LIKE {lit('%, ' + n)}", f"lower(speaker) LIKE {lit('%, ' + n + ', %')}",
        ]) + ")")
    if f.session:
        parts.append(f"(session = {lit(f.session)} OR session LIKE {lit('%/' + f.session)})")
    if f.tags:
        parts.append("array_has_any(tags, make_array(" + ", ".join(lit(t.lower().lstrip("#")) for t in f.tags) + "))")
    if f.sources:
        parts.append(in_list("source_id", f.sources))
    return " AND ".join(parts) or None


def historic(where: "UnitFilter | str | None") -> bool:
    """Whether ``where`` asks for memory at a past moment (then it says which statuses)."""
    return isinstance(where, UnitFilter) and where.as_of is not None


def where_sql(where: "UnitFilter | str | None") -> str | None:
    """Store-internal: a filter or an already-written predicate (store code only)."""
    if where is None or isinstance(where, str):
        return where
    return where.sql()
