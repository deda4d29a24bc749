"""Every number the answer pipeline decides with, in one place.

A number a user may want to tune is a setting (``llm.*``); these are the pipeline's own: how
many candidates the reader reads, how close a second piece of evidence must score to count,
and when memory is said not to hold the answer. Scores live on two scales — the reader's
P(answers) in [0, 1] and the hand ranker's linear score — so each pick has its own policy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerPolicy:
    # Candidates per question part the scorer reads closely: the reader's inputs (ranked by
    # the cheap hand score: 12 hold an answering line for 33 of the 35 docsqa questions
    # whose candidates hold one, 8 for 29), or the shortlist the hand pick encodes for similarity.
    shortlist: int = 12
    # The named participant's own turn is preferred when it scores within this of the best.
    speaker_margin: float = 0.15
    # A compound question's further part adds its own best line only when that line scores
    # within this many speaker margins of the first part's (else it is too weak to show).
    part_margins: float = 2.0
    # "How many times" / "which activities": evidence within this of the best is gathered too.
    aggregate_margin: float = 0.2
    aggregate_max: int = 5
    # Lines the span head reads beside the pick (the ranker's best this many, in one batch):
    # one where the head finds the asked-for short answer more surely than in the pick's wins.
    # 5 over 3: LoCoMo F1 0.298 vs 0.285, HotpotQA F1 0.146 vs 0.115, docsqa the same.
    head_lines: int = 5
    # A compound question's answer: one sentence per part, within this many characters.
    max_answer_chars: int = 400
    # Refuse when the best candidate's score is under this (None: never on score alone).
    # The reader's is calibrated by bench/train_reader.py at <= 5 % false refusals on
    # questions it was not trained on, and ships in reader.json.
    refuse_below: float | None = None


@dataclass(frozen=True)
class Stages:
    """The answer stages' own numbers, whichever pick runs."""

    # A short answer is cut from the line only when the line (or its lead-in) holds this share
    # of the question's rarity-weighted terms (answer/span.py).
    grounded: float = 0.5
    # "How many …": refuse when none of this many best candidates states a number (refusal.py).
    type_top: int = 3
    # "When did I …" over many dated notes: at most this many listed (when.py).
    max_listed: int = 5


STAGES = Stages()


# The hand ranker's scores are sums of weighted features (about -1 .. 3).
HAND = AnswerPolicy(shortlist=8, speaker_margin=0.3, aggregate_margin=0.3)


def for_reader(threshold: float) -> AnswerPolicy:
    return AnswerPolicy(refuse_below=threshold)
