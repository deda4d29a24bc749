from memcli.eval.locomo import evidence_ids, recall_at_budget, score_question


def test_evidence_ids_handle_the_malformed_entries():
    assert evidence_ids(["D8:6; D9:17", "D", "D:11:26", "D1:3"]) == {"D8:6", "D9:17", "D1:3"}


def test_recall_at_token_budget_reads_turns_in_order():
    words = {"a": 10, "b": 10, "c": 10}
    ranked = [["a", "b"], ["c"]]
    assert recall_at_budget(ranked, {"c"}, words, 25) == 0.0   # a+b = 20, c would make 30
    assert recall_at_budget(ranked, {"c"}, words, 30) == 1.0
    assert recall_at_budget(ranked, {"b", "c"}, words, 20) == 0.5


def test_score_question_by_k_and_budget():
    words = {f"t{i}": 100 for i in range(30)}
    ranked = [[f"t{i}"] for i in range(30)]
    sc = score_question(ranked, {"t0", "t7", "t15"}, words)
    assert sc["evidence_recall@5"] == 1 / 3
    assert sc["evidence_recall@10"] == 2 / 3
    assert sc["evidence_recall@20"] == 1.0
    assert sc["evidence_recall@512tok"] == 1 / 3   # five turns of 100 words fit
    assert sc["evidence_recall@1024tok"] == 2 / 3  # ten turns
    assert sc["evidence_recall@2048tok"] == 1.0


def test_spaced_sample_keeps_every_category_of_a_sorted_qa_list():
    from memcli.eval.locomo import spaced

    qa = ["1"] * 4 + ["2"] * 4 + ["5"] * 4
    assert spaced(qa, 3) == ["1", "2", "5"]
    assert spaced(qa, 6) == ["1", "1", "2", "2", "5", "5"]
    assert spaced(qa, None) == qa and spaced(qa, 99) == qa
