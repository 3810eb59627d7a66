"""Stored image files: reading them back, and delivering them to a client (pages, the API and the admin alike).

Every response that carries an image file is made here: a missing or unreadable file is a 404 with a message, an
original is streamed from storage (never read whole into memory), a download is named `<readable stem>-<id>.<ext>`
with the content type of what it holds, and several images go out as one zip.
"""

from __future__ import annotations

import mimetypes
import os
import tempfile
import zipfile
from collections.abc import Sequence
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from search.imagefiles import InvalidImage, LoadedImage, load_image, to_jpeg
from search.libraries import is_in_place, originals
from search.models import Image
from search.workpool import parallel_map

DOWNLOAD_FORMATS = ("original", "jpeg")
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "heic": "image/heic",
    "avif": "image/avif",
}
# Python's own table lacks the newer image types; file_response guesses a stored file's type by its name.
for _extension, _content_type in CONTENT_TYPES.items():
    mimetypes.add_type(_content_type, f".{_extension}")


class FileStream(FileResponse):
    """A FileResponse an ASGI server sends a block at a time.

    Django's own, served under ASGI (gunicorn's uvicorn workers), reads a file-backed response's whole content into
    a list before sending a byte (`sync_to_async(list)`, with a warning), and does so on the thread that runs every
    sync view: a large original or zip download held its whole size in memory and stalled the process's other
    requests. Here each block is read on a pool thread and sent before the next is read. WSGI and the test client
    iterate it as a plain FileResponse.
    """

    block_size = 256 * 1024  # a thread hop per block: larger than Django's 4 KB, small enough to stream

    async def __aiter__(self):
        blocks = iter(self.streaming_content)
        read_block = sync_to_async(next, thread_sensitive=False)
        while (block := await read_block(blocks, None)) is not None:
            yield block


class FileUnavailable(Exception):
    """The stored file is missing or cannot be converted; str(error) says which, for a 404."""


def load_stored_image(name: str) -> LoadedImage:
    """Read and check a stored file (media storage, or a library's for an in-place original); InvalidImage with the
    reason if it is gone or damaged."""
    try:
        with originals.open(name, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise InvalidImage(f"cannot read {name}: {error.strerror or error}") from None
    return load_image(data, max_pixels=settings.IMAGE_MAX_PIXELS)


def load_stored_images(images: Sequence[Image]) -> tuple[list[tuple[Image, LoadedImage]], list[tuple[int, str]]]:
    """The indexed images' files, read on the image work pool: (image, loaded) pairs, and (id, reason) failures."""
    outcomes = parallel_map(lambda image: load_stored_image(image.file.name), images, returning=(InvalidImage,))
    readable, failed = [], []
    for image, outcome in zip(images, outcomes, strict=True):
        if isinstance(outcome, InvalidImage):
            failed.append((image.id, str(outcome)))
        else:
            readable.append((image, outcome))
    return readable, failed


def file_response(
    field_file: FieldFile, *, content_type: str | None = None, filename: str = "", cache: str = "private, max-age=86400"
) -> HttpResponse:
    """A stored file for the client (as an attachment when `filename` is given); 404 if it is gone.

    Streamed by Django, or, with MEDIA_DELIVERY set, an empty response telling the front proxy which file to send
    (the access check has been made here either way).
    """
    content_type = content_type or mimetypes.guess_type(field_file.name)[0] or "application/octet-stream"
    # The front proxy maps MEDIA_ACCEL_PREFIX to media storage; a library photo indexed in place lives elsewhere.
    if settings.MEDIA_DELIVERY == "django" or is_in_place(field_file.name):
        response = _streamed(field_file, content_type, filename)
    else:
        response = _proxy_delivery(field_file, content_type, filename)
    response["Cache-Control"] = cache
    return response


def _streamed(field_file: FieldFile, content_type: str, filename: str) -> FileStream:
    try:
        handle = field_file.open("rb")
    except (OSError, ValueError):  # gone from storage, or from its library (moved, deleted, unmounted)
        raise Http404("The file of this image is missing.") from None
    return FileStream(handle, content_type=content_type, as_attachment=bool(filename), filename=filename)


def _proxy_delivery(field_file: FieldFile, content_type: str, filename: str) -> HttpResponse:
    if not field_file.name or not field_file.storage.exists(field_file.name):
        raise Http404("The file of this image is missing.")
    response = HttpResponse(content_type=content_type)
    if settings.MEDIA_DELIVERY == "x-accel-redirect":
        response["X-Accel-Redirect"] = quote(settings.MEDIA_ACCEL_PREFIX.rstrip("/") + "/" + field_file.name)
    else:
        response["X-Sendfile"] = field_file.storage.path(field_file.name)  # filesystem storage only, by design
    if filename:
        response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def download_response(image: Image, *, fmt: str = "original") -> HttpResponse:
    """The image as a download: the stored original, or a JPEG conversion; 404 with the reason if impossible."""
    if fmt == "jpeg":
        try:
            data = jpeg_bytes(image)
        except FileUnavailable as error:
            raise Http404(str(error)) from None
        response = HttpResponse(data, content_type="image/jpeg")
        response["Content-Disposition"] = content_disposition_header(True, download_name(image, "jpg"))
        response["Cache-Control"] = "private, no-store"
        return response
    extension = original_extension(image)
    return file_response(
        image.file,
        content_type=CONTENT_TYPES.get(extension, "application/octet-stream"),
        filename=download_name(image, extension),
        cache="private, no-store",
    )


def jpeg_bytes(image: Image) -> bytes:
    """The image re-encoded as JPEG (EXIF orientation applied, transparency flattened onto white)."""
    try:
        loaded = load_image(_read(image), max_pixels=settings.IMAGE_MAX_PIXELS)
    except InvalidImage as error:
        raise FileUnavailable(f"The image cannot be converted: {error}.") from None
    return to_jpeg(loaded.image, quality=92)


def download_name(image: Image, extension: str) -> str:
    """A readable, safe name: the original name's stem (or caption), then the id, so names never collide."""
    stem = slugify(os.path.splitext(image.original_name)[0])[:60] or slugify(image.caption)[:60] or "image"
    return f"{stem}-{image.id}.{extension}"


def original_extension(image: Image) -> str:
    return os.path.splitext(image.file.name)[1].lstrip(".").lower() or "bin"


def images_zip(images: list[Image], *, fmt: str = "original") -> tempfile.SpooledTemporaryFile:
    """A zip of the images' downloads (stored, not deflated: images are compressed already), rewound; images whose
    file is gone are left out."""
    archive = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 (the response closes it)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as bundle:
        for image in images:
            try:
                name, data = _zip_entry(image, fmt)
            except FileUnavailable:
                continue
            bundle.writestr(name, data)
    archive.seek(0)
    return archive


def zip_response(images: list[Image], *, fmt: str = "original") -> FileStream:
    response = FileStream(images_zip(images, fmt=fmt), content_type="application/zip", as_attachment=True)
    response["Content-Disposition"] = content_disposition_header(True, "images.zip")
    response["Cache-Control"] = "private, no-store"
    return response


def _zip_entry(image: Image, fmt: str) -> tuple[str, bytes]:
    if fmt == "jpeg":
        return download_name(image, "jpg"), jpeg_bytes(image)
    return download_name(image, original_extension(image)), _read(image)


def _read(image: Image) -> bytes:
    try:
        with image.file.open("rb") as handle:
            return handle.read()
    except (OSError, ValueError):
        raise FileUnavailable("The file of this image is missing.") from None
