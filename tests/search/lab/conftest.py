"""A hand-made captioned dataset in the Karpathy layout, for the evaluation runner and its command."""

import json

import pytest
from PIL import Image as PILImage

from tests.factories import noise_image_bytes


@pytest.fixture
def dataset(tmp_path):
    """A hand-made Karpathy-style dataset: four images, two captions each, two of them equivalent by attributes."""
    (tmp_path / "images").mkdir()
    entries = []
    for index in range(4):
        name = f"{index}.png"
        (tmp_path / "images" / name).write_bytes(noise_image_bytes(index, fmt="PNG"))
        attributes = {"colour": "red" if index < 2 else f"c{index}"}
        entries.append(
            {
                "filename": name,
                "split": "test",
                "imgid": index,
                "attributes": attributes,
                "sentences": [{"raw": f"picture number {index}"}, {"raw": f"a {attributes['colour']} thing"}],
            }
        )
    entries.append({"filename": "t.png", "split": "train", "sentences": [{"raw": "unused"}]})
    PILImage.new("RGB", (8, 8)).save(tmp_path / "images" / "t.png")
    (tmp_path / "dataset.json").write_text(json.dumps({"dataset": "handmade", "images": entries}))
    return tmp_path
