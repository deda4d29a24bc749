"""The answer pipeline's stages, each alone: markup → prose, question focus, spans, refusal,
two-hop bridges, the repeat guard, the hand ranker."""

import numpy as np
import pytest

from memcli.answer.candidates import sentences
from memcli.answer.features import CHEAP, FULL
from memcli.answer.hops import bridge, named_by
from memcli.answer.qtypes import focus, new_numbers, question_type
from memcli.answer.ranker import Ranker, load
from memcli.answer.refusal import absent_terms, check, specific_terms
from memcli.answer.span import answer_span
from memcli.answer.grounding import supported
from memcli.llm.guard import RepeatGuard
from memcli.markup import prose


def test_markdown_reads_as_prose_and_code_stays_code():
    assert prose("[`Model.dump()`][pkg.main.Model.dump] can also be used") == "`Model.dump()` can also be used"
    assert prose("See the [guide](../other.md#anchor).") == "See the guide."
    assert prose("**New in 1.4**, the cache is _shared_.") == "New in 1.4, the cache is shared."
    assert prose('!!! note "Careful"') == "Careful" and prose("!!! note") == ""
    assert prose("/// version-changed | v2") == "Changed in v2."
    assert prose("a <br/> b <sup>1</sup>") == "a b 1"
    assert prose("Run `uv add <name>` to add <name>.") == "Run `uv add <name>` to add <name>."  # placeholders stay
    assert prose("Use `**kwargs` and snake_case_names") == "Use `**kwargs` and snake_case_names"
    assert prose("[[Other note|the alias]] and [[Plain]]") == "the alias and Plain"


def test_the_clause_that_asks_sets_the_answer_type():
    assert focus("When I lock a script with uv, where does the lockfile end up?") == "where does the lockfile end up?"
    assert question_type("When I lock a script with uv, where does the lockfile end up?") == "where"
    assert question_type("I turned on http2. How can I check it?") == "how"
    assert question_type("When did Caroline go to the support group?") == "when"


def test_enumerators_and_versions_are_not_quantities():
    assert new_numbers("trades off between (1) minimizing and (2) selecting", "how many?") == []
    assert new_numbers("requires Python >=3.8 or uv v0.4.2", "how many?") == []
    assert new_numbers("It waits 5 minutes for 100 connections", "how many?") == ["5", "100"]


def test_value_spans_only_when_grounded():
    s = "The timeout defaults to `30s`, and `0` disables it."
    a, b = answer_span(None, s, "What is the default timeout?", grounded=1.0)
    assert s[a:b] == "`30s`"
    assert answer_span(None, s, "What is the default timeout?", grounded=0.1) is None
    v = "The `--locked` flag was added in v0.4.2 of the tool."
    a, b = answer_span("term", v, "Since which version does `--locked` exist?", grounded=1.0)
    assert v[a:b] == "v0.4.2"
    assert answer_span("number", "Parsing is 37% faster.", "How many plugins ship?", grounded=0.0) is None


def test_refusal_by_absent_term_and_missing_number():
    df = {"max": 3, "redirects": 4, "timeout": 9}.get
    freq = lambda words: {w: df(w.lower(), 0) for w in words}  # noqa: E731
    assert specific_terms("How do I set `max_redirects` or HTTPS_PROXY?") == ["max_redirects", "HTTPS_PROXY"]
    assert absent_terms("Which RateLimitError does it raise?", freq) == ["RateLimitError"]
    assert absent_terms("What does `max-redirects` do?", freq) == []  # both words are in memory
    assert check("How many retries by default?", [-1.0, -1.0, -1.0, 1.0], freq).missing_type == "number"
    assert not check("How many retries by default?", [-1.0, 1.0], freq).refuse
    assert not check("Why is the sky blue?", [-1.0], freq).refuse


def test_two_hop_bridges():
    b = bridge("Which city did the author of Night Harbour grow up in?")
    assert b.phrase == "the author of Night Harbour" and b.question == "Who is the author of Night Harbour?"
    assert b.substitute("Which city did the author of Night Harbour grow up in?", "Tove Ahlgren") == \
        "Which city did Tove Ahlgren grow up in?"
    assert bridge("When did Lothair Ii's mother die?").question == "Who is the mother of Lothair Ii?"
    assert bridge("What country was the author of Brand a citizen of?").phrase == "the author of Brand"
    assert bridge("What is the default timeout?") is None
    assert named_by("Night Harbour is a 1998 novel written by Tove Ahlgren.", b.question) == "Tove Ahlgren"


def test_the_repeat_guard_stops_a_loop_before_the_reader_sees_it():
    g, shown = RepeatGuard(), []
    for word in ("The honey won second prize [1]. It was light honey. " + "The honey won second prize [1]. " * 3).split(" "):
        shown.append(g.feed(word + " "))
    shown.append(g.finish())
    assert g.stopped and "".join(shown).count("second prize") == 1
    g = RepeatGuard()
    text = "".join(g.feed(w + " ") for w in "One answer. Another line here.".split(" ")) + g.finish()
    assert not g.stopped and text.strip() == "One answer. Another line here."
    assert supported("The honey won second prize [1].", "the honey won second prize at the county show")
    assert not supported("Bananas ripen in paper bags.", "the honey won second prize at the county show")


def test_the_hand_ranker_matches_the_feature_columns():
    X = np.zeros((3, len(FULL)), np.float32)
    X[1, FULL.index("overlap")] = 1.0
    r = load()
    assert r.name == "hand" and r.full.score(X, FULL).shape == (3,)
    assert Ranker.hand().full.score(X, FULL).argmax() == 1
    with pytest.raises(ValueError):
        r.full.score(X, CHEAP)

def test_comparison_questions_and_their_dates():
    from memcli.answer.compare import comparison, date_key, decide

    c = comparison("Who was born first out of Aivar Kuusmaa and Andy Summers?")
    assert (c.a, c.b, c.earliest, c.died) == ("Aivar Kuusmaa", "Andy Summers", True, False)
    assert comparison("Which film has the director who died first, A or B?") is None  # through a bridge
    assert comparison("What is the default timeout?") is None
    assert date_key("John Middleton Murry (6 August 1889 – 12 March 1957) was a writer.", died=True) == (1957, 3, 12)
    assert date_key("Aas Ka Panchhi is a 1961 Hindi movie.", died=False) == (1961, 0, 0)
    assert decide(c, [("Aivar Kuusmaa", (1967, 6, 12)), ("Andy Summers", (1942, 12, 31))]) == "Andy Summers"
    assert decide(c, [("A", (1967, 0, 0)), ("B", (1967, 5, 1))]) is None  # the year cannot tell them apart


def test_comparison_and_agreement_questions_are_read_apart():
    from memcli.answer.compare import agreement, comparison, date_key, holds, mentions, value_words

    c = comparison("Who lived longer, Sir Thomas Wheate, 1st Baronet or Albert Le Brethon?")
    assert (c.a, c.b, c.lifespan, c.earliest) == ("Sir Thomas Wheate, 1st Baronet", "Albert Le Brethon", True, False)
    assert comparison("Which bridge is longer, A or B?") is None  # a length, not a life
    c = comparison("Which film has the director who died first, The Goose Woman or Silent?")
    assert (c.role, c.died, c.a) == ("director", True, "The Goose Woman")
    assert date_key("Ann Roe (January 16, 1941 – September 21, 2011) was a judge.", False, lifespan=True)[0] == 25815
    y = agreement("Are both magazines, the Woman's Viewpoint and Pick Me Up, British publications?")
    assert (y.a, y.b, y.prop, y.same) == ("Woman's Viewpoint", "Pick Me Up", "British publications", False)
    y = agreement("Do both directors of films Wrong Turn 5: Bloodlines and Dark River (2017 Film) have the same nationality?")
    assert (y.a, y.b, y.prop, y.same, y.role) == ("Wrong Turn 5: Bloodlines", "Dark River (2017 Film)", "nationality",
                                                  True, "director")
    assert agreement("Is the cache shared between projects and users?") is None
    assert holds("Christopher Nolan is an English-American film director.", "film directors")
    assert not holds("The Woman's Viewpoint was an American magazine.", "British publications")
    assert mentions('Vakhtang "Vic" Darchinyan (born 1976) is a boxer.', "Vic Darchinyan")
    assert value_words("American- Argentine", "q") & value_words("American", "q")
    assert not value_words("1938", "Which country is Algiers from?")  # a year is no country


def test_the_bridge_is_the_name_after_the_role_s_own_verb():
    song = ("Harbour Song is a song written by Norwegian songwriter Tove Ahlgren, originally performed by "
            "Sven Ek.")
    assert named_by(song, "Who is the performer of song Harbour Song?", "perf") == "Sven Ek"
    # Without the verb: the first "by", past the word that describes its name.
    assert named_by(song, "Who is the performer of song Harbour Song?") == "Tove Ahlgren"
    assert named_by("Changed It is a song by Trinidadian-American rapper Nicki Minaj.", "q", "kind") == "Nicki Minaj"
    assert named_by("Come Dance With Me is a song written by Jimmy Van Heusen.", "q", "kind") is None  # a writer
    assert bridge("Who is the director of El Tonto?") is None  # the bridge itself: one hop
    b = bridge("Where was the place of death of Maurice, Prince Of Orange's father?")
    assert (b.entity, b.role, b.question) == ("Maurice, Prince Of Orange", "father", "Who is the father of Maurice, Prince Of Orange?")


def test_the_kind_a_what_question_asks_for():
    from memcli.answer.pick import asked_kind

    assert asked_kind("From 1945 Dick Humbert played for an NFL team based in what state?") == "state"
    assert asked_kind("Toad Hall is a hall in a university located in what Australian city?") == "city"
    assert asked_kind("What genre is the author associated with?") == "genre"
    assert asked_kind("What did Melanie paint?") is None and asked_kind("Who wrote it?") is None


def test_a_parent_or_a_spouse_is_read_from_whose_son_or_wife():
    from memcli.answer.hops import family_name

    line = "He was the second son of Emperor Lothair I and Ermengarde of Tours."
    assert family_name(line, "father") == "Emperor Lothair I" and family_name(line, "mother") == "Ermengarde of Tours"
    assert family_name("She was the wife of Swedish prime minister Olof Palme.", "husband") == "Olof Palme"
    assert family_name("She became empress by marriage to Frederick Barbarossa.", "husband") == "Frederick Barbarossa"
    assert family_name("He was a son of the sea.", "mother") is None


def test_initials_and_st_do_not_end_a_sentence():
    assert sentences("A film directed by S. R. Puttanna Kanagal. It is set in St. Petersburg, Russia.") == [
        "A film directed by S. R. Puttanna Kanagal.", "It is set in St. Petersburg, Russia."]


def test_fenced_code_reads_as_written():
    text = "Follow **redirects**:\n```pycon\n>>> r = httpx.get(url)\n>>> handlers[0](event)\n```\n> a quote"
    assert prose(text) == "Follow redirects:\n>>> r = httpx.get(url)\n>>> handlers[0](event)\na quote"
