"""Training the project's small CLIP: steps, reports, fp16 checkpoints loadable by open_clip, the learning-rate
schedule; and what the shipped imagesearch-tiny checkpoint learned (shapes and colours, not just noise)."""

import itertools
import json
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
from PIL import Image

from search.encoder import open_clip_with_project_configs
from search.lab.datasets.dataset import write_dataset
from search.lab.datasets.shapes import SHAPES, Scene, ShapeSpec, generate_samples, make_sample, render_scene
from search.lab.training.model import create_clip
from search.lab.training.train import TrainOptions, learning_rate, train_clip

CAPTIONS = ["a red circle", "a large blue square at the top on a grey background"]


CHECKPOINT = Path(__file__).resolve().parents[3] / "fixtures" / "clip" / "imagesearch-tiny.pt"
UNSEEN_SEED = 2024


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("bench")
    write_dataset(data_dir, generate_samples(0, {"train": 48, "test": 16}), name="shapes")
    out_dir = tmp_path_factory.mktemp("clip")
    # One image per group chunk, so even 48 scattered images fill whole batches.
    options = TrainOptions(
        out_dir=out_dir, data_dir=data_dir, steps=3, batch_size=16, groups_per_batch=16, log_every=1, seed=1
    )
    return train_clip(options, log=lambda line: None), data_dir


@torch.no_grad()
def _features(model, preprocess, tokenizer, image_path):
    model.eval()
    with Image.open(image_path) as image:
        pixels = preprocess(image.convert("RGB"))[None]
    return model.encode_image(pixels, normalize=True), model.encode_text(tokenizer(CAPTIONS), normalize=True)


def test_training_runs_the_requested_steps_and_reports(trained):
    result, _ = trained

    report = json.loads((result.checkpoint.parent / "training.json").read_text())

    assert result.steps == report["steps"] == 3
    assert report["images"] == {"train": 48, "test": 16}
    assert "t2i_first_strict_r1" in report["metrics"]["test"]
    assert "shape_accuracy" in report["metrics"]["test"]


def test_checkpoint_loads_in_open_clip_with_the_trained_vectors(trained):
    result, data_dir = trained
    open_clip_with_project_configs()
    image_path = next((data_dir / "images").glob("test_*.jpg"))
    _, _, preprocess = open_clip.create_model_and_transforms("imagesearch-tiny")
    trained_vectors = _features(result.model, preprocess, open_clip.get_tokenizer("imagesearch-tiny"), image_path)

    loaded, _, loaded_preprocess = open_clip.create_model_and_transforms(
        "imagesearch-tiny", pretrained=str(result.checkpoint)
    )
    loaded_vectors = _features(loaded, loaded_preprocess, open_clip.get_tokenizer("imagesearch-tiny"), image_path)

    for trained_vector, loaded_vector in zip(trained_vectors, loaded_vectors, strict=True):
        torch.testing.assert_close(loaded_vector, trained_vector, atol=1e-2, rtol=0)
    assert result.checkpoint.stat().st_size < 16 * 2**20


def test_checkpoint_is_fp16(trained):
    result, _ = trained

    state_dict = torch.load(result.checkpoint, weights_only=True)

    assert {value.dtype for value in state_dict.values() if value.is_floating_point()} == {torch.float16}


def test_output_folder_loads_through_local_dir(trained):
    result, data_dir = trained
    image_path = next((data_dir / "images").glob("test_*.jpg"))
    _, _, preprocess = open_clip.create_model_and_transforms("imagesearch-tiny")
    tokenizer = open_clip.get_tokenizer("imagesearch-tiny")
    expected = _features(result.model, preprocess, tokenizer, image_path)

    loaded, _, loaded_preprocess = open_clip.create_model_and_transforms(f"local-dir:{result.checkpoint.parent}")
    actual = _features(loaded, loaded_preprocess, tokenizer, image_path)

    torch.testing.assert_close(actual[0], expected[0], atol=1e-2, rtol=0)


def test_learning_rate_warms_up_then_decays_to_zero():
    rates = [learning_rate(p / 100, peak=1e-3, warmup=0.1) for p in range(101)]

    assert rates[0] < rates[5] < rates[10]
    assert max(rates) == pytest.approx(1e-3, rel=0.02)
    assert rates[100] == pytest.approx(0.0, abs=1e-9)
    assert all(a >= b for a, b in itertools.pairwise(rates[11:]))


@pytest.fixture(scope="module")
def clip():
    if not CHECKPOINT.exists():
        pytest.skip(f"no shipped checkpoint at {CHECKPOINT}")
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
