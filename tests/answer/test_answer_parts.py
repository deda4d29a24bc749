"""The small parts of an extractive answer: dates in evidence, question types, short spans."""

import pytest

from memcli.answer.dates import date_in
from memcli.answer.candidates import split_question
from memcli.answer.qtypes import aggregate_kind, question_type, type_fit
from memcli.answer.span import answer_span


@pytest.mark.parametrize("sentence, said_on, answer", [
    ("It expires on 14 August 2025.", "2024-03-02", "14 August 2025"),
    ("Renewal is due August 14, 2025 at the latest.", None, "14 August 2025"),
    ("We moved in March 2021.", "2023-01-01", "March 2021"),
    ("I went to the support group yesterday.", "2023-05-08", "7 May 2023"),
    ("We are going camping next Friday.", "2023-05-08", "12 May 2023"),  # 8 May 2023 was a Monday
    ("I painted that lake sunrise last year.", "2023-05-08", "2022"),
    ("We adopted her two weeks ago.", "2023-05-08", "the week of 24 April 2023"),
    ("Went to a concert last week.", "2023-05-08", "the week before 8 May 2023"),
])
def test_dates_written_in_the_evidence(sentence, said_on, answer):
    found = date_in(sentence, said_on)
    assert found is not None and found.answer == answer
    assert found.text in sentence


def test_no_date_and_no_base_means_none():
    assert date_in("We had a lovely time at the lake.", "2023-05-08") is None
    assert date_in("See you yesterday", None) is None  # relative needs the day it was said


@pytest.mark.parametrize("q, kind", [
    ("When did Ana adopt the kitten?", "when"), ("What year did Ben run?", "when"),
    ("How many jars did we get?", "number"), ("Why does uv stop at the first index?", "why"),
    ("Who called about the swarm?", "who"), ("Which flag makes uv run fail on a stale lockfile?", "term"),
    ("How do I make the script executable?", "how"), ("Where does the lockfile end up?", "where"),
    ("What replaced `response.next`?", "term"), ("Is the cat grey?", None),
])
def test_question_types(q, kind):
    assert question_type(q) == kind


def test_type_fit_wants_something_the_question_does_not_say():
    q = "How many jars did we get in 2025?"
    assert type_fit("number", "We got 31 jars.", q) == 1.0
    assert type_fit("number", "That was in 2025.", q) == 0.0  # only the question's own number
    assert type_fit("when", "It was a sunny day.", "When was it?") == 0.0
    assert type_fit("term", "Pass `--locked` to fail instead.", "Which flag do I pass?") == 1.0
    assert type_fit("why", "x", "Why?", code=True) == 0.0  # a code block is no reason


def test_short_spans():
    q = "Who directed Night Harbour?"
    s = "Night Harbour is a 1998 film directed by Tove Ahlgren."
    a, b = answer_span("who", s, q, grounded=1.0)
    assert s[a:b] == "Tove Ahlgren"
    s = "We got 31 jars this year."
    a, b = answer_span("number", s, "How many jars did we get?", grounded=1.0)
    assert s[a:b] == "31 jars"
    assert answer_span("who", "Ana met Ben and Carl at the lake.", "Who did Ana meet?", grounded=1.0) is None  # two names


def test_compound_questions_split_and_aggregates():
    assert split_question("Will uv download Python by itself, and what setting turns that off?") == [
        "Will uv download Python by itself", "what setting turns that off?"]
    assert split_question("What does Rc stand for?") == ["What does Rc stand for?"]
    assert aggregate_kind("How many times has Melanie gone camping?") == "count"
    assert aggregate_kind("What activities does Melanie partake in?") == "list"
    assert aggregate_kind("What is the capital of France?") is None
