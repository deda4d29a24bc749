"""Parsing the user's search filters (dates); the filters themselves are types.SearchFilters
and their SQL is written in store/query.py."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from memcli.errors import ConfigError



def parse_day(raw: str, *, end: bool = False) -> datetime:
    """``YYYY-MM-DD`` (or a full ISO time) in UTC; ``end`` makes a bare day inclusive."""
    try:
        if len(raw) == 10:
            d = date.fromisoformat(raw)
            return datetime.combine(d, time.max if end else time.min, tzinfo=timezone.utc)
        dt = datetime.fromisoformat(raw)
        return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    except ValueError:
        raise ConfigError(f"not a date: {raw!r} (use YYYY-MM-DD)") from None


def parse_moment(raw: str) -> datetime:
    """`--as-of`: a bare day means the end of that day (memory as it stood that day)."""
    return parse_day(raw, end=True)


def make_filters(resolve_sources, *, since=None, until=None, speaker=None, session=None, tag=None, source=None):
    """SearchFilters from what a person typed (the CLI's options, the MCP tool's and the page's
    parameters), or None when nothing narrows. ``source``: paths, folders or source ids, each
    resolved by ``resolve_sources`` — one that matches nothing raises NotFoundError, never a
    silent empty answer."""
    from memcli.types import SearchFilters

    if isinstance(tag, str):
        tag = [tag]
    if isinstance(source, str):
        source = [source]
    ids = tuple(dict.fromkeys(s.source_id for ref in (source or ()) for s in resolve_sources(ref)))
    f = SearchFilters(since=parse_day(since) if since else None, until=parse_day(until, end=True) if until else None,
                      speaker=speaker, session=session, tags=tuple(tag or ()), sources=ids)
    return f or None


def why_empty(filters, rows: list[dict], n_sources: int) -> str | None:
    """Why these filters match nothing, and what would: ``rows`` are the kept units'
    ``event_time``, ``tags`` and ``source_id``. None when the filters do match some units (then
    it is the query that found nothing)."""
    if not filters:
        return None
    reasons = []
    if filters.tags:
        have: dict[str, int] = {}
        for r in rows:
            for t in r.get("tags") or ():
                have[t] = have.get(t, 0) + 1
        wanted = [t.lstrip("#").lower() for t in filters.tags]
        if not any(t in have for t in wanted):
            shown = ", ".join(f"#{t}" for t, _ in sorted(have.items(), key=lambda x: (-x[1], x[0]))[:12])
            reasons.append(f"no note has the tag {', '.join('#' + t for t in wanted)}; "
                           + (f"{len(have)} tags exist: {shown}" + (" …" if len(have) > 12 else "")
                              if have else "no note in memory has a tag"))
    if filters.since or filters.until:
        dated = [r["event_time"] for r in rows if r.get("event_time") is not None]
        srcs = {r["source_id"] for r in rows if r.get("event_time") is not None}
        if not dated:
            reasons.append(f"none of the {n_sources} sources carries a date (front matter, a dated heading, "
                           "a date in the file name or a dated first line), so a time filter matches nothing")
        else:
            lo, hi = min(dated), max(dated)
            inside = [t for t in dated if (not filters.since or t >= filters.since) and (not filters.until or t <= filters.until)]
            if not inside:
                span = f"{lo:%Y-%m-%d}" if lo.date() == hi.date() else f"from {lo:%Y-%m-%d} to {hi:%Y-%m-%d}"
                reasons.append(f"{len(dated)} units in {len(srcs)} of {n_sources} sources are dated, {span}; "
                               f"none {_window(filters)}")
    return "; ".join(reasons) or None


def _window(filters) -> str:
    if filters.since and filters.until:
        return f"between {filters.since:%Y-%m-%d} and {filters.until:%Y-%m-%d}"
    return f"since {filters.since:%Y-%m-%d}" if filters.since else f"until {filters.until:%Y-%m-%d}"
