"""Answers a reader can trust (#26), each problem a user saw as a small fixture: Markdown
markup in answers, a bare number lifted from an unrelated sentence, the topical sentence
instead of the value, a two-hop question answered with its first hop, an on-topic question
memory cannot answer, and a generator that loops or makes things up."""

import pytest

from memcli.embed.fake import FakeEmbedder
from memcli.llm.fake import FakeGenerator
from memcli.memory import Memory

MKDOCS = """# Serialization

## Dumping models

[`Model.dump()`][pkg.main.Model.dump] can also be used to **serialize** a model into a dict, see the
[guide](../concepts/serialization.md#dumping) for details.

/// version-changed | v2
`Model.dump()` replaced the old `Model.dict()` method.
///

!!! note "Performance"
    Dumping is _much_ faster in v2 <br/> than in v1.
"""

BENCH = """# Benchmarks

Parsing large files is 37% faster than in the previous release, measured on a laptop.
"""

PLUGINS = """# Plugins

Plugins extend the tool with new commands. Each plugin lives in its own package and is
loaded at start-up when it is installed.
"""

SETTINGS = """# Settings

## timeout

The `timeout` setting controls how long a request may wait for the server before giving up.
The timeout defaults to `30s`, and `0` disables it.
"""

BOOK = """# Night Harbour

Night Harbour is a 1998 novel written by Tove Ahlgren. It follows a ferry crew through one
winter on the northern coast.
"""

AUTHOR = """# Tove Ahlgren

Tove Ahlgren grew up in Bergen, where her father ran a bookshop near the harbour. She later
taught literature at a school in Oslo.
"""

TIMEOUTS = """# Timeouts

Requests time out after five seconds by default. You can set a longer timeout on the client
or on a single request with the `timeout` argument.
"""


@pytest.fixture
def memory(settings, tmp_path):
    def make(files: dict[str, str], generator=None):
        d = tmp_path / "notes"
        d.mkdir(exist_ok=True)
        for name, body in files.items():
            (d / name).write_text(body, encoding="utf-8")
        m = Memory(settings, embedder=FakeEmbedder(dim=64), generator=generator)
        m.ingest([d], recursive=True)
        return m
    return make


def test_answers_read_as_prose_not_markdown(memory):
    m = memory({"serialization.md": MKDOCS})
    ans = m.ask("How can a model be serialized into a dict?", answer="extractive")
    assert not ans.abstained
    assert "`Model.dump()`" in ans.answer  # code stays code
    for mark in ("][", "](", "**", "///", "!!!", "<br", "pkg.main"):
        assert mark not in ans.answer and mark not in (ans.evidence or ""), (mark, ans.answer)
    c = ans.citations[0]
    assert c.line_start <= 4 <= c.line_end  # citations keep the file's own lines


def test_a_number_from_an_unrelated_sentence_is_not_an_answer(memory):
    m = memory({"benchmarks.md": BENCH, "plugins.md": PLUGINS})
    ans = m.ask("How many plugins does the tool ship with?", answer="extractive")
    assert ans.answer.strip() not in ("37%", "37")
    assert ans.abstained or len(ans.answer.split()) > 3  # a refusal, or the whole sentence


def test_a_default_value_question_gets_the_value(memory):
    m = memory({"settings.md": SETTINGS})
    ans = m.ask("What is the default timeout?", answer="extractive")
    assert ans.answer == "`30s`", ans.answer
    assert "defaults to `30s`" in ans.evidence
    a, b = ans.answer_span
    assert ans.evidence[a:b].strip() == "`30s`"


def test_a_two_hop_question_answers_the_second_hop_and_cites_both(memory):
    m = memory({"night-harbour.md": BOOK, "tove-ahlgren.md": AUTHOR})
    ans = m.ask("Which city did the author of Night Harbour grow up in?", answer="extractive")
    assert "Bergen" in ans.answer, ans.answer
    assert {c.uri.rsplit("/", 1)[-1] for c in ans.citations} == {"night-harbour.md", "tove-ahlgren.md"}
    assert ans.hops and ans.hops[0]["bridge"] == "Tove Ahlgren"


def test_an_on_topic_question_about_something_memory_never_mentions_is_refused(memory):
    m = memory({"timeouts.md": TIMEOUTS, "settings.md": SETTINGS})
    ans = m.ask("How do I raise the `max_redirects` limit for requests?", answer="extractive")
    assert ans.abstained and "max_redirects" in ans.refusal
    assert ans.closest  # the closest hits are still shown
    ok = m.ask("How long before requests time out by default?", answer="extractive")
    assert not ok.abstained and "five seconds" in ok.answer  # no false refusal beside it


def test_a_question_about_one_tools_setting_is_not_answered_from_another_tools_note(memory):
    # Two tools' manuals; only one documents a timeout. "tide's timeout" must not get
    # "ferry"'s timeout line, though it is the closest on topic.
    m = memory({"ferry.md": "# ferry HTTP timeout\n\nThe HTTP timeout setting raises how long ferry waits: "
                "requests time out after five seconds by default.\n",
                "tide.md": "# tide\n\ntide is a package manager. tide installs packages into a virtual "
                "environment and keeps a lock file of their versions.\n"})
    ans = m.ask("Which setting raises tide's HTTP timeout?", answer="extractive")
    assert ans.abstained and "'tide'" in ans.refusal, (ans.answer, ans.refusal)
    ok = m.ask("What is ferry's default timeout?", answer="extractive")
    assert not ok.abstained and "five seconds" in ok.answer  # the owner's own note answers


def test_a_looping_generator_says_its_sentence_once(memory):
    loop = "Requests time out after five seconds by default [1]. " * 4
    m = memory({"timeouts.md": TIMEOUTS}, generator=FakeGenerator(reply=loop))
    shown = []
    steps = m.ask("How long before requests time out by default?", answer="generate", stream=True)
    shown.extend(steps)
    ans = steps.result()
    assert ans.answer.count("five seconds") == 1, ans.answer
    assert "".join(shown).count("five seconds") == 1  # the loop never reached the screen
    assert "repeated" in (ans.note or "")


def test_an_unsupported_generated_answer_falls_back_to_the_evidence(memory):
    made_up = "Bananas ripen faster in paper bags because of ethylene gas [1]."
    m = memory({"timeouts.md": TIMEOUTS}, generator=FakeGenerator(reply=made_up))
    ans = m.ask("How long before requests time out by default?", answer="generate")
    assert "five seconds" in ans.answer and "Bananas" not in ans.answer
    assert ans.generated and "your notes do not" in ans.note and ans.note.endswith(".")


def test_a_generated_answer_that_leaves_out_the_line_s_answer_falls_back_to_the_line(memory):
    # Every word of it is in the excerpts, yet it does not say how long: the line does.
    vague = "Requests time out by default, as set by the timeout [1]."
    m = memory({"timeouts.md": TIMEOUTS}, generator=FakeGenerator(reply=vague))
    ans = m.ask("How long before requests time out by default?", answer="generate")
    assert "five seconds" in ans.answer and ans.generated == vague
    assert "left out what your notes say" in ans.note and ans.note.endswith(".")
    said = "Requests time out after five seconds by default [1]."
    ok = memory({"timeouts.md": TIMEOUTS}, generator=FakeGenerator(reply=said)).ask(
        "How long before requests time out by default?", answer="generate")
    assert ok.answer == said and ok.generated is None


def test_a_comparison_question_compares_the_two_dates(memory):
    m = memory({"night-harbour.md": BOOK, "low-tide.md": "# Low Tide\n\nLow Tide is a 2004 novel by Sven Ek about a "
                "lighthouse keeper and his daughter.\n"})
    ans = m.ask("Which novel came out first, Night Harbour or Low Tide?", answer="extractive")
    assert ans.answer == "Night Harbour"  # 1998 before 2004
    assert len(ans.citations) == 2 and "1998" in ans.note and "2004" in ans.note
    later = m.ask("Which novel came out later, Night Harbour or Low Tide?", answer="extractive")
    assert later.answer == "Low Tide"


PEOPLE = {
    "night-harbour.md": BOOK,
    "low-tide.md": "# Low Tide\n\nLow Tide is a 2004 novel by Sven Ek about a lighthouse keeper and his daughter.\n",
    "tove-ahlgren.md": "# Tove Ahlgren\n\nTove Ahlgren (12 March 1931 – 4 May 2019) was a Norwegian novelist. "
                       "She grew up in Bergen.\n",
    "sven-ek.md": "# Sven Ek\n\nSven Ek (2 June 1950 – 9 October 2001) was a Swedish novelist and teacher. "
                  "He lived by the sea in S. R. Lindqvist's old house.\n",
}


def test_who_lived_longer_reads_both_lives(memory):
    ans = memory(PEOPLE).ask("Who lived longer, Tove Ahlgren or Sven Ek?", answer="extractive")
    assert ans.answer == "Tove Ahlgren"  # 88 years against 51
    assert "88 years" in ans.note and "51 years" in ans.note and len(ans.citations) == 2


def test_a_comparison_is_read_even_when_asked_to_generate(memory):
    guess = "Sven Ek lived longer [1]."
    m = memory(PEOPLE, generator=FakeGenerator(reply=guess))
    ans = m.ask("Who lived longer, Tove Ahlgren or Sven Ek?", answer="generate")
    assert ans.answer == "Tove Ahlgren" and "not generated" in ans.note and len(ans.citations) == 2


def test_a_comparison_through_each_side_s_author(memory):
    m = memory(PEOPLE)
    ans = m.ask("Which novel has the author who was born first, Night Harbour or Low Tide?", answer="extractive")
    assert ans.answer == "Night Harbour"  # Tove Ahlgren 1931, Sven Ek 1950
    assert [h["bridge"] for h in ans.hops] == ["Tove Ahlgren", "Sven Ek"]
    assert "its author Tove Ahlgren, born 1931" in ans.note and "born 1950" in ans.note


def test_are_both_questions_are_answered_yes_or_no(memory):
    m = memory(PEOPLE)
    yes = m.ask("Are Tove Ahlgren and Sven Ek both novelists?", answer="extractive")
    assert yes.answer == "Yes" and len(yes.citations) == 2
    no = m.ask("Are Tove Ahlgren and Sven Ek both teachers?", answer="extractive")
    assert no.answer == "No" and "Tove Ahlgren — not said" in no.note


def test_a_yes_or_no_needs_each_side_s_own_note(memory):
    # A manual that mentions both in passing has no page of either: the line answers, not a guess.
    m = memory({"clients.md": "# Clients\n\nClient and AsyncClient take the same options. "
                              "A Client is safe to share between threads.\n"})
    ans = m.ask("Are Client and AsyncClient both safe to share between threads?", answer="extractive")
    assert ans.answer not in ("Yes", "No") and "threads" in ans.answer


def test_the_same_country_is_read_from_each_page(memory):
    ans = memory(PEOPLE).ask("Are Tove Ahlgren and Sven Ek from the same country?", answer="extractive")
    assert ans.answer == "No" and "Norwegian" in ans.note and "Swedish" in ans.note


def test_a_second_hop_reads_the_bridge_s_own_page(memory):
    m = memory({
        "harbour-song.md": "# Harbour Song\n\nHarbour Song is a 1971 song written by Tove Ahlgren, originally "
                           "performed by Sven Ek.\n",
        "tove-ahlgren.md": AUTHOR,
        "sven-ek.md": "# Sven Ek\n\nSven Ek is a Swedish singer. He was born in Kalmar and grew up by the sea.\n",
        "kalle-ek.md": "# Kalle Ek\n\nKalle Ek, a fisherman, was born in Visby.\n",
    })
    ans = m.ask("Where was the performer of song Harbour Song born?", answer="extractive")
    assert "Kalmar" in ans.answer and ans.hops[0]["bridge"] == "Sven Ek"


def test_an_answer_that_names_another_note_s_subject_reads_on_in_that_note(memory):
    m = memory({
        "dick-humbert.md": "# Dick Humbert\n\nDick Humbert is a retired end. From 1945 to 1949 Dick Humbert played "
                           "for a team based on the coast, the Harbour Gulls.\n",
        "harbour-gulls.md": "# Harbour Gulls\n\nThe Harbour Gulls are a football club from Bergen, Norway. "
                            "They play in blue.\n",
    })
    ans = m.ask("From 1945 to 1949 Dick Humbert played for a team based in what city?", answer="extractive")
    assert "Bergen" in ans.answer and ans.hops[0]["bridge"] == "Harbour Gulls"
    assert {c.uri.rsplit("/", 1)[-1] for c in ans.citations} == {"dick-humbert.md", "harbour-gulls.md"}


def test_the_same_country_is_the_last_name_of_each_place_list(memory):
    # "District" and "Province" are in both lists; the countries are not.
    m = memory({
        "aldby.md": "# Aldby\n\nAldby is a village in Eastvale District, Nordmark Province, Norway.\n",
        "brekka.md": "# Brekka\n\nBrekka is a village in Westvale District, Fjord Province, Iceland.\n",
        "cadby.md": "# Cadby\n\nCadby is a village in St. Olaf District, Sunmark Province, Norway.\n",
    })
    no = m.ask("Are Aldby and Brekka located in the same country?", answer="extractive")
    assert no.answer == "No" and "Norway" in no.note and "Iceland" in no.note
    yes = m.ask("Are Aldby and Cadby located in the same country?", answer="extractive")
    assert yes.answer == "Yes"


ALBUM = {
    "morning-tide.md": "# Morning Tide\n\nMorning Tide is the third studio album by singer-songwriter Sven Ek, "
                       "released in 2003.\n",
    "sven-ek.md": "# Sven Ek\n\nSven Ek is a singer-songwriter and guitarist from Kalmar, Sweden. "
                  "He plays a twelve-string guitar.\n",
}


def test_a_name_of_another_kind_than_asked_reads_on_in_its_note(memory):
    # "from what country" asks for a country; Sven Ek's note says he is a singer-songwriter.
    ans = memory(ALBUM).ask("Morning Tide is the third studio album by a singer-songwriter from what country?",
                            answer="extractive")
    assert "Sweden" in ans.answer and ans.hops and ans.hops[0]["bridge"] == "Sven Ek"


class _UnsureHead:
    """A span head that finds the right phrase but scores it under its margin, as the real one
    does on long questions (M. Ward's "Portland, Oregon": −7.7 against −5.5)."""
    margin = -5.5

    def best_many(self, question, lines):
        out = []
        for line in lines:
            at = line.find("Kalmar")
            out.append(((at, at + len("Kalmar, Sweden")), -7.7) if at >= 0 else (None, -20.0))
        return out

    def allows(self, question, line, got, gain, margin=None):
        return got is not None and gain > (self.margin if margin is None else margin)


def test_an_unsure_read_is_taken_only_when_the_name_is_not_of_the_asked_kind(memory):
    from memcli.answer.pick import Extract, onward

    m = memory(ALBUM)
    q = "Morning Tide is the third studio album by a singer-songwriter from what country?"
    from memcli.answer.context import build_context
    from memcli.text import estimate_tokens

    hits = m.search(q, k=8)
    excerpts = build_context(hits, budget=2000, count_tokens=estimate_tokens)
    album = next(e for e in excerpts if e.first.title == "Morning Tide")
    line = album.text.splitlines()[-1]
    at = line.find("Sven Ek")
    best = Extract(line, album, 1.0, None, answer="Sven Ek", span=(at, at + 7))
    name, got = onward(q, best, excerpts, _UnsureHead())
    assert name == "Sven Ek" and got.answer == "Kalmar, Sweden"
    # Asked "which singer-songwriter", the name's note says he is one: an unsure read does not replace it.
    assert onward("Morning Tide is the third album by which singer-songwriter?", best, excerpts, _UnsureHead()) is None


def test_a_name_of_the_asked_kind_is_the_answer(memory):
    # "by which singer-songwriter": Sven Ek's own note says he is one, so the name stands.
    ans = memory(ALBUM).ask("Morning Tide is the third studio album by which singer-songwriter?", answer="extractive")
    assert "Sven Ek" in ans.answer and not ans.hops


def test_asking_for_the_bridge_itself_is_one_hop(memory):
    # "Who is the author of Night Harbour?" is answered by the name, not by what her note says of her.
    ans = memory({"night-harbour.md": BOOK, "tove-ahlgren.md": AUTHOR}).ask(
        "Who is the author of Night Harbour?", answer="extractive")
    assert "Tove Ahlgren" in ans.answer and not ans.hops


def test_a_parent_is_read_from_whose_child_the_note_says(memory):
    m = memory({
        "lothar-ek.md": "# Lothar Ek\n\nLothar Ek was a ferry captain. He was the second son of Sven Ek and "
                        "Marta Lind.\n",
        "marta-lind.md": "# Marta Lind\n\nMarta Lind was a weaver. She died in Visby in 1921.\n",
        "sven-ek.md": "# Sven Ek\n\nSven Ek was a fisherman. He died in Kalmar in 1930.\n",
    })
    ans = m.ask("Where did Lothar Ek's mother die?", answer="extractive")
    assert "Visby" in ans.answer and ans.hops[0]["bridge"] == "Marta Lind"


def test_ask_explain_and_a_refusal_say_why(capsys, tmp_path, fake_cli):
    import json

    from memcli.cli import run

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "settings.md").write_text(SETTINGS)
    assert run(["ingest", str(notes)]) == 0
    capsys.readouterr()
    assert run(["ask", "What is the default timeout?", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "30s" in out and "Candidates" in out and "overlap" in out
    assert run(["ask", "What is the default timeout?", "--explain", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["explain"] and {"text", "score", "features"} <= set(data["explain"][0])
    assert data["explain"][0]["score"] >= data["explain"][-1]["score"]
    assert run(["ask", "How do I set `max_redirects` on the client?"]) == 0
    out = capsys.readouterr().out
    assert "Not in your memory" in out and "Why:" in out and "max_redirects" in out


def test_explain_shows_bracketed_code_as_written(capsys, tmp_path, fake_cli):
    # Rich reads "[tool.uv]" as a style tag: unescaped, the table showed "from the `` table".
    from memcli.cli import run

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "config.md").write_text("# Configuration files\n\nIf a `pyproject.toml` file is found, the tool reads "
                                      "its settings from the `[tool.uv]` table of that file.\n")
    assert run(["ingest", str(notes)]) == 0
    capsys.readouterr()
    assert run(["ask", "Which table of pyproject.toml holds the settings?", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "[tool.uv]" in out and "``" not in out


def test_a_command_made_of_the_questions_words_is_still_an_answer():
    # "pip install httpx[http2]" has one word the question lacks: a prose line with so few new
    # words restates the question, but a command that dense is the answer (docsqa httpx-05).
    # A command made of the question's words alone ("request = response.next") is not.
    from memcli.answer.candidates import Candidate, answerable, terms

    q = set(terms("What's the pip command to install ferry with HTTP/2 support?"))
    assert answerable(Candidate("`pip install ferry[http2]`", None, kind="code"), q)
    assert not answerable(Candidate("You can install ferry with pip and HTTP/2 support.", None), q)
    q2 = set(terms("Coming from requests: what replaced `response.next` for the next request?"))
    assert not answerable(Candidate("`request = response.next`", None, kind="code"), q2)


def test_a_line_that_leads_into_what_follows_is_not_an_answer():
    # "For example, to apply a set of custom headers on every request:" introduces a code
    # block; shown alone it ends in the air (docsqa httpx-11).
    from memcli.answer.candidates import Candidate, answerable, terms

    q = set(terms("Do the request's headers replace the client's headers?"))
    assert not answerable(Candidate("For example, to apply a set of custom headers on every request:", None), q)
    assert answerable(Candidate("For headers, query parameters and cookies, the values are combined together.", None), q)


def test_a_two_part_answer_from_two_notes_is_checked_against_both(memory):
    # "Krilanovich's first novel … is based where?" (HotpotQA): the answer's first line comes
    # from the publisher's note, which never names the author; her own note, whose line the
    # answer joins, does. The "about someone else" refusal looked at the first note only.
    m = memory({
        "okafor.md": "# Ana Okafor\n\nAna Okafor (born 1979) is an American author. Her first novel, \"Tidal Creeps\", "
                     "was published by Gull Press in September 2010.\n",
        "gull-press.md": "# Gull Press\n\nGull Press is an independent mom-and-pop publishing house based in Bergen, "
                         "Norway. The press was founded in 2005 by a husband and wife team.\n",
    })
    ans = m.ask("Okafor's first novel was published by an independent mom-and-pop publishing house that was "
                "founded in 2005, and is based where?", answer="extractive")
    assert not ans.abstained, ans.refusal
    assert "Bergen" in ans.answer
