import pytest

from search.lab.speed.stats import mean_recall, percentiles, recall_at_k


def test_recall_counts_the_exact_top_k_found_in_any_order():
    exact = [1, 2, 3, 4, 5, 6]
    assert recall_at_k([3, 1, 9, 2, 8], exact, k=5) == pytest.approx(3 / 5)
    assert recall_at_k([5, 4, 3, 2, 1], exact, k=5) == 1.0
    assert recall_at_k([7, 8], exact, k=2) == 0.0


def test_recall_ignores_rows_past_k():
    assert recall_at_k([1, 9, 2], [1, 2, 3], k=2) == pytest.approx(1 / 2)


def test_mean_recall_averages_over_queries():
    assert mean_recall([[1, 2], [3, 9]], [[1, 2], [3, 4]], k=2) == pytest.approx(0.75)


def test_recall_refuses_an_empty_truth():
    with pytest.raises(ValueError):
        recall_at_k([1], [], k=10)


def test_percentiles_of_a_known_sample():
    stats = percentiles(list(range(1, 101)))
    assert stats["p50"] == pytest.approx(50.5)
    assert stats["p95"] == pytest.approx(95.05)
    assert stats["p99"] == pytest.approx(99.01)
    assert stats["n"] == 100
