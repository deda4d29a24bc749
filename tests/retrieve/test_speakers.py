"""One rule for "does this text name that participant", shared by retrieval's speaker boost
and the answer's pick."""

from memcli.retrieve.speakers import names, speaker_boost


def test_a_participant_is_named_by_full_or_first_name_in_any_case_and_possessive():
    assert names("What did Caroline's mother give her?", "Caroline")
    assert names("when did caroline go hiking", "Caroline")
    assert names("What did Dan say about the boiler?", "Dan Okafor")
    assert names("Did dan okafor call?", "Dan Okafor")
    assert not names("Who lives in Carolineville?", "Caroline")
    assert not names("What did Melanie paint?", "Caroline")
    assert not names("anything", "") and not names("anything", None)


def test_the_boost_goes_to_turns_by_the_participant_the_question_names():
    boost = speaker_boost("What did Caroline's mother give her?", 0.05)
    assert boost("[2023-05-08] Caroline: my mum gave me a necklace") == 0.05
    assert boost("[2023-05-08] Melanie: my mum gave me a necklace") == 0.0
    assert speaker_boost("What did Caroline do?", 0.0)("Caroline: hiking") == 0.0
