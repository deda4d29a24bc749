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
