"""The span head: the short answer inside the picked line, with the line kept as evidence; a
how-to, a yes/no question and an answer that only repeats the question keep the whole line.
The shipped head (memcli/answer/span.safetensors) over the installed MiniLM, as the default
`llm.span: head` runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memcli.answer.pick import _kind_fits
from memcli.answer.span_head import available, encode_span_input, form_allows, load, snap
from memcli.cli.app import app

SAMPLE = Path(__file__).resolve().parents[2] / "recipes" / "sample"

shipped = pytest.mark.skipif(not available() or load() is None, reason="the shipped span head or its MiniLM base is missing")


def test_a_question_s_grammar_decides_what_may_stand_as_its_answer():
    assert form_allows("What material is the frame made of?", "cedar")
    assert not form_allows("What prize did the honey win?", "light honey class")  # says what the question says
    assert not form_allows("The director has an OBE. Does the director of Dark River have one?", "Scottish")
    q = "Which film has the director who is older, God's Gift to Women or Aldrich Ames?"
    assert not form_allows(q, "Michael Curtiz")  # a first hop's name, neither alternative
    assert form_allows(q, "God's Gift to Women")
    # A why asks for a reason and a how-do-I for a way: a clause or the line, not a phrase.
    assert not form_allows("Why does uv stop at the first package index that has a package?", "resolutions")
    assert not form_allows("I turned on http2. How can I check the version of a response?", "http_version")
    assert form_allows("How long will httpx wait on a stalled connection?", "five seconds")


def test_a_sentence_s_opening_conjunction_is_not_part_of_a_name():
    line = "Curry is fun to watch. And LeBron is still the best."
    a = line.index("LeBron")
    assert line[slice(*snap(line, a, a + len("LeBron")))] == "LeBron"


@pytest.mark.parametrize("line, cut, phrase", [
    # An opened quote is closed, with the name around it.
    ('Britain\'s first Olympic ski jumper was Eddie "The Eagle" Edwards, in 1988.', 'Eddie "The Eagle',
     'Eddie "The Eagle" Edwards'),
    # A day and month keep their year.
    ("Ermengarde of Tours (died 20 March 851) was a Frankish queen.", "20 March", "20 March 851"),
    ("She was born on March 20, 1851 in Tours.", "March 20", "March 20, 1851"),
    # An ordinal keeps its noun.
    ("Both breeds were developed in the mid-19th century in Texas.", "mid-19th", "mid-19th century"),
])
def test_the_span_widens_to_the_phrase_it_cuts_into(line, cut, phrase):
    a = line.index(cut)
    assert line[slice(*snap(line, a, a + len(cut)))] == phrase


@shipped
def test_the_input_maps_every_line_token_back_to_its_characters():
    head = load()
    line = "The honey won second prize in the light honey class."
    ids, types, offsets, first = encode_span_input(head.tok, "What prize did the honey win?", line)
    assert len(ids) == first + len(offsets) + 1 and types[first] == 1 and types[first - 1] == 0
    assert line[offsets[0][0]:offsets[0][1]] == "The" and line[offsets[-1][0]:offsets[-1][1]] == "."


@shipped
@pytest.mark.parametrize("question, line, short", [
    ("What material is the greenhouse frame made of?", "The greenhouse frame is made of cedar, which weathers to silver without paint.", "cedar"),
    ("What does the beekeeping club lend to new members?", "The beekeeping club lends an extractor and a smoker to every new member for their first season.", "extractor and a smoker"),
    ("How many hives does Anna keep?", "Anna keeps 14 hives on the allotment behind the church.", "14"),
])
def test_a_short_answer_is_cut_from_the_line(question, line, short):
    got = load().span(question, line)
    assert got is not None and line[got[0]:got[1]].strip(" ,.") == short


@shipped
def test_a_number_keeps_its_unit_and_a_name_its_first_word():
    # What the tests of `mem ask` caught: "60" for a tyre pressure, "Counted" for what Rc stands for.
    line = "For 32mm tyres I run 60 psi at the front and 65 psi at the rear."
    a, b = load().span("What tyre pressure should I use for 32mm tyres?", line)
    assert line[a:b] == "60 psi"
    line = "Rc stands for Reference Counted: it keeps track of the number of references to a value."
    a, b = load().span("What does Rc stand for?", line)
    assert line[a:b] == "Reference Counted"


@shipped
def test_a_span_without_a_letter_or_digit_is_no_answer():
    head, q = load(), "Where is Jon's fashion internship?"
    line = "That's awesome news about the fashion internship. 🎉 So stoked for you."
    a = line.index("🎉")
    assert not head.allows(q, line, (a, a + 1), 99.0)
    assert head.allows("How many hives does Anna keep?", "Anna keeps 14 hives.", (11, 13), 99.0)


@shipped
def test_lines_read_together_get_what_each_gets_alone():
    # The head reads the pick and its runners-up in one packed pass: no padding may leak in.
    head = load()
    q = "What did Priya get as a thank you?"
    lines = ["Priya got a jar of honey in September as a thank you.", "", "We went hiking on Sunday.",
             "The honey came from her neighbour, who keeps bees in the garden behind the old church on the hill."]
    together = head.best_many(q, lines)
    assert together[1] == (None, 0.0) and together[0][0] == (12, 24)
    for line, (got, gain) in zip(lines, together):
        if line:
            alone = head.best(q, line)
            assert got == alone[0] and abs(gain - alone[1]) < 1e-3


@shipped
def test_a_how_to_keeps_its_whole_line():
    line = "To clear the cache for one package, run `uv cache clean ruff` in the project folder."
    assert load().span("How do I clear the cached data for just one package?", line) is None


@shipped
def test_ask_answers_short_and_keeps_the_line_as_evidence(tmp_path, monkeypatch):
    monkeypatch.setenv("MEM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MEM_NO_SERVER", "1")
    cli = CliRunner()
    assert cli.invoke(app, ["ingest", "-r", str(SAMPLE)]).exit_code == 0
    r = cli.invoke(app, ["ask", "What did Priya get as a thank you?", "--json"])
    assert r.exit_code == 0, r.output
    a = json.loads(r.output)
    assert a["answer"] == "jar of honey" and a["evidence"] == "Priya got a jar of honey in September as a thank you."
    s, e = a["answer_span"]
    assert a["evidence"][s:e] == a["answer"]
    # The head reads the best few lines: the one that names who called wins over the topical
    # "Called about the swarm … in June 2025." (whose only short answer is a date, and a "who"
    # is someone, never a date).
    r = cli.invoke(app, ["ask", "who called about the swarm in the apple tree?", "--json"])
    a = json.loads(r.output)
    assert a["answer"] == "Priya Natarajan", a
    assert a["evidence"].startswith("Priya Natarajan: neighbour two doors down. Called about the swarm")
    assert not _kind_fits("who", "June 2025", "who called about the swarm in the apple tree?")
    monkeypatch.setenv("MEM_LLM__SPAN", "rules")
    a = json.loads(cli.invoke(app, ["ask", "What did Priya get as a thank you?", "--json"]).output)
    assert a["answer"] == a["evidence"]  # the rules know no such span: the line
