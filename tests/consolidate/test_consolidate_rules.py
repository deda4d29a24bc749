"""The rules consolidation decides with, by hand-made cases."""

from datetime import datetime, timedelta, timezone

import pytest

from memcli.consolidate import judge as J
from memcli.consolidate.schedule import cron_spec
from memcli.consolidate.steps import older_than
from memcli.errors import ConfigError

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_an_update_needs_the_same_topic_a_new_value_and_a_change_cue():
    old = "My phone number is 555-1234, call me any time."
    assert J.updates(old, "I got a new phone, my phone number is now 555-9876.")
    assert not J.updates(old, "My phone number is 555-1234, call me any time.")  # same value
    assert not J.updates(old, "My phone number is 555-9876.")  # no cue that it changed
    assert not J.updates("I ran 5 km today.", "The pottery class is now on Tuesdays at 6.")  # other topic


def test_forgetting_curve_halves_per_half_life_and_recall_slows_it():
    t0 = NOW - timedelta(days=180)
    assert J.strength(NOW, t0, None, 0, 180) == pytest.approx(0.5)
    assert J.strength(NOW, t0, None, 1, 180) == pytest.approx(2 ** -0.5)  # recalled once: twice the half-life
    assert J.strength(NOW, t0, NOW, 0, 180) == pytest.approx(1.0)  # just recalled


def test_extractive_summary_keeps_central_sentences_in_order():
    texts = ["The bees swarm from the hive in late May. The hive was calm during the inspection.",
             "Swarm control: split the hive in May before the bees swarm away.",
             "I bought a red bicycle at the market yesterday."]
    out = J.extractive_summary(texts, sentences=2)
    assert "swarm" in out.lower() and "bicycle" not in out


def test_cron_specs_and_age_cutoffs():
    assert cron_spec("1d") == "17 3 * * *"
    assert cron_spec("6h") == "17 */6 * * *"
    assert cron_spec("30m") == "*/30 * * * *"
    assert cron_spec("1w") == "17 3 * * 0"
    for bad in ("7h", "0d", "often", "2w"):
        with pytest.raises(ConfigError):
            cron_spec(bad)
    assert older_than("180d", NOW) == NOW - timedelta(days=180)
    with pytest.raises(ConfigError):
        older_than("soon")


def test_chat_segments_are_not_superseded_by_small_talk():
    old = ("[2023-05-08] Caroline: Hey Mel! Good to see you! How have you been?\n"
           "[2023-05-08] Melanie: I'm swamped with the kids & work. What's up with you? Anything new?")
    new = ("[2023-07-20] Caroline: Hey Melanie! Just wanted to say hi!\n"
           "[2023-07-20] Melanie: Good to talk to you again. Anything new since last time? I painted a lake now.")
    assert not J.updates(old, new)
    assert J.updates("[2023-01-10] Ana: My phone number is 555-1234, call me any time.",
                     "[2023-06-02] Ana: I got a new phone, my phone number is now 555-9876.")
