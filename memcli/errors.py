"""Typed errors. The CLI maps each to an exit code and a one-line message.

Library code raises these and never calls ``sys.exit``; only ``memcli.cli`` decides
how an error looks to a person.
"""

from __future__ import annotations


class MemError(Exception):
    """Base of every error memcli raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(MemError):
    """Settings that do not validate, or an unknown key."""

    exit_code = 2


class NotFoundError(MemError):
    """A source, unit or model that the command names does not exist."""

    exit_code = 3


class IngestFailures(MemError):
    """Some inputs failed; the rest were ingested. Raised after the batch finishes."""

    exit_code = 4


class ReadError(MemError):
    """One file could not be read or parsed (binary, empty, corrupt, unreadable...)."""

    exit_code = 4


class SkipInput(ReadError):
    """Nothing to remember here (an empty file, a JSON file that is no known export):
    reported and skipped, not counted as a failure."""


class StubNote(SkipInput):
    """A note with a title or front matter and no text yet: counted apart, never a failure
    (a cron ingest of a vault must not page anyone over a placeholder)."""


class EmptyInput(SkipInput):
    """A file with nothing in it."""


class StoreError(MemError):
    """The stores are inconsistent or unusable (e.g. a changed embedding model)."""

    exit_code = 5


class LockBusyError(MemError):
    """Another process holds the write lock."""

    exit_code = 6


class ModelError(MemError):
    """A model could not be found or loaded."""

    exit_code = 7


class Interrupted(MemError):
    """Ctrl-C or SIGTERM during a write: what was committed stays, the rest rolls back."""

    exit_code = 130
