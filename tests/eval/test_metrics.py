"""Metrics against hand-computed values."""

import math

import pytest

from memcli.eval.metrics import dedupe, ndcg_at_k, normalize_answer, recall_at_k, token_f1


def test_recall_at_k():
    assert recall_at_k(["a", "x", "b"], {"a", "b"}, 2) == 0.5
    assert recall_at_k(["a", "x", "b"], {"a", "b"}, 3) == 1.0
    assert recall_at_k(["a"], set(), 5) == 0.0


def test_ndcg_at_k_hand_values():
    assert ndcg_at_k(["g"], {"g": 1}, 10) == 1.0
    assert ndcg_at_k(["x", "g"], {"g": 1}, 10) == pytest.approx(1 / math.log2(3))
    # two relevant, found at ranks 1 and 3: (1 + 1/log2(4)) / (1 + 1/log2(3))
    assert ndcg_at_k(["a", "x", "b"], {"a": 1, "b": 1}, 10) == pytest.approx((1 + 0.5) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["x", "y"], {"g": 1}, 1) == 0.0


def test_dedupe_keeps_first_rank():
    assert dedupe(["p1", "p2", "p1", "p3"]) == ["p1", "p2", "p3"]


def test_token_f1_squad_style():
    assert normalize_answer("The  Quick, brown fox!") == "quick brown fox"
    assert token_f1("the dam", "The Dam") == 1.0
    assert token_f1("a new dam upstream", "the dam") == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))
    assert token_f1("", "") == 1.0 and token_f1("x", "") == 0.0
