import itertools
import json

import open_clip
import pytest
import torch
from PIL import Image

from search.lab.datasets.dataset import write_dataset
from search.lab.datasets.shapes import generate_samples
from search.lab.training.model import register_configs
from search.lab.training.train import TrainOptions, learning_rate, train_clip

CAPTIONS = ["a red circle", "a large blue square at the top on a grey background"]


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
    register_configs()
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
