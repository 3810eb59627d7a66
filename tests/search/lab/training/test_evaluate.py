import numpy as np
import torch

from search.lab.training.data import TensorSplit
from search.lab.training.evaluate import first_relevant_rank, retrieval_metrics

RED = {"shape": "circle", "colour": "red", "size": "large", "position": "left", "background": "white"}
BLUE = {"shape": "square", "colour": "blue", "size": "small", "position": "top", "background": "grey"}


def _split(attributes, captions_per_image=2) -> TensorSplit:
    count = len(attributes)
    return TensorSplit(
        images=torch.zeros(count, 3, 4, 4),
        captions=[["x"] * captions_per_image for _ in range(count)],
        tokens=torch.zeros(count * captions_per_image, 4, dtype=torch.long),
        caption_start=np.arange(0, count * captions_per_image + 1, captions_per_image),
        attributes=attributes,
    )


def test_first_relevant_rank_counts_irrelevant_items_above_the_best_relevant_one():
    similarity = torch.tensor([[0.9, 0.5, 0.7, 0.1], [0.2, 0.3, 0.4, 0.8]])
    relevant = torch.tensor([[False, True, False, True], [False, False, False, True]])

    assert first_relevant_rank(similarity, relevant).tolist() == [2, 0]


def test_perfect_features_give_perfect_recall():
    split = _split([RED, BLUE, dict(RED, position="right")])
    image_features = torch.eye(3)
    text_features = torch.eye(3).repeat_interleave(2, dim=0)

    metrics = retrieval_metrics(image_features, text_features, split)

    assert set(metrics.values()) == {1.0}


def test_lenient_recall_accepts_an_image_with_the_same_attributes():
    split = _split([RED, dict(RED), BLUE], captions_per_image=1)
    image_features = torch.eye(3)
    # Both red-circle captions point at image 1: right for one, a look-alike for the other.
    text_features = torch.tensor([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])

    metrics = retrieval_metrics(image_features, text_features, split)

    assert metrics["t2i_first_strict_r1"] == round(2 / 3, 4)
    assert metrics["t2i_first_lenient_r1"] == 1.0
