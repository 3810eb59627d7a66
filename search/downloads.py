"""Image downloads: the original file or a JPEG conversion, with a readable file name; several as a zip."""

from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.text import slugify

from search.imagefiles import InvalidImage, load_image, to_jpeg
from search.models import Image


@dataclass(frozen=True)
class Download:
    data: bytes
    filename: str
    content_type: str


class DownloadUnavailable(Exception):
    """The stored file is missing or unreadable; the view answers 404 with this message."""


def image_download(image: Image, *, fmt: str = "original") -> Download:
    """The image's bytes as stored, or converted to JPEG (EXIF orientation applied, transparency on white)."""
    data = _read(image)
    if fmt == "jpeg":
        return Download(_jpeg(data), download_name(image, "jpg"), "image/jpeg")
    extension = os.path.splitext(image.file.name)[1].lstrip(".").lower() or "bin"
    return Download(data, download_name(image, extension), _CONTENT_TYPES.get(extension, "application/octet-stream"))


_CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
}


def download_name(image: Image, extension: str) -> str:
    """A readable, safe name: the original name's stem (or caption), then the id, so names never collide."""
    stem = slugify(os.path.splitext(image.original_name)[0])[:60] or slugify(image.caption)[:60] or "image"
    return f"{stem}-{image.id}.{extension}"


def images_zip(images: list[Image], *, fmt: str = "original") -> tempfile.SpooledTemporaryFile:
    """A zip of the images' downloads (stored, not deflated: images are compressed already), rewound."""
    archive = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 (the response closes it)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as bundle:
        for image in images:
            try:
                item = image_download(image, fmt=fmt)
            except DownloadUnavailable:
                continue
            bundle.writestr(item.filename, item.data)
    archive.seek(0)
    return archive


def _read(image: Image) -> bytes:
    try:
        with image.file.open("rb") as handle:
            return handle.read()
    except (FileNotFoundError, ValueError):
        raise DownloadUnavailable("The file of this image is missing.") from None


def _jpeg(data: bytes) -> bytes:
    try:
        loaded = load_image(data, max_pixels=settings.IMAGE_MAX_PIXELS)
    except InvalidImage as error:
        raise DownloadUnavailable(f"The image cannot be converted: {error}.") from None
    return to_jpeg(loaded.image, quality=92)
