"""The refinement arithmetic: Rocchio, feedback text with negations, and the weights' checks."""

import numpy as np
import pytest

from search.errors import InvalidQuery
from search.refinement import RefinementWeights, apply_feedback, parse_feedback, rocchio


def axis(i: int, dim: int = 4) -> np.ndarray:
    vector = np.zeros(dim, dtype=np.float32)
    vector[i] = 1.0
    return vector


def test_rocchio_is_the_renormalised_weighted_sum():
    query, relevant, not_relevant = axis(0), [axis(1), axis(1)], [axis(2)]
    moved = rocchio(query, relevant, not_relevant, {"alpha": 1.0, "beta": 0.75, "gamma": 0.25})
    expected = np.array([1.0, 0.75, -0.25, 0.0]) / np.linalg.norm([1.0, 0.75, -0.25])
    np.testing.assert_allclose(moved, expected, atol=1e-6)
    assert moved.dtype == np.float32


def test_rocchio_uses_the_mean_of_each_set():
    moved = rocchio(axis(0), [axis(1), axis(2)], [], RefinementWeights(alpha=1.0, beta=1.0))
    np.testing.assert_allclose(moved, np.array([1.0, 0.5, 0.5, 0.0]) / np.linalg.norm([1.0, 0.5, 0.5]), atol=1e-6)


def test_rocchio_without_judgements_returns_the_query():
    np.testing.assert_allclose(rocchio(axis(3), [], []), axis(3))


def test_rocchio_moves_toward_relevant_and_away_from_not_relevant():
    query = (axis(0) + axis(1)) / np.sqrt(2)
    moved = rocchio(query, [axis(0)], [axis(1)])
    assert moved @ axis(0) > query @ axis(0)
    assert moved @ axis(1) < query @ axis(1)


def test_rocchio_that_cancels_the_query_is_refused():
    with pytest.raises(InvalidQuery, match="cancels itself out"):
        rocchio(axis(0), [], [axis(0)], {"alpha": 1.0, "gamma": 1.0})


def test_feedback_adds_the_text_and_subtracts_the_negated():
    moved = apply_feedback(axis(0), axis(1), [axis(2)], RefinementWeights(feedback=1.0, negative=0.5))
    np.testing.assert_allclose(moved, np.array([1.0, 1.0, -0.5, 0.0]) / 1.5, atol=1e-6)


@pytest.mark.parametrize(
    ("text", "positive", "negated"),
    [
        ("focus on the blue sky", "the blue sky", ()),
        ("no people", "", ("people",)),
        ("more like a watercolour", "a watercolour", ()),
        ("red circles, without the squares", "red circles", ("squares",)),
        ("blue background but not a triangle", "blue background", ("triangle",)),
        ("a beach and no people", "a beach", ("people",)),
        ("Without trees; less grey", "", ("trees", "grey")),
        ("nothing", "nothing", ()),
    ],
)
def test_parse_feedback_splits_positive_and_negated_parts(text, positive, negated):
    parsed = parse_feedback(text)
    assert (parsed.positive, parsed.negated) == (positive, negated)


def test_weights_default_and_override():
    weights = RefinementWeights.from_mapping({"beta": "1.5", "gamma": None})
    assert weights.as_dict() == {"alpha": 1.0, "beta": 1.5, "gamma": 0.25, "feedback": 0.7, "negative": 0.5}


@pytest.mark.parametrize(
    ("values", "message"),
    [({"delta": 1}, "Unknown weight"), ({"beta": "lots"}, "must be a number"), ({"alpha": -1}, "between 0 and 5")],
)
def test_bad_weights_are_refused(values, message):
    with pytest.raises(InvalidQuery, match=message) as caught:
        RefinementWeights.from_mapping(values)
    assert caught.value.field == "weights"
