"""Time expressions with a fixed "now" (Saturday 15 June 2024)."""

from datetime import datetime, timezone

import pytest

from memcli.retrieve.timeparse import mentions_time, parse_time_expression

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=timezone.utc)


def d(y, m, day):
    return datetime(y, m, day, tzinfo=timezone.utc)


@pytest.mark.parametrize("query,since,until", [
    ("what did I do last March?", d(2024, 3, 1), d(2024, 4, 1)),
    ("trips in 2022", d(2022, 1, 1), d(2023, 1, 1)),
    ("what happened yesterday", d(2024, 6, 14), d(2024, 6, 15)),
    ("notes about two weeks ago", d(2024, 6, 1), d(2024, 6, 8)),  # a week-sized span
    ("meetings before May", None, d(2024, 5, 1)),
    ("everything since 3 January 2023", d(2023, 1, 3), None),
    ("the party in May 2023", d(2023, 5, 1), d(2023, 6, 1)),
])
def test_expressions_become_ranges(query, since, until):
    r = parse_time_expression(query, NOW)
    assert r is not None and (r.since, r.until) == (since, until)


@pytest.mark.parametrize("query", ["what is my cat called?", "may I ask who the mentor is?"])
def test_no_time_expression(query):
    assert parse_time_expression(query, NOW) is None


@pytest.mark.parametrize("query", [
    "what did I do last March?", "trips in 2022", "what happened yesterday", "notes a fortnight ago",
    "plans for next weekend", "the meeting on Tuesday", "what did we eat this morning", "in the spring of 1999",
])
def test_the_cheap_gate_lets_every_time_expression_through(query):
    assert mentions_time(query)


@pytest.mark.parametrize("query", [
    "what is my cat called?", "Which exception does httpx raise on a timeout?", "who wrote the README",
    "Where does uv put the lockfile of a script?",
])
def test_questions_without_time_words_skip_dateparser(query, monkeypatch):
    """The gate says no, and dateparser (called past the gate) agrees: nothing lost."""
    import memcli.retrieve.timeparse as tp

    assert not mentions_time(query)
    monkeypatch.setattr(tp, "mentions_time", lambda q: True)
    assert tp.parse_time_expression(query, NOW) is None
