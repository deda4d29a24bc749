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
