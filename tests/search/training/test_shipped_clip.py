"""The shipped tiny CLIP (tests/fixtures/clip/) understands the benchmark's words.

The images are rendered fresh, with a seed the model was not trained on, by the same generator.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from search.lab.datasets.shapes import SHAPES, Scene, ShapeSpec, make_sample, render_scene
from search.lab.training.model import create_clip

CHECKPOINT = Path(__file__).resolve().parents[2] / "fixtures" / "clip" / "imagesearch-tiny.pt"
UNSEEN_SEED = 2024

pytestmark = pytest.mark.skipif(not CHECKPOINT.exists(), reason=f"no shipped checkpoint at {CHECKPOINT}")


@pytest.fixture(scope="module")
def clip():
    model, preprocess, tokenizer = create_clip("imagesearch-tiny", pretrained=str(CHECKPOINT))
    return model.eval(), preprocess, tokenizer


@torch.no_grad()
def _encode(clip, images, captions):
    model, preprocess, tokenizer = clip
    image_features = model.encode_image(torch.stack([preprocess(image) for image in images]), normalize=True)
    return image_features, model.encode_text(tokenizer(captions), normalize=True)


def _red_circles_among_others() -> list[Scene]:
    """Four red circles that differ in size, place and background, among every other
    shape in red and circles in other colours: only colour AND shape single them out."""
    red_circles = [
        Scene((ShapeSpec("circle", "red", size, position),), background)
        for size, position, background in [
            ("large", "left", "white"),
            ("small", "top", "grey"),
            ("large", "centre", "black"),
            ("small", "right", "blue"),
        ]
    ]
    other_red = [Scene((ShapeSpec(s, "red", "large", "centre"),), "white") for s in SHAPES if s != "circle"]
    other_circles = [
        Scene((ShapeSpec("circle", c, "large", "centre"),), "white") for c in ("blue", "green", "orange", "purple")
    ]
    return red_circles + other_red + other_circles


def _ranking(clip, scenes: list[Scene], query: str) -> list[ShapeSpec]:
    rng = np.random.default_rng(UNSEEN_SEED)
    image_features, text_features = _encode(clip, [render_scene(scene, rng) for scene in scenes], [query])
    return [scenes[i].objects[0] for i in (text_features @ image_features.T)[0].argsort(descending=True).tolist()]


def test_a_red_circle_ranks_every_red_circle_first(clip):
    ranking = _ranking(clip, _red_circles_among_others(), "a red circle")

    # Four red circles of different sizes, places and backgrounds, among red shapes and circles of other colours.
    assert [(spec.colour, spec.shape) for spec in ranking[:4]] == [("red", "circle")] * 4


def test_a_shape_only_query_ranks_every_circle_above_every_other_shape(clip):
    ranking = _ranking(clip, _red_circles_among_others(), "a circle")

    circles = sum(spec.shape == "circle" for spec in ranking)
    assert circles == 8 and all(spec.shape == "circle" for spec in ranking[:circles])


def test_an_image_is_nearest_to_its_own_caption_most_of_the_time(clip):
    samples = [make_sample(UNSEEN_SEED, "val", index) for index in range(40)]

    image_features, text_features = _encode(clip, [s.image for s in samples], [s.captions[0] for s in samples])
    nearest_caption = (image_features @ text_features.T).argmax(dim=1)

    assert (nearest_caption == torch.arange(len(samples))).float().mean() >= 0.6
