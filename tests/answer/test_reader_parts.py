"""The reader's pieces that need no trained weights: navigation pages, invented names in a
generated answer, the source filter, the policy, and the reader's input layout."""

from __future__ import annotations

import pytest

from memcli.answer.policy import HAND, AnswerPolicy, for_reader
from memcli.answer.grounding import invented
from memcli.markup import navigation
from memcli.store.query import search_sql
from memcli.types import SearchFilters

INDEX = """# My notes

- [Keyboard shortcuts](tools/shortcuts.md) — 2024-03-02
- [Git hosting](tools/git-hosting.md)
- [[Recipes]]
- [Local models](tools/local-models.md) — 2025-01-20
- [Travel](travel/index.md)
"""


def test_an_index_of_links_is_navigation_and_a_page_that_cites_is_not():
    assert navigation(INDEX)
    prose = ("The cache lives in [the cache folder](cache.md). It holds wheels and source trees, "
             "see [pruning](prune.md), [locking](lock.md) and [CI](ci.md) for how long entries stay "
             "and when they are cleaned, which depends on the command that wrote them.")
    assert not navigation(prose)
    assert not navigation("- [one](a.md)\n- [two](b.md)")  # too few links to say


def test_invented_names_are_what_the_lines_never_say():
    lines = "Anyone can make a read-only copy with `git clone https://forge.example.org/team/notes.git`."
    made_up = invented("Use `import django` and call `django.setup()` [1].", lines)
    assert made_up and all("django" in n for n in made_up)
    assert "django" in " ".join(invented("import django; django.setup()", lines))
    assert invented("Run `git clone https://forge.example.org/team/notes.git` [1].", lines) == []
    assert invented("The starter gets fed on Sundays [1].", "The starter lives in the fridge and gets fed on Sundays.") == []


def test_a_source_filter_is_a_list_of_source_ids():
    sql = search_sql(SearchFilters(sources=("abc123", "def456")))
    assert sql == "source_id IN ('abc123', 'def456')"
    assert not SearchFilters() and SearchFilters(sources=("x",))


def test_a_source_that_matches_nothing_is_an_error_not_an_empty_answer():
    from memcli.errors import NotFoundError
    from memcli.retrieve.filters import make_filters

    def resolve(ref):
        raise NotFoundError(f"no source in memory matches {ref!r}")

    with pytest.raises(NotFoundError):
        make_filters(resolve, source=["nowhere"])
    assert make_filters(resolve) is None
    f = make_filters(resolve, since="2025-01-01", tag="recipes")
    assert f.since.year == 2025 and f.tags == ("recipes",)


def test_every_answer_number_lives_in_a_policy():
    assert isinstance(HAND, AnswerPolicy) and HAND.refuse_below is None
    p = for_reader(0.3)
    assert p.refuse_below == 0.3 and p.shortlist >= 8
    with pytest.raises(Exception):
        p.shortlist = 3  # frozen


def test_the_reader_sees_who_said_a_turn_and_where_a_line_sits():
    from memcli.answer.candidates import Candidate
    from memcli.answer.context import Excerpt
    from memcli.answer.reader import candidate_text, context_text
    from memcli.types import Hit

    h = Hit("u1", 1.0, "text", "/n/a.md", "Title", "Setup > Proxy", 1, 2, 0, 4, "s1")
    ex = Excerpt([h], "text", 1.0)
    c = Candidate("Set HTTPS_PROXY.", ex, prev="Behind a proxy:")
    assert candidate_text(c) == "Set HTTPS_PROXY."
    assert context_text(c) == "Setup > Proxy · Behind a proxy:"
    t = Candidate("I went to the support group.", ex, speaker="Caroline", kind="turn")
    assert candidate_text(t) == "Caroline: I went to the support group."


def test_calling_someone_by_name_is_not_talking_about_them():
    # "What do Melanie's kids like?": Caroline's "That's awesome, Melanie!" only addresses her;
    # the name gives it no credit, while a turn that names her as its subject keeps it.
    from memcli.answer.candidates import Candidate
    from memcli.answer.context import Excerpt
    from memcli.answer.features import table
    from memcli.types import Hit

    h = Hit("u1", 1.0, "text", "/c/chat.json", "Chat", "", 1, 2, 0, 4, "s1")
    ex = Excerpt([h], "text", 1.0)
    q = "What do Melanie's kids like?"
    said_to = [Candidate(t, ex, speaker="Caroline", kind="turn") for t in
               ("That's awesome, Melanie!", "Hey Melanie, glad I could help!", "Melanie, that sounds lovely.")]
    about = Candidate("Melanie said the kids love dinosaurs.", ex, speaker="Caroline", kind="turn")
    prose = Candidate("Thanks, Melanie.", ex)  # not a turn: the text as written
    rows, names = table(q, None, [*said_to, about, prose], None, 1.0)
    overlap = rows[:, names.index("overlap")]
    assert list(overlap[:3]) == [0.0, 0.0, 0.0]
    assert overlap[3] > 0 and overlap[4] > 0


def test_evidence_that_only_addresses_the_person_asked_about_is_someone_else_s():
    # Caroline's "Hey Melanie, that road trip was insane!" does not say what happened to
    # Melanie: it is marked as another's evidence (the asker refuses on it), while a turn
    # that names Melanie as its subject is evidence about her.
    from memcli.answer.candidates import unaddressed
    from memcli.answer.context import Excerpt
    from memcli.answer.pick import Extract, _mismatch
    from memcli.types import Hit

    assert unaddressed("Thanks, Gina - really appreciate it") == "Thanks,  - really appreciate it"
    assert "Jon" not in unaddressed("Wow Jon, same here!")
    assert unaddressed("I met Caroline at the park.") == "I met Caroline at the park."
    ex = Excerpt([Hit("u1", 1.0, "text", "/c/chat.json", "Chat", "", 1, 2, 0, 4, "s1")], "text", 1.0)

    def said(text):
        return _mismatch(Extract(text, ex, 1.0, None, answer=text, speaker="Caroline"), "Melanie")

    assert said("Hey Melanie, that road trip was insane!").other_speaker == "Melanie"
    assert said("Melanie took the kids camping in the mountains.").other_speaker is None


def test_their_own_turn_about_the_one_they_talk_to_is_about_someone_else():
    # "What did Caroline realise after her charity race?" (it was Melanie's race): Caroline's
    # "That charity race sounds great, Mel!" speaks of Mel's race, so the asker refuses on it.
    from memcli.answer.candidates import addressed
    from memcli.answer.context import Excerpt
    from memcli.answer.pick import Extract, _mismatch
    from memcli.types import Hit

    ex = Excerpt([Hit("u1", 1.0, "text", "/c/chat.json", "Chat", "", 1, 2, 0, 4, "s1")], "text", 1.0)

    def said(text, question="What did Caroline realise after her charity race?"):
        return _mismatch(Extract(text, ex, 1.0, None, answer=text, speaker="Caroline"), "Caroline", question).other_speaker

    assert said("That charity race sounds great, Mel!") == "Caroline"
    assert said("Mel, I ran a charity race too and realised how much I love it!") is None  # her own
    assert said("Thanks for the invite, Mel!", "Who invited Caroline to the trails?") is None  # the name answers
    assert addressed("Yet, she still values the little things.") == []  # not a name
