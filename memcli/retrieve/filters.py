"""Search filters on event time, speaker and session, as LanceDB SQL predicates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from memcli.errors import ConfigError


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


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


@dataclass(frozen=True)
class SearchFilters:
    since: datetime | None = None
    until: datetime | None = None
    speaker: str | None = None
    session: str | None = None

    def __bool__(self) -> bool:
        return any((self.since, self.until, self.speaker, self.session))

    def to_sql(self) -> str | None:
        parts = []
        if self.since:
            parts.append(f"event_time >= CAST({_lit(self.since.astimezone(timezone.utc).isoformat())} AS TIMESTAMP)")
        if self.until:
            parts.append(f"event_time <= CAST({_lit(self.until.astimezone(timezone.utc).isoformat())} AS TIMESTAMP)")
        if self.speaker:
            # Multi-speaker units store "A, B": match a whole name in that list, any case.
            n = self.speaker.strip().lower()
            parts.append("(" + " OR ".join([
                f"lower(speaker) = {_lit(n)}", f"lower(speaker) LIKE {_lit(n + ', %')}",
                f"lower(speaker) LIKE {_lit('%, ' + n)}", f"lower(speaker) LIKE {_lit('%, ' + n + ', %')}",
            ]) + ")")
        if self.session:
            parts.append(f"(session = {_lit(self.session)} OR session LIKE {_lit('%/' + self.session)})")
        return " AND ".join(parts) or None
