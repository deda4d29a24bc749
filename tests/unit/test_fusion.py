from memcli.retrieve.fusion import convex, minmax, rrf


def test_rrf_rewards_agreement():
    fused = rrf({"bm25": [("a", 9), ("b", 5)], "dense": [("b", 0.9), ("c", 0.8)]}, k=60)
    assert fused[0][0] == "b"
    assert {u for u, _ in fused} == {"a", "b", "c"}


def test_minmax_handles_ties_and_empty():
    assert minmax([]) == {}
    assert minmax([("a", 2.0), ("b", 2.0)]) == {"a": 1.0, "b": 1.0}
    assert minmax([("a", 3.0), ("b", 1.0)]) == {"a": 1.0, "b": 0.0}


def test_convex_weights_let_the_strong_list_lead():
    lists = {"bm25": [("noise", 12.0), ("gold", 11.9)], "dense": [("gold", 0.9), ("noise", 0.1)]}
    assert convex(lists, {"dense": 0.7, "bm25": 0.3})[0][0] == "gold"
    assert convex(lists, {"dense": 0.0, "bm25": 1.0})[0][0] == "noise"
