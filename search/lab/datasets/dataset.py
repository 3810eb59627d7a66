"""Read and write captioned-image datasets in the Karpathy split layout.

The layout is the one the Flickr8k, Flickr30k and COCO caption splits ship in:

    {"dataset": "flickr8k", "images": [{"filename": "...", "split": "train", "imgid": 0,
      "sentences": [{"raw": "A dog runs .", "tokens": ["a", "dog", "runs"]}, ...]}, ...]}

COCO entries add "filepath" (e.g. "val2014"), and the real files use a "restval" split that
belongs with training. Our generated benchmarks add an optional "attributes" dict per image.
Nothing here imports Django, so training scripts and notebooks can use it as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

DATASET_FILE = "dataset.json"
IMAGES_DIR = "images"
TRAINING_SPLITS = frozenset({"train", "restval"})

_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class CaptionedImage:
    path: Path
    split: str
    captions: list[str]
    attributes: dict[str, Any] | None = None
    imgid: int | None = None

    @property
    def is_training(self) -> bool:
        return self.split in TRAINING_SPLITS


class WritableSample(Protocol):
    """What write_dataset needs from a sample (search.lab.datasets.shapes.Sample fits)."""

    filename: str
    split: str
    captions: list[str]
    attributes: dict[str, str]

    @property
    def image(self) -> Any: ...  # a PIL image: anything with .save(path)


def caption_tokens(caption: str) -> list[str]:
    """Lower-case word tokens, as the Karpathy files store them."""
    return _TOKEN.findall(caption.lower())


def write_dataset(
    out_dir: Path, samples: Iterable[WritableSample], *, name: str, extra: dict[str, Any] | None = None
) -> Path:
    """Save each sample's image under out_dir/images/ and describe them all in out_dir/dataset.json.

    `extra` adds top-level keys (seed, held-out combinations, ...) next to "dataset" and "images".
    """
    images_dir = out_dir / IMAGES_DIR
    images_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for imgid, sample in enumerate(samples):
        sample.image.save(images_dir / sample.filename, quality=92)
        entries.append(_entry(imgid, sample))
    dataset_path = out_dir / DATASET_FILE
    document = {"dataset": name, **(extra or {}), "images": entries}
    dataset_path.write_text(json.dumps(document, indent=None, separators=(",", ":")) + "\n")
    return dataset_path


def _entry(imgid: int, sample: WritableSample) -> dict[str, Any]:
    return {
        "filename": sample.filename,
        "split": sample.split,
        "imgid": imgid,
        "sentences": [{"raw": c, "tokens": caption_tokens(c)} for c in sample.captions],
        "attributes": sample.attributes,
    }


def read_dataset(path: Path, *, image_root: Path | None = None) -> list[CaptionedImage]:
    """All images of a Karpathy-style file (or of a folder holding dataset.json).

    Image paths resolve as image_root / filepath / filename. image_root defaults to the
    "images" folder beside the JSON file, which is where write_dataset puts them; for the real
    Flickr/COCO files pass the folder the images were unpacked into.
    """
    return list(iter_dataset(path, image_root=image_root))


def iter_dataset(path: Path, *, image_root: Path | None = None) -> Iterator[CaptionedImage]:
    dataset_path = path / DATASET_FILE if path.is_dir() else path
    document = json.loads(dataset_path.read_text())
    root = image_root if image_root is not None else dataset_path.parent / IMAGES_DIR
    for entry in document["images"]:
        yield CaptionedImage(
            path=root / entry.get("filepath", "") / entry["filename"],
            split=entry["split"],
            captions=[_sentence_text(s) for s in entry.get("sentences", [])],
            attributes=entry.get("attributes"),
            imgid=entry.get("imgid"),
        )


def read_dataset_info(path: Path) -> dict[str, Any]:
    """The top-level keys of a dataset file other than "images" (name, seed, held-out pairs...)."""
    dataset_path = path / DATASET_FILE if path.is_dir() else path
    document = json.loads(dataset_path.read_text())
    return {key: value for key, value in document.items() if key != "images"}


def _sentence_text(sentence: dict[str, Any]) -> str:
    # Every real Karpathy file has "raw"; fall back to the tokens for hand-made ones.
    raw = sentence.get("raw")
    return raw.strip() if raw else " ".join(sentence.get("tokens", []))
