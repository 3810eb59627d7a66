import pytest

from search.lab.evaluation.metrics import first_rank, median_rank, recall_at, summarise


def test_recall_counts_queries_ranked_at_or_above_k():
    ranks = [1, 2, 5, 11, None]
    assert recall_at(ranks, 1) == pytest.approx(0.2)
    assert recall_at(ranks, 5) == pytest.approx(0.6)
    assert recall_at(ranks, 10) == pytest.approx(0.6)
    assert recall_at([], 10) == 0.0


def test_median_rank_is_unknown_beyond_the_depth():
    assert median_rank([1, 3, 9], depth=10) == 3
    assert median_rank([1, 2, 3, 4], depth=10) == 2.5
    assert median_rank([1, None, None], depth=10) is None


def test_first_rank_finds_the_first_relevant_id():
    assert first_rank([7, 3, 9, 3], {3}) == 2
    assert first_rank([7, 3, 9], {9, 7}) == 1
    assert first_rank([7, 3], {5}) is None


def test_summary_has_recalls_median_and_count():
    assert summarise([1, 1, 6, None], depth=10) == {
        "R@1": 0.5,
        "R@5": 0.5,
        "R@10": 0.75,
        "median_rank": 3.5,
        "queries": 4,
    }
