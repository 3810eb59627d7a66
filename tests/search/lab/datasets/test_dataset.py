"""Captioned-image datasets in the Karpathy layout: written, read back, and real files read."""

import json

from PIL import Image

from search.lab.datasets.dataset import read_dataset, read_dataset_info, write_dataset
from search.lab.datasets.shapes import benchmark_info, generate_samples

KARPATHY_JSON = {
    "dataset": "coco",
    "images": [
        {
            "filepath": "val2014",
            "sentids": [1, 2],
            "filename": "COCO_val2014_000000391895.jpg",
            "imgid": 0,
            "split": "test",
            "sentences": [
                {"tokens": ["a", "man", "on", "a", "bicycle"], "raw": "A man on a bicycle .", "imgid": 0, "sentid": 1},
                {"tokens": ["a", "dirt", "road"], "raw": "A dirt road. ", "imgid": 0, "sentid": 2},
            ],
            "cocoid": 391895,
        },
        {
            "filepath": "val2014",
            "filename": "COCO_val2014_000000522418.jpg",
            "imgid": 1,
            "split": "restval",
            "sentences": [{"tokens": ["a", "woman", "cutting", "a", "cake"], "raw": "A woman cutting a cake."}],
        },
        {
            "filename": "1000268201_693b08cb0e.jpg",
            "imgid": 2,
            "split": "train",
            "sentences": [{"tokens": ["a", "child", "in", "pink"]}],
        },
    ],
}


def test_written_dataset_reads_back(tmp_path):
    samples = list(generate_samples(1, {"train": 4, "test": 2}))

    write_dataset(tmp_path, samples, name="shapes", extra=benchmark_info(1, {"train": 4, "test": 2}))
    items = read_dataset(tmp_path)

    assert [item.path.name for item in items] == [s.filename for s in samples]
    assert all(item.path.is_file() for item in items)
    assert [item.split for item in items] == ["train"] * 4 + ["test"] * 2
    assert [item.captions for item in items] == [s.captions for s in samples]
    assert [item.attributes for item in items] == [s.attributes for s in samples]
    assert [item.imgid for item in items] == list(range(6))
    with Image.open(items[0].path) as image:
        assert image.size == samples[0].image.size


def test_written_dataset_has_karpathy_sentences_and_extra_keys(tmp_path):
    samples = list(generate_samples(1, {"train": 2}))

    path = write_dataset(tmp_path, samples, name="shapes", extra={"seed": 1})
    document = json.loads(path.read_text())

    assert document["dataset"] == "shapes"
    assert read_dataset_info(tmp_path) == {"dataset": "shapes", "seed": 1}
    sentence = document["images"][0]["sentences"][0]
    assert sentence["raw"] == samples[0].captions[0]
    assert sentence["tokens"] == samples[0].captions[0].replace(",", "").split()


def test_reads_a_real_karpathy_file(tmp_path):
    path = tmp_path / "dataset_coco.json"
    path.write_text(json.dumps(KARPATHY_JSON))
    root = tmp_path / "coco"

    items = read_dataset(path, image_root=root)

    assert [item.path for item in items] == [
        root / "val2014" / "COCO_val2014_000000391895.jpg",
        root / "val2014" / "COCO_val2014_000000522418.jpg",
        root / "1000268201_693b08cb0e.jpg",
    ]
    assert items[0].captions == ["A man on a bicycle .", "A dirt road."]
    assert items[2].captions == ["a child in pink"]
    assert [item.split for item in items] == ["test", "restval", "train"]
    assert [item.is_training for item in items] == [False, True, True]
    assert all(item.attributes is None for item in items)


def test_image_root_defaults_to_images_beside_the_file(tmp_path):
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps(KARPATHY_JSON))

    items = read_dataset(path)

    assert items[2].path == tmp_path / "images" / "1000268201_693b08cb0e.jpg"
