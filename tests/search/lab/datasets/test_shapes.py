import hashlib

import numpy as np
import pytest

from search.lab.datasets.captions import CAPTIONS_PER_IMAGE, POSITION_PHRASES, SIZE_WORDS
from search.lab.datasets.shapes import (
    BACKGROUNDS,
    COLOURS,
    IMAGE_SIZE,
    SHAPES,
    Scene,
    ShapeSpec,
    generate_samples,
    held_out_pairs,
    make_sample,
    render_scene,
)


def _pixels_hash(sample) -> str:
    return hashlib.sha256(sample.image.tobytes()).hexdigest()


def _pairs(attributes: dict[str, str]) -> set[tuple[str, str]]:
    pairs = {(attributes["colour"], attributes["shape"])}
    if "shape2" in attributes:
        pairs.add((attributes["colour2"], attributes["shape2"]))
    return pairs


@pytest.fixture(scope="module")
def samples():
    return list(generate_samples(3, {"train": 300, "test": 120}))


def test_same_seed_gives_the_same_samples():
    first = list(generate_samples(5, {"train": 6, "test": 3}))
    second = list(generate_samples(5, {"train": 6, "test": 3}))

    assert [_pixels_hash(s) for s in first] == [_pixels_hash(s) for s in second]
    assert [(s.filename, s.captions, s.attributes) for s in first] == [
        (s.filename, s.captions, s.attributes) for s in second
    ]


def test_another_seed_gives_other_samples():
    first = list(generate_samples(5, {"train": 6}))
    other = list(generate_samples(6, {"train": 6}))

    assert {_pixels_hash(s) for s in first}.isdisjoint({_pixels_hash(s) for s in other})


def test_a_sample_can_be_regenerated_alone():
    in_sequence = list(generate_samples(5, {"train": 4}))[3]

    alone = make_sample(5, "train", 3)

    assert _pixels_hash(alone) == _pixels_hash(in_sequence)
    assert alone.captions == in_sequence.captions


def test_train_and_test_are_disjoint(samples):
    train = [s for s in samples if s.split == "train"]
    test = [s for s in samples if s.split == "test"]

    assert {s.filename for s in train}.isdisjoint({s.filename for s in test})
    assert {_pixels_hash(s) for s in train}.isdisjoint({_pixels_hash(s) for s in test})


def test_held_out_pairs_appear_only_in_test(samples):
    held_out = held_out_pairs(3)
    train_pairs = set().union(*(_pairs(s.attributes) for s in samples if s.split == "train"))
    test_pairs = set().union(*(_pairs(s.attributes) for s in samples if s.split == "test"))

    assert train_pairs.isdisjoint(held_out)
    assert len(test_pairs & held_out) >= 3


def test_held_out_pairs_leave_every_shape_and_colour_in_training():
    held_out = held_out_pairs(3)

    assert sorted(shape for _, shape in held_out) == sorted(SHAPES)
    assert len({colour for colour, _ in held_out}) == len(SHAPES)


def test_images_are_square_rgb(samples):
    assert {s.image.size for s in samples} == {(IMAGE_SIZE, IMAGE_SIZE)}
    assert {s.image.mode for s in samples} == {"RGB"}


def test_some_scenes_hold_two_shapes(samples):
    assert 0.05 < np.mean(["shape2" in s.attributes for s in samples]) < 0.3


def test_first_caption_names_every_attribute(samples):
    for sample in samples:
        caption, a = sample.captions[0], sample.attributes
        for suffix in ("", "2") if "shape2" in a else ("",):
            assert a[f"colour{suffix}"] in caption
            assert a[f"shape{suffix}"] in caption
            assert SIZE_WORDS[a[f"size{suffix}"]][0] in caption
            assert POSITION_PHRASES[a[f"position{suffix}"]][0] in caption
        assert f"{a['background']} background" in caption


def test_every_caption_names_the_colour_and_shape(samples):
    for sample in samples:
        assert len(sample.captions) == CAPTIONS_PER_IMAGE
        for caption in sample.captions:
            assert sample.attributes["colour"] in caption
            assert sample.attributes["shape"] in caption


def _foreground(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates close to the shape's colour, far from the background's."""
    image = render_scene(scene, np.random.default_rng(0))
    pixels = np.asarray(image, dtype=np.float32)
    colour = np.array(COLOURS[scene.objects[0].colour], dtype=np.float32)
    background = np.array(BACKGROUNDS[scene.background], dtype=np.float32)
    near = np.linalg.norm(pixels - colour, axis=2) < np.linalg.norm(pixels - background, axis=2)
    return np.nonzero(near)


@pytest.mark.parametrize(
    ("position", "axis", "side"),
    [("left", 1, -1), ("right", 1, 1), ("top", 0, -1), ("bottom", 0, 1)],
)
def test_shapes_are_drawn_where_the_caption_says(position, axis, side):
    coordinates = _foreground(Scene((ShapeSpec("square", "red", "small", position),), "white"))

    offset = coordinates[axis].mean() - IMAGE_SIZE / 2

    assert offset * side > IMAGE_SIZE / 8


def test_large_shapes_cover_more_pixels_than_small_ones():
    small = _foreground(Scene((ShapeSpec("circle", "blue", "small", "centre"),), "grey"))
    large = _foreground(Scene((ShapeSpec("circle", "blue", "large", "centre"),), "grey"))

    assert len(large[0]) > 2.5 * len(small[0])
