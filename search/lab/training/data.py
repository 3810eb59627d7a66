"""Images and captions turned into tensors once, up front.

The benchmark is small enough to hold preprocessed in memory (20k images at 64 px are about
0.5 GB in fp16), so every training step spends its CPU time on the model, not on JPEG decoding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from search.lab.datasets.dataset import CaptionedImage
from search.lab.training.model import Preprocess, Tokenizer


@dataclass
class TensorSplit:
    images: torch.Tensor  # (N, 3, H, W) fp16, after open_clip's evaluation preprocessing
    captions: list[list[str]]
    tokens: torch.Tensor  # (total captions, context) token ids, all captions of all images
    caption_start: np.ndarray  # image i owns tokens[caption_start[i]:caption_start[i + 1]]
    attributes: list[dict[str, Any] | None]

    def __len__(self) -> int:
        return len(self.captions)

    def caption_owner(self) -> np.ndarray:
        return np.repeat(np.arange(len(self)), np.diff(self.caption_start))

    def random_tokens(self, indices: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        """One randomly chosen caption per image, so each epoch sees other phrasings."""
        start, stop = self.caption_start[indices], self.caption_start[indices + 1]
        picks = start + (rng.random(len(indices)) * (stop - start)).astype(np.int64)
        return self.tokens[torch.from_numpy(picks)]


def preprocess_images(
    items: Iterable[CaptionedImage], preprocess: Preprocess, *, progress: Callable[[Iterable], Iterable] = iter
) -> torch.Tensor:
    tensors = []
    for item in progress(items):
        with Image.open(item.path) as image:
            tensors.append(preprocess(image.convert("RGB")).to(torch.float16))
    return torch.stack(tensors)


def tensor_split(
    items: Sequence[CaptionedImage],
    preprocess: Preprocess,
    tokenizer: Tokenizer,
    *,
    progress: Callable[[Iterable], Iterable] = iter,
) -> TensorSplit:
    captions = [list(item.captions) for item in items]
    if any(not c for c in captions):
        raise ValueError("Every image needs at least one caption")
    flat = [caption for image_captions in captions for caption in image_captions]
    return TensorSplit(
        images=preprocess_images(items, preprocess, progress=progress),
        captions=captions,
        tokens=tokenizer(flat),
        caption_start=np.concatenate([[0], np.cumsum([len(c) for c in captions])]),
        attributes=[item.attributes for item in items],
    )
