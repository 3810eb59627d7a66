"""Writes for single images: store one (files + row, all or nothing), delete one (row, vector and files)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from search.encoder import ClipEncoder
from search.imagefiles import THUMBNAIL_EXTENSION, LoadedImage, make_thumbnail
from search.libraries import originals
from search.models import Image, ImageSource, ImageVector
from search.result_cache import collection_changed
from search.workpool import parallel_map

logger = logging.getLogger(__name__)


def image_create(
    *,
    loaded: LoadedImage,
    thumbnail: bytes | None = None,
    vector: np.ndarray,
    model_key: str,
    original_name: str,
    source: str = ImageSource.FOLDER,
    source_url: str = "",
    category: str = "",
    in_place: str = "",
    file_mtime: float | None = None,
) -> Image | None:
    """Store the files and the row of a new image; None if the same content is already indexed.

    `thumbnail` is the image made by make_thumbnail when the caller made it already (batch ingestion makes them in
    parallel); otherwise it is made here. `in_place` is the library name of a photo indexed where it is (only its
    thumbnail is written). A row that cannot be written leaves no file behind.
    """
    if Image.objects.filter(sha256=loaded.sha256).exists():
        return None
    file_name, thumbnail_name = _write_files(loaded, thumbnail, original=not in_place)
    file_name = in_place or file_name
    image = Image(
        sha256=loaded.sha256,
        file=file_name,
        thumbnail=thumbnail_name,
        width=loaded.width,
        height=loaded.height,
        format=loaded.format,
        byte_size=len(loaded.data),
        file_mtime=file_mtime,
        **loaded.metadata.as_fields(),
        **_described(original_name, source, source_url, category),
    )
    try:
        with transaction.atomic():
            image.save(force_insert=True)
            image_vectors_save([(image.id, vector)], model_key)
    except IntegrityError:
        return None  # another process indexed the same content meanwhile; the files it wrote are these bytes
    except Exception:
        image_files_discard(loaded)
        raise
    return image


def image_vectors_save(vectors: Sequence[tuple[int, np.ndarray]], model_key: str) -> None:
    """Give these images their search vectors made by `model_key`, replacing the ones they had, in one statement.

    The one writer of ImageVector rows: ingest, re-embedding and rescans all come here. An image deleted while its
    vector was being made is skipped (its rows are locked first, so none can go between the check and the write).
    """
    with transaction.atomic():
        ids = [image_id for image_id, _ in vectors]
        present = set(Image.objects.select_for_update(no_key=True).filter(id__in=ids).values_list("id", flat=True))
        ImageVector.objects.bulk_create(
            [
                ImageVector(image_id=image_id, embedding_model=model_key, embedding=vector)
                for image_id, vector in vectors
                if image_id in present
            ],
            update_conflicts=True,
            unique_fields=["image"],
            update_fields=["embedding_model", "embedding"],
        )


def _described(original_name: str, source: str, source_url: str, category: str) -> dict:
    """What a caller says about a new image, cut to its columns' sizes."""
    return {
        "original_name": original_name[:255],
        "source": source,
        "source_url": source_url,
        "category": category[:100],
    }


def image_files_discard(loaded: LoadedImage) -> None:
    """Delete the files a new image of this content wrote, unless an indexed image holds them (after a failed write)."""
    if not Image.objects.filter(sha256=loaded.sha256).exists():
        _delete_files(list(_file_names(loaded)))


def ingest_decode_side(encoder: ClipEncoder) -> int | None:
    """The short side a new image must keep when decoded for ingestion (the model's input and the thumbnail both
    come from it), or None for full-size decoding (INGEST_REDUCED_DECODE off). The stored file is the original."""
    if not settings.INGEST_REDUCED_DECODE:
        return None
    return max(encoder.input_side, settings.THUMBNAIL_SIZE)


def make_thumbnails(images: Sequence[LoadedImage]) -> list[bytes]:
    """The thumbnails image_create would make, made together on the image work pool (for batches)."""
    return parallel_map(lambda image: make_thumbnail(image.image, settings.THUMBNAIL_SIZE), images)


def replace_thumbnail(image: Image, loaded: LoadedImage, thumbnail: bytes) -> None:
    """Give `image` (saved by the caller, in the current transaction) the thumbnail of its new content `loaded`;
    the old thumbnail file goes once that commits."""
    old = image.thumbnail.name
    new = default_storage.save(_file_names(loaded)[1], ContentFile(thumbnail))
    image.thumbnail = new
    if old and old != new:
        transaction.on_commit(lambda: _delete_files([old]))


def image_delete(*, image: Image) -> None:
    """Remove the row (and with it the vector and its index entry), then its files once the delete commits."""
    names = [image.file.name, image.thumbnail.name]
    with transaction.atomic():
        image.delete()
        collection_changed()
        transaction.on_commit(lambda: _delete_files(names))


def _file_names(loaded: LoadedImage) -> tuple[str, str]:
    # Content-addressed names: a re-run after a crash overwrites the same files instead of leaving copies.
    shard = f"{loaded.sha256[:2]}/{loaded.sha256[2:4]}"
    original = f"images/{shard}/{loaded.sha256}.{loaded.extension}"
    return original, f"thumbnails/{shard}/{loaded.sha256}.{THUMBNAIL_EXTENSION}"


def _write_files(loaded: LoadedImage, thumbnail: bytes | None, *, original: bool = True) -> tuple[str, str]:
    file_name, thumbnail_name = _file_names(loaded)
    if thumbnail is None:
        thumbnail = make_thumbnail(loaded.image, settings.THUMBNAIL_SIZE)
    if original:
        file_name = default_storage.save(file_name, ContentFile(loaded.data))
    return file_name, default_storage.save(thumbnail_name, ContentFile(thumbnail))


def _delete_files(names: list[str]) -> None:
    for name in names:
        if name:
            originals.delete(name)  # an in-place original is never deleted: only the row and its thumbnail go
