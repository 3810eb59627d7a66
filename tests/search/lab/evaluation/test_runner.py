"""Recall@K of the product's own search on a captioned dataset, checked against brute force."""

import json

import numpy as np
import pytest

from search.lab.evaluation.runner import (
    first_caption_row,
    image_to_text_row,
    prepare_eval_set,
    text_to_image_rankings,
)
from search.models import Image
from tests.factories import noise_image_bytes

pytestmark = pytest.mark.django_db


def _brute_force_ranks(eval_set):
    vectors = dict(Image.objects.filter(id__in=eval_set.image_ids).values_list("id", "vector__embedding"))
    matrix = np.stack([np.asarray(vectors[i]) for i in eval_set.image_ids])
    scores = eval_set.caption_vectors() @ matrix.T
    return [[eval_set.image_ids[j] for j in np.argsort(-row, kind="stable")] for row in scores]


def test_prepares_only_the_split_and_reuses_indexed_images(dataset, encoder):
    eval_set = prepare_eval_set(dataset, split="test", encoder=encoder)
    again = prepare_eval_set(dataset, split="test", encoder=encoder)
    assert len(eval_set.image_ids) == 4 and len(eval_set.captions) == 8
    assert again.image_ids == eval_set.image_ids
    assert Image.objects.count() == 4
    assert eval_set.lenient_ids(0) == frozenset(eval_set.image_ids[:2])


def test_search_module_rankings_equal_brute_force(dataset, encoder):
    eval_set = prepare_eval_set(dataset, split="test", encoder=encoder, depth=4)
    expected = _brute_force_ranks(eval_set)
    assert text_to_image_rankings(eval_set, exact=True) == expected
    assert text_to_image_rankings(eval_set, exact=False) == expected


def test_image_to_text_rank_is_best_own_caption(dataset, encoder):
    eval_set = prepare_eval_set(dataset, split="test", encoder=encoder)
    row = image_to_text_row(eval_set)
    vectors = dict(Image.objects.filter(id__in=eval_set.image_ids).values_list("id", "vector__embedding"))
    ranks = []
    for index, image_id in enumerate(eval_set.image_ids):
        scores = eval_set.caption_vectors() @ np.asarray(vectors[image_id])
        order = list(np.argsort(-scores, kind="stable"))
        ranks.append(min(order.index(c) for c, owner in enumerate(eval_set.caption_image) if owner == index) + 1)
    assert row.strict["R@1"] == pytest.approx(sum(r == 1 for r in ranks) / 4)
    assert row.strict["median_rank"] == pytest.approx(float(np.median(ranks)))
    assert row.lenient["R@1"] >= row.strict["R@1"]


def test_first_caption_row_ranks_only_each_images_first_caption(dataset, encoder):
    eval_set = prepare_eval_set(dataset, split="test", encoder=encoder, depth=4)
    expected = _brute_force_ranks(eval_set)
    [row] = first_caption_row(eval_set)
    # Captions alternate "picture number i" (first) and "a colour thing": the first ones are 0, 2, 4, 6.
    ranks = [expected[c].index(eval_set.image_ids[c // 2]) + 1 for c in (0, 2, 4, 6)]
    assert row.strict["R@1"] == pytest.approx(sum(r == 1 for r in ranks) / 4)
    assert row.strict["median_rank"] == pytest.approx(float(np.median(ranks)))
    assert "first caption" in row.name


def test_feedback_round_moves_queries_toward_the_ground_truth(dataset, encoder):
    from search.lab.evaluation.runner import feedback_rows

    eval_set = prepare_eval_set(dataset, split="test", encoder=encoder)
    before, after = feedback_rows(eval_set)
    # With four images every ground truth is in the top 10, so it is marked relevant and the rest not relevant.
    assert before.strict["R@10"] == 1.0
    assert after.strict["R@1"] >= before.strict["R@1"]
    assert after.strict["queries"] == before.strict["queries"] == 8


def test_hybrid_row_finds_images_by_words_of_their_stand_in_captions(tmp_path, encoder):
    from search.lab.evaluation.runner import hybrid_rows

    (tmp_path / "images").mkdir()
    words = ["zebra", "lighthouse", "teapot", "volcano"]
    entries = []
    for index, word in enumerate(words):
        (tmp_path / "images" / f"{index}.png").write_bytes(noise_image_bytes(100 + index, fmt="PNG"))
        sentences = [{"raw": f"a {word} seen from afar"}, {"raw": word}]
        entries.append({"filename": f"{index}.png", "split": "test", "sentences": sentences})
    (tmp_path / "dataset.json").write_text(json.dumps({"dataset": "words", "images": entries}))
    eval_set = prepare_eval_set(tmp_path, split="test", encoder=encoder)
    vector, hybrid = hybrid_rows(eval_set)
    assert vector.strict["queries"] == hybrid.strict["queries"] == 4  # the second caption of each image
    assert sorted(Image.objects.values_list("caption", flat=True)) == sorted(f"a {w} seen from afar" for w in words)
    # Each query word stands only in its own image's caption, so the full-text ranking puts that image first.
    assert hybrid.strict["R@1"] == 1.0
