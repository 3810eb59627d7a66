"""Image rows that stand for indexed pictures in benchmarks: a vector and plausible metadata, no files behind them."""

from __future__ import annotations

import hashlib

import numpy as np
from django.db import transaction

from search.models import Image, ImageVector


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1, as float32 (the form the encoder stores)."""
    return (matrix / np.linalg.norm(matrix, axis=-1, keepdims=True)).astype(np.float32)


def synthetic_image(n: int, *, prefix: str = "bench", caption: str = "") -> Image:
    """An unsaved row for benchmark picture `n`; `prefix` keeps the sha256 of one benchmark apart from another's."""
    return Image(
        sha256=hashlib.sha256(f"{prefix}-{n}".encode()).hexdigest(),
        original_name=f"{prefix}-{n}.jpg",
        file=f"images/{prefix}-{n}.jpg",
        thumbnail=f"thumbnails/{prefix}-{n}.jpg",
        width=64,
        height=64,
        format="JPEG",
        byte_size=1000,
        caption=caption,
    )


def create_with_vectors(images: list[Image], vectors, *, model_key: str, batch_size: int = 1000) -> None:
    """Insert the unsaved `images` and their search vectors (one per image, in order), `batch_size` rows a statement,
    all or nothing (a run stopped halfway leaves no image without its vector)."""
    with transaction.atomic():
        Image.objects.bulk_create(images, batch_size=batch_size)
        ImageVector.objects.bulk_create(
            [
                ImageVector(image_id=image.id, embedding_model=model_key, embedding=vector)
                for image, vector in zip(images, vectors, strict=True)
            ],
            batch_size=batch_size,
        )
